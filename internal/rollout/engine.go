package rollout

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Method is how instances are replaced.
type Method string

const (
	// MethodDrain: trunkctl launches, drains and terminates, batch by batch.
	MethodDrain Method = "drain"
	// MethodRefresh: an Auto Scaling instance refresh replaces groups whose
	// every instance needs it; other groups are drained as with MethodDrain.
	MethodRefresh Method = "refresh"
)

// Standalone is what to do with tasks no service owns on a draining
// instance: draining does not move them.
type Standalone string

const (
	StandaloneWait Standalone = "wait"
	StandaloneStop Standalone = "stop"
	StandaloneFail Standalone = "fail"
)

// Defaults of Options.
const (
	DefaultDrainTimeout  = 30 * time.Minute
	DefaultLaunchTimeout = 15 * time.Minute
	DefaultPollInterval  = 5 * time.Second
)

// Options of a rollout.
type Options struct {
	Cluster        string
	MaxUnavailable MaxUnavailable
	// MaxSurge is how many replacements may be launched ahead of the
	// drains (zero: each batch launches for itself when it starts).
	MaxSurge MaxSurge
	// DrainTimeout bounds each batch's wait for its tasks to leave.
	DrainTimeout time.Duration
	// LaunchTimeout bounds each wait for replacements to register with a trunk.
	LaunchTimeout time.Duration
	Standalone    Standalone
	Method        Method
	// DryRun reads and plans, reports the calls it would make, changes nothing.
	DryRun       bool
	PollInterval time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxUnavailable.N == 0 {
		o.MaxUnavailable = DefaultMaxUnavailable
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.LaunchTimeout <= 0 {
		o.LaunchTimeout = DefaultLaunchTimeout
	}
	if o.Standalone == "" {
		o.Standalone = StandaloneWait
	}
	if o.Method == "" {
		o.Method = MethodDrain
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	return o
}

// Engine carries out rollouts with its clients and clock.
type Engine struct {
	ECS     ECSAPI
	ASG     AutoScalingAPI
	Clock   Clock
	Catalog *catalog.Catalog
	// Judge judges the replacements as the instances they replace were
	// judged (required).
	Judge ReplacementJudge
	// Reader is the one ECS reading; Prepare sets the assessment's loader,
	// and a loader over ECS is made when it is nil.
	Reader *inventory.Loader
	// Observe, when set, hears every progress event.
	Observe Observer
}

// Replacement is one instance replaced.
type Replacement struct {
	Old      string `json:"old"`
	New      string `json:"new"`
	TrunkENI string `json:"trunkEniId"`
	Group    string `json:"autoScalingGroup"`
}

// Result is what a rollout did: complete on success, partial with an error.
type Result struct {
	Cluster     string        `json:"cluster"`
	Replaced    []Replacement `json:"replaced"`
	Skipped     []Item        `json:"skipped"`
	SlotsBefore int           `json:"slotsBefore"`
	SlotsAfter  int           `json:"slotsAfter"`
	Elapsed     time.Duration `json:"elapsedNs"`
}

// Plan decides, for every container instance the judge looked at, whether
// it is trunked, to be replaced, or skipped, and reads the Auto Scaling
// groups behind them. judged is doctor.Judge's report on a fresh snapshot of
// the cluster: what AWS says now.
func (e *Engine) Plan(ctx context.Context, o Options, judged []doctor.InstanceReport) (*Plan, error) {
	o = o.withDefaults()
	ids := make([]string, 0, len(judged))
	for _, r := range judged {
		ids = append(ids, r.ContainerInstance.EC2InstanceID)
	}
	groupOf, err := e.groupsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, g := range groupOf {
		names[g] = true
	}
	states, err := e.describeGroups(ctx, slices.Sorted(maps.Keys(names)))
	if err != nil {
		return nil, err
	}
	groups := map[string]Group{}
	for n, s := range states {
		g := s.Group
		g.Raised, g.RaisedFrom = s.raisedBy(o.Cluster)
		groups[n] = g
	}
	p := newPlan(o.Cluster, e.Catalog, judged, groupOf, groups, o.MaxUnavailable, o.Method)
	p.MaxSurge = o.MaxSurge.Of(len(judged))
	return p, nil
}

// run is the state of one rollout.
type run struct {
	e     *Engine
	o     Options
	plan  *Plan
	start time.Time
	res   *Result
	batch int
	// seen: EC2 instances that are not replacements of this run (the plan's
	// and its groups'), plus replacements already claimed.
	seen map[string]bool
	// owner: container instance ARN -> EC2 instance id, of described instances.
	owner map[string]string
	// draining: EC2 instances this run set (or found) DRAINING and has not terminated.
	draining map[string]bool
	// leaving: container instance ARNs by EC2 id, of instances this run
	// terminated whose container instance may still be DRAINING.
	leaving map[string]string
	// capacity: per group, how the run has raised its desired capacity.
	capacity map[string]*raise
	items    map[string]Item
	// refreshes say what became of instance refreshes a stop or an
	// interrupt ended early.
	refreshes []string
}

// Run carries out a plan. It returns the result so far with a *StopError
// when it stopped rather than guess, or an *InterruptedError when ctx ended.
func (e *Engine) Run(ctx context.Context, p *Plan, o Options) (*Result, error) {
	o = o.withDefaults()
	if e.Judge == nil {
		return nil, errors.New("rollout engine: no judge for the replacements (Engine.Judge)")
	}
	r := &run{e: e, o: o, plan: p, start: e.Clock.Now(), seen: map[string]bool{}, owner: map[string]string{},
		draining: map[string]bool{}, leaving: map[string]string{}, items: map[string]Item{}, capacity: capacityOf(p),
		res: &Result{Cluster: p.Cluster, Replaced: []Replacement{}, Skipped: p.Skipped(), SlotsBefore: p.SlotsBefore, SlotsAfter: p.SlotsBefore}}
	if r.res.Skipped == nil {
		r.res.Skipped = []Item{}
	}
	for _, it := range p.Items {
		r.seen[it.EC2InstanceID] = true
		r.owner[it.ContainerInstanceArn] = it.EC2InstanceID
		r.items[it.EC2InstanceID] = it
		if it.Action == ActionReplace && it.Status == statusDraining {
			r.draining[it.EC2InstanceID] = true
		}
	}
	for _, g := range p.Groups {
		for _, id := range g.Instances {
			r.seen[id] = true
		}
	}
	surge := ""
	if p.MaxSurge > 0 {
		surge = fmt.Sprintf(", up to %d replacement(s) launched ahead of the drains", p.MaxSurge)
	}
	r.emit(Event{Step: StepPlan, Batches: len(p.Batches), Message: fmt.Sprintf("%d trunked, %d to replace in %d batch(es) of at most %d%s, %d skipped; %d group(s) by instance refresh",
		p.Count(ActionTrunked), p.Count(ActionReplace), len(p.Batches), p.MaxUnavailable, surge, p.Count(ActionSkip), len(p.Refresh))})
	if o.DryRun {
		r.dryRun()
		r.res.Elapsed = e.Clock.Now().Sub(r.start)
		return r.res, nil
	}
	err := r.all(ctx)
	r.res.Elapsed = e.Clock.Now().Sub(r.start)
	if err != nil {
		return r.res, r.wrap(ctx, err)
	}
	cis, err := e.containerInstances(ctx, p.Cluster)
	if err != nil {
		return r.res, r.wrap(ctx, err)
	}
	gone := map[string]bool{}
	for _, rep := range r.res.Replaced {
		gone[rep.Old] = true
	}
	r.res.SlotsAfter = 0
	for _, ci := range cis {
		if ci.Status == statusActive && !gone[ci.EC2InstanceID] {
			r.res.SlotsAfter += slots(e.Catalog, ci, false)
		}
	}
	r.emit(Event{Step: StepDone, Message: fmt.Sprintf("%d replaced, %d skipped; awsvpc task slots %d -> %d",
		len(r.res.Replaced), len(r.res.Skipped), r.res.SlotsBefore, r.res.SlotsAfter)})
	return r.res, nil
}

func (r *run) all(ctx context.Context) error {
	if r.o.Method == MethodRefresh {
		if err := r.noRefreshRunning(ctx); err != nil {
			return err
		}
	}
	for _, name := range r.plan.Refresh {
		if err := r.refresh(ctx, r.plan.Groups[name]); err != nil {
			return err
		}
	}
	for k, ids := range r.plan.Batches {
		r.batch = k + 1
		if err := r.runBatch(ctx, ids); err != nil {
			return err
		}
	}
	r.batch = 0
	for _, name := range slices.Sorted(maps.Keys(r.capacity)) {
		if n := r.capacity[name].raised; n > 0 {
			r.emit(Event{Step: StepNote, Group: name, Message: fmt.Sprintf("group %s: an earlier run raised its desired capacity by %d and no instance of it is left to take that back with (its tag %s says so); lower it by hand once nothing runs on the extra instances", name, n, RaisedTagKey)})
		}
	}
	return nil
}

// wrap adds what the run left DRAINING to a stop, or makes an interrupt of
// an ended context.
func (r *run) wrap(ctx context.Context, err error) error {
	left := slices.Sorted(maps.Keys(r.draining))
	var leftIDs []string
	for _, id := range left {
		leftIDs = append(leftIDs, r.items[id].ContainerInstanceID)
	}
	raised := map[string]int{}
	for g, c := range r.capacity {
		if c.raised > 0 {
			raised[g] = c.raised
		}
	}
	if len(raised) == 0 {
		raised = nil
	}
	var stop *StopError
	if errors.As(err, &stop) {
		stop.Cluster, stop.Draining, stop.DrainingIDs, stop.Raised = r.o.Cluster, left, leftIDs, raised
		stop.Refreshes = r.refreshes
		r.emit(Event{Step: StepStopped, Batch: stop.Batch, Batches: len(r.plan.Batches), Group: stop.Group, Instances: stop.Instances, Message: stop.Error()})
		return stop
	}
	if ctx.Err() != nil {
		ie := &InterruptedError{Cluster: r.o.Cluster, Batch: r.batch, Draining: left, DrainingIDs: leftIDs, Raised: raised, Refreshes: r.refreshes, Err: ctx.Err()}
		r.emit(Event{Step: StepInterrupted, Batch: r.batch, Batches: len(r.plan.Batches), Instances: left, Message: ie.Error()})
		return ie
	}
	if len(r.refreshes) > 0 {
		return fmt.Errorf("%w; %s", err, strings.Join(r.refreshes, "; "))
	}
	return err
}

func (r *run) emit(ev Event) {
	if r.e.Observe == nil {
		return
	}
	ev.Time = r.e.Clock.Now()
	ev.Elapsed = ev.Time.Sub(r.start)
	if ev.Batch == 0 && r.batch > 0 && ev.Step != StepDone {
		ev.Batch = r.batch
	}
	if ev.Batches == 0 && ev.Batch > 0 {
		ev.Batches = len(r.plan.Batches)
	}
	r.e.Observe(ev)
}

func (r *run) stop(kind StopKind, group string, instances []string, seen string) *StopError {
	return &StopError{Kind: kind, Batch: r.batch, Group: group, Instances: instances, Seen: seen}
}

// dryRun reports the calls a run would make, from the plan alone.
func (r *run) dryRun() {
	would := func(batch int, group string, ids []string, format string, args ...any) {
		r.emit(Event{Step: StepWouldCall, Batch: batch, Batches: len(r.plan.Batches), Group: group, Instances: ids, Message: fmt.Sprintf(format, args...)})
	}
	for _, name := range r.plan.Refresh {
		g := r.plan.Groups[name]
		would(0, name, g.Instances, "autoscaling StartInstanceRefresh %s (MinHealthyPercentage 100, MaxHealthyPercentage %d, SkipMatching false) replacing %d instance(s)",
			name, 100+refreshStep(r.plan.MaxUnavailable, len(g.Instances)), len(g.Instances))
	}
	// The same raise arithmetic as a run, stepped from the plan.
	capacity := capacityOf(r.plan)
	for k, ids := range r.plan.Batches {
		byGroup := r.byGroup(ids)
		resumed := r.draining[ids[0]]
		var ahead map[string]int
		if !resumed {
			ahead = r.plan.ahead(k, r.groupOf)
		}
		for _, name := range uniqSorted(append(slices.Sorted(maps.Keys(byGroup)), slices.Sorted(maps.Keys(ahead))...)) {
			r.dryRunGroup(k+1, name, capacity[name], byGroup[name], ahead[name], resumed, would)
		}
	}
}

// dryRunGroup reports what batch k does to group name: its raise for
// members (none when resumed) and ahead later instances, then the drain and
// the terminations of members.
func (r *run) dryRunGroup(k int, name string, c *raise, members []string, ahead int, resumed bool, would func(int, string, []string, string, ...any)) {
	tagOf := func() string { return c.tag(r.o.Cluster).String() }
	launch, surge, from := 0, "", c.desired
	if !resumed {
		launch = c.launch(len(members), ahead)
	}
	if n := c.surged(len(members), launch); n > 0 {
		surge = fmt.Sprintf(" (%d ahead of the drains, for later batches)", n)
	}
	if launch > 0 {
		c.launched(launch)
	}
	wait := c.claim(len(members))
	switch {
	case launch > 0 && wait > 0:
		would(k, name, nil, "autoscaling SetDesiredCapacity %s %d -> %d%s and CreateOrUpdateTags %s=%q, then wait for %d instance(s) ACTIVE with a trunk",
			name, from, c.desired, surge, RaisedTagKey, tagOf(), wait)
	case launch > 0:
		would(k, name, nil, "autoscaling SetDesiredCapacity %s %d -> %d%s and CreateOrUpdateTags %s=%q",
			name, from, c.desired, surge, RaisedTagKey, tagOf())
	case wait > 0:
		would(k, name, nil, "wait for %d instance(s) launched ahead ACTIVE with a trunk", wait)
	}
	if len(members) == 0 {
		return
	}
	would(k, name, members, "ecs UpdateContainerInstancesState DRAINING, wait for service tasks to move (at most %s); standalone tasks: %s", r.o.DrainTimeout, r.o.Standalone)
	dec := c.decrements(len(members))
	for range dec {
		c.decremented()
	}
	tag := fmt.Sprintf("; CreateOrUpdateTags %s=%q", RaisedTagKey, tagOf())
	switch {
	case dec == 0:
		tag = ""
	case c.raised == 0:
		tag = "; DeleteTags " + RaisedTagKey
	}
	would(k, name, members, "autoscaling SetInstanceProtection false where protected; TerminateInstanceInAutoScalingGroup: %d with decrement, %d without (the group replaces them)%s", dec, len(members)-dec, tag)
}

// byGroup splits EC2 ids by their group, keeping their order.
func (r *run) byGroup(ids []string) map[string][]string {
	out := map[string][]string{}
	for _, id := range ids {
		g := r.items[id].Group
		out[g] = append(out[g], id)
	}
	return out
}

// runBatch replaces one batch: launch first where the groups allow, drain,
// terminate through the group, and wait for the group's own replacements.
func (r *run) runBatch(ctx context.Context, ids []string) error {
	byGroup := r.byGroup(ids)
	names := slices.Sorted(maps.Keys(byGroup))
	resumed := r.draining[ids[0]]
	msg := fmt.Sprintf("%d instance(s) in %s", len(ids), strings.Join(names, ", "))
	if resumed {
		msg = fmt.Sprintf("%d instance(s) already DRAINING (an earlier run's batch) in %s", len(ids), strings.Join(names, ", "))
	}
	r.emit(Event{Step: StepBatch, Instances: ids, Message: msg})

	// Standalone tasks first: --standalone fail must fail before any change.
	standalone, services, err := r.batchTasks(ctx, ids)
	if err != nil {
		return err
	}
	claimed, err := r.launchFirst(ctx, names, byGroup, resumed)
	if err != nil {
		return err
	}
	newOf := map[string][]newInstance{}
	if err := r.collectNew(ctx, claimed, newOf); err != nil {
		return err
	}

	if err := r.waitLeft(ctx, ids); err != nil {
		return err
	}
	if err := r.drain(ctx, ids); err != nil {
		return err
	}
	if err := r.waitDrained(ctx, ids, standalone, services); err != nil {
		return err
	}
	decremented, err := r.terminate(ctx, byGroup)
	if err != nil {
		return err
	}
	rest := map[string]int{}
	for _, name := range names {
		if n := len(byGroup[name]) - decremented[name]; n > 0 {
			rest[name] = n
		}
	}
	if err := r.collectNew(ctx, rest, newOf); err != nil {
		return err
	}
	if err := r.waitSettled(ctx, services); err != nil {
		return err
	}
	for _, name := range names {
		r.reportReplaced(name, byGroup[name], newOf[name], claimed[name], decremented[name])
	}
	return nil
}

// batchTasks reads the tasks on the batch's instances: how many standalone
// tasks each runs and the sorted names of the services among them. With
// --standalone fail, an instance running a standalone task stops the rollout.
func (r *run) batchTasks(ctx context.Context, ids []string) (map[string]int, []string, error) {
	standalone := map[string]int{}
	var services []string
	svcSeen := map[string]bool{}
	for _, id := range ids {
		tasks, err := r.e.tasksOn(ctx, r.o.Cluster, r.items[id].ContainerInstanceArn)
		if err != nil {
			return nil, nil, err
		}
		var alone []string
		for _, t := range tasks {
			if !isService(t) {
				alone = append(alone, t.ID())
				continue
			}
			if name := strings.TrimPrefix(t.Group, servicePrefix); !svcSeen[name] {
				svcSeen[name] = true
				services = append(services, name)
			}
		}
		standalone[id] = len(alone)
		if len(alone) > 0 && r.o.Standalone == StandaloneFail {
			return nil, nil, r.stop(StopStandalone, r.items[id].Group, []string{id}, fmt.Sprintf("standalone task(s) %s would not move when drained", strings.Join(alone, ", ")))
		}
	}
	sort.Strings(services)
	return standalone, services, nil
}

// launchFirst raises each group's desired capacity for as many of the batch
// as its maximum allows, and, with --max-surge, for the instances of later
// batches within the surge. It returns, per group of the batch, how many of
// this run's launches the batch waits for before its drain. A resumed batch
// (an earlier run's, left DRAINING) launches nothing.
func (r *run) launchFirst(ctx context.Context, names []string, byGroup map[string][]string, resumed bool) (map[string]int, error) {
	var ahead map[string]int
	all := names
	if !resumed {
		ahead = r.plan.ahead(r.batch-1, r.groupOf)
		all = uniqSorted(append(slices.Clone(names), slices.Sorted(maps.Keys(ahead))...))
	}
	states, err := r.e.describeGroups(ctx, all)
	if err != nil {
		return nil, err
	}
	claimed := map[string]int{}
	for _, name := range all {
		g, c := states[name], r.capacityOf(name)
		c.desired, c.max = g.Desired, g.Max
		count := len(byGroup[name])
		if resumed {
			r.noteResumed(name, g, count)
			continue
		}
		if err := r.launchFor(ctx, name, count, ahead[name]); err != nil {
			return nil, err
		}
		if n := c.claim(count); n > 0 {
			claimed[name] = n
		}
	}
	return claimed, nil
}

// groupOf is the group of an EC2 instance of the plan.
func (r *run) groupOf(ec2ID string) string { return r.items[ec2ID].Group }

// capacityOf is group name's raise, created for a group the plan did not
// read (none: every group of a batch is the plan's).
func (r *run) capacityOf(name string) *raise {
	c, ok := r.capacity[name]
	if !ok {
		c = &raise{}
		r.capacity[name] = c
	}
	return c
}

// capacityOf starts each group's raise from the plan: its size and what an
// earlier run's tag says it raised.
func capacityOf(p *Plan) map[string]*raise {
	out := map[string]*raise{}
	for name, g := range p.Groups {
		out[name] = &raise{desired: g.Desired, max: g.Max, raised: g.Raised, from: g.RaisedFrom}
	}
	return out
}

// noteResumed says how a resumed batch's count instances of group name are
// replaced.
func (r *run) noteResumed(name string, g groupState, count int) {
	c := r.capacityOf(name)
	msg := fmt.Sprintf("group %s: desired capacity %d, not raised by an earlier run: the group replaces the instances left DRAINING", name, g.Desired)
	if k := c.decrements(count); k > 0 {
		msg = fmt.Sprintf("group %s: an earlier run raised its desired capacity by %d (tag %s): %d of the instances left DRAINING are terminated with a decrement, %d replaced by the group", name, c.raised, RaisedTagKey, k, count-k)
	}
	r.emit(Event{Step: StepNote, Group: name, Message: msg})
}

// launchFor raises group name's desired capacity for count instances of the
// batch and ahead of later batches, as far as its maximum allows, and
// records the raise (tag included).
func (r *run) launchFor(ctx context.Context, name string, count, ahead int) error {
	c := r.capacityOf(name)
	// Instances an earlier run launched and did not take back (its tag)
	// already stand in for as many of the batch: launch only the rest.
	if carried := min(c.carried(), count); carried > 0 {
		r.emit(Event{Step: StepNote, Group: name, Message: fmt.Sprintf("group %s: an earlier run raised its desired capacity by %d (tag %s): %d of the batch are terminated with a decrement against it, without launching for them", name, c.carried(), RaisedTagKey, carried)})
	}
	if short := c.short(count); short > 0 {
		r.emit(Event{Step: StepNote, Group: name, Message: fmt.Sprintf("group %s: desired %d, max %d: %d launched first, %d drained first and replaced by the group", name, c.desired, c.max, count-min(c.carried(), count)-short, short)})
	}
	n := c.launch(count, ahead)
	if n == 0 {
		return nil
	}
	from, surged := c.desired, c.surged(count, n)
	if _, err := r.e.ASG.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{
		AutoScalingGroupName: aws.String(name), DesiredCapacity: aws.Int32(capped32(from + n)), HonorCooldown: aws.Bool(false)}); err != nil {
		return fmt.Errorf("set desired capacity of %s to %d: %w", name, from+n, err)
	}
	c.launched(n)
	msg := fmt.Sprintf("desired capacity %d -> %d", from, c.desired)
	if surged > 0 {
		msg += fmt.Sprintf(" (%d ahead of the drains, for later batches)", surged)
	}
	r.emit(Event{Step: StepLaunch, Group: name, Message: msg})
	return r.saveRaised(ctx, name)
}

// collectNew waits for want[group] new instances per group (none when want
// is empty) and appends them to newOf.
func (r *run) collectNew(ctx context.Context, want map[string]int, newOf map[string][]newInstance) error {
	if len(want) == 0 {
		return nil
	}
	got, err := r.waitNew(ctx, want)
	if err != nil {
		return err
	}
	for g, ns := range got {
		newOf[g] = append(newOf[g], ns...)
	}
	return nil
}

// reportReplaced records and reports which new instance replaced each of
// the group's olds. news holds this batch's launches first, then the group's
// own replacements of the instances terminated without a decrement; an
// instance decremented against an earlier run's raise was replaced by that
// run's launch, which this run cannot tell apart.
func (r *run) reportReplaced(name string, olds []string, news []newInstance, claimed, decremented int) {
	for i, old := range olds {
		var n newInstance
		switch {
		case i < claimed:
			n = news[i]
		case i >= decremented:
			n = news[claimed+i-decremented]
		}
		rep := Replacement{Old: old, New: n.ec2ID, TrunkENI: n.trunk, Group: name}
		r.res.Replaced = append(r.res.Replaced, rep)
		ev := Event{Step: StepReplaced, Group: name, Instances: []string{old, n.ec2ID}, Message: fmt.Sprintf("%s -> %s (trunk %s)", old, n.ec2ID, n.trunk)}
		if n.ec2ID == "" {
			ev.Instances, ev.Message = []string{old}, old+" -> an instance an earlier run launched"
		}
		r.emit(ev)
	}
}

// newInstance is a replacement that registered with a trunk.
type newInstance struct {
	ec2ID, ciArn, trunk string
}

// waitNew waits until each group has want[group] new instances registered
// ACTIVE with a trunk, and claims them. One that registers without a trunk
// stops the rollout.
func (r *run) waitNew(ctx context.Context, want map[string]int) (map[string][]newInstance, error) {
	names := slices.Sorted(maps.Keys(want))
	deadline := r.e.Clock.Now().Add(r.o.LaunchTimeout)
	total := 0
	for _, n := range want {
		total += n
	}
	r.emit(Event{Step: StepWait, Message: fmt.Sprintf("waiting for %d new instance(s) to register with a trunk (at most %s)", total, r.o.LaunchTimeout)})
	for {
		states, err := r.e.describeGroups(ctx, names)
		if err != nil {
			return nil, err
		}
		candidates, fresh := r.candidates(names, states)
		byEC2, err := r.registered(ctx, fresh)
		if err != nil {
			return nil, err
		}
		ready := map[string][]newInstance{}
		done := true
		for _, name := range names {
			if ready[name], err = r.readyIn(name, candidates[name], byEC2); err != nil {
				return nil, err
			}
			if len(ready[name]) < want[name] {
				done = false
			}
		}
		if done {
			return r.claim(names, ready, want), nil
		}
		if !r.e.Clock.Now().Before(deadline) {
			var seen []string
			for _, name := range names {
				seen = append(seen, fmt.Sprintf("%s: %d of %d new instance(s) ACTIVE with a trunk, %d launched", name, len(ready[name]), want[name], len(candidates[name])))
			}
			return nil, r.stop(StopLaunchTimeout, strings.Join(names, ", "), nil, fmt.Sprintf("after %s: %s", r.o.LaunchTimeout, strings.Join(seen, "; ")))
		}
		if err := r.e.Clock.Sleep(ctx, r.o.PollInterval); err != nil {
			return nil, err
		}
	}
}

// candidates lists, per group, the instances not yet claimed and not
// terminating, and the set of them all.
func (r *run) candidates(names []string, states map[string]groupState) (map[string][]string, map[string]bool) {
	candidates := map[string][]string{}
	fresh := map[string]bool{}
	for _, name := range names {
		for _, id := range states[name].Instances {
			if r.seen[id] || strings.HasPrefix(string(states[name].members[id].LifecycleState), "Terminat") {
				continue
			}
			candidates[name] = append(candidates[name], id)
			fresh[id] = true
		}
	}
	return candidates, fresh
}

// registered reads the container instances the fresh EC2 instances
// registered as, by EC2 instance id. It describes only the container
// instances whose owner it does not know yet or is one of fresh.
func (r *run) registered(ctx context.Context, fresh map[string]bool) (map[string]inventory.ContainerInstance, error) {
	byEC2 := map[string]inventory.ContainerInstance{}
	if len(fresh) == 0 {
		return byEC2, nil
	}
	arns, err := r.e.listContainerInstanceArns(ctx, r.o.Cluster)
	if err != nil {
		return nil, err
	}
	var unknown []string
	for _, a := range arns {
		if owner, ok := r.owner[a]; !ok || fresh[owner] {
			unknown = append(unknown, a)
		}
	}
	cis, err := r.e.describeContainerInstances(ctx, r.o.Cluster, unknown)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, a := range arns {
		listed[a] = true
	}
	for id, a := range r.leaving {
		if !listed[a] {
			delete(r.leaving, id)
		}
	}
	for _, ci := range cis {
		r.owner[ci.Arn] = ci.EC2InstanceID
		if fresh[ci.EC2InstanceID] {
			byEC2[ci.EC2InstanceID] = ci
		}
	}
	return byEC2, nil
}

// readyIn judges group name's registered candidates: those ACTIVE with a
// trunk are ready; one the judge says will not get a trunk by waiting stops
// the rollout.
func (r *run) readyIn(name string, candidates []string, byEC2 map[string]inventory.ContainerInstance) ([]newInstance, error) {
	var ready []newInstance
	for _, id := range candidates {
		ci, ok := byEC2[id]
		if !ok {
			continue
		}
		v := r.e.Judge.JudgeReplacement(r.plan.likeIn(name), ci)
		switch {
		case v.Healthy && v.Remedy == doctor.RemedyNone:
			if ci.Status == statusActive {
				ready = append(ready, newInstance{ec2ID: id, ciArn: ci.Arn, trunk: ci.TrunkENI})
			}
		case v.Remedy == doctor.RemedyWait:
		default:
			return nil, r.stop(StopNoTrunk, name, []string{id}, fmt.Sprintf("new container instance %s (%s) registered %s: %s", ci.ID(), ci.InstanceType, ci.Status, v.Message))
		}
	}
	return ready, nil
}

// claim takes want[group] of each group's ready instances, marks them seen
// and reports them.
func (r *run) claim(names []string, ready map[string][]newInstance, want map[string]int) map[string][]newInstance {
	out := map[string][]newInstance{}
	for _, name := range names {
		out[name] = ready[name][:want[name]]
		var ids []string
		for _, n := range out[name] {
			r.seen[n.ec2ID] = true
			ids = append(ids, n.ec2ID)
		}
		r.emit(Event{Step: StepRegistered, Group: name, Instances: ids, Message: fmt.Sprintf("%d new instance(s) ACTIVE with a trunk", len(ids))})
	}
	return out
}

// waitLeft makes room, before the batch is set DRAINING, among the
// instances earlier batches terminated: a terminated instance stays DRAINING
// in ECS until ECS deregisters it, and with replacements launched ahead the
// next drain would start beside it, past --max-unavailable. So it
// deregisters them itself (they ran no task when terminated; force is
// false, so ECS refuses one that does) and, should ECS refuse, waits for
// ECS to. It calls nothing when the count allows the drain anyway (the last
// listing of the cluster already dropped those ECS deregistered).
func (r *run) waitLeft(ctx context.Context, ids []string) error {
	n := 0
	for _, id := range ids {
		if !r.draining[id] {
			n++
		}
	}
	if n == 0 || len(r.leaving)+n <= r.plan.MaxUnavailable {
		return nil
	}
	refused := r.deregisterLeaving(ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(r.leaving)+n <= r.plan.MaxUnavailable {
		return nil
	}
	r.emit(Event{Step: StepWait, Instances: slices.Sorted(maps.Keys(r.leaving)), Message: fmt.Sprintf("waiting for %d terminated instance(s) to leave DRAINING before %d more drain (--max-unavailable %d); not deregistered: %s",
		len(r.leaving), n, r.plan.MaxUnavailable, strings.Join(refused, "; "))})
	deadline := r.e.Clock.Now().Add(r.o.DrainTimeout)
	for {
		if err := r.pruneLeaving(ctx); err != nil {
			return err
		}
		if len(r.leaving)+n <= r.plan.MaxUnavailable {
			return nil
		}
		if !r.e.Clock.Now().Before(deadline) {
			return r.stop(StopDrainTimeout, "", slices.Sorted(maps.Keys(r.leaving)), fmt.Sprintf("after %s: %d terminated instance(s) still DRAINING", r.o.DrainTimeout, len(r.leaving)))
		}
		if err := r.e.Clock.Sleep(ctx, r.o.PollInterval); err != nil {
			return err
		}
	}
}

// deregisterLeaving deregisters the container instances of the instances
// this run terminated (force false) and returns what ECS refused, by id.
func (r *run) deregisterLeaving(ctx context.Context) []string {
	var deregistered, refused []string
	for _, id := range slices.Sorted(maps.Keys(r.leaving)) {
		if _, err := r.e.ECS.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{
			Cluster: aws.String(r.o.Cluster), ContainerInstance: aws.String(r.leaving[id]), Force: aws.Bool(false)}); err != nil {
			if ctx.Err() != nil {
				break
			}
			refused = append(refused, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		deregistered = append(deregistered, id)
		delete(r.leaving, id)
	}
	if len(deregistered) > 0 {
		r.emit(Event{Step: StepDeregister, Instances: deregistered, Message: fmt.Sprintf("%d terminated instance(s) deregistered, so the next batch can drain", len(deregistered))})
	}
	return refused
}

// pruneLeaving forgets the terminated instances ECS no longer has DRAINING.
func (r *run) pruneLeaving(ctx context.Context) error {
	left := slices.Sorted(maps.Keys(r.leaving))
	arns := make([]string, 0, len(left))
	for _, id := range left {
		arns = append(arns, r.leaving[id])
	}
	cis, err := r.e.describeContainerInstances(ctx, r.o.Cluster, arns)
	if err != nil {
		return err
	}
	still := map[string]bool{}
	for _, ci := range cis {
		if ci.Status == statusDraining {
			still[ci.EC2InstanceID] = true
		}
	}
	for _, id := range left {
		if !still[id] {
			delete(r.leaving, id)
		}
	}
	return nil
}

// drain sets the batch's instances DRAINING (those not already).
func (r *run) drain(ctx context.Context, ids []string) error {
	var arns []string
	var set []string
	for _, id := range ids {
		if !r.draining[id] {
			arns = append(arns, r.items[id].ContainerInstanceArn)
			set = append(set, id)
		}
	}
	for batch := range slices.Chunk(arns, maxUpdateState) {
		res, err := r.e.ECS.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{
			Cluster: aws.String(r.o.Cluster), ContainerInstances: batch, Status: ecstypes.ContainerInstanceStatusDraining})
		if err != nil {
			return fmt.Errorf("set %s DRAINING in %s: %w", strings.Join(batch, ", "), r.o.Cluster, err)
		}
		for _, ci := range res.ContainerInstances {
			r.draining[aws.ToString(ci.Ec2InstanceId)] = true
		}
		if len(res.Failures) > 0 {
			var seen []string
			for _, f := range res.Failures {
				seen = append(seen, aws.ToString(f.Arn)+": "+aws.ToString(f.Reason))
			}
			return r.stop(StopRejected, "", nil, "ECS did not drain "+strings.Join(seen, "; "))
		}
	}
	if len(set) > 0 {
		r.emit(Event{Step: StepDrain, Instances: set, Message: fmt.Sprintf("%d instance(s) DRAINING", len(set))})
	}
	return nil
}

// waitDrained waits until the batch's service tasks have moved and its
// standalone tasks have ended (or are stopped, per --standalone), watching
// the services' events for tasks they cannot place.
func (r *run) waitDrained(ctx context.Context, ids []string, standalone map[string]int, services []string) error {
	start := r.e.Clock.Now()
	deadline := start.Add(r.o.DrainTimeout)
	arnOf := map[string]string{}
	var arns []string
	for _, id := range ids {
		arnOf[id] = r.items[id].ContainerInstanceArn
		arns = append(arns, arnOf[id])
	}
	stopped := map[string]bool{}
	drainedSaid := false
	for {
		cis, err := r.e.describeContainerInstances(ctx, r.o.Cluster, arns)
		if err != nil {
			return err
		}
		busy, svcBusy, err := r.stillBusy(ctx, cis, standalone, stopped)
		if err != nil {
			return err
		}
		if len(svcBusy) == 0 && !drainedSaid {
			drainedSaid = true
			r.emit(Event{Step: StepDrained, Instances: ids, Message: "service tasks moved off the batch"})
		}
		if len(busy) == 0 {
			return nil
		}
		if len(svcBusy) > 0 && len(services) > 0 {
			if err := r.checkPlacement(ctx, services, start); err != nil {
				return err
			}
		}
		if !r.e.Clock.Now().Before(deadline) {
			return r.drainTimedOut(busy, svcBusy)
		}
		if err := r.e.Clock.Sleep(ctx, r.o.PollInterval); err != nil {
			return err
		}
	}
}

// stillBusy lists the draining instances that still run tasks (busy) and,
// sorted, those among them that still run service tasks (svcBusy). An
// instance that may run only standalone tasks is settled: see
// settleStandalone.
func (r *run) stillBusy(ctx context.Context, cis []inventory.ContainerInstance, standalone map[string]int, stopped map[string]bool) (busy, svcBusy []string, err error) {
	for _, ci := range cis {
		n := ci.RunningTasks + ci.PendingTasks
		if n == 0 {
			continue
		}
		busy = append(busy, ci.EC2InstanceID)
		if n > standalone[ci.EC2InstanceID] {
			svcBusy = append(svcBusy, ci.EC2InstanceID)
			continue
		}
		runsService, serr := r.settleStandalone(ctx, ci, stopped)
		if serr != nil {
			return nil, nil, serr
		}
		if runsService {
			svcBusy = append(svcBusy, ci.EC2InstanceID)
		}
	}
	return busy, uniqSorted(svcBusy), nil
}

// settleStandalone handles a draining instance that may run only standalone
// tasks: it lists them to be sure, and reports whether a service task is
// still among them. Otherwise, with --standalone stop, it stops those it has
// not stopped yet (stopped, by task ARN).
func (r *run) settleStandalone(ctx context.Context, ci inventory.ContainerInstance, stopped map[string]bool) (bool, error) {
	tasks, err := r.e.tasksOn(ctx, r.o.Cluster, ci.Arn)
	if err != nil {
		return false, err
	}
	var alone []string
	for _, t := range tasks {
		if isService(t) {
			return true, nil
		}
		alone = append(alone, t.Arn)
	}
	if r.o.Standalone != StandaloneStop {
		return false, nil
	}
	for _, a := range alone {
		if stopped[a] {
			continue
		}
		if _, err := r.e.ECS.StopTask(ctx, stopTaskInput(r.o.Cluster, a, ci.ID())); err != nil {
			return false, fmt.Errorf("stop task %s on %s: %w", a, ci.EC2InstanceID, err)
		}
		stopped[a] = true
		r.emit(Event{Step: StepStopTasks, Instances: []string{ci.EC2InstanceID}, Message: "stopped standalone task " + a})
	}
	return false, nil
}

// drainTimedOut stops the rollout for a batch that did not drain in time.
func (r *run) drainTimedOut(busy, svcBusy []string) error {
	what := "standalone tasks still running (--standalone " + string(r.o.Standalone) + ")"
	if len(svcBusy) > 0 {
		what = "service tasks still on " + strings.Join(svcBusy, ", ")
	}
	return r.stop(StopDrainTimeout, "", uniqSorted(busy), fmt.Sprintf("after %s: %s", r.o.DrainTimeout, what))
}

func stopTaskInput(cluster, task, ciID string) *ecs.StopTaskInput {
	return &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(task),
		Reason: aws.String("trunkctl rollout: replacing container instance " + ciID + " with one that has a trunk")}
}

// placementFailure is the start of the service event ECS writes when it
// cannot place a task ("(service web) was unable to place a task because
// no container instance met all of its requirements...").
const placementFailure = "was unable to place a task"

// checkPlacement stops the rollout when a service says, since the drain
// began, that it cannot place a task.
func (r *run) checkPlacement(ctx context.Context, services []string, since time.Time) error {
	for batch := range slices.Chunk(services, maxDescribeServices) {
		res, err := r.e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(r.o.Cluster), Services: batch})
		if err != nil {
			return fmt.Errorf("describe services %s in %s: %w", strings.Join(batch, ", "), r.o.Cluster, err)
		}
		for _, s := range res.Services {
			for _, ev := range s.Events {
				if ev.CreatedAt == nil || ev.CreatedAt.Before(since) || !strings.Contains(aws.ToString(ev.Message), placementFailure) {
					continue
				}
				return r.stop(StopUnplaceable, "", []string{aws.ToString(s.ServiceName)}, fmt.Sprintf("%s (at %s)", aws.ToString(ev.Message), ev.CreatedAt.UTC().Format(time.RFC3339)))
			}
		}
	}
	return nil
}

