package report

import (
	"bufio"
	"fmt"
	gohtml "html"
	"io"
	"strconv"
	"strings"

	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/doctor"
)

// HTML writes the report as one self-contained page: inline CSS and SVG, no
// reference to anything outside the file, readable with JavaScript off (the
// inline script only adds a filter and expand/collapse buttons).
//
// The page is written by plain Go rather than html/template: the template
// packages call reflect's MethodByName, which keeps the linker from dropping
// any exported method and made the trunkctl binary four times its size.
// Every value from the assessment goes through esc, in text and in
// attribute values alike.
func HTML(w io.Writer, a *assess.Assessment, meta Meta) error {
	p := &pageWriter{w: bufio.NewWriterSize(w, 64<<10)}
	p.page(build(a, meta))
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("write the HTML report: %w", err)
	}
	return nil
}

// chartBar is the density chart's longest bar in pixels.
const chartBar = 480

// barWidth is the slot bar's width in pixels.
const barWidth = 120

// extra escapes what html.EscapeString leaves and html/template's HTML
// escaper does not: '+' (a UTF-7 guard) and NUL. With them esc escapes
// exactly the runes html/template escapes in HTML text and in quoted
// attribute values, so the page is byte for byte what the template wrote.
var extra = strings.NewReplacer("+", "&#43;", "\x00", "\uFFFD")

// esc escapes s for HTML text and for a quoted attribute value.
func esc(s string) string {
	s = gohtml.EscapeString(s)
	if strings.ContainsAny(s, "+\x00") {
		s = extra.Replace(s)
	}
	return s
}

// pageWriter writes the page. Its methods ignore write errors: the
// bufio.Writer keeps the first one and Flush returns it.
type pageWriter struct{ w *bufio.Writer }

// raw writes fixed markup.
func (p *pageWriter) raw(s string) { _, _ = p.w.WriteString(s) }

// text writes a value from the assessment, escaped.
func (p *pageWriter) text(s string) { _, _ = p.w.WriteString(esc(s)) }

// num writes a number.
func (p *pageWriter) num(n int) { _, _ = p.w.WriteString(strconv.Itoa(n)) }

