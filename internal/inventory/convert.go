package inventory

import ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

// ContainerInstanceOf is what inventory reads from one ECS container
// instance, for packages that describe container instances themselves.
func ContainerInstanceOf(ci ecstypes.ContainerInstance) ContainerInstance {
	return containerInstance(ci)
}

// TaskOf is what inventory reads from one ECS task.
func TaskOf(t ecstypes.Task) Task { return task(t) }
