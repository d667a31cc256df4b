package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/doctor"
)

type doctorOpts struct {
	cluster    string
	stuckAfter time.Duration
	// allClusters checks every cluster of each account and Region.
	allClusters bool

	env
}

func newDoctorCmd(envOf func() env) *cobra.Command {
	o := &doctorOpts{}
	cmd := &cobra.Command{
		Use:   "doctor --cluster CLUSTER",
		Short: "Check everything ENI trunking needs, with the exact fix for each problem",
		Long:  doctorHelp(),
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

// Execute returns the findings of one cluster (none across accounts and
// Regions, where the fleet view said it all).
func (o *doctorOpts) Execute(ctx context.Context) ([]doctor.Finding, error) {
	if o.fanned(o.allClusters) {
		return nil, o.runFleet(ctx, o.cluster, o.allClusters, o)
	}
	c, err := o.connect(ctx, o)
	if err != nil {
		return nil, err
	}
	a, err := assessDoctor(ctx, o.env, c, o.cluster, o.stuckAfter)
	if err != nil {
		return nil, err
	}
	findings := a.Report.Findings
	if err := o.print(findings); err != nil {
		return findings, err
	}
	if a.Report.Unhealthy() {
		return findings, unhealthy()
	}
	return findings, nil
}

// assessDoctor is the one assessment of a cluster, as instances reads it.
func assessDoctor(ctx context.Context, e env, c *clients, cluster string, stuckAfter time.Duration) (*assess.Assessment, error) {
	stop := e.io.StartProgress("checking cluster " + cluster)
	a, err := c.session.Assess(ctx, assess.Query{Cluster: cluster, Now: e.now(), Catalog: e.catalog, StuckAfter: stuckAfter, Shared: c.shared})
	stop()
	if err != nil {
		return nil, err
	}
	warn(e.io, a.Warnings)
	return a, nil
}

// doctorView is the JSON shape of one cluster (JSON contract).
func doctorView(cluster string, findings []doctor.Finding) any {
	counts := doctor.Count(findings)
	return struct {
		Cluster  string           `json:"cluster"`
		Findings []doctor.Finding `json:"findings"`
		Summary  map[string]int   `json:"summary"`
	}{cluster, findings, map[string]int{"errors": counts[doctor.Error], "warnings": counts[doctor.Warning], "info": counts[doctor.Info]}}
}

func (o *doctorOpts) print(findings []doctor.Finding) error {
	counts := doctor.Count(findings)
	if o.structured() {
		return o.writeData(doctorView(o.cluster, findings))
	}
	if !o.io.OutIsTerminal {
		// Piped: one tab-separated line per finding, severity first, for grep and awk.
		t := newTable(o.io, "SEVERITY", "CHECK", "SUBJECT", "FINDING", "FIX")
		for _, f := range findings {
			t.add(string(f.Severity), f.Check, f.Subject, f.Message, f.Fix)
		}
		if err := t.render(); err != nil {
			return err
		}
	} else {
		// A terminal: fixes are long commands, so each finding is a small block.
		for _, f := range findings {
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

func (o *doctorOpts) RecommendActions(findings []doctor.Finding) {
	if (doctor.Report{Findings: findings}).Unhealthy() || hasUnhealthyInstance(findings) {
		o.io.Infof("Fix the errors above, then run trunkctl doctor --cluster %s again.", o.cluster)
	}
}

func hasUnhealthyInstance(fs []doctor.Finding) bool {
	for _, f := range fs {
		if f.Verdict != nil && !f.Verdict.Healthy {
			return true
		}
	}
	return false
}

// doctorHelp is doctor's long help, generated from the checks the judge
// has (doctor.Checks), so it lists every one of them.
func doctorHelp() string {
	var b strings.Builder
	b.WriteString(`Run every check and print findings with a severity (error, warning, info), the
evidence, and the exact fix with the real ids (a command where there is one):

`)
	width := 0
	for _, c := range doctor.Checks() {
		width = max(width, len(c.Name))
	}
	for _, c := range doctor.Checks() {
		lines := wrapWords(c.Doc, 96-width-4)
		for i, l := range lines {
			name := ""
			if i == 0 {
				name = c.Name
			}
			fmt.Fprintf(&b, "  %-*s  %s\n", width, name, l)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// wrapWords breaks s into lines of at most n characters at spaces.
func wrapWords(s string, n int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > n {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}
