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
		if enabled(aws.ToString(r.OptInStatus)) {
			names = append(names, aws.ToString(r.RegionName))
		}
	}
	slices.Sort(names)
	return names, nil
}

// enabled says whether a Region of this opt-in status can be used.
func enabled(optInStatus string) bool {
	return optInStatus == "opt-in-not-required" || optInStatus == "opted-in"
}

// regionStatus is region's opt-in status in the account, and whether the
// account's Regions name it; read once per account with the account's
// credentials from the caller's Region (DescribeRegions, every Region).
func (f *Fleet) regionStatus(ctx context.Context, accountID, region string) (string, bool, error) {
	a := f.account(accountID)
	a.regions.once.Do(func() {
		cfg := f.Config(accountID, f.base.Region)
		var out *ec2.DescribeRegionsOutput
		out, a.regions.err = f.newRegions(cfg).DescribeRegions(withLimiter(ctx, a), &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
		if a.regions.err != nil {
			a.regions.err = fmt.Errorf("list Regions of account %s: %w", accountID, a.regions.err)
			return
		}
		a.regions.status = map[string]string{}
		for _, r := range out.Regions {
			a.regions.status[aws.ToString(r.RegionName)] = aws.ToString(r.OptInStatus)
		}
	})
	if a.regions.err != nil {
		return "", false, a.regions.err
	}
	status, ok := a.regions.status[region]
	return status, ok, nil
}
