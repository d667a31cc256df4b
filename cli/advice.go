package cli

import (
	"errors"
	"fmt"

	"github.com/trunkctl/trunkctl/internal/fleet"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Next steps for errors the internal packages return typed. They are added
// here, once, as Run prints the error; nothing else in trunkctl words them.
const (
	adviceClusterNotFound  = "check --" + flagRegion + " and the cluster name (aws ecs list-clusters)"
	adviceInstanceNotFound = "give an EC2 instance id, container instance id or ARN (trunkctl instances --cluster %s lists them)"
	adviceRegionNotEnabled = "enable the Region in the account (aws account enable-region --account-id %s --region-name %s), or use --" + flagRegions + " all, which runs only each account's enabled Regions"
)

// fleetAdvice appends the next step to a fan-out row's error that has one.
func fleetAdvice(err error) error {
	var rne *fleet.RegionNotEnabledError
	if errors.As(err, &rne) {
		return fmt.Errorf("%w; "+adviceRegionNotEnabled, err, rne.Account, rne.Region)
	}
	return err
}

// withAdvice appends the next step to an error that has one.
func withAdvice(err error) error {
	var (
		cnf *inventory.ClusterNotFoundError
		inf *inventory.InstanceNotFoundError
	)
	switch {
	case errors.As(err, &cnf):
		return fmt.Errorf("%w; %s", err, adviceClusterNotFound)
	case errors.As(err, &inf):
		return fmt.Errorf("%w; "+adviceInstanceNotFound, err, inf.Cluster)
	}
	if next := rolloutAdvice(err); next != "" {
		return fmt.Errorf("%w; %s", err, next)
	}
	return err
}
