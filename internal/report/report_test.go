package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/testutil/browser"
)

const arnPrefix = "arn:aws:ecs:us-east-1:123456789012:"

// cluster builds an assessment the way assess does (the judge over the
// input) of n instances of typ, the odd ones trunked, with tasks awsvpc
// tasks spread round-robin; the instances are in one Auto Scaling group
// when asg is set.
func cluster(n, tasks int, typ, asg string) *assess.Assessment {
	snap := inventory.Snapshot{Cluster: arnPrefix + "cluster/prod"}
	group := inventory.AutoScalingGroup{Name: asg}
	for i := 1; i <= n; i++ {
		ci := inventory.ContainerInstance{
			Arn: fmt.Sprintf("%scontainer-instance/prod/%032x", arnPrefix, i), EC2InstanceID: fmt.Sprintf("i-%017x", i),
			InstanceType: typ, Status: "ACTIVE", AgentConnected: true, AgentVersion: "1.90.0", TrunkCapable: true,
		}
		if i%2 == 1 {
			ci.TrunkENI = fmt.Sprintf("eni-0a%015x", i)
		}
		snap.ContainerInstances = append(snap.ContainerInstances, ci)
		group.InstanceIDs = append(group.InstanceIDs, ci.EC2InstanceID)
	}
	for t := 1; t <= tasks; t++ {
		ci := snap.ContainerInstances[(t-1)%n]
		snap.Tasks = append(snap.Tasks, inventory.Task{
			Arn: fmt.Sprintf("%stask/prod/%032x", arnPrefix, t), ContainerInstanceArn: ci.Arn, LastStatus: "RUNNING",
			TaskDefinitionArn: arnPrefix + "task-definition/web:3",
			ENIs:              []inventory.TaskENI{{NetworkInterfaceID: fmt.Sprintf("eni-0b%015x", t)}},
		})
	}
	in := doctor.Input{Snapshot: snap, Catalog: catalog.Default(), AccountID: "123456789012", Region: "us-east-1",
		Now: time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC)}
	if asg != "" {
		in.Signals.Groups = map[string]inventory.AutoScalingGroup{asg: group}
	}
	return &assess.Assessment{Input: in, Report: doctor.Judge(in)}
}

