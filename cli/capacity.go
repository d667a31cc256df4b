package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/catalog"
)

type capacityOpts struct {
	types  []string
	family string

	env
}

func newCapacityCmd(envOf func() env) *cobra.Command {
	o := &capacityOpts{}
	cmd := &cobra.Command{
		Use:   "capacity [TYPE...] [--family FAMILY]",
		Short: "Show awsvpc tasks per instance type without and with trunking",
		Long: `For each instance type: whether ECS ENI trunking supports it, how many awsvpc tasks
fit without trunking (max ENIs - 1) and with it (ECS's published table). No AWS API
returns the trunked limit; types the table lacks are "unknown", never guessed.
Needs no AWS credentials.`,
		Example: `  trunkctl capacity c5.large m6i.xlarge
  trunkctl capacity --family c6g --output json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.types, o.env = args, envOf()
			return run(cmd.Context(), o)
		},
	}
	nonEmptyVar(cmd.Flags(), &o.family, flagFamily, "every known type of a family, e.g. c5")
	_ = cmd.RegisterFlagCompletionFunc(flagFamily, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return families(envOf().catalog), cobra.ShellCompDirectiveNoFileComp
	})
	cmd.ValidArgsFunction = func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, it := range envOf().catalog.All() {
			if strings.HasPrefix(it.Name, prefix) {
				out = append(out, it.Name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	return cmd
}

func families(c *catalog.Catalog) []string {
	seen := map[string]bool{}
	var out []string
	for _, it := range c.All() {
		if !seen[it.Family] {
			seen[it.Family] = true
			out = append(out, it.Family)
		}
	}
	return out
}

func (o *capacityOpts) Validate() error {
	if len(o.types) == 0 && o.family == "" {
		return usageErrorf("name instance types (trunkctl capacity c5.large) or --%s", flagFamily)
	}
	for _, t := range o.types {
		if !strings.Contains(t, ".") {
			return usageErrorf("%q is not an instance type (want FAMILY.SIZE, e.g. c5.large; for a family use --%s %s)", t, flagFamily, t)
		}
	}
	for _, t := range o.types {
		if err := mistypedSize(o.catalog, t); err != nil {
			return err
		}
	}
	if o.family != "" && len(o.catalog.Family(strings.ToLower(strings.TrimSpace(o.family)))) == 0 {
		return usageErrorf("no instance types of family %q in ECS's or EC2's data%s", o.family, catalog.DidYouMean(o.catalog.SuggestFamily(o.family)))
	}
	return nil
}

func (o *capacityOpts) Execute(context.Context) ([]catalog.InstanceType, error) {
	var rows []catalog.InstanceType
	for _, t := range o.types {
		it := o.catalog.Lookup(t)
		if len(it.Suggestions) > 0 {
			// Of a family the data lacks: maybe newer than the data, so the
			// row is shown (its reason says "did you mean").
			o.io.Warnf("%s is not a known instance type", it.Name)
		}
		rows = append(rows, it)
	}
	if o.family != "" {
		rows = append(rows, o.catalog.Family(strings.ToLower(strings.TrimSpace(o.family)))...)
	}
	return rows, o.print(rows)
}

func (o *capacityOpts) print(rows []catalog.InstanceType) error {
	if o.structured() {
		return o.writeData(struct {
			InstanceTypes []catalog.InstanceType `json:"instanceTypes"`
		}{rows})
	}
	t := newTable(o.io, "TYPE", "WITHOUT TRUNKING", "WITH TRUNKING", "SUPPORT")
	for _, it := range rows {
		without, with := "?", "?"
		if it.TasksWithoutTrunking > 0 {
			without = fmt.Sprint(it.TasksWithoutTrunking)
		}
		switch it.Support {
		case catalog.Supported:
			with = fmt.Sprint(it.TasksWithTrunking)
		case catalog.Unsupported:
			with = "-"
		}
		support := string(it.Support)
		if it.Reason != "" {
			support += ": " + it.Reason
		}
		color := colorGreen
		switch it.Support {
		case catalog.Unsupported:
			color = colorRed
		case catalog.Unknown:
			color = colorYellow
		}
		t.add(it.Name, without, with, o.io.color(color, support))
	}
	return t.render()
}

func (o *capacityOpts) RecommendActions([]catalog.InstanceType) {}

// mistypedSize is the usage error of a type whose family the data knows but
// whose size it does not, one or two typing mistakes from a known type
// (c5.lrage): a typo, not a type newer than the data.
func mistypedSize(c *catalog.Catalog, name string) error {
	it := c.Lookup(name)
	if it.Known || len(it.Suggestions) == 0 || len(c.Family(it.Family)) == 0 {
		return nil
	}
	return usageErrorf("%s is not a %s instance type in ECS's or EC2's data%s", it.Name, it.Family, catalog.DidYouMean(it.Suggestions))
}
