package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsclient"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/fleet"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/rollout"
)

// Flag names of the fan-out over accounts and Regions.
const (
	flagAccounts       = "accounts"
	flagOrg            = "org"
	flagOU             = "ou"
	flagRegions        = "regions"
	flagAssumeRoleName = "assume-role-name"
	flagWriteRoleName  = "write-role-name"
	flagConcurrency    = "concurrency"
	flagAllClusters    = "all-clusters"
	flagRoleName       = "role-name"
)

// FleetOptions are the global flags that run a command in many accounts
// and Regions.
type FleetOptions struct {
	Accounts       []string
	Org            bool
	OUs            []string
	Regions        []string
	AssumeRoleName string
	WriteRoleName  string
	Concurrency    int
}

// enabled reports whether any fan-out flag was given.
func (f FleetOptions) enabled() bool {
	return len(f.Accounts) > 0 || f.Org || len(f.OUs) > 0 || len(f.Regions) > 0
}

func addFleetFlags(pf *pflag.FlagSet, f *FleetOptions) {
	pf.StringSliceVar(&f.Accounts, flagAccounts, nil, "run in these accounts (comma-separated ids), assuming --"+flagAssumeRoleName+" in each but your own")
	pf.BoolVar(&f.Org, flagOrg, false, "run in every ACTIVE account of the AWS Organization (call from the management or a delegated administrator account)")
	pf.StringSliceVar(&f.OUs, flagOU, nil, "with --"+flagOrg+": only the accounts in these OUs or roots (ou-..., r-...) and the OUs below them")
	pf.StringSliceVar(&f.Regions, flagRegions, nil, "run in these Regions (comma-separated), or \"all\": each account's enabled Regions (default: --region)")
	pf.StringVar(&f.AssumeRoleName, flagAssumeRoleName, fleet.DefaultRoleName, "the role to assume in each account for reads")
	pf.StringVar(&f.WriteRoleName, flagWriteRoleName, "", "the role to assume in each account for writes (default: --"+flagAssumeRoleName+")")
	pf.IntVar(&f.Concurrency, flagConcurrency, fleet.DefaultConcurrency, "accounts and targets worked on at once")
}

// validate checks the fan-out flags (before any AWS call).
func (f FleetOptions) validate() error {
	if len(f.Accounts) > 0 && (f.Org || len(f.OUs) > 0) {
		return usageErrorf("--%s and --%s/--%s are alternatives: name the accounts, or read them from the organization", flagAccounts, flagOrg, flagOU)
	}
	if len(f.OUs) > 0 && !f.Org {
		return usageErrorf("--%s narrows --%s: pass both", flagOU, flagOrg)
	}
	if len(f.Accounts) > 0 {
		if _, err := fleet.ParseAccounts(f.Accounts); err != nil {
			return usageErrorf("--%s: %v", flagAccounts, err)
		}
	}
	if len(f.OUs) > 0 {
		if _, err := fleet.ParseOUs(f.OUs); err != nil {
			return usageErrorf("--%s: %v", flagOU, err)
		}
	}
	if len(f.Regions) > 0 {
		if _, err := fleet.ParseRegions(f.Regions); err != nil {
			return usageErrorf("--%s: %v", flagRegions, err)
		}
	}
	if f.Concurrency < 1 {
		return usageErrorf("--%s must be at least 1", flagConcurrency)
	}
	if f.AssumeRoleName == "" || strings.ContainsAny(f.AssumeRoleName, ":/") {
		return usageErrorf("--%s takes a role name (not an ARN), e.g. %s", flagAssumeRoleName, fleet.DefaultRoleName)
	}
	if strings.ContainsAny(f.WriteRoleName, ":/") {
		return usageErrorf("--%s takes a role name (not an ARN), e.g. %s", flagWriteRoleName, fleet.DefaultRoleName)
	}
	return nil
}

// FleetSTS is the caller's STS client: who the caller is, and AssumeRole.
type FleetSTS interface {
	accountsetting.IdentityAPI
	stscreds.AssumeRoleAPIClient
}

// ClustersAPI lists a Region's clusters (for --all-clusters).
type ClustersAPI = inventory.ClustersAPI

