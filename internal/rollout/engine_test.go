package rollout_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/rollout"
	"github.com/trunkctl/trunkctl/internal/rollout/rollouttest"
)

// world is a simulated cluster with an engine wired to it.
type world struct {
	sim    *rollouttest.Sim
	engine *rollout.Engine
	events []rollout.Event
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{sim: rollouttest.New(rollouttest.Config{Latency: 50 * time.Millisecond})}
	w.engine = &rollout.Engine{ECS: w.sim.ECS(), ASG: w.sim.AutoScaling(), Clock: w.sim, Catalog: catalog.Default(),
		Observe: func(e rollout.Event) { w.events = append(w.events, e) }}
	return w
}

func (w *world) opts(maxUnavailable string) rollout.Options {
	mu, err := rollout.ParseMaxUnavailable(maxUnavailable)
	if err != nil {
		panic(err)
	}
	return rollout.Options{Cluster: w.sim.Cluster(), MaxUnavailable: mu, DrainTimeout: 10 * time.Minute}
}

// plan plans and starts the invariant checks on the plan's replace items.
func (w *world) plan(t *testing.T, o rollout.Options) *rollout.Plan {
	t.Helper()
	in, judged, err := w.sim.Judge(context.Background())
	if err != nil {
		t.Fatalf("judge: %v", err)
	}
	w.engine.Judge = in
	p, err := w.engine.Plan(context.Background(), o, judged)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	var replace []string
	for _, it := range p.Items {
		if it.Action == rollout.ActionReplace {
			replace = append(replace, it.EC2InstanceID)
		}
	}
	w.sim.Watch(p.MaxUnavailable, replace)
	return p
}

func (w *world) noViolations(t *testing.T) {
	t.Helper()
	if v := w.sim.Violations(); len(v) > 0 {
		t.Fatalf("invariants broken:\n%s", strings.Join(v, "\n"))
	}
}

func (w *world) steps(step rollout.Step) []rollout.Event {
	var out []rollout.Event
	for _, e := range w.events {
		if e.Step == step {
			out = append(out, e)
		}
	}
	return out
}

func TestAFullRolloutReplacesEveryStaleInstanceWithATrunkedOne(t *testing.T) {
	w := newWorld(t)
	a := w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstance", Count: 10})
	b := w.sim.AddGroup(rollouttest.GroupSpec{Name: "api", Role: "ecsInstance", Count: 10})
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "done", Role: "ecsInstance", Count: 2, Trunked: true})
	loose := w.sim.AddLoose("c5.large", "ecsInstance")
	w.sim.AddService("web", 20, 100, 200)
	w.sim.AddService("api", 10, 50, 200)
	w.sim.EnableRole("ecsInstance")

	o := w.opts("5")
	p := w.plan(t, o)
	if got := [3]int{p.Count(rollout.ActionTrunked), p.Count(rollout.ActionReplace), p.Count(rollout.ActionSkip)}; got != [3]int{2, 20, 1} {
		t.Fatalf("plan trunked/replace/skip = %v, want [2 20 1]", got)
	}
	if len(p.Batches) != 4 || p.MaxUnavailable != 5 {
		t.Fatalf("batches %d of %d, want 4 of 5", len(p.Batches), p.MaxUnavailable)
	}
	res, err := w.engine.Run(context.Background(), p, o)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	w.noViolations(t)
	if len(res.Replaced) != 20 {
		t.Fatalf("replaced %d, want 20", len(res.Replaced))
	}
	for _, r := range res.Replaced {
		if !strings.HasPrefix(r.TrunkENI, "eni-") || r.New == "" || (!slices.Contains(a, r.Old) && !slices.Contains(b, r.Old)) {
			t.Errorf("replacement %+v: want an old instance of web or api replaced by one with a trunk", r)
		}
		if st := w.sim.InstanceState(r.Old); st != rollouttest.Terminating && st != rollouttest.Terminated {
			t.Errorf("old instance %s is %s, want terminated", r.Old, st)
		}
	}
	if len(res.Skipped) != 1 || res.Skipped[0].EC2InstanceID != loose || res.Skipped[0].Reason != rollout.ReasonNotInGroup {
		t.Fatalf("skipped = %+v, want only %s, not in a group", res.Skipped, loose)
	}
	// 23 c5.large: 2 slots each without a trunk, 10 with: 2 trunked + 21 not = 62 before;
	// 22 trunked + the loose one = 222 after.
	if res.SlotsBefore != 62 || res.SlotsAfter != 222 {
		t.Fatalf("slots %d -> %d, want 62 -> 222", res.SlotsBefore, res.SlotsAfter)
	}
	if w.sim.Desired("web") != 10 || w.sim.Desired("api") != 10 {
		t.Fatalf("desired web %d api %d, want both back to 10", w.sim.Desired("web"), w.sim.Desired("api"))
	}
	if w.sim.Running("web") != 20 || w.sim.Running("api") != 10 {
		t.Fatalf("running web %d api %d, want 20 and 10", w.sim.Running("web"), w.sim.Running("api"))
	}
	if share := w.sim.MinShare()["web"]; share < 1 {
		t.Fatalf("web (minimumHealthyPercent 100) fell to %.0f%% of its tasks", share*100)
	}
	if n := len(w.steps(rollout.StepBatch)); n != 4 {
		t.Fatalf("%d batch events, want 4", n)
	}
}

