// Package assess is the one assessment of a cluster: one target's session
// (its clients, the caller asked once, acting as a role) and the one call
// that reads a cluster and judges it. `instances`, `doctor`, `rollout` (its
// plan and its check of each replacement), every fleet row, the guard and
// the report all decide from what Assess returns; nothing else builds the
// judge's input.
package assess

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Session is one target (an account and Region): the readers, and how to
// act as a role. Build it once per target; the caller is asked once.
type Session struct {
	Region  string
	Loader  *inventory.Loader
	Signals *inventory.Signals
	// Roles reads and writes roles' account settings. Its STS client should
	// be an accountsetting.OnceCaller so the caller is asked once.
	Roles accountsetting.Resolver
	// Defaults writes the account default (enable --default); nil where
	// the session only reads.
	Defaults DefaultSetter
}

// Caller is who the session's credentials belong to.
func (s *Session) Caller(ctx context.Context) (accountsetting.Caller, error) {
	return s.Roles.Who(ctx)
}

// ReadRoles reads the awsvpcTrunking setting of each role.
func (s *Session) ReadRoles(ctx context.Context, roles []awsarn.Role) ([]accountsetting.RoleSetting, error) {
	if len(roles) == 0 {
		return nil, nil
	}
	c, err := s.Caller(ctx)
	if err != nil {
		return nil, err
	}
	return s.Roles.ReadAll(ctx, c, roles, accountsetting.AWSVPCTrunking), nil
}

// Query says which cluster to assess and how deep.
type Query struct {
	Cluster string
	Now     time.Time
	Catalog *catalog.Catalog
	// StuckAfter is how long a task may be PROVISIONING (0: not checked).
	StuckAfter time.Duration
	// ECSOnly reads the cluster from ECS alone (instances --no-roles): no
	// roles, EC2, IAM, STS, capacity or CloudTrail reads, so the verdicts
	// know less than doctor's.
	ECSOnly bool
	// ENIs also reads trunk and branch ENIs (the report's picture).
	ENIs bool
	// Shared, when set, holds the reads of the account and Region that the
	// other clusters of this run have made (see Shared).
	Shared *Shared
}

// Assessment is a cluster as read and judged: the judge's whole input and
// its report, and what the read left out.
type Assessment struct {
	Input  doctor.Input
	Report doctor.Report
	// Warnings say what the read left out (tasks that stopped while being
	// listed, instances without a profile, ...), for the caller to show.
	Warnings []string

	mu    sync.Mutex
	facts map[string]doctor.InstanceFacts
}

// Assess reads the cluster and judges it, the same for every command so
// that they agree on every verdict and exit code. Independent reads run
// concurrently: the cluster walk, the service-linked role, and the signals
// (capacity providers -> groups -> launch templates, services' events,
// stopped tasks). CloudTrail is read last, and only when some instance of
// an explicitly enabled role lacks a trunk. Reads that feed only some
// checks keep their errors in the Input for the judge to report.
func (s *Session) Assess(ctx context.Context, q Query) (*Assessment, error) {
	in, warnings, err := s.read(ctx, q)
	if err != nil {
		return nil, err
	}
	return &Assessment{Input: in, Report: doctor.Judge(in), Warnings: warnings}, nil
}

