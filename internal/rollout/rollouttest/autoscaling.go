package rollouttest

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/smithy-go"

	"github.com/trunkctl/trunkctl/internal/rollout"
)

// AutoScaling is the simulated Auto Scaling client.
type AutoScaling struct {
	rollout.AutoScalingAPI
	s *Sim
}

// AutoScaling returns the simulated Auto Scaling client.
func (s *Sim) AutoScaling() *AutoScaling { return &AutoScaling{s: s} }

func validation(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "ValidationError", Message: fmt.Sprintf(format, args...)}
}

// launch starts a new instance in a group: InService after LaunchDelay,
// registered RegisterDelay later, with a trunk only if its role is enabled then.
func (s *Sim) launch(g *Group) string {
	id := s.newID("i-")
	s.instances[id] = &Instance{ID: id, Group: g.Name, Type: g.Type, Role: g.Role, State: Pending, Protected: g.ProtectNew}
	g.Instances = append(g.Instances, id)
	s.at(s.now.Add(s.cfg.LaunchDelay), func() {
		inst := s.instances[id]
		if inst.State != Pending {
			return
		}
		inst.State = InService
		s.at(s.now.Add(s.cfg.RegisterDelay), func() {
			if inst.State == InService {
				s.register(id, s.enabled(inst.Role))
			}
		})
	})
	return id
}

// live counts a group's instances that are not leaving.
func (s *Sim) live(g *Group) int {
	n := 0
	for _, id := range g.Instances {
		if st := s.instances[id].State; st == Pending || st == InService {
			n++
		}
	}
	return n
}

// terminate takes an instance out: gone after TerminateDelay, its container
// instance INACTIVE and its tasks stopped.
func (s *Sim) terminate(inst *Instance) {
	inst.State = Terminating
	s.at(s.now.Add(s.cfg.TerminateDelay), func() {
		inst.State = Terminated
		g := s.groups[inst.Group]
		for i, id := range g.Instances {
			if id == inst.ID {
				g.Instances = append(g.Instances[:i:i], g.Instances[i+1:]...)
				break
			}
		}
		if ci := s.cis[inst.CI]; ci != nil {
			ci.Status = "INACTIVE"
		}
		for _, t := range s.tasks {
			if t.CI == inst.CI && t.LastStatus != "STOPPED" {
				t.LastStatus, t.Desired = "STOPPED", "STOPPED"
			}
		}
	})
}

func (f *AutoScaling) DescribeAutoScalingInstances(ctx context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error) {
	s := f.s
	if err := s.enter(ctx, "autoscaling:DescribeAutoScalingInstances"); err != nil {
		return nil, err
	}
	defer s.leave()
	if len(in.InstanceIds) > 50 || len(in.InstanceIds) == 0 {
		return nil, validation("between 1 and 50 instance ids, got %d", len(in.InstanceIds))
	}
	out := &autoscaling.DescribeAutoScalingInstancesOutput{}
	for _, id := range in.InstanceIds {
		inst := s.instances[id]
		if inst == nil || inst.Group == "" || inst.State == Terminated {
			continue
		}
		out.AutoScalingInstances = append(out.AutoScalingInstances, asgtypes.AutoScalingInstanceDetails{
			InstanceId: aws.String(id), AutoScalingGroupName: aws.String(inst.Group), LifecycleState: aws.String(inst.State),
			ProtectedFromScaleIn: aws.Bool(inst.Protected), InstanceType: aws.String(inst.Type), HealthStatus: aws.String("HEALTHY"),
			AvailabilityZone: aws.String(s.cfg.Region + "a"),
		})
	}
	return out, nil
}

func (f *AutoScaling) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	s := f.s
	if err := s.enter(ctx, "autoscaling:DescribeAutoScalingGroups"); err != nil {
		return nil, err
	}
	defer s.leave()
	out := &autoscaling.DescribeAutoScalingGroupsOutput{}
	for _, name := range in.AutoScalingGroupNames {
		g := s.groups[name]
		if g == nil {
			continue
		}
		ag := asgtypes.AutoScalingGroup{AutoScalingGroupName: aws.String(name), MinSize: aws.Int32(count32(g.Min)),
			MaxSize: aws.Int32(count32(g.Max)), DesiredCapacity: aws.Int32(count32(g.Desired))}
		for _, id := range g.Instances {
			inst := s.instances[id]
			ag.Instances = append(ag.Instances, asgtypes.Instance{InstanceId: aws.String(id), LifecycleState: asgtypes.LifecycleState(inst.State),
				ProtectedFromScaleIn: aws.Bool(inst.Protected), InstanceType: aws.String(inst.Type), HealthStatus: aws.String("Healthy")})
		}
		for _, k := range slices.Sorted(maps.Keys(g.Tags)) {
			ag.Tags = append(ag.Tags, asgtypes.TagDescription{Key: aws.String(k), Value: aws.String(g.Tags[k]), ResourceId: aws.String(name),
				ResourceType: aws.String("auto-scaling-group"), PropagateAtLaunch: aws.Bool(false)})
		}
		out.AutoScalingGroups = append(out.AutoScalingGroups, ag)
	}
	return out, nil
}

