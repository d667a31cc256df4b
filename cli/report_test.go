package cli

import (
	"context"
	"encoding/json"
	"html/template"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
	"github.com/trunkctl/trunkctl/internal/testutil/browser"
)

// reportWorld is newWorld (trunked, untrunked, failed and old-agent
// instances, awsvpc and bridge tasks) with instances 1 and 2 in an Auto
// Scaling group, so the report has both kinds of group.
func reportWorld(t *testing.T) *world {
	w := newWorld(t)
	w.withGroup([]string{"c5.large"}, []string{"subnet-0a"}, 1, 2)
	return w
}

func TestReportGolden(t *testing.T) {
	for _, c := range []struct{ format, golden string }{{"html", "report.golden.html"}, {"mermaid", "report.golden.mmd"}} {
		t.Run(c.format, func(t *testing.T) {
			s, out, errOut := streams(false)
			code := Run(context.Background(), []string{"report", "--cluster", "prod", "--format", c.format}, reportWorld(t).deps(s))
			if code != ExitUnhealthy {
				t.Fatalf("exit %d, want 3 (the world has error findings); stderr:\n%s", code, errOut)
			}
			golden(t, c.golden, out.Bytes())
		})
	}
}

func TestReportShowsEveryInstanceAndAwsvpcTaskOfTheAssessment(t *testing.T) {
	w := reportWorld(t)
	s, out, _ := streams(false)
	Run(context.Background(), []string{"report", "--cluster", "prod"}, w.deps(s))
	page := out.String()
	if got := strings.Count(page, `<article class="ci`); got != 6 {
		t.Errorf("%d instance cards, want 6", got)
	}
	for n := 1; n <= 6; n++ {
		if !strings.Contains(page, `id="`+inventorytest.InstanceID(n)+`"`) {
			t.Errorf("no card for %s", inventorytest.InstanceID(n))
		}
	}
	for _, n := range []int{1, 2, 4} { // the awsvpc tasks; task 3 is bridge mode
		id := taskID(w, n)
		if !regexp.MustCompile(`task <code>` + id + `</code> → (branch )?ENI <code>` + inventorytest.BranchID(n) + `</code>`).MatchString(page) {
			t.Errorf("task %s is not drawn with its ENI %s", id, inventorytest.BranchID(n))
		}
	}
	if ext := browser.External(page); len(ext) > 0 {
		t.Errorf("the page references outside itself: %q", ext)
	}
	if strings.Contains(page, "<code>"+taskID(w, 3)+"</code>") {
		t.Error("the bridge-mode task is drawn as an awsvpc task")
	}
	for _, want := range []string{
		"<title>trunkctl report: cluster prod, account 123456789012, us-east-1</title>",
		"trunk ENI <code>" + inventorytest.TrunkID(1) + "</code>", `<span class="notrunk">no trunk</span>`,
		"Auto Scaling group prod-asg", "Instance type m5.large", "✖ ERROR", "Slots with every instance trunked",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func taskID(w *world, n int) string {
	arn := w.cluster.TaskArn(n)
	return arn[strings.LastIndex(arn, "/")+1:]
}

func TestReportExitCodesAndBadInput(t *testing.T) {
	for _, c := range []struct {
		name  string
		world func(*testing.T) *world
		args  []string
		want  ExitCode
		// stderr must contain each of these.
		stderr []string
		// wantOut: stdout has the report.
		wantOut bool
	}{
		{name: "a healthy cluster exits 0", world: healthyWorld, args: []string{"--cluster", "prod"}, want: ExitOK, wantOut: true},
		{name: "a cluster with error findings exits 3 after writing the report", world: reportWorld, args: []string{"--cluster", "prod", "--format", "mermaid"}, want: ExitUnhealthy, wantOut: true},
		{name: "no --cluster is a usage error naming the formats", world: healthyWorld, want: ExitUsage,
			stderr: []string{"--cluster is required", "html|mermaid"}},
		{name: "an unknown --format is a usage error naming the allowed formats", world: healthyWorld, args: []string{"--cluster", "prod", "--format", "svg"}, want: ExitUsage,
			stderr: []string{`unknown --format "svg"`, "html, mermaid"}},
		{name: "an unknown cluster is an error naming it", world: healthyWorld, args: []string{"--cluster", "nope"}, want: ExitError, stderr: []string{"nope"}},
		{name: "-o json is a usage error pointing at doctor", world: healthyWorld, args: []string{"--cluster", "prod", "-o", "json"}, want: ExitUsage,
			stderr: []string{"trunkctl doctor"}},
		{name: "the fleet flags are a usage error", world: healthyWorld, args: []string{"--cluster", "prod", "--regions", "us-east-1,eu-west-1"}, want: ExitUsage,
			stderr: []string{"does not run across accounts and Regions"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, out, errOut := streams(false)
			code := Run(context.Background(), append([]string{"report"}, c.args...), c.world(t).deps(s))
			if code != c.want {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, c.want, errOut)
			}
			for _, want := range c.stderr {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if (out.Len() > 0) != c.wantOut {
				t.Errorf("stdout has %d bytes, want the report: %v", out.Len(), c.wantOut)
			}
		})
	}
}

func TestReportOutWritesTheFileWholeOrNotAtAll(t *testing.T) {
	t.Run("written", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "prod.html")
		s, out, errOut := streams(false)
		if code := Run(context.Background(), []string{"report", "--cluster", "prod", "--out", path}, healthyWorld(t).deps(s)); code != ExitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, errOut)
		}
		data, err := os.ReadFile(path)
		if err != nil || !strings.HasSuffix(strings.TrimSpace(string(data)), "</html>") || out.Len() != 0 {
			t.Fatalf("file %d bytes (%v), stdout %d bytes; want the whole page in the file only", len(data), err, out.Len())
		}
		onlyFile(t, dir, "prod.html")
	})
	t.Run("an unknown cluster leaves no file", func(t *testing.T) {
		dir := t.TempDir()
		s, _, errOut := streams(false)
		code := Run(context.Background(), []string{"report", "--cluster", "nope", "--out", filepath.Join(dir, "nope.html")}, healthyWorld(t).deps(s))
		if code != ExitError || !strings.Contains(errOut.String(), "nope") {
			t.Fatalf("exit %d, stderr:\n%s", code, errOut)
		}
		onlyFile(t, dir)
	})
	t.Run("an interrupt exits 130 and leaves no file", func(t *testing.T) {
		dir := t.TempDir()
		ctx, stop := SignalContext(context.Background())
		defer stop()
		go func() {
			time.Sleep(200 * time.Millisecond)
			_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
		}()
		s, _, errOut := streams(false)
		start := time.Now()
		code := Run(ctx, []string{"report", "--cluster", "prod", "--out", filepath.Join(dir, "prod.html")}, hangingWorld(t).deps(s))
		if code != ExitInterrupted || time.Since(start) > 10*time.Second {
			t.Fatalf("exit %d after %s, want 130; stderr:\n%s", code, time.Since(start), errOut)
		}
		onlyFile(t, dir)
	})
}

