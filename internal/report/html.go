package report

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/doctor"
)

//go:embed report.html.tmpl
var htmlText string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"mark": severityMark,
	"sev":  func(s doctor.Severity) string { return string(s) },
	"join": strings.Join,
	"bar":  bar,
	// The density chart: a 24px legend, then 44px per instance type, bars
	// of at most chartBar pixels from x=160.
	"chartHeight": func(rows []densityRow) int { return 24 + 44*len(rows) },
	"rowY":        func(i, off int) int { return 24 + 44*i + off },
	"barPx":       func(pct float64) int { return int(pct * chartBar / 100) },
	"labelX":      func(pct float64) int { return 164 + int(pct*chartBar/100) },
	"slots": func(used, limit int) string {
		if limit == 0 {
			return fmt.Sprintf("%d / ? tasks", used)
		}
		return fmt.Sprintf("%d / %d tasks", used, limit)
	},
	"limit": func(n int, unknown bool) string {
		if unknown {
			return fmt.Sprintf("%d+ (some limits unknown)", n)
		}
		return fmt.Sprint(n)
	},
}).Parse(htmlText))

// HTML writes the report as one self-contained page: inline CSS and SVG, no
// reference to anything outside the file, readable with JavaScript off (the
// inline script only adds a filter and expand/collapse buttons).
func HTML(w io.Writer, a *assess.Assessment, meta Meta) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := page.Execute(bw, build(a, meta)); err != nil {
		return fmt.Errorf("write the HTML report: %w", err)
	}
	return bw.Flush()
}

// chartBar is the density chart's longest bar in pixels.
const chartBar = 480

// barWidth is the slot bar's width in pixels.
const barWidth = 120

// bar draws used of limit task slots as an inline SVG with a text
// alternative; an unknown limit is a hatched bar.
func bar(used, limit int) template.HTML {
	var b strings.Builder
	label := fmt.Sprintf("%d of %d awsvpc task slots used", used, limit)
	if limit == 0 {
		label = fmt.Sprintf("%d awsvpc tasks, limit unknown", used)
	}
	fill, cls := 0, "u"
	switch {
	case limit == 0:
		cls = "unk"
	case used >= limit:
		fill, cls = barWidth, "full"
	default:
		fill = used * barWidth / limit
	}
	fmt.Fprintf(&b, `<svg class="bar" width="%d" height="10" role="img" aria-label="%s"><rect class="free" width="%d" height="10"/>`, barWidth, label, barWidth)
	if limit == 0 {
		fmt.Fprintf(&b, `<rect class="%s" width="%d" height="10"/>`, cls, barWidth)
	} else if fill > 0 {
		fmt.Fprintf(&b, `<rect class="%s" width="%d" height="10"/>`, cls, fill)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec G203 -- numbers and fixed text only
}
