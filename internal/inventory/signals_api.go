package inventory

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
)

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
