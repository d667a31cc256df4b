package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// clusterRoles finds the instance roles behind a cluster.
type clusterRoles interface {
	ContainerInstances(ctx context.Context, cluster string) ([]inventory.ContainerInstance, []string, error)
	RolesBehind(ctx context.Context, cis []inventory.ContainerInstance) ([]string, []string, error)
}

type statusOpts struct {
	roles   []string
	cluster string
	output  string

	io       *IOStreams
	resolver roleResolver
	cluRoles clusterRoles

	results []roleStatus
}

func newStatusCmd(a *app) *cobra.Command {
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

Exit 0 when every role is enabled, 3 when any is not, 1 on errors, 2 on usage errors.`,
		Example: `  trunkctl status --role ecsInstanceRole
  trunkctl status --role arn:aws:iam::123456789012:role/EcsInstance --output json
  trunkctl status --cluster prod`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.output, o.io = a.global.Output, a.streams()
			return a.runWithAWS(cmd.Context(), o, func(c *AWS) {
				o.resolver, o.cluRoles = a.resolver(c), a.loader(c)
			})
		},
	}
	cmd.Flags().StringArrayVar(&o.roles, flagRole, nil, "instance role name or ARN (repeatable)")
	cmd.Flags().StringVar(&o.cluster, flagCluster, "", "check the instance roles behind this cluster's container instances")
	return cmd
}

func (o *statusOpts) Validate() error {
	if err := validateOutput(o.output); err != nil {
		return err
	}
	if len(o.roles) == 0 && o.cluster == "" {
		return usageErrorf("name at least one --%s, or --%s", flagRole, flagCluster)
	}
	return validateRoleArgs(o.roles)
}

func (o *statusOpts) Execute(ctx context.Context) error {
	stop := o.io.StartProgress("reading account settings")
	defer stop()
	caller, callerArn, err := o.resolver.Caller(ctx)
	if err != nil {
		return err
	}
	roles, err := rolesFromArgs(o.roles, caller)
	if err != nil {
		return err
	}
	if o.cluster != "" {
		found, err := rolesOfCluster(ctx, o.io, o.cluRoles, o.cluster)
		if err != nil {
			return err
		}
		roles = append(roles, found...)
	}
	roles = dedupeRoles(roles)
	o.results = readRoles(ctx, o.resolver, roles, caller, callerArn, accountsetting.AWSVPCTrunking)
	stop()
	if err := o.print(); err != nil {
		return err
	}
	return statusExit(o.io, o.results, accountsetting.Enabled)
}

// rolesOfCluster finds the instance roles behind the cluster's container instances.
func rolesOfCluster(ctx context.Context, s *IOStreams, l clusterRoles, cluster string) ([]awsarn.Role, error) {
	cis, warnings, err := l.ContainerInstances(ctx, cluster)
	if err != nil {
		return nil, clusterErr(err, cluster)
	}
	for _, w := range warnings {
		s.Warnf("%s", w)
	}
	if len(cis) == 0 {
		return nil, fmt.Errorf("cluster %s has no container instances to find roles from; name the instance role with --%s", cluster, flagRole)
	}
	arns, noProfile, err := l.RolesBehind(ctx, cis)
	if err != nil {
		return nil, err
	}
	if len(noProfile) > 0 {
		s.Warnf("%d EC2 instance(s) have no instance profile: %v", len(noProfile), noProfile)
	}
	var roles []awsarn.Role
	for _, a := range arns {
		r, err := awsarn.ParseRole(a)
		if err != nil {
			return nil, err
		}
		roles = append(roles, r)
	}
	sort.Slice(roles, func(i, j int) bool { return roles[i].String() < roles[j].String() })
	return roles, nil
}

// statusExit turns role results into the exit contract: errors first (1),
// then any role whose value is not want (3).
func statusExit(s *IOStreams, rs []roleStatus, want string) error {
	failed, off := 0, 0
	for _, r := range rs {
		switch {
		case r.Error != "":
			failed++
			s.Warnf("%s: %s", r.RoleArn, r.Error)
		case r.EffectiveValue != want:
			off++
		}
	}
	switch {
	case failed > 0:
		return &exitError{code: ExitError, err: fmt.Errorf("could not read %d of %d role(s)", failed, len(rs))}
	case off > 0:
		return unhealthy()
	}
	return nil
}

func (o *statusOpts) print() error {
	if o.output == outputJSON {
		return writeJSON(o.io.Out, struct {
			Roles []roleStatus `json:"roles"`
		}{o.results})
	}
	return printRoles(o.io, o.results)
}

func printRoles(s *IOStreams, rs []roleStatus) error {
	t := newTable(s, "ROLE", "SETTING", "SOURCE", "VIA", "VALUE")
	for _, r := range rs {
		value := r.EffectiveValue
		switch {
		case r.Error != "":
			value = s.color(colorRed, "error")
		case value == accountsetting.Enabled:
			value = s.color(colorGreen, value)
		default:
			value = s.color(colorRed, value)
		}
		t.add(r.RoleArn, r.Setting, r.Source, r.Via, value)
	}
	return t.render()
}

func (o *statusOpts) RecommendActions() error {
	recommendForRoles(o.io, o.results, o.cluster)
	return nil
}

func recommendForRoles(s *IOStreams, rs []roleStatus, cluster string) {
	if cluster == "" {
		cluster = "CLUSTER"
	}
	for _, r := range rs {
		if r.Error == "" && r.EffectiveValue != accountsetting.Enabled {
			s.Infof("Turn it on: trunkctl enable --role %s", r.RoleArn)
		}
	}
	for _, r := range rs {
		if r.Error == "" && r.EffectiveValue == accountsetting.Enabled {
			s.Infof("Instances registered before the opt-in have no trunk; check: trunkctl instances --cluster %s", cluster)
			return
		}
	}
}

// clusterErr rewrites a missing-cluster error into advice, once.
func clusterErr(err error, cluster string) error {
	var nf *inventory.ClusterNotFoundError
	var done *clusterNotFoundError
	if errors.As(err, &done) || !(errors.As(err, &nf) || isClusterNotFound(err)) {
		return err
	}
	return &clusterNotFoundError{cluster: cluster, err: err}
}

type clusterNotFoundError struct {
	cluster string
	err     error
}

func (e *clusterNotFoundError) Error() string {
	return fmt.Sprintf("cluster %q not found in this account and Region; check --%s and the name (aws ecs list-clusters): %v", e.cluster, flagRegion, e.err)
}

func (e *clusterNotFoundError) Unwrap() error { return e.err }