func html(t *testing.T, a *assess.Assessment) string {
	t.Helper()
	var b bytes.Buffer
	if err := HTML(&b, a, Meta{Version: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mmd(t *testing.T, a *assess.Assessment) string {
	t.Helper()
	var b bytes.Buffer
	if err := Mermaid(&b, a, Meta{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestDensity(t *testing.T) {
	a := cluster(4, 6, "c5.large", "")
	it := catalog.Default().Lookup("c5.large")
	v := build(a, Meta{})
	if len(v.Density) != 1 {
		t.Fatalf("density rows = %+v, want one for c5.large", v.Density)
	}
	d := v.Density[0]
	// Two trunked instances count the trunked limit, two the untrunked one;
	// trunked, all four count the trunked limit.
	if wantToday, wantAll := 2*it.TasksWithTrunking+2*it.TasksWithoutTrunking, 4*it.TasksWithTrunking; d.Today != wantToday || d.AllTrunked != wantAll {
		t.Errorf("slots today %d, with every instance trunked %d; want %d and %d", d.Today, d.AllTrunked, wantToday, wantAll)
	}
	if d.Instances != 4 || d.Trunked != 2 || d.Tasks != 6 {
		t.Errorf("row = %+v, want 4 instances, 2 trunked, 6 tasks", d)
	}
	if v.Slots != d.Today || v.SlotsTrunked != d.AllTrunked {
		t.Errorf("totals %d / %d differ from the only row", v.Slots, v.SlotsTrunked)
	}
}

func TestDensityOfATypeWithoutTrunking(t *testing.T) {
	// t2 instances cannot have a trunk ENI: trunking them changes nothing.
	a := cluster(2, 1, "t2.micro", "")
	d := build(a, Meta{}).Density[0]
	if d.AllTrunked != d.Today {
		t.Errorf("a type without trunking gains slots: today %d, trunked %d", d.Today, d.AllTrunked)
	}
}

func TestHTMLShowsEveryInstanceTaskAndFinding(t *testing.T) {
	a := cluster(3, 4, "c5.large", "prod-asg")
	page := html(t, a)
	for _, want := range []string{
		"<title>trunkctl report: cluster prod, account 123456789012, us-east-1</title>",
		"Auto Scaling group prod-asg", "no trunk", "trunk ENI <code>eni-0a000000000000001</code>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, ci := range a.Input.Snapshot.ContainerInstances {
		if !strings.Contains(page, `id="`+ci.EC2InstanceID+`"`) {
			t.Errorf("page lacks instance %s", ci.EC2InstanceID)
		}
	}
	for _, tk := range a.Input.Snapshot.Tasks {
		if !strings.Contains(page, tk.ID()) || !strings.Contains(page, tk.ENIs[0].NetworkInterfaceID) {
			t.Errorf("page lacks task %s or its ENI", tk.ID())
		}
	}
	for _, f := range a.Report.Findings {
		if !strings.Contains(page, htmlEscape(f.Message)) {
			t.Errorf("page lacks finding %q", f.Message)
		}
	}
}

func htmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		case '+':
			b.WriteString("&#43;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestHTMLReferencesNothingOutsideItself(t *testing.T) {
	a := cluster(3, 4, "c5.large", "prod-asg")
	// Values that would be references if the page did not escape them.
	a.Input.Snapshot.ContainerInstances[0].InstanceType = `<img src="https://example.com/x.png">`
	a.Input.Snapshot.ContainerInstances[1].EC2InstanceID = `x" onerror="fetch('//example.com')`
	a.Input.Snapshot.Cluster = `prod<link href="http://example.com/s.css">`
	a.Report = doctor.Judge(a.Input)
	page := html(t, a)
	if ext := browser.External(page); len(ext) > 0 {
		t.Errorf("the page references outside itself: %q", ext)
	}
	if strings.Contains(page, "<img") || strings.Contains(page, `x" onerror`) {
		t.Error("a value was written as markup")
	}
}

func TestExternalFindsReferences(t *testing.T) {
	// The check above must be able to fail.
	for _, page := range []string{
		`<script src="https://cdn.example.com/x.js"></script>`, `<img src=//example.com/p.png>`,
		`<link rel="stylesheet" href="s.css">`, `<style>@import "x.css";</style>`,
		`<div style="background:url(https://example.com/b.png)"></div>`, `<a href="http://example.com">x</a>`,
	} {
		if len(browser.External(page)) == 0 {
			t.Errorf("browser.External(%q) found nothing", page)
		}
	}
	if ext := browser.External(`<a href="#findings">x</a>`); len(ext) > 0 {
		t.Errorf("a fragment link is a reference: %q", ext)
	}
}

func TestLargeClustersStartCollapsed(t *testing.T) {
	small, large := build(cluster(3, 3, "c5.large", ""), Meta{}), build(cluster(openUpTo+1, 3, "c5.large", ""), Meta{})
	if !small.Groups[0].Open || large.Groups[0].Open {
		t.Errorf("open: small %v, large %v; want true, false", small.Groups[0].Open, large.Groups[0].Open)
	}
}

func TestMermaidDrawsEveryTaskUpTo200(t *testing.T) {
	a := cluster(40, 100, "c5.large", "")
	out := mmd(t, a)
	if !strings.HasPrefix(out, "%% trunkctl report: cluster prod, account 123456789012, us-east-1") || !strings.Contains(out, "\nflowchart LR\n") {
		t.Fatalf("not a flowchart with its heading comment:\n%s", out[:200])
	}
	for _, tk := range a.Input.Snapshot.Tasks {
		if !strings.Contains(out, "task "+tk.ID()) || !strings.Contains(out, tk.ENIs[0].NetworkInterfaceID) {
			t.Fatalf("task %s or its branch ENI is not drawn", tk.ID())
		}
	}
	if strings.Contains(out, "task count") {
		t.Error("collapsed although 100 tasks fit")
	}
}

func TestMermaidCollapsesBeyond200TaskNodes(t *testing.T) {
	a := cluster(20, 201, "c5.large", "")
	out := mmd(t, a)
	if !regexp.MustCompile(`(?m)^%% 201 awsvpc tasks are more than 200 task nodes`).MatchString(out) {
		t.Errorf("no %%%% comment says the tasks were collapsed:\n%s", out[:400])
	}
	if strings.Contains(out, "task "+a.Input.Snapshot.Tasks[0].ID()) {
		t.Error("a task node is drawn")
	}
	if !strings.Contains(out, "11 awsvpc tasks on branch ENIs") || !strings.Contains(out, "10 awsvpc tasks on their own ENIs") {
		t.Errorf("no per-instance counts:\n%s", out)
	}
	for _, ci := range a.Input.Snapshot.ContainerInstances {
		if !strings.Contains(out, ci.EC2InstanceID) {
			t.Errorf("instance %s not drawn", ci.EC2InstanceID)
		}
	}
}

func TestMermaidOfAClusterPastTheEdgeLimitDrawsGroups(t *testing.T) {
	out := mmd(t, cluster(300, 600, "c5.large", "prod-asg"))
	if !strings.Contains(out, "%% one node per instance (300 instances, 600 awsvpc tasks) passes Mermaid's limits (500 edges, 50000 characters)") {
		t.Errorf("no comment says instances were collapsed:\n%s", out)
	}
	if !strings.Contains(out, "Auto Scaling group prod-asg, c5.large<br/>300 instances, 150 with trunk") {
		t.Errorf("no group node:\n%s", out)
	}
	if edges := strings.Count(out, "-->"); edges > maxEdges {
		t.Errorf("%d edges, more than Mermaid's %d", edges, maxEdges)
	}
}

// longNames has 150 tasks whose task definition families are 255
// characters long (the most ECS allows): drawn, more than 50,000 characters.
func longNames() *assess.Assessment {
	a := cluster(10, 150, "c5.large", "prod-asg")
	for i := range a.Input.Snapshot.Tasks {
		a.Input.Snapshot.Tasks[i].TaskDefinitionArn = arnPrefix + "task-definition/" + strings.Repeat("f", 255) + ":1"
	}
	a.Report = doctor.Judge(a.Input)
	return a
}

func TestMermaidStaysWithinMermaidsLimits(t *testing.T) {
	long := longNames()
	for _, c := range []struct {
		name string
		a    *assess.Assessment
		// comment is the %% line that says what was collapsed ("" for none).
		comment string
	}{
		{"50 instances and 200 tasks: 500 edges, drawn", cluster(50, 200, "c5.large", "prod-asg"), ""},
		{"60 instances and 200 tasks: 520 edges, counted", cluster(60, 200, "c5.large", "prod-asg"), "%% drawing all 200 awsvpc tasks passes Mermaid's limits"},
		{"150 tasks with long names: more than 50,000 characters, counted", long, "%% drawing all 150 awsvpc tasks passes Mermaid's limits"},
		{"166 instances and 400 tasks: counted", cluster(166, 400, "c5.large", "prod-asg"), "%% 400 awsvpc tasks are more than 200 task nodes"},
		{"250 instances without tasks: drawn", cluster(250, 0, "c5.large", "prod-asg"), ""},
		{"2,000 instances: groups", cluster(2000, 10000, "c5.large", "prod-asg"), "%% one node per instance (2000 instances, 10000 awsvpc tasks) passes"},
	} {
		out := mmd(t, c.a)
		edges := strings.Count(out, "-->")
		if edges > maxEdges || len(out) > maxText {
			t.Errorf("%s: %d edges, %d characters; Mermaid draws at most %d and %d", c.name, edges, len(out), maxEdges, maxText)
		}
		collapsed := strings.Contains(out, "\n%% ")
		if (c.comment == "") == collapsed || (c.comment != "" && !strings.Contains(out, c.comment)) {
			t.Errorf("%s: want comment %q:\n%.400s", c.name, c.comment, out)
		}
	}
}

func TestMermaidLabelsEscapeEverythingThatCouldEndThem(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`i-0abc c5.large`, `i-0abc c5.large`},
		{`a"b`, `a#34;b`},
		{`<b>x</b>`, `#60;b#62;x#60;/b#62;`},
		{`x]; y --> z`, `x#93;#59; y --#62; z`},
		{`#quot;`, `#35;quot#59;`},
		{"two\nlines", `two#10;lines`},
		{"a|b`c", `a#124;b#96;c`},
	} {
		if got := label(c.in); got != c.want {
			t.Errorf("label(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := comment("prod\n%%{init: {}}%%"); strings.Contains(got, "\n") {
		t.Errorf("comment kept a newline: %q", got)
	}
}

// hostile is a cluster whose names would break a naive flowchart.
func hostile() *assess.Assessment {
	a := cluster(3, 4, `c5.large"]; x --> y["`, "")
	a.Input.Snapshot.Cluster = "prod\n%%{init: {\"theme\": \"dark\"}}%%"
	a.Input.Snapshot.Tasks[0].TaskDefinitionArn = arnPrefix + "task-definition/we<b>b|#1;:3"
	a.Report = doctor.Judge(a.Input)
	return a
}

func TestMermaidIsParsedByMermaid(t *testing.T) {
	if testing.Short() {
		t.Skip("runs mmdc on Chromium")
	}
	for _, c := range []struct {
		name string
		a    *assess.Assessment
	}{
		{"every task drawn", cluster(5, 12, "c5.large", "prod-asg")},
		{"200 tasks on 50 instances: 500 edges, Mermaid's limit", cluster(50, 200, "c5.large", "prod-asg")},
		{"166 instances with their task counts, near the edge limit", cluster(166, 400, "c5.large", "prod-asg")},
		{"tasks collapsed to counts beyond 200", cluster(30, 400, "c5.large", "")},
		{"instances collapsed to groups past the edge limit", cluster(2000, 10000, "c5.xlarge", "prod-asg")},
		{"names that would end a label", hostile()},
		{"an empty cluster", cluster(0, 0, "c5.large", "")},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := browser.ParseMermaid(t, []byte(mmd(t, c.a)), 2*time.Minute); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("every task drawn past the limits fails", func(t *testing.T) {
		// What the limits above avoid: 520 edges, then over 50,000 characters.
		for _, a := range []*assess.Assessment{cluster(60, 200, "c5.large", ""), longNames()} {
			err := browser.ParseMermaid(t, draw(build(a, Meta{}), tasksDrawn, len(a.Input.Snapshot.Tasks)), 2*time.Minute)
			t.Logf("refused, as it should be: %.300v", err)
			if err == nil {
				t.Fatal("mmdc drew a flowchart past its limits; the limits above are not Mermaid's")
			}
		}
	})
	t.Run("a broken flowchart fails", func(t *testing.T) {
		if err := browser.ParseMermaid(t, []byte("flowchart LR\n  a[\"x \" y\"] --> b\n"), 2*time.Minute); err == nil {
			t.Fatal("mmdc accepted a broken label; the checks above prove nothing")
		}
	})
}

func TestAnEmptyClusterDrawsTheClusterAlone(t *testing.T) {
	a := cluster(0, 0, "c5.large", "")
	page := html(t, a)
	if !strings.Contains(page, "<dt>Container instances</dt><dd>0</dd>") || strings.Contains(page, `<svg class="chart"`) {
		t.Errorf("an empty cluster's page:\n%s", page)
	}
	out := mmd(t, a)
	if !strings.HasSuffix(out, `cluster["cluster prod<br/>123456789012 us-east-1<br/>0 instances, 0 with trunk"]`+"\n") {
		t.Errorf("an empty cluster's flowchart:\n%s", out)
	}
}
