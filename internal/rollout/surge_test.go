package rollout_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/trunkctl/trunkctl/internal/rollout"
	"github.com/trunkctl/trunkctl/internal/rollout/rollouttest"
)

// surgeWorld is three groups of 10 stale c5.large (one at its MaxSize, one
// with room for 4 more, one with room for all), two services filling their
// slots, the role opted in.
func surgeWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "a-roomy", Role: "ecsInstance", Count: 10})
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "b-tight", Role: "ecsInstance", Count: 10, Max: 14})
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "c-full", Role: "ecsInstance", Count: 10, Max: 10})
	w.sim.AddService("web", 30, 100, 200)
	w.sim.AddService("api", 30, 50, 200)
	w.sim.EnableRole("ecsInstance")
	return w
}

var surgeGroups = []string{"a-roomy", "b-tight", "c-full"}

// endState is what a rollout leaves behind, without the ids it made up.
type endState struct {
	replaced, slotsAfter             int
	active, trunked, draining        int
	desired                          [3]int
	tags                             int
	webRunning, apiRunning, oldsLeft int
}

func (w *world) endState(t *testing.T, res *rollout.Result, olds []string) endState {
	t.Helper()
	w.sim.Advance(time.Minute) // the last batch finishes terminating
	var s endState
	s.replaced, s.slotsAfter = len(res.Replaced), res.SlotsAfter
	s.active, s.trunked, s.draining = w.sim.Counts()
	for i, g := range surgeGroups {
		s.desired[i] = w.sim.Desired(g)
		s.tags += len(w.sim.Tags(g))
	}
	s.webRunning, s.apiRunning = w.sim.Running("web"), w.sim.Running("api")
	for _, id := range olds {
		if st := w.sim.InstanceState(id); st != rollouttest.Terminated {
			s.oldsLeft++
		}
	}
	return s
}

func staleIDs(p *rollout.Plan) []string {
	var out []string
	for _, it := range p.Items {
		if it.Action == rollout.ActionReplace {
			out = append(out, it.EC2InstanceID)
		}
	}
	return out
}

func TestARolloutWithMaxSurgeEndsInTheSameStateAsOneWithout(t *testing.T) {
	states := map[string]endState{}
	elapsed := map[string]time.Duration{}
	calls := map[string]map[string]int{}
	for _, surge := range []string{"0", "100%"} {
		w := surgeWorld(t)
		o := w.opts("3")
		ms, err := rollout.ParseMaxSurge(surge)
		if err != nil {
			t.Fatal(err)
		}
		o.MaxSurge = ms
		p := w.plan(t, o)
		peak := map[string]int{}
		w.sim.OnCall = func(string, int) {
			for _, g := range surgeGroups {
				peak[g] = max(peak[g], w.sim.Desired(g))
			}
		}
		res, err := w.engine.Run(context.Background(), p, o)
		if err != nil {
			t.Fatalf("--max-surge %s: %v", surge, err)
		}
		w.noViolations(t)
		if peak["b-tight"] > 14 || peak["c-full"] > 10 {
			t.Fatalf("--max-surge %s: peak desired %v, past a MaxSize (b-tight 14, c-full 10)", surge, peak)
		}
		states[surge] = w.endState(t, res, staleIDs(p))
		elapsed[surge] = res.Elapsed
		calls[surge] = w.sim.Calls()
		if surge == "100%" {
			if peak["a-roomy"] != 20 || peak["b-tight"] != 14 {
				t.Fatalf("--max-surge 100%%: peak desired %v, want a-roomy raised to 20 and b-tight to its MaxSize 14 ahead of the drains", peak)
			}
			// c-full is at its MaxSize: drained first, its replacements are the group's own.
			var full []string
			for _, e := range w.steps(rollout.StepTerminate) {
				if e.Group == "c-full" && !strings.Contains(e.Message, "the group launches its replacement") {
					full = append(full, e.Message)
				}
			}
			if len(full) != 0 {
				t.Fatalf("c-full (at MaxSize) terminated with a decrement: %v", full)
			}
		}
	}
	want := endState{replaced: 30, slotsAfter: 300, active: 30, trunked: 30, desired: [3]int{10, 10, 10}, webRunning: 30, apiRunning: 30}
	if states["0"] != want || states["100%"] != want {
		t.Fatalf("end states:\n without surge %+v\n with surge    %+v\nwant both      %+v", states["0"], states["100%"], want)
	}
	if elapsed["100%"] >= elapsed["0"] {
		t.Fatalf("with surge %s, without %s: want the surge faster", elapsed["100%"], elapsed["0"])
	}
	if n := calls["0"]["ecs:DeregisterContainerInstance"]; n != 0 {
		t.Fatalf("without surge the rollout deregistered %d instances, want none (today's calls)", n)
	}
}