func (f *AutoScaling) SetDesiredCapacity(ctx context.Context, in *autoscaling.SetDesiredCapacityInput, _ ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error) {
	s := f.s
	if err := s.enter(ctx, "autoscaling:SetDesiredCapacity"); err != nil {
		return nil, err
	}
	defer s.leave()
	g := s.groups[aws.ToString(in.AutoScalingGroupName)]
	if g == nil {
		return nil, validation("AutoScalingGroup name not found - %s", aws.ToString(in.AutoScalingGroupName))
	}
	n := int(aws.ToInt32(in.DesiredCapacity))
	if n > g.Max {
		return nil, validation("New SetDesiredCapacity value %d is above max value %d for the AutoScalingGroup.", n, g.Max)
	}
	if n < g.Min {
		return nil, validation("New SetDesiredCapacity value %d is below min value %d for the AutoScalingGroup.", n, g.Min)
	}
	if n < s.live(g) {
		panic("rollouttest: scale-in by SetDesiredCapacity is not simulated")
	}
	g.Desired = n
	for s.live(g) < n {
		s.launch(g)
	}
	return &autoscaling.SetDesiredCapacityOutput{}, nil
}

func (f *AutoScaling) SetInstanceProtection(ctx context.Context, in *autoscaling.SetInstanceProtectionInput, _ ...func(*autoscaling.Options)) (*autoscaling.SetInstanceProtectionOutput, error) {
	s := f.s
	if err := s.enter(ctx, "autoscaling:SetInstanceProtection"); err != nil {
		return nil, err
	}
	defer s.leave()
	if len(in.InstanceIds) > 50 {
		return nil, validation("more than 50 instance ids")
	}
	for _, id := range in.InstanceIds {
		inst := s.instances[id]
		if inst == nil || inst.Group != aws.ToString(in.AutoScalingGroupName) {
			return nil, validation("The instance %s is not part of Auto Scaling group %s.", id, aws.ToString(in.AutoScalingGroupName))
		}
		s.acting("SetInstanceProtection", id)
		inst.Protected = aws.ToBool(in.ProtectedFromScaleIn)
	}
	return &autoscaling.SetInstanceProtectionOutput{}, nil
}

func (f *AutoScaling) TerminateInstanceInAutoScalingGroup(ctx context.Context, in *autoscaling.TerminateInstanceInAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.TerminateInstanceInAutoScalingGroupOutput, error) {
	s := f.s
	if err := s.enter(ctx, "autoscaling:TerminateInstanceInAutoScalingGroup"); err != nil {
		return nil, err
	}
	defer s.leave()
	id := aws.ToString(in.InstanceId)
	inst := s.instances[id]
	if inst == nil || inst.Group == "" || inst.State == Terminated {
		return nil, validation("Instance Id not found - No managed instance found for instance ID: %s", id)
	}
	s.acting("TerminateInstanceInAutoScalingGroup", id)
	if inst.Protected {
		s.violate("terminated %s while it is protected from scale-in", id)
	}
	for _, t := range s.tasks {
		if t.CI == inst.CI && t.Service != "" && t.LastStatus != "STOPPED" {
			s.violate("terminated %s while it runs service task %s", id, lastSegment(t.Arn))
			break
		}
	}
	g := s.groups[inst.Group]
	decrement := aws.ToBool(in.ShouldDecrementDesiredCapacity)
	if decrement && g.Desired-1 < g.Min {
		return nil, validation("Currently, desiredSize equals minSize (%d). Terminating instance without replacement will violate group's min size constraint.", g.Min)
	}
	s.terminate(inst)
	if decrement {
		g.Desired--
	} else {
		s.launch(g)
	}
	return &autoscaling.TerminateInstanceInAutoScalingGroupOutput{Activity: &asgtypes.Activity{
		ActivityId: aws.String(s.newID("act-")), AutoScalingGroupName: aws.String(g.Name), StatusCode: asgtypes.ScalingActivityStatusCodeInProgress,
		Description: aws.String("Terminating EC2 instance: " + id)}}, nil
}