// FleetAWS is what a fanned-out run needs from AWS; main builds the real
// one (RealFleetAWS) and tests pass fakes.
type FleetAWS struct {
	// Base is the caller's configuration; every target's derives from it.
	Base          aws.Config
	STS           FleetSTS
	Organizations fleet.OrganizationsAPI
	// Regions builds the client that lists an account's Regions.
	Regions func(cfg aws.Config) fleet.RegionsAPI
	// Target builds one target's clients from its configuration.
	Target func(ctx context.Context, t fleet.Target, cfg aws.Config) (*AWS, ClustersAPI, error)
}

// RealFleetAWS loads the caller's AWS configuration and builds the SDK
// clients from each target's.
func RealFleetAWS(ctx context.Context, g GlobalOptions, debugOut io.Writer) (*FleetAWS, error) {
	cfg, err := awsclient.Load(ctx, awsclient.Options{Profile: g.Profile, Region: g.Region, Debug: g.Debug, DebugOut: debugOut})
	if err != nil {
		return nil, err
	}
	c := awsclient.New(cfg)
	return &FleetAWS{
		Base: cfg, STS: c.STS, Organizations: organizations.NewFromConfig(cfg),
		Regions: func(cfg aws.Config) fleet.RegionsAPI { return ec2.NewFromConfig(cfg) },
		Target: func(_ context.Context, _ fleet.Target, cfg aws.Config) (*AWS, ClustersAPI, error) {
			c := awsclient.New(cfg)
			return awsOf(c), c.ECS, nil
		},
	}, nil
}

// fanOut is the part of env a fanned-out run uses; nil for one account and Region.
type fanOut struct {
	opts FleetOptions
	aws  func(ctx context.Context) (*FleetAWS, error)
	// concurrency and assumeWait are each target's, as for a single run.
	concurrency int
	assumeWait  time.Duration
}

func newFanOut(deps Deps, g GlobalOptions, opts FleetOptions) *fanOut {
	fa := deps.Fleet
	if fa == nil {
		fa = RealFleetAWS
	}
	return &fanOut{opts: opts, concurrency: deps.Concurrency, assumeWait: deps.AssumeWait,
		aws: func(ctx context.Context) (*FleetAWS, error) { return fa(ctx, g, deps.IO.ErrOut) }}
}

// fleetCells are a cluster's columns in the fleet view; nil counts were not read.
type fleetCells struct {
	instances, trunked, stale *int
	rolesEnabled, roles       int
	rolesRead                 bool
	worst                     string
	unhealthy                 bool
}

// clusterResult is what a command computes for one cluster of one target:
// its single-target JSON shape, and its fleet view cells.
type clusterResult struct {
	detail any
	cells  fleetCells
}

// fleetRow is one cluster of one target in the fleet view.
type fleetRow struct {
	fleet.Target
	Cluster string
	// detail is the single-target JSON object, compact (JSON output only).
	detail    json.RawMessage
	cells     fleetCells
	err       error
	errorKind fleet.Kind
	// targetFailed: the whole target failed (err), not one of its clusters.
	targetFailed bool
}

// object is the row's JSON object: the single-target shape with account,
// region, cluster and error added.
func (r fleetRow) object() (map[string]any, error) {
	m := map[string]any{}
	if r.detail != nil {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(r.detail, &fields); err != nil {
			return nil, err
		}
		for k, v := range fields {
			m[k] = v
		}
	}
	m["account"], m["region"], m["cluster"] = r.Account, r.Region, r.Cluster
	if r.err != nil {
		m["error"], m["errorKind"] = r.err.Error(), r.errorKind
	}
	return m, nil
}

