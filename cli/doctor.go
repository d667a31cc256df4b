package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/doctor"
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
		Long: `Run every check and print findings with a severity (error, warning, info), the
evidence, and the exact fix with the real ids (a command where there is one):

  service-linked-role                AWSServiceRoleForECS exists (iam:GetRole)
  role-opt-in                        awsvpcTrunking is enabled for each instance role; enabled only
                                     through the account default is an error while its instances lack trunks
  instance                           each container instance's verdict, as trunkctl instances shows it,
                                     with its remedy (none, replace, enable-then-replace, fix-host,
                                     fix-launch, wait, not-applicable)
  agent-version-os                   agent >= 1.28.1 on Amazon Linux, >= 1.29.1 elsewhere
  resource-name-dns-a-record         DNS A records on an instance that has a trunk
  next-instance                      what the capacity providers' groups launch next: launch template
                                     DNS A records, instance types (mixed instances overrides), subnets
  managed-instances                  capacity providers of ECS Managed Instances (ECS trunks them itself)
  service-eni-placement              services' RESOURCE:ENI placement failures, naming the instance
  stopped-task-eni                   tasks stopped because their ENI could not be attached
  task-stuck-provisioning            tasks PROVISIONING longer than --stuck-after, with their attachment
  eni-capacity                       instances whose awsvpc tasks reached the limit
  opt-in-record                      CloudTrail could not be read for when roles were opted in
  trunk-eni-security-group-and-tags  said once: what cannot be changed about trunk ENIs
  summary                            counts`,
		Example: `  trunkctl doctor --cluster prod
  trunkctl doctor --cluster prod --output json | jq '.findings[] | select(.severity=="error")'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = envOf()
			return run(cmd.Context(), o)
		},
	}
	nonEmptyVar(cmd.Flags(), &o.cluster, flagCluster, "cluster name or ARN (required)")
	cmd.Flags().DurationVar(&o.stuckAfter, flagStuckAfter, defaultStuckAfter, "report tasks PROVISIONING for longer than this")
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
	report := doctor.Judge(in)
	o.findings = report.Findings
	if err := o.print(); err != nil {
		return err
	}
	if report.Unhealthy() {
		return unhealthy()
	}
	return nil
}

// gather reads what the judge needs, as instances does.
func (o *doctorOpts) gather(ctx context.Context, c *clients) (doctor.Input, error) {
	return gatherJudgeInput(ctx, o.io, c, o.catalog, o.now(), judgeQuery{cluster: o.cluster, stuckAfter: o.stuckAfter})
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
			if f.Verdict != nil && len(f.Verdict.Evidence) > 0 {
				fmt.Fprintf(o.io.Out, "    evidence: %s\n", strings.Join(f.Verdict.Evidence, "; "))
			}
			if f.Fix != "" {
				fmt.Fprintf(o.io.Out, "    fix: %s\n", f.Fix)
			}
		}
	}
	o.io.Infof("%d error(s), %d warning(s)", counts[doctor.Error], counts[doctor.Warning])
	return nil
}

func (o *doctorOpts) RecommendActions() error {
	if (doctor.Report{Findings: o.findings}).Unhealthy() || hasUnhealthyInstance(o.findings) {
		o.io.Infof("Fix the errors above, then run trunkctl doctor --cluster %s again.", o.cluster)
	}
	return nil
}

func hasUnhealthyInstance(fs []doctor.Finding) bool {
	for _, f := range fs {
		if f.Verdict != nil && !f.Verdict.Healthy {
			return true
		}
	}
	return false
}
