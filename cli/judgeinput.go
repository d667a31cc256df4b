package cli

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// judgeQuery says what `instances` and `doctor` read before the judge runs.
type judgeQuery struct {
	cluster    string
	stuckAfter time.Duration
	// ecsOnly reads the cluster from ECS alone (instances --no-roles): no
	// roles, EC2, IAM, STS, capacity or CloudTrail reads, so the verdicts
	// know less than doctor's.
	ecsOnly bool
}

// gatherJudgeInput reads what the judge needs, the same for `instances` and
// `doctor` so that they agree on every verdict and exit code. Independent
// reads run concurrently: the cluster walk, the service-linked role, and the
// signals (capacity providers -> groups -> launch templates, services'
// events, stopped tasks). CloudTrail is read last, and only when some
// instance of an explicitly enabled role lacks a trunk. Reads that feed only
// some checks keep their errors in the Input for the judge to report.
func gatherJudgeInput(ctx context.Context, s *IOStreams, c *clients, cat *catalog.Catalog, now time.Time, q judgeQuery) (doctor.Input, error) {
	in := doctor.Input{Region: c.region, Now: now, StuckAfter: q.stuckAfter, Catalog: cat}
	if q.ecsOnly {
		snap, err := c.loader.Snapshot(ctx, q.cluster, inventory.SnapshotOptions{Tasks: true})
		if err != nil {
			return in, err
		}
		warnSnapshot(s, snap)
		in.Snapshot = *snap
		return in, nil
	}
	caller, _, err := c.resolver.Caller(ctx)
	if err != nil {
		return in, err
	}
	in.AccountID = caller.AccountID
	cluster, err := c.loader.Cluster(ctx, q.cluster)
	if err != nil {
		return in, err
	}
	var snap *inventory.Snapshot
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		snap, err = c.loader.Snapshot(gctx, q.cluster, inventory.SnapshotOptions{Tasks: true, Instances: true, Subnets: true})
		return err
	})
	g.Go(func() error {
		ok, err := c.loader.RoleExists(gctx, "AWSServiceRoleForECS")
		if err != nil {
			in.ServiceLinkedErr = err
			return nil
		}
		in.ServiceLinkedRole = &ok
		return nil
	})
	g.Go(func() (err error) {
		in.Signals, err = c.signals.ReadSignals(gctx, inventory.SignalQuery{Cluster: q.cluster, Providers: cluster.CapacityProviders, Now: now})
		return err
	})
	if err := g.Wait(); err != nil {
		return in, err
	}
	warnSnapshot(s, snap)
	warnNoProfile(s, snap)
	var roles []roleStatus
	g, gctx = errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		if roles, err = readSnapshotRoles(gctx, c.resolver, snap); err != nil && snap.RolesErr == nil {
			snap.RolesErr = err
		}
		return nil
	})
	g.Go(func() error {
		if amis := doctor.ImagesToDescribe(*snap); len(amis) > 0 {
			in.Images, in.ImagesErr = c.loader.Images(gctx, amis)
		}
		return nil
	})
	g.Go(func() error {
		// Providers the container instances name that the cluster no longer lists.
		var more []string
		for _, ci := range snap.ContainerInstances {
			if _, ok := in.Signals.Providers[ci.CapacityProvider]; !ok && ci.CapacityProvider != "" && in.Signals.ProvidersErr == nil {
				more = append(more, ci.CapacityProvider)
			}
		}
		if len(more) == 0 {
			return nil
		}
		extra, err := c.signals.CapacityProviders(gctx, more)
		if err != nil {
			in.Signals.ProvidersErr = err
			return nil
		}
		if in.Signals.Providers == nil {
			in.Signals.Providers = map[string]inventory.CapacityProvider{}
		}
		for k, v := range extra {
			in.Signals.Providers[k] = v
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return in, err
	}
	in.Snapshot, in.Roles = *snap, judgedRoles(roles)
	if doctor.NeedsOptInRecord(in) {
		in.Signals.OptInRead = true
		in.Signals.OptInEvents, in.Signals.OptInErr = c.signals.OptInEvents(ctx, now.Add(-inventory.CloudTrailWindow), inventory.DefaultOptInPages)
	}
	return in, ctx.Err()
}