// waitSettled waits until every service that had tasks on the batch runs
// its desired count again, so the next batch starts from whole services.
func (r *run) waitSettled(ctx context.Context, services []string) error {
	if len(services) == 0 {
		return nil
	}
	start := r.e.Clock.Now()
	deadline := start.Add(r.o.DrainTimeout)
	for {
		var short []string
		for batch := range slices.Chunk(services, maxDescribeServices) {
			res, err := r.e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(r.o.Cluster), Services: batch})
			if err != nil {
				return fmt.Errorf("describe services %s in %s: %w", strings.Join(batch, ", "), r.o.Cluster, err)
			}
			for _, s := range res.Services {
				if s.RunningCount < s.DesiredCount {
					short = append(short, fmt.Sprintf("%s %d of %d running", aws.ToString(s.ServiceName), s.RunningCount, s.DesiredCount))
				}
			}
		}
		if len(short) == 0 {
			return nil
		}
		if err := r.checkPlacement(ctx, services, start); err != nil {
			return err
		}
		if !r.e.Clock.Now().Before(deadline) {
			return r.stop(StopDrainTimeout, "", nil, fmt.Sprintf("after %s the services that ran on the batch are short: %s", r.o.DrainTimeout, strings.Join(short, "; ")))
		}
		if err := r.e.Clock.Sleep(ctx, r.o.PollInterval); err != nil {
			return err
		}
	}
}