// desiredMoves are a group's desired capacity changes, "a -> b", from the
// dry run's would-call lines or from the run's launch and terminate events.
var desiredMove = regexp.MustCompile(`SetDesiredCapacity (\S+) (\d+) -> (\d+)`)

func TestADryRunShowsTheSurgeAndTheRunRaisesExactlyAsShown(t *testing.T) {
	w := surgeWorld(t)
	o := w.opts("3")
	o.MaxSurge = rollout.MaxSurge{N: 100, Percent: true}
	o.DryRun = true
	p := w.plan(t, o)
	if p.MaxSurge != 30 {
		t.Fatalf("plan surge %d, want 30 (100%% of 30 instances)", p.MaxSurge)
	}
	if _, err := w.engine.Run(context.Background(), p, o); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if n := w.sim.Writes(); n != 0 {
		t.Fatalf("dry run made %d writes", n)
	}
	var shown []string
	var text []string
	for _, e := range w.steps(rollout.StepWouldCall) {
		text = append(text, e.Message)
		if m := desiredMove.FindStringSubmatch(e.Message); m != nil {
			shown = append(shown, fmt.Sprintf("batch %d %s %s -> %s", e.Batch, m[1], m[2], m[3]))
		}
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"SetDesiredCapacity a-roomy 10 -> 20 (7 ahead of the drains, for later batches)", "SetDesiredCapacity b-tight 10 -> 14 (4 ahead of the drains, for later batches)",
		"wait for 3 instance(s) launched ahead ACTIVE with a trunk", "TerminateInstanceInAutoScalingGroup: 0 with decrement, 3 without"} {
		if !strings.Contains(all, want) {
			t.Errorf("dry run does not say %q:\n%s", want, all)
		}
	}

	o.DryRun = false
	w.events = nil
	p = w.plan(t, o)
	if _, err := w.engine.Run(context.Background(), p, o); err != nil {
		t.Fatalf("run: %v", err)
	}
	w.noViolations(t)
	var done []string
	launch := regexp.MustCompile(`desired capacity (\d+) -> (\d+)`)
	for _, e := range w.steps(rollout.StepLaunch) {
		if m := launch.FindStringSubmatch(e.Message); m != nil {
			done = append(done, fmt.Sprintf("batch %d %s %s -> %s", e.Batch, e.Group, m[1], m[2]))
		}
	}
	if !slices.Equal(shown, done) || len(done) == 0 {
		t.Fatalf("raises shown by the dry run:\n %s\nraises made by the run:\n %s", strings.Join(shown, "\n "), strings.Join(done, "\n "))
	}
}

