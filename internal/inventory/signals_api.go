package inventory

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// SignalsECSAPI is the part of the ECS client the doctor's extra reads call
// (ListServices, ListTasks and DescribeTasks are ECSAPI's too).
type SignalsECSAPI interface {
	DescribeCapacityProviders(ctx context.Context, in *ecs.DescribeCapacityProvidersInput, optFns ...func(*ecs.Options)) (*ecs.DescribeCapacityProvidersOutput, error)
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	ListServices(ctx context.Context, in *ecs.ListServicesInput, optFns ...func(*ecs.Options)) (*ecs.ListServicesOutput, error)
	ListTasks(ctx context.Context, in *ecs.ListTasksInput, optFns ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
}

// LaunchTemplatesAPI is the part of the EC2 client that reads launch templates.
type LaunchTemplatesAPI interface {
	DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
}

// AutoScalingAPI is the part of the Auto Scaling client inventory calls.
type AutoScalingAPI interface {
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

// CloudTrailAPI is the part of the CloudTrail client inventory calls.
type CloudTrailAPI interface {
	LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

// API maxima of the extra reads.
const (
	// MaxDescribeServices is the most services one DescribeServices call names.
	MaxDescribeServices = 10
	// MaxDescribeCapacityProviders is the most names one DescribeCapacityProviders call takes.
	MaxDescribeCapacityProviders = 100
	// MaxASGNames is the most names (and records per page) one
	// DescribeAutoScalingGroups call takes.
	MaxASGNames = 100
	// MaxLookupEvents is the largest page CloudTrail LookupEvents returns.
	MaxLookupEvents = 50
	// CloudTrailWindow is how far back LookupEvents sees management events.
	CloudTrailWindow = 90 * 24 * time.Hour
)