func TestAReplacementWithoutATrunkStopsBeforeAnythingDrains(t *testing.T) {
	w := newWorld(t)
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstance", Count: 4})
	w.sim.AddService("web", 4, 100, 200)
	// The role is never opted in: replacements register without a trunk.
	o := w.opts("2")
	p := w.plan(t, o)
	_, err := w.engine.Run(context.Background(), p, o)
	var stop *rollout.StopError
	if !errors.As(err, &stop) || stop.Kind != rollout.StopNoTrunk {
		t.Fatalf("err = %v, want a %s stop", err, rollout.StopNoTrunk)
	}
	if len(stop.Draining) != 0 || w.sim.Calls()["ecs:UpdateContainerInstancesState"] != 0 {
		t.Fatalf("left DRAINING %v after %d drain calls, want none", stop.Draining, w.sim.Calls()["ecs:UpdateContainerInstancesState"])
	}
	if stop.Raised["web"] != 2 || !strings.Contains(stop.Error(), "desired capacity of web left 2 above") {
		t.Fatalf("stop %q (raised %v): want the raised desired capacity said", stop.Error(), stop.Raised)
	}
	if !strings.Contains(stop.Error(), "registered ACTIVE") || !strings.Contains(stop.Error(), "no trunk") {
		t.Fatalf("stop says %q, want what was seen", stop.Error())
	}
	w.noViolations(t)
}

func TestAGroupAtMaxSizeDrainsFirstAndLetsTheGroupReplace(t *testing.T) {
	w := newWorld(t)
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "full", Role: "ecsInstance", Count: 4, Max: 4})
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "spare", Role: "ecsInstance", Count: 1, Trunked: true})
	w.sim.AddService("web", 8, 50, 200)
	w.sim.EnableRole("ecsInstance")
	o := w.opts("2")
	p := w.plan(t, o)
	res, err := w.engine.Run(context.Background(), p, o)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	w.noViolations(t)
	if len(res.Replaced) != 4 || w.sim.Desired("full") != 4 {
		t.Fatalf("replaced %d, desired %d; want 4 replaced at desired 4", len(res.Replaced), w.sim.Desired("full"))
	}
	if n := w.sim.Calls()["autoscaling:SetDesiredCapacity"]; n != 0 {
		t.Fatalf("%d SetDesiredCapacity calls on a group at its MaxSize", n)
	}
}

func TestAServiceThatCannotPlaceItsTasksStopsTheRollout(t *testing.T) {
	w := newWorld(t)
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "full", Role: "ecsInstance", Count: 4, Max: 4})
	w.sim.AddService("web", 8, 100, 200) // every slot taken, none may stop first: nowhere to go
	w.sim.EnableRole("ecsInstance")
	o := w.opts("2")
	p := w.plan(t, o)
	_, err := w.engine.Run(context.Background(), p, o)
	var stop *rollout.StopError
	if !errors.As(err, &stop) || stop.Kind != rollout.StopUnplaceable || !slices.Equal(stop.Instances, []string{"web"}) {
		t.Fatalf("err = %v, want a %s stop naming web", err, rollout.StopUnplaceable)
	}
	if len(stop.Draining) != 2 || !strings.Contains(stop.Error(), "left DRAINING") {
		t.Fatalf("stop %q: want the 2 instances left DRAINING named", stop.Error())
	}
	if n := w.sim.Calls()["autoscaling:TerminateInstanceInAutoScalingGroup"]; n != 0 {
		t.Fatalf("%d terminations after a placement failure", n)
	}
	w.noViolations(t)
}

