package rollout

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/trunkctl/trunkctl/internal/inventory"
)

const (
	statusActive   = "ACTIVE"
	statusDraining = "DRAINING"
	servicePrefix  = "service:"
)

// reader is the one ECS reading (inventory's loader): the assessment's
// session's when Prepare set it, else a loader over the engine's ECS client.
func (e *Engine) reader() *inventory.Loader {
	if e.Reader == nil {
		e.Reader = inventory.NewLoader(e.ECS, nil, nil, readConcurrency)
	}
	return e.Reader
}

// readConcurrency bounds a rollout's own loader's calls in flight.
const readConcurrency = 4

// listContainerInstanceArns lists every container instance of the cluster
// that is not INACTIVE.
func (e *Engine) listContainerInstanceArns(ctx context.Context, cluster string) ([]string, error) {
	return e.reader().ContainerInstanceArns(ctx, cluster)
}

// describeContainerInstances describes arns; instances that went away
// between list and describe are left out.
func (e *Engine) describeContainerInstances(ctx context.Context, cluster string, arns []string) ([]inventory.ContainerInstance, error) {
	return e.reader().DescribeContainerInstances(ctx, cluster, arns)
}

// containerInstances lists and describes the whole cluster, sorted by EC2 id.
func (e *Engine) containerInstances(ctx context.Context, cluster string) ([]inventory.ContainerInstance, error) {
	cis, _, err := e.reader().ContainerInstances(ctx, cluster)
	return cis, err
}

// groupsOf maps EC2 instance ids to the Auto Scaling group that owns them;
// instances no group owns are absent.
func (e *Engine) groupsOf(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for batch := range slices.Chunk(ids, maxASGInstanceIDs) {
		p := autoscaling.NewDescribeAutoScalingInstancesPaginator(e.ASG, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: batch})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe Auto Scaling instances %s: %w", strings.Join(batch, ", "), err)
			}
			for _, i := range page.AutoScalingInstances {
				out[aws.ToString(i.InstanceId)] = aws.ToString(i.AutoScalingGroupName)
			}
		}
	}
	return out, nil
}

// groupState is one Auto Scaling group as described now.
type groupState struct {
	Group
	members map[string]asgtypes.Instance
	// tags are the group's tags by key.
	tags map[string]string
}

// describeGroups describes the named groups; a name AWS does not know is an error.
func (e *Engine) describeGroups(ctx context.Context, names []string) (map[string]groupState, error) {
	out := map[string]groupState{}
	for batch := range slices.Chunk(names, maxASGDescribeGroups) {
		p := autoscaling.NewDescribeAutoScalingGroupsPaginator(e.ASG, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: batch})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe Auto Scaling groups %s: %w", strings.Join(batch, ", "), err)
			}
			for _, g := range page.AutoScalingGroups {
				gs := groupState{Group: Group{
					Name: aws.ToString(g.AutoScalingGroupName), Min: int(aws.ToInt32(g.MinSize)),
					Max: int(aws.ToInt32(g.MaxSize)), Desired: int(aws.ToInt32(g.DesiredCapacity)),
				}, members: map[string]asgtypes.Instance{}, tags: map[string]string{}}
				for _, t := range g.Tags {
					gs.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
				for _, i := range g.Instances {
					id := aws.ToString(i.InstanceId)
					gs.Instances = append(gs.Instances, id)
					gs.members[id] = i
				}
				sort.Strings(gs.Instances)
				out[gs.Name] = gs
			}
		}
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("describe Auto Scaling groups: group %s not found", n)
		}
	}
	return out, nil
}

// tasksOn returns the tasks whose desired status is RUNNING on a container instance.
func (e *Engine) tasksOn(ctx context.Context, cluster, ciArn string) ([]inventory.Task, error) {
	tasks, _, err := e.reader().Tasks(ctx, inventory.TaskQuery{Cluster: cluster, ContainerInstance: ciArn})
	if err != nil {
		return nil, fmt.Errorf("tasks on %s: %w", ciArn, err)
	}
	return tasks, nil
}

// isService: ECS puts a service's tasks in the group "service:NAME".
func isService(t inventory.Task) bool { return strings.HasPrefix(t.Group, servicePrefix) }