func (s *Session) read(ctx context.Context, q Query) (doctor.Input, []string, error) {
	cat := q.Catalog
	if cat == nil {
		cat = catalog.Default()
	}
	in := doctor.Input{Region: s.Region, Now: q.Now, StuckAfter: q.StuckAfter, Catalog: cat}
	if q.ECSOnly {
		snap, err := s.Loader.Snapshot(ctx, q.Cluster, inventory.SnapshotOptions{Tasks: true, ENIs: q.ENIs})
		if err != nil {
			return in, nil, err
		}
		in.Snapshot = *snap
		return in, snapshotWarnings(snap), nil
	}
	caller, err := s.Caller(ctx)
	if err != nil {
		return in, nil, err
	}
	in.AccountID = caller.Principal.AccountID
	cluster, err := s.Loader.Cluster(ctx, q.Cluster)
	if err != nil {
		return in, nil, err
	}
	var snap *inventory.Snapshot
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		snap, err = s.Loader.Snapshot(gctx, q.Cluster, inventory.SnapshotOptions{Tasks: true, Instances: true, Subnets: true, ENIs: q.ENIs})
		return err
	})
	g.Go(func() error {
		ok, err := q.Shared.serviceLinkedRole(func() (bool, error) { return s.Loader.RoleExists(gctx, "AWSServiceRoleForECS") })
		if err != nil {
			in.ServiceLinkedErr = err
			return nil
		}
		in.ServiceLinkedRole = &ok
		return nil
	})
	g.Go(func() (err error) {
		in.Signals, err = s.Signals.ReadSignals(gctx, inventory.SignalQuery{Cluster: q.Cluster, Providers: cluster.CapacityProviders, Now: q.Now})
		return err
	})
	if err := g.Wait(); err != nil {
		return in, nil, err
	}
	warnings := snapshotWarnings(snap)
	g, gctx = errgroup.WithContext(ctx)
	g.Go(func() error {
		if snap.RolesErr != nil {
			return nil
		}
		roles := rolesOf(snap)
		in.Roles = make([]accountsetting.RoleSetting, 0, len(roles))
		for _, role := range roles {
			in.Roles = append(in.Roles, q.Shared.role(role.String(), func() accountsetting.RoleSetting {
				return s.Roles.Read(gctx, caller, role, accountsetting.AWSVPCTrunking)
			}))
		}
		return nil
	})
	g.Go(func() error {
		if amis := doctor.ImagesToDescribe(*snap); len(amis) > 0 {
			in.Images, in.ImagesErr = s.Loader.Images(gctx, amis)
		}
		return nil
	})
	g.Go(func() error {
		s.moreProviders(gctx, snap, &in.Signals)
		return nil
	})
	if err := g.Wait(); err != nil {
		return in, nil, err
	}
	in.Snapshot = *snap
	if doctor.NeedsOptInRecord(in) {
		in.Signals.OptInRead = true
		in.Signals.OptInEvents, in.Signals.OptInErr = q.Shared.optInEvents(func() ([]inventory.OptInEvent, error) {
			return s.Signals.OptInEvents(ctx, q.Now.Add(-inventory.CloudTrailWindow), inventory.DefaultOptInPages)
		})
	}
	return in, warnings, ctx.Err()
}

// moreProviders reads the capacity providers the container instances name
// that the cluster no longer lists.
func (s *Session) moreProviders(ctx context.Context, snap *inventory.Snapshot, sig *inventory.SignalSet) {
	if sig.ProvidersErr != nil {
		return
	}
	var more []string
	for _, ci := range snap.ContainerInstances {
		if _, ok := sig.Providers[ci.CapacityProvider]; !ok && ci.CapacityProvider != "" {
			more = append(more, ci.CapacityProvider)
		}
	}
	if len(more) == 0 {
		return
	}
	extra, err := s.Signals.CapacityProviders(ctx, more)
	if err != nil {
		sig.ProvidersErr = err
		return
	}
	if sig.Providers == nil {
		sig.Providers = map[string]inventory.CapacityProvider{}
	}
	for k, v := range extra {
		sig.Providers[k] = v
	}
}

// RolesOfCluster reads the instances of a cluster and returns the roles
// behind them, with what the read left out.
func (s *Session) RolesOfCluster(ctx context.Context, cluster string) ([]awsarn.Role, []string, error) {
	snap, err := s.Loader.Snapshot(ctx, cluster, inventory.SnapshotOptions{Instances: true})
	if err != nil {
		return nil, nil, err
	}
	warnings := snapshotWarnings(snap)
	if len(snap.ContainerInstances) == 0 {
		return nil, warnings, &NoInstancesError{Cluster: cluster}
	}
	if snap.RolesErr != nil {
		return nil, warnings, snap.RolesErr
	}
	return rolesOf(snap), warnings, nil
}

