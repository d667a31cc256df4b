package cli

import (
	"errors"
	"fmt"

	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Next steps for errors the internal packages return typed. They are added
// here, once, as Run prints the error; nothing else in trunkctl words them.
const (
	adviceClusterNotFound  = "check --" + flagRegion + " and the cluster name (aws ecs list-clusters)"
	adviceInstanceNotFound = "give an EC2 instance id, container instance id or ARN (trunkctl instances --cluster %s lists them)"
)

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
