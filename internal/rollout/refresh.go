package rollout

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// refreshStep is the share of a group (percent, 1-100) an instance refresh
// replaces at once so that at most maxUnavailable instances drain together.
func refreshStep(maxUnavailable, groupSize int) int {
	if groupSize == 0 {
		return 100
	}
	return min(100, max(1, maxUnavailable*100/groupSize))
}

// refresh replaces a whole group with an instance refresh that launches
// before it terminates, and watches it to the same end state as a drain:
// every instance of the group new and ACTIVE with a trunk. The group's
// capacity provider drains the instances it terminates (managed draining).
func (r *run) refresh(ctx context.Context, g Group) (err error) {
	if err := r.noStandaloneIn(ctx, g); err != nil {
		return err
	}
	step := refreshStep(r.plan.MaxUnavailable, len(g.Instances))
	id, err := r.startRefresh(ctx, g, step)
	if err != nil {
		return err
	}
	w := &refreshWatch{g: g, id: id, old: map[string]bool{}, stopped: map[string]bool{}}
	for _, i := range g.Instances {
		w.old[i] = true
	}
	// A refresh left running would go on replacing beside whatever runs
	// next (the next run drains the group's rest in batches): whatever ends
	// the watch early cancels it, even when ctx has ended.
	defer func() {
		if err != nil && !w.ended {
			r.cancelLeftRefresh(ctx, w)
		}
	}()
	r.emit(Event{Step: StepRefresh, Group: g.Name, Instances: g.Instances, Message: fmt.Sprintf("instance refresh %s started: %d instance(s), %d%% at a time", id, len(g.Instances), step)})
	steps := (100 + step - 1) / step
	limit := time.Duration(steps) * (r.o.LaunchTimeout + r.o.DrainTimeout)
	deadline := r.e.Clock.Now().Add(limit)
	lastStatus := ""
	for {
		ir, err := r.describeRefresh(ctx, w)
		if err != nil {
			return err
		}
		status := string(ir.Status)
		if status != lastStatus {
			lastStatus = status
			r.emit(Event{Step: StepRefreshState, Group: g.Name, Message: fmt.Sprintf("instance refresh %s: %s, %d%% done", id, status, aws.ToInt32(ir.PercentageComplete))})
		}
		fresh, err := r.refreshed(ctx, w)
		if err != nil {
			return err
		}
		if done, err := r.refreshEnded(w, ir, fresh); done || err != nil {
			return err
		}
		if !r.e.Clock.Now().Before(deadline) {
			_, _ = r.e.ASG.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String(g.Name)})
			w.ended = true
			return r.stop(StopRefresh, g.Name, nil, fmt.Sprintf("instance refresh %s still %s after %s (%d of %d replaced with a trunk); cancelled", id, status, limit, len(fresh), len(g.Instances)))
		}
		if err := r.e.Clock.Sleep(ctx, r.o.PollInterval); err != nil {
			return err
		}
	}
}

// refreshWatch is the state of watching one group's instance refresh.
type refreshWatch struct {
	g       Group
	id      string          // the instance refresh
	old     map[string]bool // the group's instances it replaces
	stopped map[string]bool // standalone tasks stopped, by ARN
	ended   bool            // the refresh ended on its own or was cancelled: nothing left to cancel
}

// noStandaloneIn stops the rollout, with --standalone fail, when one of the
// group's instances runs a standalone task.
func (r *run) noStandaloneIn(ctx context.Context, g Group) error {
	if r.o.Standalone != StandaloneFail {
		return nil
	}
	for _, id := range g.Instances {
		tasks, err := r.e.tasksOn(ctx, r.o.Cluster, r.items[id].ContainerInstanceArn)
		if err != nil {
			return err
		}
		for _, t := range tasks {
			if !isService(t) {
				return r.stop(StopStandalone, g.Name, []string{id}, fmt.Sprintf("standalone task %s would not move when drained", t.ID()))
			}
		}
	}
	return nil
}