// encodeJSON is writeJSON's encoding (no HTML escaping) of v, without the
// trailing newline: compact for an empty prefix, else indented and nested at
// prefix.
func encodeJSON(v any, prefix string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if prefix != "" {
		enc.SetIndent(prefix, "  ")
	}
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

type fleetSummary struct {
	Accounts  int            `json:"accounts"`
	Targets   int            `json:"targets"`
	Failed    int            `json:"failed"`
	Clusters  int            `json:"clusters"`
	Unhealthy int            `json:"unhealthy"`
	Instances int            `json:"instances"`
	Trunked   int            `json:"trunked"`
	Stale     int            `json:"stale"`
	ByError   map[string]int `json:"failedByKind,omitempty"`
}

// runFleet runs fn in every target (for cluster, or every cluster of the
// target when allClusters), prints the fleet view, and returns the exit:
// 1 when some target failed, 3 when some cluster is unhealthy.
func (e env) runFleet(ctx context.Context, cluster string, allClusters bool, fn fleetCommand) error {
	return e.runFleetThen(ctx, cluster, allClusters, fn, nil)
}

// errStop ends a fanned-out run after discovery without error (--dry-run).
var errStop = errors.New("stop")

// runFleetThen is runFleet with a hook that sees the accounts and Regions
// (nil: each account's enabled ones) before any target runs: to confirm a
// write, or print a plan and stop with errStop.
func (e env) runFleetThen(ctx context.Context, cluster string, allClusters bool, fn fleetCommand, before func(accounts, regions []string, caller fleet.Caller) error) error {
	fo := e.fan
	if fo == nil { // NewRootCmd always sets it; an env built for one target has none
		return errors.New("this command was not set up to run across accounts and Regions")
	}
	fa, err := fo.aws(ctx)
	if err != nil {
		return err
	}
	caller, err := accountsetting.WhoAmI(ctx, fa.STS)
	if err != nil {
		return err
	}
	var accounts []string // listed while the run goes, for an --org read
	if !fo.listsWhileRunning(before != nil) {
		if accounts, err = fo.accounts(ctx, fa, caller); err != nil {
			return err
		}
	}
	regions, err := fo.regions(fa)
	if err != nil {
		return err
	}
	if before != nil {
		if err := before(accounts, regions, caller); err != nil {
			if errors.Is(err, errStop) {
				return nil
			}
			return err
		}
	}
	progress := newFleetProgress(e.io)
	f := fleet.New(fa.Base, caller, fa.STS, fa.Regions, fleet.Options{RoleName: fo.opts.AssumeRoleName, WriteRoleName: fo.opts.WriteRoleName, Concurrency: fo.opts.Concurrency, Progress: progress})
	work := e.perTarget(fa, f, regions != nil, cluster, allClusters, fn)
	if before != nil { // a write (enable): every call as --write-role-name
		work = asWriter(f, work)
	}
	var res []fleet.Result[[]fleetRow]
	if fo.listsWhileRunning(before != nil) {
		accounts, res, err = fo.runListed(ctx, fa, f, regions, work)
	} else {
		res = fleet.Run(ctx, f, accounts, regions, work)
	}
	progress.done()
	if err != nil {
		return err
	}
	var rows []fleetRow
	for _, r := range res {
		if r.Err != nil {
			rows = append(rows, fleetRow{Target: r.Target, Cluster: cluster, err: fleetAdvice(r.Err.Err), errorKind: r.Err.Kind, targetFailed: true})
			continue
		}
		rows = append(rows, r.Value...)
	}
	sum := summarizeFleet(accounts, res, rows)
	if err := e.printFleet(rows, sum); err != nil {
		return err
	}
	e.io.Infof("%d account(s), %d target(s): %d failed; %d cluster(s), %d unhealthy", sum.Accounts, sum.Targets, sum.Failed, sum.Clusters, sum.Unhealthy)
	switch {
	case sum.Failed > 0:
		return &exitError{code: ExitError}
	case sum.Unhealthy > 0:
		return unhealthy()
	}
	return nil
}

// regions are the named Regions, nil for each account's enabled ones, or
// the configuration's Region.
func (fo *fanOut) regions(fa *FleetAWS) ([]string, error) {
	switch {
	case len(fo.opts.Regions) > 0:
		return fleet.ParseRegions(fo.opts.Regions) // nil: all
	case fa.Base.Region != "":
		return []string{fa.Base.Region}, nil
	}
	return nil, awsclient.ErrNoRegion
}

// perTarget is the fan-out's work in one target: its clients, its clusters
// (named, or listed), and fn for each, with streams that print nothing
// (warnings from many targets would interleave). In a named Region (named),
// a cluster's error is explained by f (a Region the account has not enabled).
func (e env) perTarget(fa *FleetAWS, f *fleet.Fleet, named bool, cluster string, allClusters bool, fn fleetCommand) fleet.Func[[]fleetRow] {
	quiet := e
	quiet.io = &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}
	keepDetail := e.structured()
	callers := &accountCallers{}
	return func(ctx context.Context, t fleet.Target, cfg aws.Config) ([]fleetRow, error) {
		a, lister, err := fa.Target(ctx, t, cfg)
		if err != nil {
			return nil, err
		}
		a.STS = callers.of(t.Account, a.STS)
		c := connect(a, e.fan.concurrency, e.fan.assumeWait)
		names := []string{cluster}
		if allClusters {
			if names, err = inventory.ListClusters(ctx, lister); err != nil {
				return nil, err
			}
		}
		rows := make([]fleetRow, 0, len(names))
		for _, name := range names {
			row, err := clusterRow(ctx, t, name, func(ctx context.Context, name string) (clusterResult, error) {
				return fn.forTarget(ctx, quiet, c, name)
			}, keepDetail, named, f)
			if err != nil {
				return nil, err
			}
			rows = append(rows, row)
		}
		if len(rows) == 0 {
			rows = append(rows, fleetRow{Target: t, cells: fleetCells{worst: "no clusters"}})
		}
		return rows, nil
	}
}

