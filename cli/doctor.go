package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

type doctorOpts struct {
	cluster    string
	stuckAfter time.Duration
	// allClusters checks every cluster of each account and Region.
	allClusters bool

	env
	findings []doctor.Finding
}

func newDoctorCmd(envOf func() env) *cobra.Command {
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
			o.env = envOf()
			return run(cmd.Context(), o)
		},
	}
	nonEmptyVar(cmd.Flags(), &o.cluster, flagCluster, "cluster name or ARN (required)")
	cmd.Flags().DurationVar(&o.stuckAfter, flagStuckAfter, 5*time.Minute, "report tasks PROVISIONING for longer than this")
	addAllClustersFlag(cmd, &o.allClusters)
	return cmd
}

func (o *doctorOpts) Validate() error {
	if err := validateClusterFlags(o.cluster, o.allClusters); err != nil {
		return err
	}
	if err := validateClusterIfSet(o.cluster, ""); err != nil {
		return err
	}
	if o.stuckAfter <= 0 {
		return usageErrorf("--%s must be positive", flagStuckAfter)
	}
	return nil
}

// ValidateRegion checks that a cluster ARN is in the Region.
func (o *doctorOpts) ValidateRegion(region string) error {
	return validateClusterIfSet(o.cluster, region)
}

func (o *doctorOpts) Execute(ctx context.Context) error {
	if o.fanned(o.allClusters) {
		return o.runFleet(ctx, o.cluster, o.allClusters, o.forTarget)
	}
	c, err := o.connect(ctx, o)
	if err != nil {
		return err
	}
	stop := o.io.StartProgress("checking cluster " + o.cluster)
	defer stop()
	in, err := o.gather(ctx, c)
	if err != nil {
		return err
	}
	stop()
	o.findings = doctor.Judge(in).Findings
	if err := o.print(); err != nil {
		return err
	}
	if doctor.Count(o.findings)[doctor.Error] > 0 {
		return unhealthy()
	}
	return nil
}

// gather reads what the judge needs: independent reads run concurrently.
// Reads that only feed some checks keep their errors in the Input, for the
// judge to turn into warnings, instead of ending the run.
func (o *doctorOpts) gather(ctx context.Context, c *clients) (doctor.Input, error) {
	in := doctor.Input{Region: c.region, Now: o.now(), StuckAfter: o.stuckAfter, Catalog: o.catalog}
	caller, _, err := c.resolver.Caller(ctx)
	if err != nil {
		return in, err
	}
	in.AccountID = caller.AccountID
	if _, err := c.loader.Cluster(ctx, o.cluster); err != nil {
		return in, err
	}
	var snap *inventory.Snapshot
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		snap, err = c.loader.Snapshot(gctx, o.cluster, inventory.SnapshotOptions{Tasks: true, Instances: true, Subnets: true})
		return err
	})
	g.Go(func() error {
		ok, err := c.loader.RoleExists(gctx, "AWSServiceRoleForECS")
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
	warnSnapshot(o.io, snap)
	warnNoProfile(o.io, snap)
	var roles []roleStatus
	g, gctx = errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		if roles, err = readSnapshotRoles(gctx, c.resolver, snap); err != nil && snap.RolesErr == nil {
			snap.RolesErr = err
		}
		return nil
	})
	g.Go(func() error {
		if amis := doctor.ImagesToDescribe(*snap); len(amis) > 0 {
			in.Images, in.ImagesErr = c.loader.Images(gctx, amis)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return in, err
	}
	in.Snapshot, in.Roles = *snap, judgedRoles(roles)
	return in, nil
}

// view is the JSON shape of one cluster (JSON contract).
func (o *doctorOpts) view() any {
	counts := doctor.Count(o.findings)
	return struct {
		Cluster  string           `json:"cluster"`
		Findings []doctor.Finding `json:"findings"`
		Summary  map[string]int   `json:"summary"`
	}{o.cluster, o.findings, map[string]int{"errors": counts[doctor.Error], "warnings": counts[doctor.Warning], "info": counts[doctor.Info]}}
}

func (o *doctorOpts) print() error {
	counts := doctor.Count(o.findings)
	if o.structured() {
		return o.writeData(o.view())
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