// startRefresh starts a rolling instance refresh of the group that replaces
// step percent of it at a time, launching before it terminates, and returns
// its id.
func (r *run) startRefresh(ctx context.Context, g Group, step int) (string, error) {
	out, err := r.e.ASG.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{
		AutoScalingGroupName: aws.String(g.Name),
		Strategy:             asgtypes.RefreshStrategyRolling,
		Preferences: &asgtypes.RefreshPreferences{
			MinHealthyPercentage: aws.Int32(100),
			MaxHealthyPercentage: aws.Int32(capped32(100 + step)),
			// The opt-in does not change the launch template: match nothing.
			SkipMatching:              aws.Bool(false),
			ScaleInProtectedInstances: asgtypes.ScaleInProtectedInstancesRefresh,
			StandbyInstances:          asgtypes.StandbyInstancesWait,
		},
	})
	if err != nil {
		return "", fmt.Errorf("start instance refresh of %s: %w", g.Name, err)
	}
	return aws.ToString(out.InstanceRefreshId), nil
}

// cancelLeftRefresh cancels a refresh the watch left early, even when ctx
// has ended, and records the outcome for the result.
func (r *run) cancelLeftRefresh(ctx context.Context, w *refreshWatch) {
	cctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer stop()
	if _, cerr := r.e.ASG.CancelInstanceRefresh(cctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String(w.g.Name)}); cerr != nil {
		r.refreshes = append(r.refreshes, fmt.Sprintf("instance refresh %s of %s is still running: cancelling it failed: %v", w.id, w.g.Name, cerr))
		return
	}
	r.refreshes = append(r.refreshes, fmt.Sprintf("instance refresh %s of %s cancelled", w.id, w.g.Name))
	r.emit(Event{Step: StepRefreshState, Group: w.g.Name, Message: fmt.Sprintf("instance refresh %s cancelled: the next run drains what it left in batches", w.id)})
}

// describeRefresh reads the watched instance refresh.
func (r *run) describeRefresh(ctx context.Context, w *refreshWatch) (asgtypes.InstanceRefresh, error) {
	res, err := r.e.ASG.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(w.g.Name), InstanceRefreshIds: []string{w.id}})
	if err != nil {
		return asgtypes.InstanceRefresh{}, fmt.Errorf("describe instance refresh %s of %s: %w", w.id, w.g.Name, err)
	}
	if len(res.InstanceRefreshes) == 0 {
		return asgtypes.InstanceRefresh{}, r.stop(StopRefresh, w.g.Name, nil, "instance refresh "+w.id+" not found")
	}
	return res.InstanceRefreshes[0], nil
}

// refreshed returns the group's new instances that are ACTIVE with a trunk.
// With --standalone stop it stops the standalone tasks on the old instances
// the refresh drains; a new instance the judge says will not get a trunk by
// waiting cancels the refresh and stops the rollout.
func (r *run) refreshed(ctx context.Context, w *refreshWatch) ([]newInstance, error) {
	cis, err := r.e.containerInstances(ctx, r.o.Cluster)
	if err != nil {
		return nil, err
	}
	states, err := r.e.describeGroups(ctx, []string{w.g.Name})
	if err != nil {
		return nil, err
	}
	members := states[w.g.Name].members
	var fresh []newInstance
	for _, ci := range cis {
		if _, in := members[ci.EC2InstanceID]; !in {
			continue
		}
		if w.old[ci.EC2InstanceID] {
			if ci.Status == statusDraining && r.o.Standalone == StandaloneStop {
				if err := r.stopStandalone(ctx, ci, w.stopped); err != nil {
					return nil, err
				}
			}
			continue
		}
		v := r.e.Judge.JudgeReplacement(r.plan.likeIn(w.g.Name), ci)
		switch {
		case v.Healthy && v.Remedy == doctor.RemedyNone:
			if ci.Status == statusActive {
				fresh = append(fresh, newInstance{ec2ID: ci.EC2InstanceID, ciArn: ci.Arn, trunk: ci.TrunkENI})
			}
		case v.Remedy == doctor.RemedyWait:
		default:
			_, cerr := r.e.ASG.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String(w.g.Name)})
			w.ended = true
			seen := fmt.Sprintf("new container instance %s (%s) registered %s: %s; instance refresh %s cancelled", ci.ID(), ci.InstanceType, ci.Status, v.Message, w.id)
			if cerr != nil {
				seen = fmt.Sprintf("new container instance %s registered %s: %s; cancelling instance refresh %s failed: %v", ci.ID(), ci.Status, v.Message, w.id, cerr)
			}
			return nil, r.stop(StopNoTrunk, w.g.Name, []string{ci.EC2InstanceID}, seen)
		}
	}
	return fresh, nil
}

