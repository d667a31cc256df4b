package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/assess"
)

type statusOpts struct {
	roles []string
	// roleNames are --role-name: names, looked up in each account, as enable takes them.
	roleNames []string
	cluster   string
	// allClusters reads the roles behind every cluster of each account and Region.
	allClusters bool

	env
}

func newStatusCmd(envOf func() env) *cobra.Command {
	o := &statusOpts{}
	cmd := &cobra.Command{
		Use:   "status (--role ROLE... | --cluster CLUSTER)",
		Short: "Show whether awsvpcTrunking is enabled for instance roles",
		Long: `Show the effective awsvpcTrunking value for each role and whether it comes from the
role's own setting (source "principal") or the account default (source "default").

ECS answers for a role only to the account root or the role itself, so trunkctl
reads as root, as the role, or by assuming the role; when none works it says which
of the three you need. --cluster finds the roles behind the cluster's container
instances through their EC2 instance profiles.
`,
		Example: `  trunkctl status --role ecsInstanceRole
  trunkctl status --role arn:aws:iam::123456789012:role/EcsInstance --output json
  trunkctl status --cluster prod`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = envOf()
			return run(cmd.Context(), o)
		},
	}
	cmd.Flags().StringArrayVar(&o.roles, flagRole, nil, "instance role name or ARN (repeatable)")
	addRoleNameFlag(cmd, &o.roleNames)
	nonEmptyVar(cmd.Flags(), &o.cluster, flagCluster, "check the instance roles behind this cluster's container instances")
	addAllClustersFlag(cmd, &o.allClusters)
	return cmd
}

// allRoles are --role and --role-name (a name is looked up in the account
// each target reads).
func (o *statusOpts) allRoles() []string {
	return append(append([]string(nil), o.roles...), o.roleNames...)
}

func (o *statusOpts) Validate() error {
	if err := checkRoleNames(o.roleNames); err != nil {
		return err
	}
	if o.allClusters && o.cluster != "" {
		return validateClusterFlags(o.cluster, o.allClusters)
	}
	if len(o.allRoles()) == 0 && o.cluster == "" && !o.allClusters {
		return usageErrorf("name at least one --%s, or --%s", flagRole, flagCluster)
	}
	if o.cluster != "" {
		if err := validateCluster(o.cluster, ""); err != nil {
			return err
		}
	}
	return validateRoles(o.roles, "")
}

// ValidateRegion checks the roles' partition and the cluster's Region.
func (o *statusOpts) ValidateRegion(region string) error {
	if o.cluster != "" {
		if err := validateCluster(o.cluster, region); err != nil {
			return err
		}
	}
	return validateRoles(o.roles, region)
}

func (o *statusOpts) Execute(ctx context.Context) ([]accountsetting.RoleSetting, error) {
	if o.fanned(o.allClusters) {
		return nil, o.runFleet(ctx, o.cluster, o.allClusters, o)
	}
	c, err := o.connect(ctx, o)
	if err != nil {
		return nil, err
	}
	results, err := o.readIn(ctx, o.env, c, o.cluster)
	if err != nil {
		return nil, err
	}
	if err := o.print(results); err != nil {
		return results, err
	}
	return results, statusExit(o.io, results, accountsetting.Enabled)
}

// readIn resolves the roles (named, and behind cluster) and reads their
// settings in one account and Region, with e's streams (a target's, in a
// fan-out).
func (o *statusOpts) readIn(ctx context.Context, e env, c *clients, cluster string) ([]accountsetting.RoleSetting, error) {
	stop := e.io.StartProgress("reading account settings")
	defer stop()
	caller, err := c.session.Caller(ctx)
	if err != nil {
		return nil, err
	}
	roles, err := rolesFromArgs(o.allRoles(), caller.Principal)
	if err != nil {
		return nil, err
	}
	if cluster != "" {
		found, warnings, err := c.session.RolesOfCluster(ctx, cluster)
		warn(e.io, warnings)
		var none *assess.NoInstancesError
		if errors.As(err, &none) {
			return nil, fmt.Errorf("%w; name the instance role with --%s", err, flagRole)
		}
		if err != nil {
			return nil, err
		}
		roles = append(roles, found...)
	}
	return c.session.ReadRoles(ctx, dedupeRoles(roles))
}

func (o *statusOpts) print(results []accountsetting.RoleSetting) error {
	if o.structured() {
		return o.writeData(rolesView(results))
	}
	return printRoles(o.io, results)
}

// rolesView is the JSON shape of one account and Region (JSON contract).
func rolesView(results []accountsetting.RoleSetting) any {
	return struct {
		Roles []accountsetting.RoleSetting `json:"roles"`
	}{results}
}

func (o *statusOpts) RecommendActions(results []accountsetting.RoleSetting) {
	recommendForRoles(o.io, results, o.cluster)
}

func recommendForRoles(s *IOStreams, rs []accountsetting.RoleSetting, cluster string) {
	for _, r := range rs {
		if r.Error == "" && r.EffectiveValue != accountsetting.Enabled {
			s.Infof("Turn it on: trunkctl enable --role %s", r.RoleArn)
		}
	}
	for _, r := range rs {
		if r.Error == "" && r.EffectiveValue == accountsetting.Enabled {
			if cluster == "" {
				s.Infof("Instances registered before the opt-in have no trunk; find them with trunkctl instances --cluster and the name of each cluster these roles serve (aws ecs list-clusters lists them).")
				return
			}
			s.Infof("Instances registered before the opt-in have no trunk; check: trunkctl instances --cluster %s", cluster)
			return
		}
	}
}