func TestScaleInProtectionIsLiftedBeforeTermination(t *testing.T) {
	w := newWorld(t)
	ids := w.sim.AddGroup(rollouttest.GroupSpec{Name: "cp", Role: "ecsInstance", Count: 3, Protect: true})
	w.sim.AddService("web", 6, 100, 200)
	w.sim.EnableRole("ecsInstance")
	o := w.opts("3")
	p := w.plan(t, o)
	if _, err := w.engine.Run(context.Background(), p, o); err != nil {
		t.Fatalf("run: %v", err)
	}
	w.noViolations(t) // the simulator flags terminating a protected instance
	if n := w.sim.Calls()["autoscaling:SetInstanceProtection"]; n != 1 {
		t.Fatalf("%d SetInstanceProtection calls, want 1 for the batch", n)
	}
	for _, id := range ids {
		if w.sim.Protected(id) {
			t.Errorf("%s still protected", id)
		}
	}
}

func TestStandaloneTasksFollowThePolicy(t *testing.T) {
	tests := []struct {
		name       string
		policy     rollout.Standalone
		endsAfter  time.Duration // 0: never ends by itself
		wantKind   rollout.StopKind
		wantStops  int
		wantWrites bool
	}{
		{name: "wait lets a task that ends finish first", policy: rollout.StandaloneWait, endsAfter: 4 * time.Minute, wantWrites: true},
		{name: "wait stops at the drain timeout for a task that never ends", policy: rollout.StandaloneWait, wantKind: rollout.StopDrainTimeout, wantWrites: true},
		{name: "stop stops the task once the services have moved", policy: rollout.StandaloneStop, wantStops: 1, wantWrites: true},
		{name: "fail stops before any change", policy: rollout.StandaloneFail, wantKind: rollout.StopStandalone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			ids := w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstance", Count: 2})
			w.sim.AddService("web", 2, 100, 200)
			task := w.sim.AddStandalone(ids[0])
			if tt.endsAfter > 0 {
				w.sim.EndTaskAfter(task, tt.endsAfter)
			}
			w.sim.EnableRole("ecsInstance")
			o := w.opts("2")
			o.Standalone = tt.policy
			p := w.plan(t, o)
			res, err := w.engine.Run(context.Background(), p, o)
			if tt.wantKind == "" {
				if err != nil || len(res.Replaced) != 2 {
					t.Fatalf("run: %v, replaced %d; want both replaced", err, len(res.Replaced))
				}
			} else {
				var stop *rollout.StopError
				if !errors.As(err, &stop) || stop.Kind != tt.wantKind {
					t.Fatalf("err = %v, want a %s stop", err, tt.wantKind)
				}
				if w.sim.InstanceState(ids[0]) != rollouttest.InService {
					t.Fatalf("%s is %s, want it kept", ids[0], w.sim.InstanceState(ids[0]))
				}
			}
			if n := w.sim.Calls()["ecs:StopTask"]; n != tt.wantStops {
				t.Fatalf("%d StopTask calls, want %d", n, tt.wantStops)
			}
			if (w.sim.Writes() > 0) != tt.wantWrites {
				t.Fatalf("%d writes, want writes: %v", w.sim.Writes(), tt.wantWrites)
			}
			w.noViolations(t)
		})
	}
}

