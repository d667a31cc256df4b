package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/rollout/rollouttest"
)

// rolloutWorld is a simulated cluster the real command runs against, as
// the account root (which opts roles in with principalArn).
type rolloutWorld struct {
	sim *rollouttest.Sim
}

func newRolloutWorld() *rolloutWorld {
	return &rolloutWorld{sim: rollouttest.New(rollouttest.Config{Latency: 50 * time.Millisecond})}
}

func (w *rolloutWorld) deps(s *IOStreams) Deps {
	acct := w.sim.Account()
	root := acct.RootARN()
	return Deps{
		IO: s,
		AWS: func(context.Context, GlobalOptions, io.Writer) (*AWS, error) {
			return &AWS{Region: "us-east-1", ECS: w.sim.ECS(), EC2: w.sim.EC2(), IAM: w.sim.IAM(),
				STS: acct.STSAs(root), Settings: acct.ECSAs(root), NewECS: acct.ECSFactory(),
				Rollout: RolloutClients{ECS: w.sim.ECS(), ASG: w.sim.AutoScaling(), Clock: w.sim}}, nil
		},
		Catalog: catalog.Default(),
		Now:     w.sim.Now,
	}
}

func (w *rolloutWorld) run(ctx context.Context, args ...string) (ExitCode, string, string) {
	s, out, errOut := streams(false)
	code := Run(ctx, args, w.deps(s))
	return code, out.String(), errOut.String()
}

// watch starts the invariant checks on the instances without a trunk in groups.
func (w *rolloutWorld) watch(t *testing.T, maxUnavailable int, stale []string) {
	t.Helper()
	w.sim.Watch(maxUnavailable, stale)
}

func (w *rolloutWorld) noViolations(t *testing.T) {
	t.Helper()
	if v := w.sim.Violations(); len(v) > 0 {
		t.Fatalf("invariants broken:\n%s", strings.Join(v, "\n"))
	}
}

func (w *rolloutWorld) settingWrites() int {
	n := 0
	for _, op := range w.sim.Account().Ops() {
		if op == "ecs:PutAccountSetting" {
			n++
		}
	}
	return n
}

func TestRolloutOptsTheRoleInReplacesTheClusterAndPrintsTheContractJSON(t *testing.T) {
	w := newRolloutWorld()
	stale := w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstanceRole", Count: 6})
	loose := w.sim.AddLoose("c5.large", "ecsInstanceRole")
	w.sim.AddService("web", 12, 100, 200)
	w.watch(t, 1, stale)

	code, out, errOut := w.run(context.Background(), "rollout", "--cluster", "prod", "--max-unavailable", "1", "--yes", "-o", "json")
	if code != ExitUnhealthy {
		t.Fatalf("exit %d, want 3 (finished with a skipped instance); stderr:\n%s", code, errOut)
	}
	w.noViolations(t)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"cluster", "roles", "replaced", "skipped", "slots", "result"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	var got struct {
		Cluster  string   `json:"cluster"`
		Roles    []string `json:"roles"`
		Replaced []struct {
			Old, New, TrunkENIID string
		} `json:"replaced"`
		Skipped []struct {
			ContainerInstanceID string `json:"containerInstanceId"`
			EC2InstanceID       string `json:"ec2InstanceId"`
			Reason              string `json:"reason"`
		} `json:"skipped"`
		Slots  struct{ Before, After int } `json:"slots"`
		Result string                      `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	roleArn := w.sim.Account().RoleARN("ecsInstanceRole")
	if got.Cluster != "prod" || !slices.Equal(got.Roles, []string{roleArn}) || got.Result != "done-with-skipped" {
		t.Fatalf("cluster %q roles %v result %q", got.Cluster, got.Roles, got.Result)
	}
	var old []string
	for _, r := range got.Replaced {
		old = append(old, r.Old)
	}
	sort.Strings(old)
	if !slices.Equal(old, stale) {
		t.Fatalf("replaced %v, want %v", old, stale)
	}
	if len(got.Skipped) != 1 || got.Skipped[0].EC2InstanceID != loose || !strings.Contains(got.Skipped[0].Reason, "Auto Scaling group") || got.Skipped[0].ContainerInstanceID == "" {
		t.Fatalf("skipped %+v, want %s, not in a group", got.Skipped, loose)
	}
	// 7 c5.large: 14 slots without trunks; 6 trunked (60) + the loose one (2) after.
	if got.Slots.Before != 14 || got.Slots.After != 62 {
		t.Fatalf("slots %d -> %d, want 14 -> 62", got.Slots.Before, got.Slots.After)
	}
	if v := w.sim.Account().Explicit(roleArn, accountsetting.AWSVPCTrunking); v != accountsetting.Enabled {
		t.Fatalf("role setting %q after the rollout, want it opted in", v)
	}
	var steps []string
	for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
		var ev struct {
			Step string `json:"step"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Step == "" {
			t.Fatalf("stderr line is not a JSON step: %q", line)
		}
		steps = append(steps, ev.Step)
	}
	for _, want := range []string{"plan", "opt-in", "batch", "launch", "registered", "drain", "drained", "terminate", "replaced", "done"} {
		if !slices.Contains(steps, want) {
			t.Errorf("no %q step on stderr: %v", want, steps)
		}
	}
}

