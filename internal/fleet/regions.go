package fleet

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// RegionsAPI is the part of the EC2 client that lists Regions.
type RegionsAPI interface {
	DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
}

// EnabledRegions lists the Regions the account can use, sorted: those that
// need no opt-in and those it opted in to. Accounts differ, so it is asked
// with each account's own credentials.
func EnabledRegions(ctx context.Context, api RegionsAPI) ([]string, error) {
	out, err := api.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("list enabled Regions: %w", err)
	}
	var names []string
	for _, r := range out.Regions {
		switch aws.ToString(r.OptInStatus) {
		case "opt-in-not-required", "opted-in":
			names = append(names, aws.ToString(r.RegionName))
		}
	}
	slices.Sort(names)
	return names, nil
}
