package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/trunkctl/trunkctl/internal/assess"
)

const (
	// MaxTaskNodes is how many task nodes the flowchart draws; beyond it,
	// each instance shows its task count instead.
	MaxTaskNodes = 200
	// maxEdges is Mermaid's default edge limit (its maxEdges setting): a
	// flowchart with more edges does not render on GitHub or GitLab. When
	// one node per instance would pass it, instances collapse to one node
	// per Auto Scaling group or type.
	maxEdges = 500
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
// block) on GitHub or GitLab. Beyond MaxTaskNodes tasks, or when the
// drawing would pass Mermaid's edge limit, it draws counts instead, and a
// %% comment says so.
func Mermaid(w io.Writer, a *assess.Assessment, meta Meta) error {
	v := build(a, meta)
	bw := bufio.NewWriter(w)
	m := &mermaid{w: bw}
	m.line("%% trunkctl report: cluster " + comment(v.Cluster) + ", account " + comment(v.Account) + ", " + comment(v.Region) + gen(v.Generated))
	d := chooseDetail(v)
	switch d {
	case taskCounts:
		m.line(fmt.Sprintf("%%%% %d awsvpc tasks are more than %d task nodes (or the drawing passes Mermaid's %d edges): each instance shows its task count instead of its branch ENIs and tasks", v.Tasks, MaxTaskNodes, maxEdges))
	case groupCounts:
		m.line(fmt.Sprintf("%%%% %d instances and %d awsvpc tasks pass Mermaid's %d edges: each Auto Scaling group or instance type is one node with its counts; trunkctl report --format html draws every instance", v.Instances, v.Tasks, maxEdges))
	}
	m.line("flowchart LR")
	m.line("  classDef bad stroke:#b00020,stroke-width:3px,color:#b00020")
	m.line("  classDef trunk stroke:#0b57d0,stroke-width:2px")
	m.line(fmt.Sprintf(`  cluster["%s"]`, label("cluster "+v.Cluster, v.Account+" "+v.Region, fmt.Sprintf("%d instances, %d with trunk", v.Instances, v.Trunked))))
	if d == groupCounts {
		for gi, g := range v.Groups {
			m.group(fmt.Sprintf("g%d", gi+1), g)
		}
		return bw.Flush()
	}
	for _, g := range v.Groups {
		for _, in := range g.Instances {
			m.n++
			m.instance(fmt.Sprintf("i%d", m.n), in, d)
		}
	}
	return bw.Flush()
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

// chooseDetail draws every task when there are at most MaxTaskNodes and
// the edges fit, else counts per instance, else counts per group.
func chooseDetail(v view) detail {
	instances, tasks, withTasks := 0, 0, 0
	for _, g := range v.Groups {
		for _, in := range g.Instances {
			instances++
			tasks += len(in.Tasks)
			if len(in.Tasks) > 0 {
				withTasks++
			}
		}
	}
	// cluster -> instance, instance -> trunk or "no trunk"; then two edges
	// per task, or one per instance with tasks.
	base := 2 * instances
	switch {
	case tasks <= MaxTaskNodes && base+2*tasks <= maxEdges:
		return tasksDrawn
	case base+withTasks <= maxEdges:
		return taskCounts
	}
	return groupCounts
}

type mermaid struct {
	w *bufio.Writer
	n int
}

// line writes one line; a bufio.Writer keeps its first error for Flush.
func (m *mermaid) line(s string) {
	_, _ = m.w.WriteString(s)
	_ = m.w.WriteByte('\n')
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
