package rollouttest

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// The reads of the one assessment (trunkctl rollout plans from what doctor
// reads) that the rollout itself does not make: the cluster, its services,
// its capacity providers (none), and EC2's subnets and images (none known,
// which the judge reports as not read).

func (f *ECS) DescribeClusters(ctx context.Context, in *ecs.DescribeClustersInput, _ ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ecs:DescribeClusters"); err != nil {
		return nil, err
	}
	defer s.leave()
	out := &ecs.DescribeClustersOutput{}
	for _, c := range in.Clusters {
		if s.clusterOK(aws.String(c)) != nil {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(c), Reason: aws.String("MISSING")})
			continue
		}
		out.Clusters = append(out.Clusters, ecstypes.Cluster{ClusterName: aws.String(s.cfg.Cluster), Status: aws.String("ACTIVE"),
			ClusterArn: aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", s.cfg.Region, s.cfg.AccountID, s.cfg.Cluster))})
	}
	return out, nil
}

func (f *ECS) ListServices(ctx context.Context, in *ecs.ListServicesInput, _ ...func(*ecs.Options)) (*ecs.ListServicesOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ecs:ListServices"); err != nil {
		return nil, err
	}
	defer s.leave()
	if err := s.clusterOK(in.Cluster); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(s.services))
	for n := range s.services {
		names = append(names, n)
	}
	sort.Strings(names)
	items, next, err := page(names, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	arns := make([]string, len(items))
	for i, n := range items {
		arns[i] = fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", s.cfg.Region, s.cfg.AccountID, s.cfg.Cluster, n)
	}
	return &ecs.ListServicesOutput{ServiceArns: arns, NextToken: next}, nil
}

func (f *ECS) DescribeCapacityProviders(ctx context.Context, _ *ecs.DescribeCapacityProvidersInput, _ ...func(*ecs.Options)) (*ecs.DescribeCapacityProvidersOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ecs:DescribeCapacityProviders"); err != nil {
		return nil, err
	}
	defer s.leave()
	return &ecs.DescribeCapacityProvidersOutput{}, nil
}

func (f *EC2) DescribeSubnets(ctx context.Context, _ *ec2.DescribeSubnetsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ec2:DescribeSubnets"); err != nil {
		return nil, err
	}
	defer s.leave()
	return &ec2.DescribeSubnetsOutput{}, nil
}

func (f *EC2) DescribeImages(ctx context.Context, _ *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ec2:DescribeImages"); err != nil {
		return nil, err
	}
	defer s.leave()
	return &ec2.DescribeImagesOutput{}, nil
}