func TestAnInterruptedRolloutResumesFromTheDrainingBatch(t *testing.T) {
	w := newWorld(t)
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstance", Count: 6})
	w.sim.AddService("web", 12, 50, 200)
	w.sim.EnableRole("ecsInstance")
	o := w.opts("3")
	p := w.plan(t, o)
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
	_, err := w.engine.Run(ctx, p, o)
	var ie *rollout.InterruptedError
	if !errors.As(err, &ie) || len(ie.Draining) != 3 || !errors.Is(err, context.Canceled) || ie.Raised["web"] != 3 {
		t.Fatalf("err = %v, want an interrupt leaving 3 instances DRAINING and web 3 above its desired capacity", err)
	}
	w.sim.OnCall = nil

	w.events = nil
	again := w.plan(t, o)
	if len(again.Batches) != 2 || !slices.Equal(again.Batches[0], ie.Draining) {
		t.Fatalf("resumed batches %v, want the DRAINING %v first", again.Batches, ie.Draining)
	}
	res, err := w.engine.Run(context.Background(), again, o)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if len(res.Replaced) != 6 {
		t.Fatalf("resume replaced %d, want 6", len(res.Replaced))
	}
	w.sim.Advance(time.Minute) // the last batch's instances finish terminating
	if _, trunked, draining := w.sim.Counts(); draining != 0 || trunked < 6 {
		t.Fatalf("after resume %d trunked, %d draining", trunked, draining)
	}
	if len(w.steps(rollout.StepNote)) == 0 {
		t.Fatal("the resume did not say how it takes back the earlier run's raise")
	}
	if d := w.sim.Desired("web"); d != 6 {
		t.Fatalf("desired capacity of web %d after the resume, want 6 again (the interrupted run raised it by 3)", d)
	}
	if tags := w.sim.Tags("web"); len(tags) != 0 {
		t.Fatalf("web still tagged %v after the resume, want the tag gone", tags)
	}
	w.noViolations(t)
}

func TestTheRaiseIsKeptOnTheGroupUntilItIsTakenBack(t *testing.T) {
	w := newWorld(t)
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstance", Count: 4})
	w.sim.EnableRole("ecsInstance")
	o := w.opts("2")
	p := w.plan(t, o)
	var during []string
	w.sim.OnCall = func(op string, _ int) {
		if op == "ecs:UpdateContainerInstancesState" {
			during = append(during, w.sim.Tags("web")[rollout.RaisedTagKey])
		}
	}
	if _, err := w.engine.Run(context.Background(), p, o); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := "raised=2 from=4 cluster=" + w.sim.Cluster()
	if len(during) != 2 || during[0] != want || during[1] != want {
		t.Fatalf("tag %s while draining = %q, want %q in both batches", rollout.RaisedTagKey, during, want)
	}
	if tags := w.sim.Tags("web"); len(tags) != 0 || w.sim.Desired("web") != 4 {
		t.Fatalf("after the rollout: tags %v, desired %d; want none and 4", tags, w.sim.Desired("web"))
	}
	w.noViolations(t)
}

func TestADryRunPlansAndChangesNothing(t *testing.T) {
	w := newWorld(t)
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstance", Count: 4})
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "full", Role: "ecsInstance", Count: 2, Max: 2})
	w.sim.AddService("web", 4, 100, 200)
	o := w.opts("3")
	o.DryRun = true
	p := w.plan(t, o)
	res, err := w.engine.Run(context.Background(), p, o)
	if err != nil || len(res.Replaced) != 0 {
		t.Fatalf("dry run: %v, replaced %d", err, len(res.Replaced))
	}
	if n := w.sim.Writes(); n != 0 {
		t.Fatalf("dry run made %d writes", n)
	}
	would := w.steps(rollout.StepWouldCall)
	var text []string
	for _, e := range would {
		text = append(text, e.Message)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"SetDesiredCapacity web 4 -> 7", "UpdateContainerInstancesState DRAINING", "2 without (the group replaces them)"} {
		if !strings.Contains(all, want) {
			t.Errorf("dry run does not say %q:\n%s", want, all)
		}
	}
}

func TestAnInstanceRefreshReplacesGroupsWhoseEveryInstanceIsStale(t *testing.T) {
	w := newWorld(t)
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstance", Count: 6})
	w.sim.AddService("web", 12, 50, 200)
	w.sim.EnableRole("ecsInstance")
	o := w.opts("2")
	o.Method = rollout.MethodRefresh
	p := w.plan(t, o)
	if !slices.Equal(p.Refresh, []string{"web"}) || len(p.Batches) != 0 {
		t.Fatalf("refresh %v batches %v, want web by refresh", p.Refresh, p.Batches)
	}
	res, err := w.engine.Run(context.Background(), p, o)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(res.Replaced) != 6 || w.sim.Calls()["autoscaling:StartInstanceRefresh"] != 1 {
		t.Fatalf("replaced %d with %d refreshes", len(res.Replaced), w.sim.Calls()["autoscaling:StartInstanceRefresh"])
	}
	w.noViolations(t)
}