// onlyFile checks that dir holds exactly the named files (no temporary ones).
func onlyFile(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("%s holds %q, want %q", dir, got, names)
	}
}

// screenshot is the report's picture in the docs, rewritten by
// go test ./cli -run TestReportRendersInChromium -update.
const screenshot = "../docs/report-screenshot.png"

func TestReportRendersInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	browser.Chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "prod.html")
	s, _, errOut := streams(false)
	if code := Run(context.Background(), []string{"report", "--cluster", "prod", "--out", page}, reportWorld(t).deps(s)); code != ExitUnhealthy {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	png := filepath.Join(dir, "prod.png")
	took := browser.Screenshot(t, page, png, 1280, 1500, time.Minute)
	ink, colours := browser.Ink(t, png)
	t.Logf("rendered in %s: %.1f%% of the pixels are not background, %d colours", took.Round(time.Millisecond), 100*ink, colours)
	if ink < 0.02 || colours < 16 {
		t.Fatalf("the screenshot looks blank: %.2f%% ink, %d colours", 100*ink, colours)
	}
	if *update {
		data, err := os.ReadFile(png)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(screenshot, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	noJS := browser.DOM(t, page, false, time.Minute)
	for n := 1; n <= 6; n++ {
		if !strings.Contains(noJS, inventorytest.InstanceID(n)) {
			t.Errorf("with JavaScript off the page lacks %s", inventorytest.InstanceID(n))
		}
	}
	// The filter box exists only when the inline script ran: proof that
	// the dump above had JavaScript off, and that the script works.
	if strings.Contains(noJS, `type="search"`) {
		t.Error("the DOM with JavaScript off has the script's filter box")
	}
	if js := browser.DOM(t, page, true, time.Minute); !strings.Contains(js, `type="search"`) {
		t.Error("with JavaScript on, the script added no filter box")
	}
}

// benchWorld is cli/bench's cluster: 2,000 trunked c5.xlarge instances in
// one Auto Scaling group, 10,000 awsvpc tasks in 50 services, the role
// enabled.
func benchWorld() *world {
	c := inventorytest.New()
	c.GenerateScale(inventorytest.Scale{Instances: 2000, Tasks: 10000, Services: 50})
	c.AddRole("ServiceLinked", "AWSServiceRoleForECS")
	c.AddCapacityProvider("prod-cp", "prod-asg")
	all := make([]int, 2000)
	for i := range all {
		all[i] = i + 1
	}
	c.AddAutoScalingGroup(inventorytest.ASGSpec{Name: "prod-asg", Template: "lt-0prod", Subnets: []string{"subnet-0a"}, Instances: all})
	c.AddLaunchTemplate("lt-0prod", "prod", inventorytest.TemplateVersion{InstanceType: "c5.xlarge", DNSARecord: aws.Bool(false), Default: true})
	a := accountsettingtest.New()
	a.AddRole("EcsInstanceRole", accountsettingtest.RoleState{})
	a.SetExplicit(roleArn, accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	return &world{cluster: c, acct: a, caller: adminCaller}
}

// TestReportOfTheBenchCluster measures the report of the 2,000-instance
// bench cluster (docs/benchmarks.md): at most 10 MB, rendered by headless
// Chromium in at most 10 s, every instance in the page with JavaScript off.
func TestReportOfTheBenchCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 instances and headless Chromium")
	}
	browser.Chromium(t)
	w := benchWorld()
	dir := t.TempDir()
	for _, format := range []string{"html", "mermaid"} {
		path := filepath.Join(dir, "bench."+format)
		s, _, errOut := streams(false)
		start := time.Now()
		if code := Run(context.Background(), []string{"report", "--cluster", w.cluster.Name, "--format", format, "--out", path}, w.deps(s)); code != ExitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, errOut)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes (%.2f MB), read (fakes, no latency) and written in %s", format, fi.Size(), float64(fi.Size())/1e6, time.Since(start).Round(time.Millisecond))
		if format == "html" && fi.Size() > 10<<20 {
			t.Errorf("%d bytes, more than 10 MB", fi.Size())
		}
	}
	page := filepath.Join(dir, "bench.html")
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if ext := browser.External(string(data)); len(ext) > 0 {
		t.Errorf("the page references outside itself: %q", ext)
	}
	took := browser.Screenshot(t, page, filepath.Join(dir, "bench.png"), 1280, 1500, time.Minute)
	t.Logf("headless Chromium rendered it to a PNG in %s", took.Round(time.Millisecond))
	if took > 10*time.Second {
		t.Errorf("rendering took %s, more than 10 s", took)
	}
	if ink, colours := browser.Ink(t, filepath.Join(dir, "bench.png")); ink < 0.02 || colours < 16 {
		t.Errorf("the screenshot looks blank: %.2f%% ink, %d colours", 100*ink, colours)
	}
	// For scale: the same page with every group expanded (what "Expand
	// all" lays out), and Chromium's own start-up on an empty page.
	expanded, empty := filepath.Join(dir, "expanded.html"), filepath.Join(dir, "empty.html")
	if err := os.WriteFile(expanded, []byte(strings.ReplaceAll(string(data), `<details class="group">`, `<details class="group" open>`)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("<!DOCTYPE html><title>empty</title>"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("with every group expanded: %s; an empty page: %s",
		browser.Screenshot(t, expanded, filepath.Join(dir, "expanded.png"), 1280, 1500, time.Minute).Round(time.Millisecond),
		browser.Screenshot(t, empty, filepath.Join(dir, "empty.png"), 1280, 1500, time.Minute).Round(time.Millisecond))
	dom := browser.DOM(t, page, false, time.Minute)
	for n := 1; n <= 2000; n++ {
		if !strings.Contains(dom, `id="`+inventorytest.InstanceID(n)+`"`) {
			t.Fatalf("with JavaScript off the page lacks %s", inventorytest.InstanceID(n))
		}
	}
}

func TestReportMermaidIsParsedByMermaid(t *testing.T) {
	if testing.Short() {
		t.Skip("runs mmdc on Chromium")
	}
	s, out, _ := streams(false)
	Run(context.Background(), []string{"report", "--cluster", "prod", "--format", "mermaid"}, reportWorld(t).deps(s))
	if err := browser.ParseMermaid(t, out.Bytes(), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
}

func TestReportAndDoctorAgreeOnFindingsAndExitCode(t *testing.T) {
	w := reportWorld(t)
	s, out, _ := streams(false)
	doctorCode := Run(context.Background(), []string{"doctor", "--cluster", "prod", "-o", "json"}, w.deps(s))
	var doc scenarioJSON
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Findings) == 0 {
		t.Fatal("doctor found nothing in a world with problems")
	}
	s, out, _ = streams(false)
	reportCode := Run(context.Background(), []string{"report", "--cluster", "prod"}, w.deps(s))
	if reportCode != doctorCode {
		t.Errorf("report exits %d, doctor %d", reportCode, doctorCode)
	}
	page := out.String()
	if got := strings.Count(page, `<td class="sev `); got != len(doc.Findings) {
		t.Errorf("the page has %d findings, doctor %d", got, len(doc.Findings))
	}
	for _, f := range doc.Findings {
		if !strings.Contains(page, template.HTMLEscapeString(f.Message)) || !strings.Contains(page, template.HTMLEscapeString(f.Fix)) {
			t.Errorf("the page lacks doctor's %s finding on %s: %q", f.Check, f.Subject, f.Message)
		}
	}
}
