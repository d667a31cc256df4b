// Package rollout replaces the container instances of an ECS cluster that
// have no trunk ENI with ones that register after their role's opt-in, in
// batches, without dropping services, and checks that each replacement got
// a trunk. It plans from what AWS says now (no local state), so running it
// again continues where an interrupted or stopped run left the cluster.
//
// Reading and judging stay apart: the plan comes from the one assessment
// (internal/assess, what doctor shows); this package only maps a verdict to
// a plan action (ActionFor) and carries the plan out.
package rollout

import (
	"context"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/retry"
)

// ECSAPI is the part of the ECS client a rollout calls, with the SDK's exact
// signatures so the real client, the SDK paginators and fakes all fit.
type ECSAPI interface {
	// The reads go through inventory's loader: the one ECS reading.
	inventory.ECSAPI
	DeregisterContainerInstance(ctx context.Context, in *ecs.DeregisterContainerInstanceInput, optFns ...func(*ecs.Options)) (*ecs.DeregisterContainerInstanceOutput, error)
	UpdateContainerInstancesState(ctx context.Context, in *ecs.UpdateContainerInstancesStateInput, optFns ...func(*ecs.Options)) (*ecs.UpdateContainerInstancesStateOutput, error)
	StopTask(ctx context.Context, in *ecs.StopTaskInput, optFns ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
}

// AutoScalingAPI is the part of the Auto Scaling client a rollout calls.
type AutoScalingAPI interface {
	DescribeAutoScalingInstances(ctx context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error)
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	SetDesiredCapacity(ctx context.Context, in *autoscaling.SetDesiredCapacityInput, optFns ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error)
	SetInstanceProtection(ctx context.Context, in *autoscaling.SetInstanceProtectionInput, optFns ...func(*autoscaling.Options)) (*autoscaling.SetInstanceProtectionOutput, error)
	TerminateInstanceInAutoScalingGroup(ctx context.Context, in *autoscaling.TerminateInstanceInAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.TerminateInstanceInAutoScalingGroupOutput, error)
	StartInstanceRefresh(ctx context.Context, in *autoscaling.StartInstanceRefreshInput, optFns ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error)
	DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error)
	CancelInstanceRefresh(ctx context.Context, in *autoscaling.CancelInstanceRefreshInput, optFns ...func(*autoscaling.Options)) (*autoscaling.CancelInstanceRefreshOutput, error)
	CreateOrUpdateTags(ctx context.Context, in *autoscaling.CreateOrUpdateTagsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.CreateOrUpdateTagsOutput, error)
	DeleteTags(ctx context.Context, in *autoscaling.DeleteTagsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DeleteTagsOutput, error)
}

// API maxima a rollout batches to.
const (
	maxDescribe          = 100 // DescribeContainerInstances, DescribeTasks
	maxListPage          = 100 // ListContainerInstances, ListTasks
	maxUpdateState       = 10  // UpdateContainerInstancesState
	maxDescribeServices  = 10  // DescribeServices
	maxASGInstanceIDs    = 50  // DescribeAutoScalingInstances, SetInstanceProtection
	maxASGDescribeGroups = 100 // DescribeAutoScalingGroups names per call
)

// Clock is the time a rollout waits on; tests and the benchmark pass a
// virtual one so hours of draining take milliseconds.
type Clock interface {
	Now() time.Time
	// Sleep waits d, or returns ctx.Err() when ctx ends first.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx ends.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error { return retry.Sleep(ctx, d) }

// capped32 is n as the int32 an Auto Scaling field takes. The values passed
// are group sizes (read from int32 fields) and percentages, so they fit; a
// value that did not would be capped rather than wrapped.
func capped32(n int) int32 {
	switch {
	case n > math.MaxInt32:
		return math.MaxInt32
	case n < math.MinInt32:
		return math.MinInt32
	}
	return int32(n) //nolint:gosec // G115: n is within int32 here
}