func TestAnInstanceRefreshThatLaunchesWithoutATrunkIsCancelled(t *testing.T) {
	w := newWorld(t)
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstance", Count: 4})
	w.sim.AddService("web", 4, 50, 200)
	o := w.opts("2")
	o.Method = rollout.MethodRefresh
	p := w.plan(t, o)
	_, err := w.engine.Run(context.Background(), p, o)
	var stop *rollout.StopError
	if !errors.As(err, &stop) || stop.Kind != rollout.StopNoTrunk || w.sim.Calls()["autoscaling:CancelInstanceRefresh"] != 1 {
		t.Fatalf("err = %v after %d cancels, want a no-trunk stop and the refresh cancelled", err, w.sim.Calls()["autoscaling:CancelInstanceRefresh"])
	}
	w.noViolations(t)
}

func TestTheSimulatorCatchesATerminationOfAnInstanceWithServiceTasks(t *testing.T) {
	// The invariant checks would be worthless if they could not fail.
	w := newWorld(t)
	ids := w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstance", Count: 2})
	w.sim.AddService("web", 4, 100, 200)
	w.sim.Watch(1, ids[:1])
	asg := w.sim.AutoScaling()
	for _, id := range ids {
		if _, err := asg.TerminateInstanceInAutoScalingGroup(context.Background(), terminateInput(id)); err != nil {
			t.Fatal(err)
		}
	}
	w.sim.Advance(time.Minute)
	v := strings.Join(w.sim.Violations(), "\n")
	for _, want := range []string{"while it runs service task", ids[1] + ", which is not in the plan", "draining or missing, more than 1", "below its minimumHealthyPercent"} {
		if !strings.Contains(v, want) {
			t.Errorf("violations do not say %q:\n%s", want, v)
		}
	}
}

func TestMaxUnavailableParsesCountsAndPercentages(t *testing.T) {
	tests := []struct {
		in    string
		total int
		want  int
		err   bool
	}{
		{in: "10%", total: 200, want: 20},
		{in: "10%", total: 5, want: 1},
		{in: "3", total: 200, want: 3},
		{in: "100%", total: 7, want: 7},
		{in: "0", err: true},
		{in: "101%", err: true},
		{in: "ten", err: true},
	}
	for _, tt := range tests {
		m, err := rollout.ParseMaxUnavailable(tt.in)
		if (err != nil) != tt.err {
			t.Fatalf("%q: err %v", tt.in, err)
		}
		if err == nil && m.Of(tt.total) != tt.want {
			t.Errorf("%q of %d = %d, want %d", tt.in, tt.total, m.Of(tt.total), tt.want)
		}
	}
}

func TestAMixedGroupReplacesOnlyItsStaleInstancesEvenWithMethodRefresh(t *testing.T) {
	w := newWorld(t)
	ids := w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstance", Count: 5, TrunkedFirst: 2})
	w.sim.AddService("web", 8, 100, 200)
	w.sim.EnableRole("ecsInstance")
	o := w.opts("2")
	o.Method = rollout.MethodRefresh
	p := w.plan(t, o) // the invariant checks allow acting on the 3 stale instances only
	if len(p.Refresh) != 0 || len(p.Batches) != 2 {
		t.Fatalf("refresh %v, batches %v: a group with trunked instances must be drained, not refreshed", p.Refresh, p.Batches)
	}
	res, err := w.engine.Run(context.Background(), p, o)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	w.noViolations(t)
	if len(res.Replaced) != 3 || w.sim.InstanceState(ids[0]) != rollouttest.InService || w.sim.InstanceState(ids[1]) != rollouttest.InService {
		t.Fatalf("replaced %d; trunked instances %s, %s; want 3 replaced and the trunked ones kept", len(res.Replaced), w.sim.InstanceState(ids[0]), w.sim.InstanceState(ids[1]))
	}
	if w.sim.Calls()["autoscaling:StartInstanceRefresh"] != 0 {
		t.Fatal("an instance refresh would have replaced the trunked instances too")
	}
}