// clusterRow is one cluster's row of a target: fn's cells, its detail
// compacted when the output is data (results are held until every target is
// done), or its error with a kind; in a named Region (named) f explains a
// Region the account has not enabled. Only a failure to encode is an error.
func clusterRow(ctx context.Context, t fleet.Target, name string, fn func(context.Context, string) (clusterResult, error), keepDetail, named bool, f *fleet.Fleet) (fleetRow, error) {
	r, err := fn(ctx, name)
	row := fleetRow{Target: t, Cluster: name, cells: r.cells}
	if err == nil {
		if keepDetail {
			if row.detail, err = encodeJSON(r.detail, ""); err != nil {
				return row, err
			}
		}
		return row, nil
	}
	row.err, row.errorKind = err, clusterErrorKind(err)
	if named {
		if fe := f.Explain(ctx, t, err); fe.Kind == fleet.KindRegionDisabled {
			row.err, row.errorKind = fleetAdvice(fe.Err), fe.Kind
		}
	}
	return row, nil
}

// accounts are the named accounts, the organization's, or the caller's own.
func (fo *fanOut) accounts(ctx context.Context, fa *FleetAWS, caller fleet.Caller) ([]string, error) {
	switch {
	case len(fo.opts.Accounts) > 0:
		return fleet.ParseAccounts(fo.opts.Accounts)
	case fo.opts.Org:
		var ous []string
		if len(fo.opts.OUs) > 0 {
			ous, _ = fleet.ParseOUs(fo.opts.OUs)
		}
		as, err := fleet.OrgAccounts(ctx, fa.Organizations, ous)
		if err != nil {
			return nil, err
		}
		if len(as) == 0 {
			return nil, noActiveAccounts(ous)
		}
		ids := make([]string, len(as))
		for i, a := range as {
			ids[i] = a.ID
		}
		return ids, nil
	}
	return []string{caller.Account()}, nil
}

