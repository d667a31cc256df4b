package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Output formats.
const (
	outputTable = "table"
	outputJSON  = "json"
	outputYAML  = "yaml"
	// outputWide is the table with every column (instances); other
	// commands print their table.
	outputWide = "wide"
)

// validateOutput checks --output, once, in the root's PersistentPreRunE.
func validateOutput(o string) error {
	if o != outputTable && o != outputWide && o != outputJSON && o != outputYAML {
		return usageErrorf("--%s must be %q, %q, %q or %q, not %q", flagOutput, outputTable, outputWide, outputJSON, outputYAML, o)
	}
	return nil
}

// structured reports whether the output is data (json or yaml), not a table.
func (e env) structured() bool { return e.output == outputJSON || e.output == outputYAML }

// writeData prints v to stdout in the chosen data format; the JSON field
// names are the contract for both.
func (e env) writeData(v any) error {
	if e.output == outputYAML {
		return writeYAML(e.io.Out, v)
	}
	return writeJSON(e.io.Out, v)
}

// writeJSON prints v as indented JSON with a trailing newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table prints rows aligned under a header on a terminal, and as bare
// tab-separated rows (no header) when stdout is piped, for cut and awk.
type table struct {
	io      *IOStreams
	headers []string
	rows    [][]string
}

func newTable(s *IOStreams, headers ...string) *table { return &table{io: s, headers: headers} }

func (t *table) add(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
		cells[i] = strings.ReplaceAll(cells[i], "\t", " ")
	}
	t.rows = append(t.rows, cells)
}

func (t *table) render() error {
	if !t.io.OutIsTerminal {
		for _, r := range t.rows {
			if _, err := fmt.Fprintln(t.io.Out, strings.Join(r, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(t.io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.headers, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// ANSI colours, used only in the last column of a table so alignment holds.
const (
	colorRed    = "31"
	colorGreen  = "32"
	colorYellow = "33"
)

func (s *IOStreams) color(code, text string) string {
	if !s.colorEnabled() {
		return text
	}
	return "\033[" + code + "m" + text + "\033[0m"
}