// NoInstancesError says a cluster has no container instances to find roles from.
type NoInstancesError struct{ Cluster string }

func (e *NoInstancesError) Error() string {
	return fmt.Sprintf("cluster %s has no container instances to find roles from", e.Cluster)
}

// rolesOf parses the role ARNs behind a snapshot's instances, sorted; an
// ARN that does not parse is left out.
func rolesOf(s *inventory.Snapshot) []awsarn.Role {
	var roles []awsarn.Role
	for _, a := range s.RoleArns() {
		if role, err := awsarn.ParseRole(a); err == nil {
			roles = append(roles, role)
		}
	}
	sort.Slice(roles, func(i, j int) bool { return roles[i].String() < roles[j].String() })
	return roles
}

// snapshotWarnings say what the read of a cluster left out.
func snapshotWarnings(snap *inventory.Snapshot) []string {
	out := append([]string(nil), snap.Warnings...)
	if len(snap.StoppedTasks) > 0 {
		out = append(out, fmt.Sprintf("%d task(s) stopped while being listed", len(snap.StoppedTasks)))
	}
	if len(snap.NoProfile) > 0 {
		out = append(out, fmt.Sprintf("%d EC2 instance(s) have no instance profile: %s", len(snap.NoProfile), strings.Join(snap.NoProfile, ", ")))
	}
	return out
}

// Opted records settings written after the assessment (a rollout's opt-in)
// and judges the cluster again, so that replacements are judged with the
// roles as they are now.
func (a *Assessment) Opted(settings ...accountsetting.RoleSetting) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, st := range settings {
		found := false
		for i := range a.Input.Roles {
			if a.Input.Roles[i].RoleArn == st.RoleArn {
				a.Input.Roles[i], found = st, true
			}
		}
		if !found {
			a.Input.Roles = append(a.Input.Roles, st)
		}
	}
	a.Report = doctor.Judge(a.Input)
	a.facts = nil
}

// JudgeReplacement judges ci, a container instance that registered to
// replace the EC2 instance like, with the same input as like.
func (a *Assessment) JudgeReplacement(like string, ci inventory.ContainerInstance) doctor.Verdict {
	a.mu.Lock()
	if a.facts == nil {
		a.facts = map[string]doctor.InstanceFacts{}
		for _, f := range a.Input.Facts() {
			a.facts[f.CI.EC2InstanceID] = f
		}
	}
	f, ok := a.facts[like]
	a.mu.Unlock()
	if !ok {
		return a.Input.JudgeReplacement(like, ci)
	}
	return doctor.JudgeInstance(f.AsReplacement(ci, a.Input.Catalog))
}

// OptIn is the one opt-in: it sets awsvpcTrunking=value as each role and
// reads it back (accountsetting.Resolver.OptIn). `enable`, `disable` and
// `rollout` call it.
func (s *Session) OptIn(ctx context.Context, roles []awsarn.Role, value string) ([]accountsetting.RoleSetting, error) {
	c, err := s.Caller(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]accountsetting.RoleSetting, 0, len(roles))
	for _, role := range roles {
		out = append(out, s.Roles.OptIn(ctx, c, role, accountsetting.AWSVPCTrunking, value))
	}
	return out, nil
}

// ENIs reads a cluster's tasks with their trunk and branch ENIs (one
// container instance when instance is set), without judging: what `enis`
// lists. The report, which also judges, uses Assess with Query.ENIs.
func (s *Session) ENIs(ctx context.Context, cluster, instance string) (*inventory.Snapshot, []string, error) {
	snap, err := s.Loader.Snapshot(ctx, cluster, inventory.SnapshotOptions{Tasks: true, ENIs: true, Instance: instance})
	if err != nil {
		return nil, nil, err
	}
	return snap, snapshotWarnings(snap), nil
}
