package rollout

import (
	"context"
	"fmt"
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
	if r.o.Standalone == StandaloneFail {
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
	}
	step := refreshStep(r.plan.MaxUnavailable, len(g.Instances))
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
		return fmt.Errorf("start instance refresh of %s: %w", g.Name, err)
	}
	id := aws.ToString(out.InstanceRefreshId)
	// A refresh left running would go on replacing beside whatever runs
	// next (the next run drains the group's rest in batches): whatever ends
	// the watch early cancels it, even when ctx has ended.
	cancelled := false
	defer func() {
		if err == nil || cancelled {
			return
		}
		cctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer stop()
		if _, cerr := r.e.ASG.CancelInstanceRefresh(cctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String(g.Name)}); cerr != nil {
			r.refreshes = append(r.refreshes, fmt.Sprintf("instance refresh %s of %s is still running: cancelling it failed: %v", id, g.Name, cerr))
			return
		}
		r.refreshes = append(r.refreshes, fmt.Sprintf("instance refresh %s of %s cancelled", id, g.Name))
		r.emit(Event{Step: StepRefreshState, Group: g.Name, Message: fmt.Sprintf("instance refresh %s cancelled: the next run drains what it left in batches", id)})
	}()
	r.emit(Event{Step: StepRefresh, Group: g.Name, Instances: g.Instances, Message: fmt.Sprintf("instance refresh %s started: %d instance(s), %d%% at a time", id, len(g.Instances), step)})
	steps := (100 + step - 1) / step
	deadline := r.e.Clock.Now().Add(time.Duration(steps) * (r.o.LaunchTimeout + r.o.DrainTimeout))
	old := map[string]bool{}
	for _, i := range g.Instances {
		old[i] = true
	}
	stopped := map[string]bool{}
	lastStatus := ""
	for {
		res, err := r.e.ASG.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(g.Name), InstanceRefreshIds: []string{id}})
		if err != nil {
			return fmt.Errorf("describe instance refresh %s of %s: %w", id, g.Name, err)
		}
		if len(res.InstanceRefreshes) == 0 {
			return r.stop(StopRefresh, g.Name, nil, "instance refresh "+id+" not found")
		}
		ir := res.InstanceRefreshes[0]
		status := string(ir.Status)
		if status != lastStatus {
			lastStatus = status
			r.emit(Event{Step: StepRefreshState, Group: g.Name, Message: fmt.Sprintf("instance refresh %s: %s, %d%% done", id, status, aws.ToInt32(ir.PercentageComplete))})
		}
		cis, err := r.e.containerInstances(ctx, r.o.Cluster)
		if err != nil {
			return err
		}
		states, err := r.e.describeGroups(ctx, []string{g.Name})
		if err != nil {
			return err
		}
		members := states[g.Name].members
		var fresh []newInstance
		for _, ci := range cis {
			if _, in := members[ci.EC2InstanceID]; !in {
				continue
			}
			if old[ci.EC2InstanceID] {
				if ci.Status == statusDraining && r.o.Standalone == StandaloneStop {
					if err := r.stopStandalone(ctx, ci, stopped); err != nil {
						return err
					}
				}
				continue
			}
			v := judge(r.e.Catalog, r.o.Cluster, ci)
			switch {
			case v.Healthy && v.Remedy == doctor.RemedyNone:
				if ci.Status == statusActive {
					fresh = append(fresh, newInstance{ec2ID: ci.EC2InstanceID, ciArn: ci.Arn, trunk: ci.TrunkENI})
				}
			case v.Remedy == doctor.RemedyWait:
			default:
				_, cerr := r.e.ASG.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String(g.Name)})
				cancelled = true
				seen := fmt.Sprintf("new container instance %s (%s) registered %s: %s; instance refresh %s cancelled", ci.ID(), ci.InstanceType, ci.Status, v.Message, id)
				if cerr != nil {
					seen = fmt.Sprintf("new container instance %s registered %s: %s; cancelling instance refresh %s failed: %v", ci.ID(), ci.Status, v.Message, id, cerr)
				}
				return r.stop(StopNoTrunk, g.Name, []string{ci.EC2InstanceID}, seen)
			}
		}
		switch ir.Status {
		case asgtypes.InstanceRefreshStatusSuccessful:
			if len(fresh) >= len(g.Instances) {
				r.claimRefresh(g, fresh)
				return nil
			}
		case asgtypes.InstanceRefreshStatusFailed, asgtypes.InstanceRefreshStatusCancelled, asgtypes.InstanceRefreshStatusCancelling,
			asgtypes.InstanceRefreshStatusRollbackFailed, asgtypes.InstanceRefreshStatusRollbackSuccessful, asgtypes.InstanceRefreshStatusRollbackInProgress,
			asgtypes.InstanceRefreshStatusBaking:
			if ir.Status != asgtypes.InstanceRefreshStatusBaking {
				cancelled = true // it has ended on its own
				return r.stop(StopRefresh, g.Name, nil, fmt.Sprintf("instance refresh %s: %s: %s", id, status, aws.ToString(ir.StatusReason)))
			}
		}
		if !r.e.Clock.Now().Before(deadline) {
			_, _ = r.e.ASG.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String(g.Name)})
			cancelled = true
			return r.stop(StopRefresh, g.Name, nil, fmt.Sprintf("instance refresh %s still %s after %s (%d of %d replaced with a trunk); cancelled", id, status, time.Duration(steps)*(r.o.LaunchTimeout+r.o.DrainTimeout), len(fresh), len(g.Instances)))
		}
		if err := r.e.Clock.Sleep(ctx, r.o.PollInterval); err != nil {
			return err
		}
	}
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
	for _, name := range sortedKeys(r.plan.Groups) {
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