// terminate lifts scale-in protection where set and terminates the batch
// through its groups: as many as the group's desired capacity is raised
// (by this run or, per its tag, an earlier one) decrementing it, the rest
// without, so the group replaces them. It returns how many it decremented
// per group and keeps the groups' tags in step.
func (r *run) terminate(ctx context.Context, byGroup map[string][]string) (map[string]int, error) {
	names := slices.Sorted(maps.Keys(byGroup))
	if err := r.checkIdle(ctx, names, byGroup); err != nil {
		return nil, err
	}
	states, err := r.e.describeGroups(ctx, names)
	if err != nil {
		return nil, err
	}
	decremented := map[string]int{}
	for _, name := range names {
		if err := r.unprotect(ctx, name, states[name], byGroup[name]); err != nil {
			return nil, err
		}
		n, err := r.terminateIn(ctx, name, byGroup[name])
		if err != nil {
			return nil, err
		}
		if n > 0 {
			decremented[name] = n
		}
	}
	return decremented, nil
}

// checkIdle stops the rollout if an instance of the batch still runs tasks:
// never terminate one that does, so check once more.
func (r *run) checkIdle(ctx context.Context, names []string, byGroup map[string][]string) error {
	var arns []string
	for _, name := range names {
		for _, id := range byGroup[name] {
			arns = append(arns, r.items[id].ContainerInstanceArn)
		}
	}
	cis, err := r.e.describeContainerInstances(ctx, r.o.Cluster, arns)
	if err != nil {
		return err
	}
	for _, ci := range cis {
		if n := ci.RunningTasks + ci.PendingTasks; n > 0 {
			return r.stop(StopTasksLeft, "", []string{ci.EC2InstanceID}, fmt.Sprintf("%d task(s) still on it", n))
		}
	}
	return nil
}