func TestRolloutStopsWhenAReplacementRegistersWithoutATrunk(t *testing.T) {
	w := newRolloutWorld()
	stale := w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstanceRole", Count: 3})
	w.sim.AddService("web", 6, 100, 200)
	// The launch template now names a role nobody opted in.
	w.sim.SetLaunchRole("web", "otherRole")
	w.watch(t, 1, stale)
	code, out, errOut := w.run(context.Background(), "rollout", "--cluster", "prod", "--max-unavailable", "1", "--yes")
	if code != ExitError {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"rollout stopped (replacement-without-trunk)", "desired capacity of web left 1 above", "trunkctl status --cluster",
		// The hand-made way back is a command that runs as printed.
		"aws autoscaling set-desired-capacity --auto-scaling-group-name web --desired-capacity $(( $(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names web --query 'AutoScalingGroups[0].DesiredCapacity' --output text) - 1 ))",
		"aws autoscaling delete-tags --tags ResourceId=web,ResourceType=auto-scaling-group,Key=trunkctl:rollout-raised"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not say %q:\n%s", want, errOut)
		}
	}
	if n := w.sim.Calls()["ecs:UpdateContainerInstancesState"]; n != 0 {
		t.Fatalf("%d drains after a replacement without a trunk", n)
	}
	if !strings.Contains(out, "replace") {
		t.Fatalf("stdout has no plan:\n%s", out)
	}
	w.noViolations(t)
}

func TestRolloutDryRunPrintsThePlanAndChangesNothing(t *testing.T) {
	w := newRolloutWorld()
	stale := w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstanceRole", Count: 4})
	w.sim.AddService("web", 8, 100, 200)
	w.watch(t, 1, stale)
	code, out, errOut := w.run(context.Background(), "rollout", "--cluster", "prod", "--dry-run", "--role", "spareRole")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if n := w.sim.Writes(); n != 0 || w.settingWrites() != 0 {
		t.Fatalf("dry run made %d cluster writes and %d setting writes", n, w.settingWrites())
	}
	for _, want := range []string{stale[0], "replace", "would call batch 1/4: autoscaling SetDesiredCapacity web 4 -> 5", "would call batch 4/4: ecs UpdateContainerInstancesState DRAINING",
		"would call ecs PutAccountSetting awsvpcTrunking=enabled for " + w.sim.Account().RoleARN("ecsInstanceRole"),
		"would call ecs PutAccountSetting awsvpcTrunking=enabled for " + w.sim.Account().RoleARN("spareRole")} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout does not say %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "awsvpc task slots 8 -> 40") {
		t.Errorf("stderr does not give the slots:\n%s", errOut)
	}
}

