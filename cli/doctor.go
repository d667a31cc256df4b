package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// doctorLoader is everything doctor reads through inventory.
type doctorLoader interface {
	clusterLister
	Cluster(ctx context.Context, name string) (ecstypes.Cluster, error)
	Instances(ctx context.Context, ids []string) (map[string]inventory.Instance, error)
	Subnets(ctx context.Context, ids []string) (map[string]inventory.Subnet, error)
	Images(ctx context.Context, ids []string) (map[string]inventory.Image, error)
	RolesByInstance(ctx context.Context, insts map[string]inventory.Instance) (map[string][]string, error)
	RoleExists(ctx context.Context, name string) (bool, error)
}

type doctorOpts struct {
	cluster    string
	stuckAfter time.Duration
	output     string
	region     string

	io       *IOStreams
	loader   doctorLoader
	resolver roleResolver
	catalog  *catalog.Catalog
	now      func() time.Time

	findings []doctor.Finding
}

func newDoctorCmd(a *app) *cobra.Command {
	o := &doctorOpts{}
	cmd := &cobra.Command{
		Use:   "doctor --cluster CLUSTER",
		Short: "Check everything ENI trunking needs, with the exact fix for each problem",
		Long: `Run every check and print findings with a severity (error, warning, info) and the
exact fix, a command or a setting:

  service-linked-role         AWSServiceRoleForECS exists (iam:GetRole)
  role-opt-in                 awsvpcTrunking is enabled for each instance role behind the cluster
  instance                    each container instance's verdict (see trunkctl instances)
  agent-version-os            agent >= 1.28.1 on Amazon Linux, >= 1.29.1 elsewhere (OS from the AMI name)
  resource-name-dns-a-record  resource-based IPv4 DNS A records are off on the instances
  shared-subnet               instances are not in subnets shared from another account
  task-stuck-provisioning     no task has been PROVISIONING for longer than --stuck-after
  eni-capacity                instances whose awsvpc tasks reached the limit
  summary                     counts

Exit 3 when any finding is an error, 0 otherwise.`,
		Example: `  trunkctl doctor --cluster prod
  trunkctl doctor --cluster prod --output json | jq '.findings[] | select(.severity=="error")'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.output, o.io, o.catalog, o.now = a.global.Output, a.streams(), a.catalog(), a.now
			return a.runWithAWS(cmd.Context(), o, func(c *AWS) {
				o.loader, o.resolver, o.region = a.loader(c), a.resolver(c), c.Region
			})
		},
	}
	cmd.Flags().StringVar(&o.cluster, flagCluster, "", "cluster name or ARN (required)")
	cmd.Flags().DurationVar(&o.stuckAfter, flagStuckAfter, 5*time.Minute, "report tasks PROVISIONING for longer than this")
	return cmd
}

func (o *doctorOpts) Validate() error {
	if err := validateOutput(o.output); err != nil {
		return err
	}
	if o.cluster == "" {
		return usageErrorf("--%s is required", flagCluster)
	}
	if o.stuckAfter <= 0 {
		return usageErrorf("--%s must be positive", flagStuckAfter)
	}
	return nil
}

func (o *doctorOpts) Execute(ctx context.Context) error {
	stop := o.io.StartProgress("checking cluster " + o.cluster)
	defer stop()
	in, err := o.gather(ctx)
	if err != nil {
		return err
	}
	stop()
	o.findings = doctor.Run(in)
	if err := o.print(); err != nil {
		return err
	}
	if doctor.Count(o.findings)[doctor.Error] > 0 {
		return unhealthy()
	}
	return nil
}

// gather reads what the checks need: independent reads run concurrently.
func (o *doctorOpts) gather(ctx context.Context) (doctor.Input, error) {
	in := doctor.Input{Cluster: o.cluster, Region: o.region, Now: o.now(), StuckAfter: o.stuckAfter, Catalog: o.catalog}
	caller, _, err := o.resolver.Caller(ctx)
	if err != nil {
		return in, err
	}
	in.AccountID = caller.AccountID
	if _, err := o.loader.Cluster(ctx, o.cluster); err != nil {
		return in, clusterErr(err, o.cluster)
	}
	var roles instanceRoles
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		// The roles behind the instances are read while the tasks are listed.
		in.ContainerInstances, in.Tasks, err = loadInstancesAndTasks(gctx, o.io, o.loader, inventory.TaskQuery{Cluster: o.cluster},
			func(ctx context.Context, cis []inventory.ContainerInstance) {
				roles = readInstanceRoles(ctx, o.loader, o.resolver, cis)
			})
		return err
	})
	g.Go(func() error {
		ok, err := o.loader.RoleExists(gctx, "AWSServiceRoleForECS")
		if err != nil {
			in.ServiceLinkedErr = err
			return nil
		}
		in.ServiceLinkedRole = &ok
		return nil
	})
	if err := g.Wait(); err != nil {
		return in, err
	}
	in.Instances, in.RolesErr, in.InstanceRoles = roles.insts, roles.err, roles.byInstance
	for _, st := range roles.roles {
		r := doctor.Role{Arn: st.RoleArn, EffectiveValue: st.EffectiveValue, Source: st.Source}
		if st.Error != "" {
			r.Err = fmt.Errorf("%s", st.Error)
		}
		in.Roles = append(in.Roles, r)
	}
	var subnets, amis, noProfile []string
	for _, ci := range in.ContainerInstances {
		// Only agents between the two minimums need the OS to be judged.
		if ci.AgentVersion != "" && inventory.CompareVersions(ci.AgentVersion, inventory.MinAgent) >= 0 &&
			inventory.CompareVersions(ci.AgentVersion, inventory.MinAgentNonAmzn) < 0 && ci.AMI != "" {
			amis = append(amis, ci.AMI)
		}
	}
	for id, i := range in.Instances {
		subnets = append(subnets, i.SubnetID)
		if i.InstanceProfileArn == "" {
			noProfile = append(noProfile, id)
		}
	}
	if len(noProfile) > 0 {
		sort.Strings(noProfile)
		o.io.Warnf("%d EC2 instance(s) have no instance profile: %v", len(noProfile), noProfile)
	}
	// These reads only feed some checks: a failure becomes a warning finding,
	// not the end of the run.
	g, gctx = errgroup.WithContext(ctx)
	g.Go(func() error {
		if len(subnets) > 0 {
			in.Subnets, in.SubnetsErr = o.loader.Subnets(gctx, subnets)
		}
		return nil
	})
	g.Go(func() error {
		if len(amis) > 0 {
			in.Images, in.ImagesErr = o.loader.Images(gctx, amis)
		}
		return nil
	})
	return in, g.Wait()
}

func (o *doctorOpts) print() error {
	counts := doctor.Count(o.findings)
	if o.output == outputJSON {
		return writeJSON(o.io.Out, struct {
			Cluster  string           `json:"cluster"`
			Findings []doctor.Finding `json:"findings"`
			Summary  map[string]int   `json:"summary"`
		}{o.cluster, o.findings, map[string]int{"errors": counts[doctor.Error], "warnings": counts[doctor.Warning], "info": counts[doctor.Info]}})
	}
	if !o.io.OutIsTerminal {
		// Piped: one tab-separated line per finding, severity first, for grep and awk.
		t := newTable(o.io, "SEVERITY", "CHECK", "SUBJECT", "FINDING", "FIX")
		for _, f := range o.findings {
			t.add(string(f.Severity), f.Check, f.Subject, f.Message, f.Fix)
		}
		if err := t.render(); err != nil {
			return err
		}
	} else {
		// A terminal: fixes are long commands, so each finding is a small block.
		for _, f := range o.findings {
			color := colorGreen
			switch f.Severity {
			case doctor.Error:
				color = colorRed
			case doctor.Warning:
				color = colorYellow
			}
			fmt.Fprintf(o.io.Out, "%s %s %s\n    %s\n", o.io.color(color, fmt.Sprintf("%-7s", strings.ToUpper(string(f.Severity)))), f.Check, f.Subject, f.Message)
			if f.Fix != "" {
				fmt.Fprintf(o.io.Out, "    fix: %s\n", f.Fix)
			}
		}
	}
	o.io.Infof("%d error(s), %d warning(s)", counts[doctor.Error], counts[doctor.Warning])
	return nil
}

func (o *doctorOpts) RecommendActions() error {
	if doctor.Count(o.findings)[doctor.Error] > 0 {
		o.io.Infof("Fix the errors above, then run trunkctl doctor --cluster %s again.", o.cluster)
	}
	return nil
}
