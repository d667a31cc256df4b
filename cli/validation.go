package cli

import (
	"github.com/spf13/pflag"

	"github.com/trunkctl/trunkctl/internal/validate"
)

// nonEmpty is a string flag that refuses "": `--instance ""` is a mistake,
// never a request for "all".
type nonEmpty struct{ p *string }

func (v nonEmpty) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v nonEmpty) Set(s string) error {
	if err := validate.NotEmpty("value", s); err != nil {
		return err
	}
	*v.p = s
	return nil
}

func (v nonEmpty) Type() string { return "string" }

// nonEmptyVar defines a string flag that may be left out but not be empty.
func nonEmptyVar(fs *pflag.FlagSet, p *string, name, usage string) {
	fs.Var(nonEmpty{p}, name, usage)
}

// validateRoles checks every --role value, against the Region when it is
// known ("" before the configuration is loaded).
func validateRoles(roles []string, region string) error {
	for _, r := range roles {
		if err := validate.Role("--"+flagRole, r, region); err != nil {
			return err
		}
	}
	return nil
}

// validateCluster checks a required --cluster, against the Region when known.
func validateCluster(cluster, region string) error {
	if cluster == "" {
		return usageErrorf("--%s is required", flagCluster)
	}
	return validate.Cluster("--"+flagCluster, cluster, region)
}

// validateClusterIfSet checks --cluster when it is given (it is optional
// where --all-clusters is the alternative).
func validateClusterIfSet(cluster, region string) error {
	if cluster == "" {
		return nil
	}
	return validate.Cluster("--"+flagCluster, cluster, region)
}