func summarizeFleet[T any](accounts []string, res []fleet.Result[T], rows []fleetRow) fleetSummary {
	s := fleetSummary{Accounts: len(accounts), Targets: len(res), ByError: map[string]int{}}
	for _, r := range res {
		if r.Err != nil {
			s.Failed++
		}
	}
	for _, r := range rows {
		switch {
		case r.err != nil:
			s.ByError[string(r.errorKind)]++
			if !r.targetFailed {
				s.Failed++
			}
		case r.Cluster != "":
			s.Clusters++
			if r.cells.unhealthy {
				s.Unhealthy++
			}
			s.Instances += deref(r.cells.instances)
			s.Trunked += deref(r.cells.trunked)
			s.Stale += deref(r.cells.stale)
		}
	}
	if len(s.ByError) == 0 {
		s.ByError = nil
	}
	return s
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func (e env) printFleet(rows []fleetRow, sum fleetSummary) error {
	switch e.output {
	case outputJSON:
		return writeFleetJSON(e.io.Out, rows, sum)
	case outputYAML:
		// The same document as YAML; unlike the JSON it is held whole.
		var buf bytes.Buffer
		if err := writeFleetJSON(&buf, rows, sum); err != nil {
			return err
		}
		return writeYAML(e.io.Out, json.RawMessage(buf.Bytes()))
	}
	t := newTable(e.io, "ACCOUNT", "REGION", "CLUSTER", "INSTANCES", "TRUNKED", "STALE", "ROLES ENABLED", "WORST FINDING")
	count := func(p *int) string {
		if p == nil {
			return "-"
		}
		return strconv.Itoa(*p)
	}
	for _, r := range rows {
		region, cluster := r.Region, r.Cluster
		if region == "" {
			region = "-"
		}
		if cluster == "" {
			cluster = "-"
		}
		if r.err != nil {
			t.add(r.Account, region, cluster, "-", "-", "-", "-", e.io.color(colorRed, string(r.errorKind)+": "+r.err.Error()))
			continue
		}
		roles := "-"
		if r.cells.rolesRead {
			roles = fmt.Sprintf("%d/%d", r.cells.rolesEnabled, r.cells.roles)
		}
		worst := r.cells.worst
		if r.cells.unhealthy {
			worst = e.io.color(colorRed, worst)
		}
		t.add(r.Account, region, cluster, count(r.cells.instances), count(r.cells.trunked), count(r.cells.stale), roles, worst)
	}
	return t.render()
}

// writeFleetJSON writes {"targets":[...],"summary":{...}} as writeJSON
// would, one row at a time, so a large fleet's document is never held whole.
func writeFleetJSON(w io.Writer, rows []fleetRow, sum fleetSummary) error {
	// bufio.Writer keeps the first write error for Flush, which returns it.
	bw := bufio.NewWriter(w)
	_, _ = bw.WriteString("{\n  \"targets\": [")
	for i, r := range rows {
		obj, err := r.object()
		if err != nil {
			return err
		}
		b, err := encodeJSON(obj, "    ")
		if err != nil {
			return err
		}
		if i > 0 {
			_, _ = bw.WriteString(",")
		}
		_, _ = bw.WriteString("\n    ")
		_, _ = bw.Write(b)
	}
	if len(rows) > 0 {
		_, _ = bw.WriteString("\n  ")
	}
	b, err := encodeJSON(sum, "  ")
	if err != nil {
		return err
	}
	_, _ = bw.WriteString("],\n  \"summary\": ")
	_, _ = bw.Write(b)
	_, _ = bw.WriteString("\n}\n")
	return bw.Flush()
}

// fleetProgress shows "targets done/total, failures" on a terminal's stderr.
type fleetProgress struct {
	io    *IOStreams
	mu    sync.Mutex
	last  time.Time
	shown bool
}

func newFleetProgress(s *IOStreams) *fleetProgress { return &fleetProgress{io: s} }

func (p *fleetProgress) Update(c fleet.Counts) {
	if !p.io.ErrIsTerminal {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || c.Done == c.Total && c.AccountsPending == 0 {
		p.last = now
		pending := ""
		if c.AccountsPending > 0 {
			pending = fmt.Sprintf(", %d account(s) not yet assumed", c.AccountsPending)
		}
		fmt.Fprintf(p.io.ErrOut, "\r\033[Ktargets %d/%d done, %d failed%s", c.Done, c.Total, c.Failed, pending)
		p.shown = true
	}
}

func (p *fleetProgress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		_, _ = fmt.Fprint(p.io.ErrOut, "\n")
	}
}

// cellsOfInstances are the fleet view's cells of instance rows; the worst
// finding is the most frequent unhealthy verdict.
func cellsOfInstances(rows []instanceRow) fleetCells {
	n, trunked, stale := len(rows), 0, 0
	roles := map[string]bool{}
	bad := map[doctor.VerdictCode]int{}
	var worst doctor.VerdictCode
	for _, r := range rows {
		if r.TrunkENI != "" {
			trunked++
		}
		if a, _ := rollout.ActionFor(r.Verdict, r.AutoScalingGroup); a == rollout.ActionReplace {
			stale++ // what trunkctl rollout would replace
		}
		if r.RoleArn != "" {
			roles[r.RoleArn] = roles[r.RoleArn] || r.RoleEffectiveValue == accountsetting.Enabled
		}
		if !r.Verdict.Healthy {
			bad[r.Verdict.Code]++
			if bad[r.Verdict.Code] > bad[worst] {
				worst = r.Verdict.Code
			}
		}
	}
	c := fleetCells{instances: &n, trunked: &trunked, stale: &stale, rolesRead: len(roles) > 0, roles: len(roles), worst: "ok"}
	for _, on := range roles {
		if on {
			c.rolesEnabled++
		}
	}
	if worst != "" {
		c.worst, c.unhealthy = fmt.Sprintf("%s on %d of %d", worst, bad[worst], n), true
	}
	return c
}

func addAllClustersFlag(cmd *cobra.Command, all *bool) {
	cmd.Flags().BoolVar(all, flagAllClusters, false, "every cluster of each account and Region (with or without the fan-out flags)")
}

// validateClusterFlags: exactly one of --cluster and --all-clusters.
func validateClusterFlags(cluster string, all bool) error {
	switch {
	case cluster != "" && all:
		return usageErrorf("--%s and --%s are alternatives", flagCluster, flagAllClusters)
	case cluster == "" && !all:
		return usageErrorf("--%s is required (or --%s)", flagCluster, flagAllClusters)
	}
	return nil
}

// fleetCommand is a command that runs across accounts and Regions: it
// computes its single-target result in one target with that target's
// streams and clients, and changes nothing of itself (targets run at once).
type fleetCommand interface {
	forTarget(ctx context.Context, e env, c *clients, cluster string) (clusterResult, error)
}

// The commands that fan out, checked by the compiler.
var (
	_ fleetCommand = (*statusOpts)(nil)
	_ fleetCommand = (*instancesOpts)(nil)
	_ fleetCommand = (*doctorOpts)(nil)
	_ fleetCommand = (*enableOpts)(nil)
)

// annotationFleet marks a command that takes the fan-out flags.
const annotationFleet = "trunkctl/fleet"

// fleetCmd registers cmd, built from a fleetCommand, as one that runs across
// accounts and Regions: only such commands show and accept the fan-out
// flags. newRoot calls it, the one place that says which commands fan out.
func fleetCmd(cmd *cobra.Command, f *FleetOptions) *cobra.Command {
	addFleetFlags(cmd.Flags(), f)
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annotationFleet] = "true"
	return cmd
}