func TestAnInterruptedSurgeKeepsItsRaiseOnTheTagsAndTheNextRunGivesItBack(t *testing.T) {
	w := surgeWorld(t)
	o := w.opts("3")
	o.MaxSurge = rollout.MaxSurge{N: 100, Percent: true}
	p := w.plan(t, o)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.sim.OnCall = func(op string, n int) {
		if op == "autoscaling:TerminateInstanceInAutoScalingGroup" && n == 4 {
			cancel()
		}
	}
	_, err := w.engine.Run(ctx, p, o)
	var ie *rollout.InterruptedError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an interrupt", err)
	}
	w.sim.OnCall = nil
	if ie.Raised["a-roomy"] == 0 || ie.Raised["b-tight"] != 4 {
		t.Fatalf("interrupt says raised %v, want a-roomy still raised and b-tight raised by 4", ie.Raised)
	}
	for _, g := range []string{"a-roomy", "b-tight"} {
		want := fmt.Sprintf("raised=%d from=10 cluster=%s", ie.Raised[g], w.sim.Cluster())
		if got := w.sim.Tags(g)[rollout.RaisedTagKey]; got != want || w.sim.Desired(g) != 10+ie.Raised[g] {
			t.Fatalf("%s: tag %q, desired %d; want %q and desired 10+%d", g, got, w.sim.Desired(g), want, ie.Raised[g])
		}
	}

	// The same command again, with the surge: it continues and gives every
	// raise back. The invariants still count from the cluster as it was
	// before the first run (Watch is not restarted): from the interrupted
	// cluster, the instances launched ahead would count as capacity, and
	// giving them back as instances missing.
	in, judged, err := w.sim.Judge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w.engine.Judge = in
	again, err := w.engine.Plan(context.Background(), o, judged)
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.engine.Run(context.Background(), again, o)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	w.noViolations(t)
	if got := w.endState(t, res, staleIDs(p)); got.desired != [3]int{10, 10, 10} || got.tags != 0 || got.oldsLeft != 0 || got.draining != 0 || got.trunked != 30 {
		t.Fatalf("after the resume %+v, want every old instance gone, 30 trunked, desired 10 each, no tags", got)
	}
}

// refusingECS refuses DeregisterContainerInstance.
type refusingECS struct {
	rollout.ECSAPI
	refused int
}

func (r *refusingECS) DeregisterContainerInstance(context.Context, *ecs.DeregisterContainerInstanceInput, ...func(*ecs.Options)) (*ecs.DeregisterContainerInstanceOutput, error) {
	r.refused++
	return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: ecs:DeregisterContainerInstance"}
}

func TestWhenECSRefusesToDeregisterTheNextBatchWaitsForTheTerminatedToLeaveDraining(t *testing.T) {
	w := surgeWorld(t)
	ref := &refusingECS{ECSAPI: w.sim.ECS()}
	w.engine.ECS = ref
	o := w.opts("3")
	o.MaxSurge = rollout.MaxSurge{N: 100, Percent: true}
	p := w.plan(t, o)
	res, err := w.engine.Run(context.Background(), p, o)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	w.noViolations(t)
	if ref.refused == 0 || len(res.Replaced) != 30 {
		t.Fatalf("refused %d deregistrations, replaced %d; want some refused and all 30 replaced", ref.refused, len(res.Replaced))
	}
	waited := false
	for _, e := range w.steps(rollout.StepWait) {
		waited = waited || strings.Contains(e.Message, "to leave DRAINING")
	}
	if !waited {
		t.Fatal("no batch waited for the terminated instances to leave DRAINING")
	}
}

func TestMaxSurgeParsesCountsPercentagesAndZero(t *testing.T) {
	tests := []struct {
		in      string
		want    rollout.MaxSurge
		of200   int
		wantErr bool
	}{
		{in: "0", want: rollout.MaxSurge{}, of200: 0},
		{in: "20", want: rollout.MaxSurge{N: 20}, of200: 20},
		{in: "100%", want: rollout.MaxSurge{N: 100, Percent: true}, of200: 200},
		{in: "25%", want: rollout.MaxSurge{N: 25, Percent: true}, of200: 50},
		{in: "0%", want: rollout.MaxSurge{Percent: true}, of200: 0},
		{in: "101%", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "lots", wantErr: true},
	}
	for _, tt := range tests {
		var m rollout.MaxSurge
		err := m.Set(tt.in)
		if (err != nil) != tt.wantErr {
			t.Fatalf("%q: err %v, want error %v", tt.in, err, tt.wantErr)
		}
		if err != nil {
			if !errors.Is(err, rollout.ErrMaxSurge) {
				t.Fatalf("%q: err %v, want ErrMaxSurge", tt.in, err)
			}
			continue
		}
		if m != tt.want || m.Of(200) != tt.of200 || m.String() != tt.in {
			t.Fatalf("%q: %+v of 200 = %d, string %q; want %+v, %d", tt.in, m, m.Of(200), m.String(), tt.want, tt.of200)
		}
	}
}