func TestAnInterruptedInstanceRefreshIsCancelledSoTheResumeDoesNotRaceIt(t *testing.T) {
	w := newWorld(t)
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstance", Count: 6})
	w.sim.AddService("web", 12, 50, 200)
	w.sim.EnableRole("ecsInstance")
	o := w.opts("2")
	o.Method = rollout.MethodRefresh
	p := w.plan(t, o)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.sim.OnCall = func(op string, n int) {
		if op == "autoscaling:DescribeInstanceRefreshes" && n == 40 { // mid-refresh
			cancel()
		}
	}
	_, err := w.engine.Run(ctx, p, o)
	var ie *rollout.InterruptedError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an interrupt", err)
	}
	w.sim.OnCall = nil
	if n := w.sim.Calls()["autoscaling:CancelInstanceRefresh"]; n != 1 {
		t.Fatalf("%d CancelInstanceRefresh calls after the interrupt, want 1: the refresh would go on replacing beside the next run", n)
	}
	if !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("the interrupt does not say the instance refresh was cancelled: %v", err)
	}
	// Run again at once: the cancel is still finishing the step in flight,
	// so the run stops before it changes anything.
	soon := w.plan(t, o)
	writes := w.sim.Writes()
	_, err = w.engine.Run(context.Background(), soon, o)
	var stop *rollout.StopError
	if !errors.As(err, &stop) || stop.Kind != rollout.StopRefresh || !strings.Contains(err.Error(), "Cancelling") || w.sim.Writes() != writes {
		t.Fatalf("run during the cancel: %v (%d writes); want a stop naming the refresh still Cancelling, before any change", err, w.sim.Writes()-writes)
	}
	// Later, the same command: the group is part new now, so it is
	// drained in batches, and nothing else replaces beside it.
	w.sim.Advance(10 * time.Minute)
	w.events = nil
	again := w.plan(t, o)
	if len(again.Refresh) != 0 || len(again.Batches) == 0 {
		t.Fatalf("resume plan refresh %v batches %v, want batches", again.Refresh, again.Batches)
	}
	if _, err := w.engine.Run(context.Background(), again, o); err != nil {
		t.Fatalf("resume: %v", err)
	}
	w.sim.Advance(time.Minute)
	if _, trunked, draining := w.sim.Counts(); draining != 0 || trunked != 6 {
		t.Fatalf("after the resume %d trunked, %d draining; want 6 and 0", trunked, draining)
	}
	w.noViolations(t)
}

func TestARunAfterAStopWithARaisedGroupEndsAtTheGroupsFirstDesiredCapacity(t *testing.T) {
	w := newWorld(t)
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstance", Count: 3})
	w.sim.AddService("web", 3, 50, 200)
	w.sim.SetLaunchRole("web", "otherRole") // not opted in: the first launch has no trunk
	o := w.opts("1")
	p := w.plan(t, o)
	_, err := w.engine.Run(context.Background(), p, o)
	var stop *rollout.StopError
	if !errors.As(err, &stop) || stop.Kind != rollout.StopNoTrunk || stop.Raised["web"] != 1 || w.sim.Desired("web") != 4 {
		t.Fatalf("err = %v, desired %d; want a no-trunk stop with web raised 3 -> 4", err, w.sim.Desired("web"))
	}
	// The operator fixes the launch template's role and runs the same command.
	w.sim.SetLaunchRole("web", "ecsInstance")
	w.sim.EnableRole("ecsInstance")
	again := w.plan(t, o)
	if again.Groups["web"].Raised != 1 || again.Count(rollout.ActionReplace) != 4 {
		t.Fatalf("plan: group %+v, %d to replace; want the raise of 1 read back and 4 to replace (the launch without a trunk too)", again.Groups["web"], again.Count(rollout.ActionReplace))
	}
	res, err := w.engine.Run(context.Background(), again, o)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if len(res.Replaced) != 4 || w.sim.Desired("web") != 3 || len(w.sim.Tags("web")) != 0 {
		t.Fatalf("replaced %d, desired %d, tags %v; want 4, back to 3, no tag", len(res.Replaced), w.sim.Desired("web"), w.sim.Tags("web"))
	}
	w.noViolations(t)
}
