package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/rollout"
)

// Flag names of rollout.
const (
	flagMaxUnavailable = "max-unavailable"
	flagMaxSurge       = "max-surge"
	flagDrainTimeout   = "drain-timeout"
	flagTimeout        = "timeout"
	flagLaunchTimeout  = "launch-timeout"
	flagStandalone     = "standalone"
	flagMethod         = "method"
)

// Results of a rollout in its JSON (a contract).
const (
	resultDone        = "done"
	resultSkipped     = "done-with-skipped"
	resultDryRun      = "dry-run"
	resultStopped     = "stopped"
	resultInterrupted = "interrupted"
	resultCancelled   = "cancelled"
	resultError       = "error"
)

type rolloutOpts struct {
	env
	cluster        string
	roles          []string
	maxUnavailable string
	maxSurge       rollout.MaxSurge
	drainTimeout   time.Duration
	timeout        time.Duration
	standalone     string
	method         string
	dryRun         bool
	yes            bool

	// out is the report the run fills as it goes (Execute returns it).
	out rolloutReport
	// printed: the JSON object is on stdout.
	printed bool
	// view renders the steps of table output; jsonErr is stderr itself
	// under -o json, where the steps, warnings and the error go as JSON lines.
	view    *rolloutView
	jsonErr io.Writer
}

// rolloutReport is the JSON object rollout prints at the end.
type rolloutReport struct {
	Cluster  string                `json:"cluster"`
	Roles    []string              `json:"roles"`
	Replaced []rollout.Replacement `json:"replaced"`
	Skipped  []rolloutSkipped      `json:"skipped"`
	Slots    rolloutSlots          `json:"slots"`
	Result   string                `json:"result"`
	Batches  [][]string            `json:"batches,omitempty"`
	Calls    []string              `json:"calls,omitempty"`
	Stop     *rolloutStop          `json:"stop,omitempty"`
	Elapsed  string                `json:"elapsed,omitempty"`
	Trunked  int                   `json:"trunked"`
	Planned  int                   `json:"planned"`
	Groups   map[string]rolloutGrp `json:"groups,omitempty"`
}

type rolloutSkipped struct {
	ContainerInstanceID string `json:"containerInstanceId"`
	EC2InstanceID       string `json:"ec2InstanceId"`
	Reason              string `json:"reason"`
}

type rolloutSlots struct {
	Before int `json:"before"`
	After  int `json:"after"`
}

type rolloutStop struct {
	// Kind is a rollout.StopKind, or interrupted, cancelled, usage or error.
	Kind     string         `json:"kind"`
	Message  string         `json:"message"`
	Advice   string         `json:"advice,omitempty"`
	Draining []string       `json:"draining,omitempty"`
	Raised   map[string]int `json:"raised,omitempty"`
}

type rolloutGrp struct {
	Instances int  `json:"instances"`
	Max       int  `json:"maxSize"`
	Desired   int  `json:"desiredCapacity"`
	Refresh   bool `json:"instanceRefresh,omitempty"`
}