func TestRolloutInterruptedExits130AndTheSameCommandResumes(t *testing.T) {
	w := newRolloutWorld()
	stale := w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstanceRole", Count: 4})
	w.sim.AddService("web", 8, 50, 200)
	w.watch(t, 2, stale)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	drained := false
	w.sim.OnCall = func(op string, _ int) {
		switch {
		case op == "ecs:UpdateContainerInstancesState":
			drained = true
		case drained && op == "ecs:DescribeContainerInstances":
			cancel()
		}
	}
	args := []string{"rollout", "--cluster", "prod", "--max-unavailable", "2", "--yes"}
	code, _, errOut := w.run(ctx, args...)
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want 130; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "left DRAINING") || !strings.Contains(errOut, "run the same trunkctl rollout again") {
		t.Fatalf("stderr does not say what was left and what to do:\n%s", errOut)
	}
	w.sim.OnCall = nil
	code, out, errOut := w.run(context.Background(), args...)
	if code != ExitOK {
		t.Fatalf("resume: exit %d; stderr:\n%s", code, errOut)
	}
	for _, id := range stale {
		if !strings.Contains(out, id) {
			t.Errorf("the resumed run does not list %s as replaced:\n%s", id, out)
		}
	}
	if !strings.Contains(errOut, "already DRAINING") {
		t.Errorf("the resumed run does not start from the DRAINING batch:\n%s", errOut)
	}
	w.noViolations(t)
}

func TestRolloutWithoutATerminalNeedsYesOnlyWhenThereIsSomethingToDo(t *testing.T) {
	t.Run("a plan with work is a usage error naming --yes, and nothing changes", func(t *testing.T) {
		w := newRolloutWorld()
		w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstanceRole", Count: 1})
		code, _, errOut := w.run(context.Background(), "rollout", "--cluster", "prod")
		if code != ExitUsage || !strings.Contains(errOut, "--yes") {
			t.Fatalf("exit %d, stderr %q; want a usage error naming --yes", code, errOut)
		}
		if n := w.sim.Writes(); n != 0 {
			t.Fatalf("%d calls that change the cluster before the usage error", n)
		}
	})
	t.Run("an empty plan is not an error", func(t *testing.T) {
		w := newRolloutWorld()
		w.sim.EnableRole("ecsInstanceRole")
		w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstanceRole", Count: 2, Trunked: true})
		code, _, errOut := w.run(context.Background(), "rollout", "--cluster", "prod")
		if code != ExitOK || strings.Contains(errOut, "--yes") || w.sim.Writes() != 0 {
			t.Fatalf("exit %d, %d writes, stderr:\n%s\nwant exit 0 and nothing changed", code, w.sim.Writes(), errOut)
		}
	})
}

