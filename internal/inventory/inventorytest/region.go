package inventorytest

import (
	"context"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// Region is the ECS of one account and Region holding several clusters: it
// lists them, and answers each call from the cluster the call names (a
// cluster it does not hold answers ClusterNotFoundException).
type Region struct {
	Clusters []*Cluster
}

// ECS returns the Region's ECS client.
func (r *Region) ECS() *RegionECS { return &RegionECS{r: r} }

// RegionECS dispatches ECS calls by cluster name.
type RegionECS struct{ r *Region }

func (e *RegionECS) cluster(name *string) *ECS {
	for _, c := range e.r.Clusters {
		if c.Name == aws.ToString(name) || c.ClusterArn() == aws.ToString(name) {
			return c.ECS()
		}
	}
	// A cluster of another name answers ClusterNotFoundException for this one.
	none := New()
	none.Name = "\x00"
	return none.ECS()
}

// ListClusters lists the clusters' ARNs, sorted, in one page.
func (e *RegionECS) ListClusters(ctx context.Context, _ *ecs.ListClustersInput, _ ...func(*ecs.Options)) (*ecs.ListClustersOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var arns []string
	for _, c := range e.r.Clusters {
		arns = append(arns, c.ClusterArn())
	}
	sort.Strings(arns)
	return &ecs.ListClustersOutput{ClusterArns: arns}, nil
}

func (e *RegionECS) DescribeClusters(ctx context.Context, in *ecs.DescribeClustersInput, o ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error) {
	var name *string
	if len(in.Clusters) > 0 {
		name = &in.Clusters[0]
	}
	return e.cluster(name).DescribeClusters(ctx, in, o...)
}

func (e *RegionECS) ListContainerInstances(ctx context.Context, in *ecs.ListContainerInstancesInput, o ...func(*ecs.Options)) (*ecs.ListContainerInstancesOutput, error) {
	return e.cluster(in.Cluster).ListContainerInstances(ctx, in, o...)
}

func (e *RegionECS) DescribeContainerInstances(ctx context.Context, in *ecs.DescribeContainerInstancesInput, o ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error) {
	return e.cluster(in.Cluster).DescribeContainerInstances(ctx, in, o...)
}

func (e *RegionECS) ListServices(ctx context.Context, in *ecs.ListServicesInput, o ...func(*ecs.Options)) (*ecs.ListServicesOutput, error) {
	return e.cluster(in.Cluster).ListServices(ctx, in, o...)
}

func (e *RegionECS) ListTasks(ctx context.Context, in *ecs.ListTasksInput, o ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	return e.cluster(in.Cluster).ListTasks(ctx, in, o...)
}

func (e *RegionECS) DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, o ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	return e.cluster(in.Cluster).DescribeTasks(ctx, in, o...)
}

func (e *RegionECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, o ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	return e.cluster(in.Cluster).DescribeServices(ctx, in, o...)
}

// DescribeCapacityProviders is not scoped to a cluster: the Region's
// providers are those of its clusters.
func (e *RegionECS) DescribeCapacityProviders(ctx context.Context, in *ecs.DescribeCapacityProvidersInput, o ...func(*ecs.Options)) (*ecs.DescribeCapacityProvidersOutput, error) {
	out := &ecs.DescribeCapacityProvidersOutput{}
	for _, c := range e.r.Clusters {
		page, err := c.ECS().DescribeCapacityProviders(ctx, in, o...)
		if err != nil {
			return nil, err
		}
		out.CapacityProviders = append(out.CapacityProviders, page.CapacityProviders...)
	}
	return out, nil
}
