// Package report draws one assessment of a cluster (internal/assess) as a
// self-contained HTML page or a Mermaid flowchart: which instances carry a
// trunk ENI, the branch ENIs and tasks under each, the task slots used
// against the limit, the density with every instance trunked, and the
// doctor's findings. It reads nothing: everything comes from the
// assessment, so the picture and `trunkctl doctor` always agree.
package report

import (
	"sort"
	"strings"

	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Meta is what the report says that the assessment does not know.
type Meta struct {
	// Version names the trunkctl that wrote the report ("" leaves it out).
	Version string
}

// openUpTo is the largest cluster whose groups the HTML shows expanded;
// larger ones start collapsed, one line per group, so the page stays quick.
const openUpTo = 50

// view is the assessment arranged for drawing.
type view struct {
	Cluster, Account, Region, Generated, Version string

	Instances, Trunked, Tasks, Slots, SlotsTrunked int
	// OtherTasks are awsvpc tasks on no container instance (Fargate).
	OtherTasks int
	Unhealthy  bool
	Errors     int
	Warnings   int
	Infos      int

	Findings []doctor.Finding
	Density  []densityRow
	Groups   []group
	Notes    []string
}

// group is the instances of one type in one Auto Scaling group, or, for
// instances in none, of one instance type.
type group struct {
	Kind, Name string
	Instances  []instance
	Trunked    int
	Tasks      int
	Slots      int
	Unhealthy  int
	Open       bool
}

type instance struct {
	EC2ID, ContainerInstanceID, Type, Status string
	// Trunk is the trunk ENI id, "" when the instance has none.
	Trunk string
	Used  int
	// Limit is the awsvpc task limit that applies now (0: unknown).
	Limit   int
	Healthy bool
	Verdict doctor.Verdict
	Tasks   []task
}

type task struct {
	ID, Family, Status string
	// ENIs are the task's branch ENI ids (its own ENI on an instance
	// without a trunk).
	ENIs []string
}

// densityRow is one instance type: awsvpc task slots today and with every
// instance of it trunked, from the catalog as doctor.UsageOf counts them.
type densityRow struct {
	Type, Support        string
	Instances, Trunked   int
	Tasks                int
	Today, AllTrunked    int
	UnknownLimit         bool
	TodayPct, TrunkedPct float64
}

// build arranges an assessment for drawing.
func build(a *assess.Assessment, meta Meta) view {
	in, rep := a.Input, a.Report
	v := view{
		Cluster: inventory.ResourceID(in.Snapshot.Cluster), Account: in.AccountID, Region: in.Region,
		Version: meta.Version, Findings: rep.Findings, Unhealthy: rep.Unhealthy(), Notes: a.Warnings,
	}
	if !in.Now.IsZero() {
		v.Generated = in.Now.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if v.Account == "" {
		v.Account = "unknown account"
	}
	if v.Region == "" {
		v.Region = "unknown Region"
	}
	counts := doctor.Count(rep.Findings)
	v.Errors, v.Warnings, v.Infos = counts[doctor.Error], counts[doctor.Warning], counts[doctor.Info]

	tasksOf, other := awsvpcTasks(in.Snapshot.Tasks)
	v.OtherTasks = other
	groupOf := map[string]string{}
	for name, g := range in.Signals.Groups {
		for _, id := range g.InstanceIDs {
			groupOf[id] = name
		}
	}
	groups := map[string]*group{}
	density := map[string]*densityRow{}
	for _, ir := range rep.Instances {
		inst := instanceOf(ir, tasksOf[ir.ContainerInstance.Arn])
		// A mixed-instances group is split by type, so that each part's
		// slots are of one limit.
		key, kind, name := "type "+inst.Type, "Instance type", inst.Type
		if asg, ok := groupOf[inst.EC2ID]; ok {
			key, kind, name = "asg "+asg+" "+inst.Type, "Auto Scaling group", asg+", "+inst.Type
		}
		g := groups[key]
		if g == nil {
			g = &group{Kind: kind, Name: name}
			groups[key] = g
		}
		g.add(inst)
		d := density[inst.Type]
		if d == nil {
			d = &densityRow{Type: inst.Type, Support: string(ir.Type.Support)}
			density[inst.Type] = d
		}
		all := withTrunk(ir.ContainerInstance, ir.Type, inst.Used).Limit
		d.add(inst, all)
		v.Instances++
		v.Tasks += inst.Used
		v.Slots += inst.Limit
		v.SlotsTrunked += all
		if inst.Trunk != "" {
			v.Trunked++
		}
	}
	for _, g := range groups {
		g.Open = v.Instances <= openUpTo
		v.Groups = append(v.Groups, *g)
	}
	// Auto Scaling groups first, then instance types, each by name.
	sort.Slice(v.Groups, func(i, j int) bool {
		if v.Groups[i].Kind != v.Groups[j].Kind {
			return v.Groups[i].Kind < v.Groups[j].Kind
		}
		return v.Groups[i].Name < v.Groups[j].Name
	})
	widest := 1
	for _, d := range density {
		widest = max(widest, d.Today, d.AllTrunked)
	}
	for _, d := range density {
		d.TodayPct = pct(d.Today, widest)
		d.TrunkedPct = pct(d.AllTrunked, widest)
		v.Density = append(v.Density, *d)
	}
	sort.Slice(v.Density, func(i, j int) bool { return v.Density[i].Type < v.Density[j].Type })
	return v
}

// awsvpcTasks are the awsvpc tasks by container instance ARN, and how
// many run on none (Fargate).
func awsvpcTasks(tasks []inventory.Task) (map[string][]task, int) {
	out, other := map[string][]task{}, 0
	for _, t := range tasks {
		if !t.AWSVPC() {
			continue
		}
		if t.ContainerInstanceArn == "" {
			other++
			continue
		}
		tk := task{ID: t.ID(), Family: inventory.ResourceID(t.TaskDefinitionArn), Status: t.LastStatus}
		for _, e := range t.ENIs {
			tk.ENIs = append(tk.ENIs, e.NetworkInterfaceID)
		}
		out[t.ContainerInstanceArn] = append(out[t.ContainerInstanceArn], tk)
	}
	return out, other
}

func instanceOf(ir doctor.InstanceReport, tasks []task) instance {
	ci := ir.ContainerInstance
	inst := instance{
		EC2ID: ci.EC2InstanceID, ContainerInstanceID: ci.ID(), Type: ci.InstanceType, Status: ci.Status,
		Trunk: ci.TrunkENI, Used: ir.Usage.AWSVPCTasks, Limit: ir.Usage.Limit,
		Healthy: ir.Verdict.Healthy, Verdict: ir.Verdict, Tasks: tasks,
	}
	if inst.EC2ID == "" {
		inst.EC2ID = "(no EC2 id) " + inst.ContainerInstanceID
	}
	if inst.Type == "" {
		inst.Type = "unknown type"
	}
	return inst
}

func (g *group) add(in instance) {
	g.Instances = append(g.Instances, in)
	g.Tasks += in.Used
	g.Slots += in.Limit
	if in.Trunk != "" {
		g.Trunked++
	}
	if !in.Healthy {
		g.Unhealthy++
	}
}

// add counts an instance whose limit trunked would be allTrunked.
func (d *densityRow) add(in instance, allTrunked int) {
	d.Instances++
	d.Tasks += in.Used
	d.Today += in.Limit
	d.AllTrunked += allTrunked
	if in.Limit == 0 || allTrunked == 0 {
		d.UnknownLimit = true
	}
	if in.Trunk != "" {
		d.Trunked++
	}
}

// withTrunk is the instance's usage had it a trunk ENI, where its type can
// have one: the same arithmetic as the usage the judge reports.
func withTrunk(ci inventory.ContainerInstance, it catalog.InstanceType, tasks int) doctor.Usage {
	if ci.TrunkENI == "" && it.Support.Trunks() {
		ci.TrunkENI = "trunk"
	}
	return doctor.UsageOf(ci, it, tasks)
}

func pct(n, of int) float64 {
	if of <= 0 {
		return 0
	}
	return float64(int(1000*float64(n)/float64(of))) / 10
}

// severityMark is the severity as a word and a shape, so that it does not
// rest on colour alone.
func severityMark(s doctor.Severity) string {
	switch s {
	case doctor.Error:
		return "✖ ERROR"
	case doctor.Warning:
		return "▲ WARNING"
	}
	return "● " + strings.ToUpper(string(s))
}