func TestADryRunsResultIsDryRunEvenWithSkippedInstances(t *testing.T) {
	for _, tt := range []struct {
		name  string
		group bool
	}{{"with instances to replace", true}, {"with nothing to replace", false}} {
		t.Run(tt.name, func(t *testing.T) {
			w := newRolloutWorld()
			if tt.group {
				w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstanceRole", Count: 2})
			}
			w.sim.AddLoose("c5.large", "ecsInstanceRole")
			code, out, errOut := w.run(context.Background(), "rollout", "--cluster", "prod", "--dry-run", "-o", "json")
			var got struct {
				Result  string            `json:"result"`
				Skipped []json.RawMessage `json:"skipped"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("stdout is not one JSON object (%v):\n%s", err, out)
			}
			if code != ExitOK || got.Result != resultDryRun || len(got.Skipped) != 1 || w.sim.Writes() != 0 {
				t.Fatalf("exit %d, result %q, %d skipped, %d writes; stderr:\n%s", code, got.Result, len(got.Skipped), w.sim.Writes(), errOut)
			}
		})
	}
}

func TestRolloutAsksBeforeChangingAnything(t *testing.T) {
	w := newRolloutWorld()
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstanceRole", Count: 2})
	s, _, errOut := streams(true)
	s.In = strings.NewReader("n\n")
	code := Run(context.Background(), []string{"rollout", "--cluster", "prod"}, w.deps(s))
	if code != ExitError || !strings.Contains(errOut.String(), "Opt in "+w.sim.Account().RoleARN("ecsInstanceRole")+", then replace 2 container instance(s) of prod") {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if w.sim.Writes() != 0 || w.settingWrites() != 0 {
		t.Fatal("changed something after the answer no")
	}
}

func TestRolloutTableListsEachReplacementWithItsTrunkAndALiveView(t *testing.T) {
	w := newRolloutWorld()
	stale := w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstanceRole", Count: 4})
	w.sim.AddService("web", 8, 100, 200)
	w.sim.EnableRole("ecsInstanceRole")
	w.watch(t, 2, stale)
	code, out, errOut := w.run(context.Background(), "rollout", "--cluster", "prod", "--max-unavailable", "2", "--yes")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	replaced := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\t")
		if len(f) == 4 && slices.Contains(stale, f[0]) && strings.HasPrefix(f[2], "eni-") && f[3] == "web" {
			replaced++
		}
	}
	if replaced != 4 {
		t.Fatalf("%d OLD NEW TRUNK GROUP rows, want 4:\n%s", replaced, out)
	}
	for _, want := range []string{"batch 1/2] launch: desired capacity 4 -> 6", "batch 2/2, about ", "done: 4 replaced, 0 skipped; awsvpc task slots 8 -> 40", "Check: trunkctl instances --cluster prod"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not say %q:\n%s", want, errOut)
		}
	}
	w.noViolations(t)
}

// jsonLines decodes every stderr line as a JSON object, failing on any other.
func jsonLines(t *testing.T, errOut string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("stderr line is not JSON: %q\nstderr:\n%s", line, errOut)
		}
		out = append(out, v)
	}
	return out
}

func TestRolloutStoppedUnderJSONPrintsTheObjectAndEndsStderrWithAJSONError(t *testing.T) {
	w := newRolloutWorld()
	stale := w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstanceRole", Count: 3})
	w.sim.AddService("web", 6, 100, 200)
	w.sim.SetLaunchRole("web", "otherRole")
	w.watch(t, 1, stale)
	code, out, errOut := w.run(context.Background(), "rollout", "--cluster", "prod", "--max-unavailable", "1", "--yes", "-o", "json")
	if code != ExitError {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	var got struct {
		Result string `json:"result"`
		Stop   struct {
			Kind, Message, Advice string
			Raised                map[string]int
		} `json:"stop"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if got.Result != "stopped" || got.Stop.Kind != "replacement-without-trunk" || got.Stop.Raised["web"] != 1 ||
		!strings.Contains(got.Stop.Advice, "trunkctl status --cluster prod") {
		t.Fatalf("stdout %+v, want result stopped with the kind, the raise and the advice", got)
	}
	lines := jsonLines(t, errOut)
	last := lines[len(lines)-1]
	if !strings.Contains(fmt.Sprint(last["error"]), "rollout stopped (replacement-without-trunk)") ||
		!strings.Contains(fmt.Sprint(last["advice"]), "trunkctl status --cluster prod") || last["exitCode"] != float64(1) {
		t.Fatalf("last stderr line %v, want the error, its advice and exit code 1", last)
	}
	if lines[len(lines)-2]["step"] != "stopped" {
		t.Fatalf("stderr line before the error %v, want the stopped step", lines[len(lines)-2])
	}
	w.noViolations(t)
}

func TestRolloutUsageErrorUnderJSONIsJSONToo(t *testing.T) {
	w := newRolloutWorld()
	code, out, errOut := w.run(context.Background(), "rollout", "--cluster", "prod", "--standalone", "never", "--yes", "-o", "json")
	if code != ExitUsage {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, errOut)
	}
	var got struct {
		Cluster, Result string
		Stop            struct{ Kind, Message string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Result != "error" || got.Stop.Kind != "usage" || got.Cluster != "prod" {
		t.Fatalf("stdout %q (%v), want the object with result error, stop kind usage", out, err)
	}
	lines := jsonLines(t, errOut)
	if len(lines) != 1 || !strings.Contains(fmt.Sprint(lines[0]["error"]), "--standalone must be wait, stop or fail") || lines[0]["exitCode"] != float64(2) {
		t.Fatalf("stderr %v, want one JSON error line with exit code 2", lines)
	}
}

func TestRolloutWarningsUnderJSONAreJSONLines(t *testing.T) {
	var buf strings.Builder
	wr := &jsonLineWriter{w: &buf}
	fmt.Fprintf(wr, "warning: role %s", "x")
	fmt.Fprint(wr, " unreadable\nnote\n")
	if got := buf.String(); got != "{\"warning\":\"role x unreadable\"}\n{\"message\":\"note\"}\n" {
		t.Fatalf("got %q", got)
	}
}
