package inventory

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// ClustersAPI lists a Region's clusters.
type ClustersAPI interface {
	ListClusters(ctx context.Context, in *ecs.ListClustersInput, optFns ...func(*ecs.Options)) (*ecs.ListClustersOutput, error)
}

// ListClusters returns the names of every cluster in the Region, sorted.
func ListClusters(ctx context.Context, api ClustersAPI) ([]string, error) {
	var names []string
	p := ecs.NewListClustersPaginator(api, &ecs.ListClustersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list clusters: %w", err)
		}
		for _, arn := range page.ClusterArns {
			names = append(names, ResourceID(arn))
		}
	}
	sort.Strings(names)
	return names, nil
}