// refreshEnded reports whether the watch is over: the refresh succeeded and
// every instance has its replacement ACTIVE with a trunk (claimed), or the
// refresh failed, was cancelled or rolled back (the rollout stops).
func (r *run) refreshEnded(w *refreshWatch, ir asgtypes.InstanceRefresh, fresh []newInstance) (bool, error) {
	switch ir.Status {
	case asgtypes.InstanceRefreshStatusSuccessful:
		if len(fresh) >= len(w.g.Instances) {
			r.claimRefresh(w.g, fresh)
			return true, nil
		}
	case asgtypes.InstanceRefreshStatusFailed, asgtypes.InstanceRefreshStatusCancelled, asgtypes.InstanceRefreshStatusCancelling,
		asgtypes.InstanceRefreshStatusRollbackFailed, asgtypes.InstanceRefreshStatusRollbackSuccessful, asgtypes.InstanceRefreshStatusRollbackInProgress:
		w.ended = true // it has ended on its own
		return true, r.stop(StopRefresh, w.g.Name, nil, fmt.Sprintf("instance refresh %s: %s: %s", w.id, ir.Status, aws.ToString(ir.StatusReason)))
	}
	// Pending, InProgress, Baking, or Successful with replacements still
	// registering: keep watching.
	return false, nil
}

func (r *run) stopStandalone(ctx context.Context, ci inventory.ContainerInstance, stopped map[string]bool) error {
	tasks, err := r.e.tasksOn(ctx, r.o.Cluster, ci.Arn)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if isService(t) || stopped[t.Arn] {
			continue
		}
		if _, err := r.e.ECS.StopTask(ctx, stopTaskInput(r.o.Cluster, t.Arn, ci.ID())); err != nil {
			return fmt.Errorf("stop task %s on %s: %w", t.Arn, ci.EC2InstanceID, err)
		}
		stopped[t.Arn] = true
		r.emit(Event{Step: StepStopTasks, Instances: []string{ci.EC2InstanceID}, Message: "stopped standalone task " + t.Arn})
	}
	return nil
}

// claimRefresh records a finished refresh's replacements, paired in order.
func (r *run) claimRefresh(g Group, fresh []newInstance) {
	var ids []string
	for i, old := range g.Instances {
		n := fresh[i]
		r.seen[n.ec2ID] = true
		ids = append(ids, n.ec2ID)
		r.res.Replaced = append(r.res.Replaced, Replacement{Old: old, New: n.ec2ID, TrunkENI: n.trunk, Group: g.Name})
	}
	r.emit(Event{Step: StepReplaced, Group: g.Name, Instances: ids, Message: fmt.Sprintf("instance refresh replaced %d instance(s) of %s: %s", len(ids), g.Name, strings.Join(ids, ", "))})
}

// noRefreshRunning stops the rollout, before it changes anything, when an
// instance refresh of one of the plan's groups has not ended (an earlier
// run's that an interrupt cancelled and is still finishing its step, or
// one someone else started): replacing beside it would break
// --max-unavailable and act on instances the plan did not choose.
func (r *run) noRefreshRunning(ctx context.Context) error {
	for _, name := range slices.Sorted(maps.Keys(r.plan.Groups)) {
		res, err := r.e.ASG.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe instance refreshes of %s: %w", name, err)
		}
		for _, ir := range res.InstanceRefreshes {
			switch ir.Status {
			case asgtypes.InstanceRefreshStatusPending, asgtypes.InstanceRefreshStatusInProgress, asgtypes.InstanceRefreshStatusCancelling,
				asgtypes.InstanceRefreshStatusRollbackInProgress, asgtypes.InstanceRefreshStatusBaking:
				return r.stop(StopRefresh, name, nil, fmt.Sprintf("instance refresh %s of %s is %s; run again once it has ended",
					aws.ToString(ir.InstanceRefreshId), name, ir.Status))
			}
		}
	}
	return nil
}