// isFanned reports whether cmd takes the fan-out flags.
func isFanned(cmd *cobra.Command) bool { return cmd.Annotations[annotationFleet] == "true" }

// notFanned explains a fan-out flag given to a command that does not fan
// out (cobra's "unknown flag"), naming the commands that do; nil for any
// other flag error.
func notFanned(cmd *cobra.Command, err error) error {
	if isFanned(cmd) {
		return nil
	}
	for _, name := range []string{flagAccounts, flagOrg, flagOU, flagRegions, flagAssumeRoleName, flagConcurrency} {
		if strings.Contains(err.Error(), "unknown flag: --"+name) {
			var fans []string
			for _, c := range cmd.Root().Commands() {
				if isFanned(c) {
					fans = append(fans, c.Name())
				}
			}
			return usageErrorf("%s does not run across accounts and Regions; --%s works with %s", cmd.CommandPath(), name, strings.Join(fans, ", "))
		}
	}
	return nil
}

// validateFleet checks the fan-out flags of a command that takes them.
func validateFleet(cmd *cobra.Command, f FleetOptions) error {
	if !isFanned(cmd) {
		return nil
	}
	return f.validate()
}

// clusterErrorKind classifies a cluster's error; a cluster the target does
// not have is not-found however ECS said so.
func clusterErrorKind(err error) fleet.Kind {
	var nf *inventory.ClusterNotFoundError
	if errors.As(err, &nf) {
		return fleet.KindNotFound
	}
	return fleet.Classify(err)
}

// accountCallers asks sts:GetCallerIdentity once per account for a
// fan-out's targets: every Region of an account runs as the same identity,
// so its targets share the first answer instead of each asking again.
type accountCallers struct {
	mu sync.Mutex
	m  map[string]*accountsetting.OnceCaller
}

// of is the target's STS client (AssumeRole and the rest are its own) with
// GetCallerIdentity answered once for account.
func (a *accountCallers) of(account string, s accountsetting.STSAPI) accountsetting.STSAPI {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]*accountsetting.OnceCaller{}
	}
	once, ok := a.m[account]
	if !ok {
		once = &accountsetting.OnceCaller{STSAPI: s}
		a.m[account] = once
	}
	return accountCaller{STSAPI: s, once: once}
}

type accountCaller struct {
	accountsetting.STSAPI
	once *accountsetting.OnceCaller
}

func (c accountCaller) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return c.once.GetCallerIdentity(ctx, in, optFns...)
}