func (p *pageWriter) page(v view) {
	p.raw(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>trunkctl report: cluster `)
	p.text(v.Cluster)
	p.raw(`, account `)
	p.text(v.Account)
	p.raw(`, `)
	p.text(v.Region)
	p.raw("</title>\n")
	p.raw(style)
	p.raw("</head>\n<body>\n")
	p.header(v)
	p.raw("<main>\n")
	p.instances(v)
	p.density(v)
	p.findings(v)
	p.raw("</main>\n")
	p.raw(footer)
}

func (p *pageWriter) header(v view) {
	p.raw("<header>\n<h1>Cluster ")
	p.text(v.Cluster)
	p.raw("</h1>\n<p class=\"sub\">Account ")
	p.text(v.Account)
	p.raw(" · Region ")
	p.text(v.Region)
	if v.Generated != "" {
		p.raw(" · read ")
		p.text(v.Generated)
	}
	if v.Version != "" {
		p.raw(" · trunkctl ")
		p.text(v.Version)
	}
	p.raw("</p>\n")
	if v.Unhealthy {
		p.raw(`<p class="state bad">✖ Needs action: `)
	} else {
		p.raw(`<p class="state good">✔ Healthy: `)
	}
	p.num(v.Errors)
	p.raw(" error(s), ")
	p.num(v.Warnings)
	p.raw(" warning(s)</p>\n")
	p.raw("<dl class=\"stats\">\n<div><dt>Container instances</dt><dd>")
	p.num(v.Instances)
	p.raw("</dd></div>\n<div><dt>With a trunk ENI</dt><dd>")
	p.num(v.Trunked)
	p.raw("</dd></div>\n<div><dt>awsvpc tasks</dt><dd>")
	p.num(v.Tasks)
	p.raw("</dd></div>\n<div><dt>Task slots today</dt><dd>")
	p.num(v.Slots)
	p.raw("</dd></div>\n<div><dt>Slots with every instance trunked</dt><dd>")
	p.num(v.SlotsTrunked)
	p.raw("</dd></div>\n</dl>\n")
	p.raw(`<nav aria-label="Sections"><a href="#instances">Instances</a><a href="#density">Density</a><a href="#findings">Findings</a></nav>
</header>
`)
}

func (p *pageWriter) instances(v view) {
	p.raw(`<section id="instances">
<h2>Container instances, trunk ENIs and tasks</h2>
<p class="legend"><span>Each instance: EC2 id, type, its trunk ENI or <span class="notrunk">no trunk</span>, awsvpc tasks used / limit, then each task with its branch ENI.</span></p>
`)
	if v.OtherTasks != 0 {
		p.raw("<p>")
		p.num(v.OtherTasks)
		p.raw(" awsvpc task(s) run on no container instance (Fargate) and are not drawn.</p>")
	}
	p.raw("\n<div id=\"tools\"></div>\n")
	for _, g := range v.Groups {
		p.raw(`<details class="group"`)
		if g.Open {
			p.raw(" open")
		}
		p.raw(">\n<summary><h3>")
		p.text(g.Kind)
		p.raw(" ")
		p.text(g.Name)
		p.raw(`</h3><span class="gs">`)
		p.num(len(g.Instances))
		p.raw(" instance(s) · ")
		p.num(g.Trunked)
		p.raw(" with trunk · ")
		p.num(g.Tasks)
		p.raw(" / ")
		p.num(g.Slots)
		p.raw(" task slots used")
		if g.Unhealthy != 0 {
			p.raw(` · <span class="err">✖ `)
			p.num(g.Unhealthy)
			p.raw(" need action</span>")
		}
		p.raw("</span></summary>\n<div class=\"cis\">\n")
		for _, in := range g.Instances {
			p.instance(in)
		}
		p.raw("</div>\n</details>\n")
	}
	p.raw("</section>\n")
}

func (p *pageWriter) instance(in instance) {
	p.raw(`<article class="ci`)
	if !in.Healthy {
		p.raw(" bad")
	}
	p.raw(`" id="`)
	p.text(in.EC2ID)
	p.raw("\">\n<h4><code>")
	p.text(in.EC2ID)
	p.raw(`</code> <span class="type">`)
	p.text(in.Type)
	p.raw("</span></h4>\n<p class=\"line\">")
	if in.Trunk != "" {
		p.raw(`<span class="trunk">trunk ENI <code>`)
		p.text(in.Trunk)
		p.raw("</code></span>")
	} else {
		p.raw(`<span class="notrunk">no trunk</span>`)
	}
	p.raw("</p>\n<p class=\"line\">")
	p.bar(in.Used, in.Limit)
	p.raw(" <b>")
	p.num(in.Used)
	p.raw(" / ")
	if in.Limit == 0 {
		p.raw("?")
	} else {
		p.num(in.Limit)
	}
	p.raw(" tasks</b> · ")
	if in.Healthy {
		p.raw(`<span class="ok">✔ `)
	} else {
		p.raw(`<span class="err">✖ `)
	}
	p.text(string(in.Verdict.Code))
	p.raw("</span></p>\n")
	if in.Verdict.Severity != doctor.Info {
		p.raw(`<p class="msg">`)
		p.text(in.Verdict.Message)
		p.raw("</p>")
	}
	p.raw("\n")
	if len(in.Tasks) > 0 {
		p.raw(`<ul class="tasks`)
		if in.Trunk == "" {
			p.raw(" own")
		}
		p.raw("\">\n")
		for _, t := range in.Tasks {
			p.raw("<li>task <code>")
			p.text(t.ID)
			if in.Trunk != "" {
				p.raw("</code> → branch ENI <code>")
			} else {
				p.raw("</code> → ENI <code>")
			}
			p.text(strings.Join(t.ENIs, ", "))
			p.raw(`</code> <span class="fam">`)
			p.text(t.Family)
			p.raw("</span></li>\n")
		}
		p.raw("</ul>")
	} else {
		p.raw(`<p class="none">no awsvpc tasks</p>`)
	}
	p.raw("\n</article>\n")
}

// bar draws used of limit task slots as an inline SVG with a text
// alternative; an unknown limit is a hatched bar.
func (p *pageWriter) bar(used, limit int) {
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
	_, _ = fmt.Fprintf(p.w, `<svg class="bar" width="%d" height="10" role="img" aria-label="%s"><rect class="free" width="%d" height="10"/>`, barWidth, esc(label), barWidth)
	if limit == 0 {
		_, _ = fmt.Fprintf(p.w, `<rect class="%s" width="%d" height="10"/>`, cls, barWidth)
	} else if fill > 0 {
		_, _ = fmt.Fprintf(p.w, `<rect class="%s" width="%d" height="10"/>`, cls, fill)
	}
	p.raw(`</svg>`)
}

func (p *pageWriter) density(v view) {
	p.raw(`<section id="density">
<h2>Density: awsvpc task slots per instance type</h2>
<p>Slots today count each instance's limit as it is (with trunking when it has a trunk ENI, else its ENIs - 1); with every instance trunked, types that support trunking count ECS's published trunked limit.</p>
`)
	p.chart(v.Density)
	p.raw(`
<table>
<thead><tr><th scope="col">Instance type</th><th scope="col">Trunking</th><th scope="col">Instances</th><th scope="col">With trunk</th><th scope="col">awsvpc tasks</th><th scope="col">Slots today</th><th scope="col">Slots with every instance trunked</th></tr></thead>
<tbody>
`)
	for _, d := range v.Density {
		p.raw("<tr><td><code>")
		p.text(d.Type)
		p.raw("</code></td><td>")
		p.text(d.Support)
		p.raw(`</td><td class="n">`)
		p.num(d.Instances)
		p.raw(`</td><td class="n">`)
		p.num(d.Trunked)
		p.raw(`</td><td class="n">`)
		p.num(d.Tasks)
		p.raw(`</td><td class="n">`)
		p.limit(d.Today, d.UnknownLimit)
		p.raw(`</td><td class="n">`)
		p.limit(d.AllTrunked, d.UnknownLimit)
		p.raw("</td></tr>\n")
	}
	p.raw(`<tr><th scope="row" colspan="2">All</th><td class="n">`)
	p.num(v.Instances)
	p.raw(`</td><td class="n">`)
	p.num(v.Trunked)
	p.raw(`</td><td class="n">`)
	p.num(v.Tasks)
	p.raw(`</td><td class="n">`)
	p.num(v.Slots)
	p.raw(`</td><td class="n">`)
	p.num(v.SlotsTrunked)
	p.raw("</td></tr>\n</tbody>\n</table>\n</section>\n")
}

// limit writes a sum of slots, marked when some instance's limit is unknown
// (its '+' escaped, as html/template wrote it).
func (p *pageWriter) limit(n int, unknown bool) {
	p.num(n)
	if unknown {
		p.raw("&#43; (some limits unknown)")
	}
}

// chart draws the density chart: a 24px legend, then 44px per instance
// type, bars of at most chartBar pixels from x=160. No rows, no chart.
func (p *pageWriter) chart(rows []densityRow) {
	if len(rows) == 0 {
		return
	}
	height := 24 + 44*len(rows)
	p.raw(`<svg class="chart" role="img" aria-label="Task slots per instance type, today and with every instance trunked; the table below has the numbers" width="720" height="`)
	p.num(height)
	p.raw(`" viewBox="0 0 720 `)
	p.num(height)
	p.raw(`">
<rect class="today" x="160" y="4" width="12" height="12"/><text x="178" y="14">today</text><rect class="trunked" x="240" y="4" width="12" height="12"/><text x="258" y="14">with every instance trunked</text>
`)
	for i, d := range rows {
		y := 24 + 44*i
		p.raw(`<text x="0" y="`)
		p.num(y + 16)
		p.raw(`">`)
		p.text(d.Type)
		p.raw("</text>\n")
		p.chartBar("today", y+4, y+16, d.TodayPct, d.Today)
		p.chartBar("trunked", y+20, y+32, d.TrunkedPct, d.AllTrunked)
	}
	p.raw(`</svg>`)
}

// chartBar is one bar of the density chart, pct percent of the longest,
// its top at y, and its count n after it on the baseline textY.
func (p *pageWriter) chartBar(class string, y, textY int, pct float64, n int) {
	px := int(pct * chartBar / 100)
	p.raw(`<rect class="`)
	p.raw(class)
	p.raw(`" x="160" y="`)
	p.num(y)
	p.raw(`" width="`)
	p.num(px)
	p.raw(`" height="14"/><text x="`)
	p.num(164 + px)
	p.raw(`" y="`)
	p.num(textY)
	p.raw(`">`)
	p.num(n)
	p.raw("</text>\n")
}

func (p *pageWriter) findings(v view) {
	p.raw("<section id=\"findings\">\n<h2>Findings</h2>\n")
	if len(v.Findings) > 0 {
		p.raw(`<table class="findings">
<thead><tr><th scope="col">Severity</th><th scope="col">Check and subject</th><th scope="col">Finding and fix</th></tr></thead>
<tbody>
`)
		for _, f := range v.Findings {
			p.raw(`<tr><td class="sev `)
			p.text(string(f.Severity))
			p.raw(`">`)
			p.text(severityMark(f.Severity))
			p.raw("</td><td>")
			p.text(f.Check)
			p.raw("<br><code>")
			p.text(f.Subject)
			p.raw("</code></td><td>")
			p.text(f.Message)
			if f.Fix != "" {
				p.raw(`<div class="fix">Fix: <code>`)
				p.text(f.Fix)
				p.raw("</code></div>")
			}
			p.raw("</td></tr>\n")
		}
		p.raw("</tbody>\n</table>")
	} else {
		p.raw("<p>No findings.</p>")
	}
	p.raw("\n")
	if len(v.Notes) > 0 {
		p.raw("<h3>What the read left out</h3>\n<ul>")
		for _, n := range v.Notes {
			p.raw("<li>")
			p.text(n)
			p.raw("</li>")
		}
		p.raw("</ul>")
	}
	p.raw("\n</section>\n")
}

// style is the page's inline CSS.
const style = `<style>
:root{--fg:#1a1a1a;--muted:#555;--line:#d0d4da;--bg:#fff;--panel:#f5f7fa;--err:#b00020;--warn:#8a5a00;--ok:#1b5e20;--trunk:#0b57d0;--used:#0b57d0;--free:#e3e8ef}
*{box-sizing:border-box}
body{margin:0;padding:1.25rem 1.5rem 3rem;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg);max-width:1200px}
code{font:13px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
h1{font-size:1.6rem;margin:0 0 .2rem}
h2{font-size:1.25rem;margin:2rem 0 .6rem;border-bottom:2px solid var(--line);padding-bottom:.2rem}
h3{display:inline;font-size:1.05rem;margin:0}
h4{font-size:1rem;margin:0 0 .2rem}
.sub{color:var(--muted);margin:0 0 .8rem}
.state{display:inline-block;font-weight:700;padding:.25rem .6rem;border-radius:4px;border:2px solid}
.state.bad{color:var(--err);border-color:var(--err)}
.state.good{color:var(--ok);border-color:var(--ok)}
.stats{display:flex;flex-wrap:wrap;gap:.6rem;margin:1rem 0;padding:0}
.stats div{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.45rem .8rem;min-width:9rem}
.stats dt{font-size:.8rem;color:var(--muted)}
.stats dd{margin:0;font-size:1.35rem;font-weight:700}
nav a{margin-right:1rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:var(--panel)}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.sev{font-weight:700;white-space:nowrap}
.sev.error,.err{color:var(--err)}
.sev.warning,.warn{color:var(--warn)}
.sev.info,.ok{color:var(--ok)}
.fix{margin-top:.3rem;font-size:.9rem}
.fix code{white-space:pre-wrap;word-break:break-word;background:var(--panel);padding:0 .2rem}
table.findings td:first-child{width:8rem}
table.findings td:nth-child(2){width:16rem;word-break:break-all}
details.group{border:1px solid var(--line);border-radius:6px;margin:.6rem 0;background:var(--bg)}
details.group>summary{cursor:pointer;padding:.5rem .8rem;background:var(--panel);border-radius:6px}
details.group>summary .gs{color:var(--muted);margin-left:.5rem}
.cis{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:.6rem;padding:.6rem}
article.ci{border:1px solid var(--line);border-left:5px solid var(--ok);border-radius:4px;padding:.45rem .6rem}
article.ci.bad{border-left-color:var(--err)}
article.ci .type{color:var(--muted);font-weight:400}
.line{margin:.1rem 0}
.trunk{color:var(--trunk);font-weight:600}
.notrunk{color:var(--err);font-weight:700;border:1px dashed var(--err);padding:0 .3rem;border-radius:3px}
.msg{margin:.2rem 0;font-size:.9rem}
ul.tasks{list-style:none;margin:.3rem 0 0 .4rem;padding:0 0 0 .8rem;border-left:2px solid var(--trunk)}
ul.tasks.own{border-left-style:dashed;border-left-color:var(--muted)}
ul.tasks li{position:relative;font-size:.85rem;margin:.1rem 0}
ul.tasks li::before{content:"";position:absolute;left:-.8rem;top:.65em;width:.6rem;border-top:2px solid var(--trunk)}
ul.tasks.own li::before{border-top-color:var(--muted)}
.fam{color:var(--muted)}
.none{color:var(--muted);font-size:.85rem;margin:.2rem 0}
svg.bar{vertical-align:middle}
svg .free{fill:var(--free)}
svg .u{fill:var(--used)}
svg .full{fill:var(--err)}
svg .unk{fill:#9aa4b2}
svg text{font:12px system-ui,sans-serif;fill:var(--fg)}
svg .today{fill:#8ab4f8}
svg .trunked{fill:var(--ok)}
.legend span{margin-right:1rem}
#tools{margin:.5rem 0}
#tools input{font:inherit;padding:.2rem .4rem;width:18rem}
#tools button{font:inherit;margin-left:.4rem}
footer{margin-top:2rem;color:var(--muted);font-size:.85rem}
@media print{details.group>.cis{display:grid}}
</style>
`

// footer ends the page: the footer line and the inline script that adds
// the instance filter and the expand/collapse buttons.
const footer = `<footer>Written by trunkctl report from the same read and judge as trunkctl doctor. Self-contained: it loads nothing.</footer>
<script>
(function () {
  var tools = document.getElementById("tools");
  if (!tools || !document.querySelectorAll) { return; }
  var cis = Array.prototype.slice.call(document.querySelectorAll("article.ci"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("details.group"));
  function el(tag, text) { var e = document.createElement(tag); if (text) { e.textContent = text; } return e; }
  var label = el("label", "Filter instances ");
  var q = el("input"); q.type = "search"; q.placeholder = "instance, type, ENI or task id"; label.appendChild(q);
  var open = el("button", "Expand all"); open.type = "button";
  var shut = el("button", "Collapse all"); shut.type = "button";
  var shown = el("span"); shown.setAttribute("aria-live", "polite");
  tools.appendChild(label); tools.appendChild(open); tools.appendChild(shut); tools.appendChild(shown);
  open.onclick = function () { groups.forEach(function (g) { g.open = true; }); };
  shut.onclick = function () { groups.forEach(function (g) { g.open = false; }); };
  var timer;
  function apply() {
    var s = q.value.trim().toLowerCase(), n = 0;
    cis.forEach(function (c) { var hit = !s || c.textContent.toLowerCase().indexOf(s) >= 0; c.hidden = !hit; if (hit) { n++; } });
    groups.forEach(function (g) { var any = g.querySelector("article.ci:not([hidden])"); g.hidden = !any; if (s && any) { g.open = true; } });
    shown.textContent = s ? " " + n + " of " + cis.length + " instances match" : "";
  }
  q.oninput = function () { clearTimeout(timer); timer = setTimeout(apply, 150); };
})();
</script>
</body>
</html>

`