// refresh is a simulated instance refresh: launch a step of new instances,
// wait until they register, drain a step of old ones (the capacity
// provider's managed draining), terminate them once empty, repeat.
type refresh struct {
	id, group  string
	status     asgtypes.InstanceRefreshStatus
	step       int
	old        []string
	launched   []string
	draining   []string
	done       int
	statusText string
}

// active: the refresh still launches, drains or terminates.
func (r *refresh) active() bool {
	return r.status == asgtypes.InstanceRefreshStatusInProgress || r.status == asgtypes.InstanceRefreshStatusCancelling
}

func (s *Sim) tickRefresh(r *refresh) {
	if !r.active() {
		return
	}
	g := s.groups[r.group]
	defer func() {
		if r.active() {
			s.at(s.now.Add(s.cfg.RefreshTick), func() { s.tickRefresh(r) })
		}
	}()
	switch {
	case len(r.draining) > 0:
		for _, id := range r.draining {
			for _, t := range s.tasks {
				if t.CI == s.instances[id].CI && t.LastStatus != "STOPPED" {
					return
				}
			}
		}
		for _, id := range r.draining {
			s.terminate(s.instances[id])
		}
		r.done += len(r.draining)
		r.draining, r.launched = nil, nil
	case len(r.launched) > 0:
		for _, id := range r.launched {
			ci := s.cis[s.instances[id].CI]
			if ci == nil || ci.Status != "ACTIVE" {
				return
			}
		}
		n := min(len(r.launched), len(r.old))
		r.draining, r.old = r.old[:n], r.old[n:]
		for _, id := range r.draining {
			s.cis[s.instances[id].CI].Status = "DRAINING"
		}
	case r.status == asgtypes.InstanceRefreshStatusCancelling:
		// The step in flight is done: the cancel completes.
		r.status = asgtypes.InstanceRefreshStatusCancelled
	case len(r.old) > 0:
		for range min(r.step, len(r.old)) {
			r.launched = append(r.launched, s.launch(g))
		}
	default:
		r.status = asgtypes.InstanceRefreshStatusSuccessful
	}
}

func (f *AutoScaling) StartInstanceRefresh(ctx context.Context, in *autoscaling.StartInstanceRefreshInput, _ ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error) {
	s := f.s
	if err := s.enter(ctx, "autoscaling:StartInstanceRefresh"); err != nil {
		return nil, err
	}
	defer s.leave()
	name := aws.ToString(in.AutoScalingGroupName)
	g := s.groups[name]
	if g == nil {
		return nil, validation("AutoScalingGroup name not found - %s", name)
	}
	for _, r := range s.refreshes {
		if r.group == name && (r.active() || r.status == asgtypes.InstanceRefreshStatusPending) {
			return nil, &smithy.GenericAPIError{Code: "InstanceRefreshInProgress", Message: "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh."}
		}
	}
	p := in.Preferences
	if p == nil || p.SkipMatching == nil || *p.SkipMatching || aws.ToInt32(p.MaxHealthyPercentage) <= 100 {
		panic("rollouttest: StartInstanceRefresh must launch first (MaxHealthyPercentage > 100) and set SkipMatching false")
	}
	r := &refresh{id: s.newID("ir-"), group: name, status: asgtypes.InstanceRefreshStatusInProgress}
	for _, id := range g.Instances {
		if s.instances[id].State == InService {
			r.old = append(r.old, id)
			s.acting("StartInstanceRefresh", id)
		}
	}
	r.step = max(1, int(math.Floor(float64(len(r.old))*float64(aws.ToInt32(p.MaxHealthyPercentage)-100)/100)))
	s.refreshes[r.id] = r
	s.at(s.now, func() { s.tickRefresh(r) })
	return &autoscaling.StartInstanceRefreshOutput{InstanceRefreshId: aws.String(r.id)}, nil
}

