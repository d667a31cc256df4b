package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/trunkctl/trunkctl/internal/assess"
)

const (
	// MaxTaskNodes is how many task nodes the flowchart draws; beyond it,
	// each instance shows its task count instead.
	MaxTaskNodes = 200
	// maxEdges and maxText are Mermaid's default limits (its maxEdges and
	// maxTextSize settings): a flowchart past either does not render on
	// GitHub or GitLab.
	maxEdges = 500
	maxText  = 50000
)

// detail is how much of the cluster the flowchart draws.
type detail int

const (
	tasksDrawn detail = iota
	taskCounts
	groupCounts
)

// Mermaid writes the cluster as a Mermaid flowchart, cluster -> instance ->
// trunk ENI -> branch ENI -> task, to paste into Markdown (a ```mermaid
// block) on GitHub or GitLab. Beyond MaxTaskNodes tasks, or when drawing
// every task would pass Mermaid's limits, each instance shows its task
// count; when one node per instance would pass them, each Auto Scaling
// group or type is one node. A %% comment says which.
func Mermaid(w io.Writer, a *assess.Assessment, meta Meta) error {
	v := build(a, meta)
	tasks := 0
	for _, g := range v.Groups {
		for _, in := range g.Instances {
			tasks += len(in.Tasks)
		}
	}
	var out []byte
	for _, d := range []detail{tasksDrawn, taskCounts, groupCounts} {
		if d == tasksDrawn && tasks > MaxTaskNodes {
			continue
		}
		out = draw(v, d, tasks)
		if bytes.Count(out, []byte("-->")) <= maxEdges && len(out) <= maxText {
			break
		}
	}
	_, err := w.Write(out)
	return err
}

// draw writes the flowchart at one level of detail.
func draw(v view, d detail, tasks int) []byte {
	var b bytes.Buffer
	m := &mermaid{w: &b}
	m.line("%% trunkctl report: cluster " + comment(v.Cluster) + ", account " + comment(v.Account) + ", " + comment(v.Region) + gen(v.Generated))
	limits := fmt.Sprintf("Mermaid's limits (%d edges, %d characters)", maxEdges, maxText)
	switch {
	case d == taskCounts && tasks > MaxTaskNodes:
		m.line(fmt.Sprintf("%%%% %d awsvpc tasks are more than %d task nodes: each instance shows its task count instead of its branch ENIs and tasks", tasks, MaxTaskNodes))
	case d == taskCounts:
		m.line(fmt.Sprintf("%%%% drawing all %d awsvpc tasks passes %s: each instance shows its task count instead of its branch ENIs and tasks", tasks, limits))
	case d == groupCounts:
		m.line(fmt.Sprintf("%%%% one node per instance (%d instances, %d awsvpc tasks) passes %s: each Auto Scaling group or instance type is one node with its counts; trunkctl report --format html draws every instance", v.Instances, tasks, limits))
	}
	m.line("flowchart LR")
	m.line("  classDef bad stroke:#b00020,stroke-width:3px,color:#b00020")
	m.line("  classDef trunk stroke:#0b57d0,stroke-width:2px")
	m.line(fmt.Sprintf(`  cluster["%s"]`, label("cluster "+v.Cluster, v.Account+" "+v.Region, fmt.Sprintf("%d instances, %d with trunk", v.Instances, v.Trunked))))
	if d == groupCounts {
		for gi, g := range v.Groups {
			m.group(fmt.Sprintf("g%d", gi+1), g)
		}
		return b.Bytes()
	}
	for _, g := range v.Groups {
		for _, in := range g.Instances {
			m.n++
			m.instance(fmt.Sprintf("i%d", m.n), in, d)
		}
	}
	return b.Bytes()
}

// group draws one group as a node with its counts.
func (m *mermaid) group(id string, g group) {
	lines := []string{g.Kind + " " + g.Name, fmt.Sprintf("%d instances, %d with trunk", len(g.Instances), g.Trunked), fmt.Sprintf("%d / %d tasks", g.Tasks, g.Slots)}
	if g.Unhealthy > 0 {
		lines = append(lines, fmt.Sprintf("NEEDS ACTION: %d instances", g.Unhealthy))
	}
	m.node(id, lines...)
	if g.Unhealthy > 0 {
		m.line("  class " + id + " bad")
	}
	m.line("  cluster --> " + id)
}

// instance draws an instance, its trunk ENI or "no trunk", and its tasks
// (or their count).
func (m *mermaid) instance(id string, in instance, d detail) {
	lines := []string{in.EC2ID, in.Type, slotsText(in.Used, in.Limit)}
	if !in.Healthy {
		lines = append(lines, "NEEDS ACTION: "+string(in.Verdict.Code))
	}
	m.node(id, lines...)
	if !in.Healthy {
		m.line("  class " + id + " bad")
	}
	m.line("  cluster --> " + id)
	// Tasks hang off the trunk ENI, or off the instance without one.
	parent, kind, own := id+"t", "branch ENI", "branch ENIs"
	if in.Trunk != "" {
		m.node(parent, "trunk ENI", in.Trunk)
		m.line("  class " + parent + " trunk")
		m.line(fmt.Sprintf("  %s --> %s", id, parent))
	} else {
		parent, kind, own = id, "ENI", "their own ENIs"
		m.node(id+"n", "no trunk")
		m.line("  class " + id + "n bad")
		m.line(fmt.Sprintf("  %s --> %sn", id, id))
	}
	if len(in.Tasks) == 0 {
		return
	}
	if d == taskCounts {
		m.node(id+"c", fmt.Sprintf("%d awsvpc tasks on %s", len(in.Tasks), own))
		m.line(fmt.Sprintf("  %s --> %sc", parent, id))
		return
	}
	for ti, t := range in.Tasks {
		eni, task := fmt.Sprintf("%sb%d", id, ti+1), fmt.Sprintf("%sk%d", id, ti+1)
		m.node(eni, kind, strings.Join(t.ENIs, ", "))
		m.line(fmt.Sprintf("  %s --> %s", parent, eni))
		m.node(task, "task "+t.ID, t.Family)
		m.line(fmt.Sprintf("  %s --> %s", eni, task))
	}
}

type mermaid struct {
	w *bytes.Buffer
	n int
}

func (m *mermaid) line(s string) {
	m.w.WriteString(s)
	m.w.WriteByte('\n')
}

func (m *mermaid) node(id string, lines ...string) {
	m.line(fmt.Sprintf(`  %s["%s"]`, id, label(lines...)))
}

func slotsText(used, limit int) string {
	if limit == 0 {
		return fmt.Sprintf("%d / ? tasks", used)
	}
	return fmt.Sprintf("%d / %d tasks", used, limit)
}

// label escapes each line for a quoted Mermaid label and joins them with
// line breaks. Every character but letters, digits and a few safe ones is
// written as Mermaid's entity code (#34; for a quote), so no id or name
// can end the label or inject markup.
func label(lines ...string) string {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteString("<br/>")
		}
		for _, r := range l {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
				r == ' ', r == '.', r == ',', r == '-', r == '_', r == ':', r == '/', r == '(', r == ')', r == '+', r == '=', r == '@', r == '?':
				b.WriteRune(r)
			default:
				fmt.Fprintf(&b, "#%d;", r)
			}
		}
	}
	return b.String()
}

// comment keeps a value on its %% line: control characters become spaces.
func comment(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

func gen(t string) string {
	if t == "" {
		return ""
	}
	return ", read " + t
}
