package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/buildinfo"
	"github.com/trunkctl/trunkctl/internal/catalog"
)

// versionInfo is what `trunkctl version -o json` prints.
type versionInfo struct {
	buildinfo.Info
	Catalog catalog.DataDates `json:"catalogData"`
}

func readVersion() versionInfo {
	return versionInfo{Info: buildinfo.Read(), Catalog: catalog.EmbeddedDataDates()}
}

// text is the version first, so that cobra's --version ("trunkctl version "
// + text) and `trunkctl version` print the same.
func (v versionInfo) text() string {
	return v.Text(buildinfo.Field{Label: "catalog", Value: fmt.Sprintf("ECS task limits %s, EC2 network limits %s",
		v.Catalog.ECSTaskLimits, v.Catalog.EC2NetworkLimits)})
}

// versionText is the root command's Version: what --version prints after
// "trunkctl version " and before cobra's own newline.
func versionText() string { return strings.TrimSuffix(readVersion().text(), "\n") }

type versionOpts struct {
	env
}

func newVersionCmd(envOf func() env) *cobra.Command {
	o := &versionOpts{}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, Go version and the catalog's data dates",
		Long: `Print trunkctl's version, the commit and commit date it was built from, the Go
version that built it, and the dates of the instance-type data behind capacity
and the trunking verdicts. trunkctl --version prints the same. Needs no AWS
credentials.`,
		Example: `  trunkctl version
  trunkctl version -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = envOf()
			return run(cmd.Context(), o)
		},
	}
}

// Validate has nothing to check: --output is validated by the root.
func (o *versionOpts) Validate() error { return nil }

func (o *versionOpts) Execute(context.Context) (struct{}, error) {
	v := readVersion()
	if o.structured() {
		return struct{}{}, o.writeData(v)
	}
	_, err := fmt.Fprint(o.io.Out, "trunkctl version "+v.text())
	return struct{}{}, err
}

func (o *versionOpts) RecommendActions(struct{}) {}