func (f *AutoScaling) DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error) {
	s := f.s
	if err := s.enter(ctx, "autoscaling:DescribeInstanceRefreshes"); err != nil {
		return nil, err
	}
	defer s.leave()
	out := &autoscaling.DescribeInstanceRefreshesOutput{}
	ids := in.InstanceRefreshIds
	if len(ids) == 0 { // every refresh of the group, newest first
		for _, id := range slices.Sorted(maps.Keys(s.refreshes)) {
			ids = append([]string{id}, ids...)
		}
	}
	for _, id := range ids {
		r := s.refreshes[id]
		if r == nil || r.group != aws.ToString(in.AutoScalingGroupName) {
			continue
		}
		total := r.done + len(r.old) + len(r.draining)
		pct := 100
		if total > 0 {
			pct = 100 * r.done / total
		}
		out.InstanceRefreshes = append(out.InstanceRefreshes, asgtypes.InstanceRefresh{InstanceRefreshId: aws.String(id),
			AutoScalingGroupName: aws.String(r.group), Status: r.status, StatusReason: aws.String(r.statusText), PercentageComplete: aws.Int32(int32(pct))})
	}
	return out, nil
}

func (f *AutoScaling) CancelInstanceRefresh(ctx context.Context, in *autoscaling.CancelInstanceRefreshInput, _ ...func(*autoscaling.Options)) (*autoscaling.CancelInstanceRefreshOutput, error) {
	s := f.s
	if err := s.enter(ctx, "autoscaling:CancelInstanceRefresh"); err != nil {
		return nil, err
	}
	defer s.leave()
	for _, r := range s.refreshes {
		if r.group == aws.ToString(in.AutoScalingGroupName) && r.status == asgtypes.InstanceRefreshStatusInProgress {
			// As WaitForTransitioningInstances (default true): the step in
			// flight finishes, then the refresh is Cancelled.
			r.status, r.statusText = asgtypes.InstanceRefreshStatusCancelling, "cancelled by request"
			if len(r.launched) == 0 && len(r.draining) == 0 {
				r.status = asgtypes.InstanceRefreshStatusCancelled
			}
			return &autoscaling.CancelInstanceRefreshOutput{InstanceRefreshId: aws.String(r.id)}, nil
		}
	}
	return nil, &smithy.GenericAPIError{Code: "ActiveInstanceRefreshNotFound", Message: "No in progress or pending Instance Refresh found for Auto Scaling group " + aws.ToString(in.AutoScalingGroupName)}
}

// tagGroup is the group a tag is for, as Auto Scaling checks it.
func (s *Sim) tagGroup(t asgtypes.Tag) (*Group, error) {
	if aws.ToString(t.ResourceType) != "auto-scaling-group" {
		return nil, validation("ResourceType must be auto-scaling-group, got %q", aws.ToString(t.ResourceType))
	}
	g := s.groups[aws.ToString(t.ResourceId)]
	if g == nil {
		return nil, validation("AutoScalingGroup name not found - %s", aws.ToString(t.ResourceId))
	}
	if aws.ToString(t.Key) == "" {
		return nil, validation("tag key must not be empty")
	}
	return g, nil
}

func (f *AutoScaling) CreateOrUpdateTags(ctx context.Context, in *autoscaling.CreateOrUpdateTagsInput, _ ...func(*autoscaling.Options)) (*autoscaling.CreateOrUpdateTagsOutput, error) {
	s := f.s
	if err := s.enter(ctx, "autoscaling:CreateOrUpdateTags"); err != nil {
		return nil, err
	}
	defer s.leave()
	for _, t := range in.Tags {
		g, err := s.tagGroup(t)
		if err != nil {
			return nil, err
		}
		if aws.ToBool(t.PropagateAtLaunch) {
			panic("rollouttest: tags that propagate to instances are not simulated")
		}
		if g.Tags == nil {
			g.Tags = map[string]string{}
		}
		g.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return &autoscaling.CreateOrUpdateTagsOutput{}, nil
}

func (f *AutoScaling) DeleteTags(ctx context.Context, in *autoscaling.DeleteTagsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DeleteTagsOutput, error) {
	s := f.s
	if err := s.enter(ctx, "autoscaling:DeleteTags"); err != nil {
		return nil, err
	}
	defer s.leave()
	for _, t := range in.Tags {
		g, err := s.tagGroup(t)
		if err != nil {
			return nil, err
		}
		delete(g.Tags, aws.ToString(t.Key))
	}
	return &autoscaling.DeleteTagsOutput{}, nil
}

// count32 is a simulated size or count as the int32 the API returns, capped at
// its maximum.
func count32(n int) int32 {
	switch {
	case n > math.MaxInt32:
		return math.MaxInt32
	case n < 0:
		return 0
	}
	return int32(n) //nolint:gosec // G115: 0 <= n <= math.MaxInt32 here
}