// unprotect lifts scale-in protection from those of ids in group name that
// have it.
func (r *run) unprotect(ctx context.Context, name string, g groupState, ids []string) error {
	var protected []string
	for _, id := range ids {
		if m, ok := g.members[id]; ok && aws.ToBool(m.ProtectedFromScaleIn) {
			protected = append(protected, id)
		}
	}
	for batch := range slices.Chunk(protected, maxASGInstanceIDs) {
		if _, err := r.e.ASG.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{
			AutoScalingGroupName: aws.String(name), InstanceIds: batch, ProtectedFromScaleIn: aws.Bool(false)}); err != nil {
			return fmt.Errorf("lift scale-in protection of %s in %s: %w", strings.Join(batch, ", "), name, err)
		}
		r.emit(Event{Step: StepUnprotect, Group: name, Instances: batch, Message: "scale-in protection lifted"})
	}
	return nil
}

// terminateIn terminates ids through group name, decrementing its desired
// capacity for as many as it is raised, and returns how many it decremented.
// The group's tag follows the decrements, also when a termination fails.
func (r *run) terminateIn(ctx context.Context, name string, ids []string) (int, error) {
	c := r.capacityOf(name)
	budget := c.decrements(len(ids))
	decremented := 0
	for i, id := range ids {
		decrement := i < budget
		if _, err := r.e.ASG.TerminateInstanceInAutoScalingGroup(ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
			InstanceId: aws.String(id), ShouldDecrementDesiredCapacity: aws.Bool(decrement)}); err != nil {
			err = fmt.Errorf("terminate %s in %s: %w", id, name, err)
			if decremented > 0 {
				if serr := r.saveRaised(ctx, name); serr != nil {
					err = fmt.Errorf("%w; %w", err, serr)
				}
			}
			return decremented, err
		}
		delete(r.draining, id)
		r.leaving[id] = r.items[id].ContainerInstanceArn
		if decrement {
			c.decremented()
			decremented++
		}
		how := "desired capacity decremented"
		if !decrement {
			how = "the group launches its replacement"
		}
		r.emit(Event{Step: StepTerminate, Group: name, Instances: []string{id}, Message: "terminating: " + how})
	}
	if decremented > 0 {
		if err := r.saveRaised(ctx, name); err != nil {
			return decremented, err
		}
	}
	return decremented, nil
}

func uniqSorted(s []string) []string {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return slices.Sorted(maps.Keys(m))
}
