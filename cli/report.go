package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/buildinfo"
	"github.com/trunkctl/trunkctl/internal/report"
)

// Report formats.
const (
	formatHTML    = "html"
	formatMermaid = "mermaid"
	flagFormat    = "format"
	flagOut       = "out"
)

var reportFormats = []string{formatHTML, formatMermaid}

type reportOpts struct {
	cluster string
	format  string
	out     string

	env
}

func newReportCmd(envOf func() env) *cobra.Command {
	o := &reportOpts{format: formatHTML}
	cmd := &cobra.Command{
		Use:   "report --cluster CLUSTER [--format html|mermaid] [--out FILE]",
		Short: "Draw the cluster: trunk ENI -> branch ENI -> task per instance, density and findings",
		Long: `Draw one cluster as doctor reads and judges it: every container instance with its
trunk ENI (or "no trunk") and awsvpc tasks used / limit, each task under it with its
branch ENI, the awsvpc task slots per instance type today and with every instance
trunked, and doctor's findings with their fixes.

  html     one self-contained page (inline CSS and SVG, nothing loaded from anywhere,
           readable with JavaScript off); instances grouped by Auto Scaling
           group and instance type, collapsed above 50 instances
  mermaid  a flowchart (cluster -> instance -> trunk ENI -> branch ENI -> task) for a
           ` + "```mermaid" + ` block on GitHub or GitLab; beyond 200 tasks, or past Mermaid's
           limits (500 edges, 50,000 characters), it draws counts

Writes to stdout, or to --out FILE (complete or not at all). Exit 3 when the
cluster has error findings (as trunkctl doctor), after writing the report.`,
		Example: `  trunkctl report --cluster prod --out prod.html
  trunkctl report --cluster prod --format mermaid > prod.mmd`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = envOf()
			return run(cmd.Context(), o)
		},
	}
	nonEmptyVar(cmd.Flags(), &o.cluster, flagCluster, "cluster name or ARN (required)")
	cmd.Flags().StringVar(&o.format, flagFormat, formatHTML, "html or mermaid")
	nonEmptyVar(cmd.Flags(), &o.out, flagOut, "write to this file instead of stdout")
	_ = cmd.RegisterFlagCompletionFunc(flagFormat, cobra.FixedCompletions(reportFormats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (o *reportOpts) Validate() error {
	if o.cluster == "" {
		return usageErrorf("--%s is required: trunkctl report --%s CLUSTER [--%s %s]", flagCluster, flagCluster, flagFormat, strings.Join(reportFormats, "|"))
	}
	if err := validateClusterIfSet(o.cluster, ""); err != nil {
		return err
	}
	switch o.format {
	case formatHTML, formatMermaid:
	default:
		return usageErrorf("unknown --%s %q: the allowed formats are %s", flagFormat, o.format, strings.Join(reportFormats, ", "))
	}
	if o.structured() {
		return usageErrorf("report draws the cluster (--%s %s); for its data as JSON or YAML use trunkctl doctor or trunkctl instances with -o %s", flagFormat, strings.Join(reportFormats, "|"), o.output)
	}
	return nil
}

// ValidateRegion checks that a cluster ARN is in the Region.
func (o *reportOpts) ValidateRegion(region string) error {
	return validateClusterIfSet(o.cluster, region)
}

// Execute draws the one assessment of the cluster (the one doctor judges)
// and returns it.
func (o *reportOpts) Execute(ctx context.Context) (*assess.Assessment, error) {
	c, err := o.connect(ctx, o)
	if err != nil {
		return nil, err
	}
	stop := o.io.StartProgress("reading cluster " + o.cluster)
	defer stop()
	a, err := c.session.Assess(ctx, assess.Query{Cluster: o.cluster, Now: o.now(), Catalog: o.catalog, StuckAfter: defaultStuckAfter, ENIs: true})
	if err != nil {
		return nil, err
	}
	stop()
	warn(o.io, a.Warnings)
	draw := report.HTML
	if o.format == formatMermaid {
		draw = report.Mermaid
	}
	meta := report.Meta{Version: buildinfo.Read().Version}
	write := func(w io.Writer) error { return draw(w, a, meta) }
	if o.out == "" {
		err = write(o.io.Out)
	} else {
		err = writeFileAtomic(o.out, write)
	}
	if err != nil {
		return a, err
	}
	if o.out != "" {
		o.io.Infof("wrote %s", o.out)
	}
	if a.Report.Unhealthy() {
		return a, unhealthy()
	}
	return a, nil
}

func (o *reportOpts) RecommendActions(a *assess.Assessment) {
	if a != nil && a.Report.Unhealthy() && o.out != "" {
		o.io.Infof("Every finding with its exact fix: trunkctl doctor --cluster %s", o.cluster)
	}
}

// writeFileAtomic writes path through a temporary file in its directory
// and renames it into place, so that a failed or interrupted write leaves
// no file (and an earlier one untouched).
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