func newRolloutCmd(envOf func() env) *cobra.Command {
	o := &rolloutOpts{}
	cmd := &cobra.Command{
		Use:   "rollout --cluster CLUSTER [--role ROLE...] [--max-unavailable N|P%] [--dry-run] [--yes]",
		Short: "Replace a cluster's container instances that have no trunk, in batches, and prove the new ones have one",
		Long: `Opting a role in changes nothing for the instances already running: each must be
drained and replaced by one that registers after the opt-in. rollout does that.

It plans from what AWS says now: every container instance is trunked (nothing to do),
replace (no trunk, and a replacement through its Auto Scaling group would get one), or
skip with the reason (unsupported type, agent that cannot trunk, Windows, not in an Auto
Scaling group, ...). It opts in the roles behind the replace instances (and --role) as
enable does, then replaces them per group in batches of at most --max-unavailable:
launch first where the group's MaxSize allows (raising the desired capacity), wait until
the new container instances are ACTIVE with a trunk, set the batch DRAINING, wait until
its service tasks have moved, lift scale-in protection, and terminate through the group
(taking back the desired capacity it raised; a group at its MaxSize is drained first and
replaces the instances itself). --method refresh uses an Auto Scaling instance refresh
instead for groups whose every instance needs replacing.

It stops rather than guess: a replacement without a trunk, a service that cannot place
its tasks, or a timeout stops it with what it saw and what to do. Running the same
command again continues from the cluster's state (instances already DRAINING are the
first batch). It asks for confirmation unless --yes; --dry-run prints the plan and the
calls it would make, and changes nothing.`,
		Example: `  trunkctl rollout --cluster prod --dry-run
  trunkctl rollout --cluster prod --max-unavailable 10% --yes
  trunkctl rollout --cluster prod --method refresh --standalone stop -o json --yes`,
		Args:        noArgs,
		Annotations: map[string]string{annotationWrites: "true", annotationReportsInterrupt: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = envOf()
			if !o.structured() {
				o.view = newRolloutView(o.io.ErrOut, o.io.ErrIsTerminal, time.Now)
				return run(cmd.Context(), o)
			}
			o.jsonStderr()
			return o.jsonResult(run(cmd.Context(), o))
		},
	}
	f := cmd.Flags()
	nonEmptyVar(f, &o.cluster, flagCluster, "the cluster to roll out (required)")
	f.StringArrayVar(&o.roles, flagRole, nil, "also opt in this instance role name or ARN (repeatable)")
	f.StringVar(&o.maxUnavailable, flagMaxUnavailable, rollout.DefaultMaxUnavailable.String(), "most instances draining or missing at once: N, or P% of the cluster's instances (at least 1)")
	f.Var(&o.maxSurge, flagMaxSurge, "replacements launched ahead of the drains, for later batches: N, or P% of the cluster's instances (0: each batch launches for itself)")
	f.DurationVar(&o.drainTimeout, flagDrainTimeout, rollout.DefaultDrainTimeout, "longest wait for a batch's tasks to leave")
	f.DurationVar(&o.timeout, flagLaunchTimeout, rollout.DefaultLaunchTimeout, "longest wait for replacements to register with a trunk")
	// The old spelling shadowed the global --timeout with another meaning;
	// it stays, deprecated, so scripts keep working.
	f.DurationVar(&o.timeout, flagTimeout, rollout.DefaultLaunchTimeout, "deprecated: use --"+flagLaunchTimeout)
	_ = f.MarkDeprecated(flagTimeout, "use --"+flagLaunchTimeout+" (the wait for replacements, which --timeout means here)")
	f.StringVar(&o.standalone, flagStandalone, string(rollout.StandaloneWait), "standalone tasks on a draining instance: wait for them to end, stop them, or fail")
	f.StringVar(&o.method, flagMethod, string(rollout.MethodDrain), "drain (trunkctl launches, drains, terminates) or refresh (an Auto Scaling instance refresh where a whole group needs it)")
	f.BoolVar(&o.dryRun, flagDryRun, false, "print the plan and the calls it would make; change nothing")
	f.BoolVarP(&o.yes, flagYes, "y", false, "do not ask for confirmation")
	_ = cmd.RegisterFlagCompletionFunc(flagStandalone, cobra.FixedCompletions([]string{"wait", "stop", "fail"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc(flagMethod, cobra.FixedCompletions([]string{"drain", "refresh"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (o *rolloutOpts) Validate() error {
	if err := validateCluster(o.cluster, ""); err != nil {
		return err
	}
	standalone := rollout.Standalone(o.standalone)
	switch standalone {
	case rollout.StandaloneWait, rollout.StandaloneStop, rollout.StandaloneFail:
	default:
		return usageErrorf("--%s must be wait, stop or fail, not %q", flagStandalone, o.standalone)
	}
	method := rollout.Method(o.method)
	switch method {
	case rollout.MethodDrain, rollout.MethodRefresh:
	default:
		return usageErrorf("--%s must be drain or refresh, not %q", flagMethod, o.method)
	}
	if o.drainTimeout <= 0 || o.timeout <= 0 {
		return usageErrorf("--%s and --%s must be positive", flagDrainTimeout, flagLaunchTimeout)
	}
	if _, err := o.options(); err != nil {
		return err
	}
	return validateRoles(o.roles, "")
}

// options are the engine's options from the flags.
func (o *rolloutOpts) options() (rollout.Options, error) {
	mu, err := rollout.ParseMaxUnavailable(o.maxUnavailable)
	if err != nil {
		return rollout.Options{}, usageErrorf("--%s: %v", flagMaxUnavailable, err)
	}
	return rollout.Options{Cluster: o.cluster, MaxUnavailable: mu, MaxSurge: o.maxSurge, DrainTimeout: o.drainTimeout, LaunchTimeout: o.timeout,
		Standalone: rollout.Standalone(o.standalone), Method: rollout.Method(o.method), DryRun: o.dryRun}, nil
}

// ValidateRegion checks a cluster ARN's Region and the roles' partition.
func (o *rolloutOpts) ValidateRegion(region string) error {
	if err := validateCluster(o.cluster, region); err != nil {
		return err
	}
	return validateRoles(o.roles, region)
}

// Execute returns the report, which the run fills as it goes (the steps
// render live; the report is printed at the end).
func (o *rolloutOpts) Execute(ctx context.Context) (rolloutReport, error) {
	if o.view != nil {
		stop := o.view.run(time.Second)
		defer stop()
	}
	err := o.execute(ctx)
	return o.out, err
}

func (o *rolloutOpts) execute(ctx context.Context) error {
	c, err := o.connect(ctx, o)
	if err != nil {
		return err
	}
	if c.rollout.ECS == nil || c.rollout.ASG == nil {
		return errors.New("rollout needs ECS and Auto Scaling clients")
	}
	opts, err := o.options()
	if err != nil {
		return err
	}
	extra, err := o.extraRoles(ctx, c)
	if err != nil {
		return err
	}
	clock := c.rollout.Clock
	if clock == nil {
		clock = rollout.SystemClock{}
	}
	engine := &rollout.Engine{ECS: c.rollout.ECS, ASG: c.rollout.ASG, Clock: clock, Catalog: o.catalog, Observe: o.observe}
	stop := o.io.StartProgress("reading the cluster")
	prep, err := rollout.Prepare(ctx, c.session, engine, rollout.Request{Options: opts, Roles: extra,
		Query: assess.Query{Cluster: o.cluster, Now: o.now(), Catalog: o.catalog, StuckAfter: defaultStuckAfter}})
	stop()
	if err != nil {
		return err
	}
	warn(o.io, prep.Warnings)
	plan, enable := prep.Plan, prep.Enable
	o.start(plan)
	o.out.Roles = append(o.out.Roles, prep.Roles...)
	if !o.structured() || o.dryRun {
		o.printPlan(plan, enable)
	}
	if prep.Empty() {
		o.out.Result = o.finalResult()
		return o.finish(nil)
	}
	if o.dryRun {
		if err := prep.DryRun(ctx); err != nil {
			return err
		}
		o.out.Result = resultDryRun
		return o.finish(nil)
	}
	if !o.yes && !o.io.InIsTerminal {
		// Only now: a plan with nothing to do needs no confirmation.
		return usageErrorf("rollout opts roles in and replaces instances, and stdin is not a terminal to confirm on; pass --%s (or --%s to see the plan)", flagYes, flagDryRun)
	}
	if !o.yes {
		ask := o.io
		if o.jsonErr != nil { // a person answers: ask on stderr itself, not as a JSON line
			s := *o.io
			s.ErrOut = o.jsonErr
			ask = &s
		}
		ok, err := confirm(ask, o.question(plan, enable))
		if err != nil {
			return err
		}
		if !ok {
			o.out.Result = resultCancelled
			err := errors.New("cancelled; nothing changed")
			o.out.Stop = &rolloutStop{Kind: resultCancelled, Message: err.Error()}
			return o.finish(&exitError{code: ExitError, err: err})
		}
	}
	if err := prep.OptIn(ctx, c.session); err != nil {
		return err
	}
	res, err := prep.Run(ctx)
	o.record(res)
	var (
		se *rollout.StopError
		ie *rollout.InterruptedError
	)
	switch {
	case errors.As(err, &ie):
		o.out.Result = resultInterrupted
		o.out.Stop = &rolloutStop{Kind: "interrupted", Message: ie.Error(), Advice: rolloutAdvice(err), Draining: ie.Draining, Raised: ie.Raised}
		return o.finish(&exitError{code: ExitInterrupted, err: err})
	case errors.As(err, &se):
		o.out.Result = resultStopped
		o.out.Stop = &rolloutStop{Kind: string(se.Kind), Message: se.Error(), Advice: rolloutAdvice(err), Draining: se.Draining, Raised: se.Raised}
		return o.finish(err)
	case err != nil:
		return err
	}
	o.out.Result = o.finalResult()
	return o.finish(nil)
}

// start fills the report from the plan.
func (o *rolloutOpts) start(p *rollout.Plan) {
	o.out = rolloutReport{Cluster: o.cluster, Roles: []string{}, Replaced: []rollout.Replacement{}, Skipped: []rolloutSkipped{},
		Slots: rolloutSlots{Before: p.SlotsBefore, After: p.SlotsBefore}, Trunked: p.Count(rollout.ActionTrunked),
		Planned: p.Count(rollout.ActionReplace), Groups: map[string]rolloutGrp{}}
	for _, it := range p.Skipped() {
		o.out.Skipped = append(o.out.Skipped, rolloutSkipped{ContainerInstanceID: it.ContainerInstanceID, EC2InstanceID: it.EC2InstanceID, Reason: it.Reason})
	}
	for n, g := range p.Groups {
		o.out.Groups[n] = rolloutGrp{Instances: len(g.Instances), Max: g.Max, Desired: g.Desired, Refresh: g.Refresh}
	}
	if o.dryRun {
		o.out.Batches = p.Batches
		o.out.Slots.After = p.SlotsAfter // what it would be
	}
}

func (o *rolloutOpts) record(res *rollout.Result) {
	if res == nil {
		return
	}
	o.out.Replaced = append(o.out.Replaced, res.Replaced...)
	o.out.Slots.After = res.SlotsAfter
	o.out.Elapsed = res.Elapsed.Round(time.Second).String()
}

func (o *rolloutOpts) finalResult() string {
	if o.dryRun {
		return resultDryRun
	}
	if len(o.out.Skipped) > 0 {
		return resultSkipped
	}
	return resultDone
}

// extraRoles are the --role values as ARNs (bare names in the caller's account).
func (o *rolloutOpts) extraRoles(ctx context.Context, c *clients) ([]awsarn.Role, error) {
	if len(o.roles) == 0 {
		return nil, nil
	}
	caller, err := c.session.Caller(ctx)
	if err != nil {
		return nil, err
	}
	return rolesFromArgs(o.roles, caller.Principal)
}

func (o *rolloutOpts) question(p *rollout.Plan, enable []awsarn.Role) string {
	var b strings.Builder
	if len(enable) > 0 {
		names := make([]string, 0, len(enable))
		for _, r := range enable {
			names = append(names, r.String())
		}
		fmt.Fprintf(&b, "Opt in %s, then replace ", strings.Join(names, ", "))
	} else {
		b.WriteString("Replace ")
	}
	fmt.Fprintf(&b, "%d container instance(s) of %s", p.Count(rollout.ActionReplace), o.cluster)
	if n := len(p.Batches); n > 0 {
		fmt.Fprintf(&b, " in %d batch(es) of at most %d", n, p.MaxUnavailable)
	}
	if len(p.Refresh) > 0 {
		fmt.Fprintf(&b, ", instance refresh of %s", strings.Join(p.Refresh, ", "))
	}
	b.WriteString("?")
	return b.String()
}

// printPlan prints the plan as a table on stdout (table output), or to
// stderr before the JSON of a dry run.
func (o *rolloutOpts) printPlan(p *rollout.Plan, enable []awsarn.Role) {
	if o.structured() {
		return
	}
	batchOf := map[string]int{}
	for k, ids := range p.Batches {
		for _, id := range ids {
			batchOf[id] = k + 1
		}
	}
	t := newTable(o.io, "INSTANCE", "CONTAINER INSTANCE", "TYPE", "GROUP", "BATCH", "ACTION", "REASON")
	for _, it := range p.Items {
		batch := ""
		switch {
		case batchOf[it.EC2InstanceID] > 0:
			batch = fmt.Sprint(batchOf[it.EC2InstanceID])
		case it.Action == rollout.ActionReplace:
			batch = "refresh"
		}
		action := string(it.Action)
		switch it.Action {
		case rollout.ActionTrunked:
			action = o.io.color(colorGreen, action)
		case rollout.ActionReplace:
			action = o.io.color(colorYellow, action)
		default:
			action = o.io.color(colorRed, action)
		}
		t.add(it.EC2InstanceID, it.ContainerInstanceID, it.InstanceType, it.Group, batch, action, it.Reason)
	}
	_ = t.render()
	for _, r := range enable {
		o.io.Infof("role %s is not opted in: rollout enables it first", r)
	}
	o.io.Infof("%d trunked, %d to replace in %d batch(es) of at most %d, %d skipped; awsvpc task slots %d -> %d",
		p.Count(rollout.ActionTrunked), p.Count(rollout.ActionReplace), len(p.Batches), p.MaxUnavailable, p.Count(rollout.ActionSkip),
		p.SlotsBefore, p.SlotsAfter)
}

// observe renders one progress event: a JSON line on stderr with -o json,
// else a line of the live view.
func (o *rolloutOpts) observe(e rollout.Event) {
	if e.Step == rollout.StepWouldCall {
		call := e.Message
		if len(e.Instances) > 0 {
			call += ": " + strings.Join(e.Instances, " ")
		}
		if e.Batch > 0 {
			call = fmt.Sprintf("batch %d/%d: %s", e.Batch, e.Batches, call)
		}
		o.wouldCall(call)
		return
	}
	o.step(e)
}

// wouldCall records (and, for tables, prints) a call a dry run would make.
func (o *rolloutOpts) wouldCall(call string) {
	o.out.Calls = append(o.out.Calls, call)
	if !o.structured() {
		fmt.Fprintf(o.io.Out, "would call %s\n", call)
	}
}

func (o *rolloutOpts) step(e rollout.Event) {
	if o.structured() {
		o.jsonLine(e)
		return
	}
	o.view.event(e)
}

// finish prints the summary (a JSON object, or a table of what was
// replaced and skipped) and turns the result into the exit code.
func (o *rolloutOpts) finish(err error) error {
	if o.structured() {
		o.printed = true
		if werr := o.writeData(o.out); werr != nil && err == nil {
			return werr
		}
	} else if o.out.Result != resultDryRun {
		o.view.close()
		if len(o.out.Replaced) > 0 {
			t := newTable(o.io, "OLD", "NEW", "TRUNK ENI", "GROUP")
			for _, r := range o.out.Replaced {
				t.add(r.Old, r.New, r.TrunkENI, r.Group)
			}
			if werr := t.render(); werr != nil && err == nil {
				return werr
			}
		}
		for _, s := range o.out.Skipped {
			o.io.Infof("skipped %s (%s): %s", s.EC2InstanceID, s.ContainerInstanceID, s.Reason)
		}
		o.io.Infof("%s: %d replaced, %d skipped; awsvpc task slots %s -> %s", o.out.Result, len(o.out.Replaced), len(o.out.Skipped),
			thousands(o.out.Slots.Before), thousands(o.out.Slots.After))
	}
	if err != nil {
		return err
	}
	if o.out.Result == resultSkipped {
		return unhealthy()
	}
	return nil
}

func (o *rolloutOpts) RecommendActions(r rolloutReport) {
	if o.structured() {
		return // stderr carries only the JSON steps
	}
	switch r.Result {
	case resultDryRun:
		o.io.Infof("Run it: trunkctl rollout --cluster %s (add --yes to skip the question)", o.cluster)
	case resultDone, resultSkipped:
		if len(r.Replaced) > 0 {
			o.io.Infof("Check: trunkctl instances --cluster %s", o.cluster)
		}
	}
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
