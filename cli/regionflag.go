package cli

import (
	"github.com/trunkctl/trunkctl/internal/fleet"
	"github.com/trunkctl/trunkctl/internal/validate"
)

// validateRegionFlag checks --region as --regions is checked: by shape and
// partition, before any AWS call (a made-up Region otherwise costs the SDK's
// retries against an endpoint that does not exist), and in the partition of
// the --regions named with it.
func validateRegionFlag(region string, regions []string) error {
	if region == "" {
		return nil
	}
	if err := validate.Region("--"+flagRegion, region); err != nil {
		return asUsage(err)
	}
	named, err := fleet.ParseRegions(regions)
	if err != nil || len(named) == 0 {
		return nil // --regions reports its own mistakes; "all" follows --region's partition
	}
	p, _ := validate.RegionPartition(region)
	if q, _ := validate.RegionPartition(named[0]); q != p {
		return usageErrorf("--%s %s is in partition %s and --%s %s in %s: one set of credentials reaches one partition", flagRegion, region, p, flagRegions, named[0], q)
	}
	return nil
}
