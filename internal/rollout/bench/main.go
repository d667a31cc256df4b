// Command bench runs a rollout against a simulated cluster on a virtual
// clock, once per --max-surge value (each on a fresh cluster, side by side),
// and reports its virtual duration against its floor, the API calls, the
// real CPU time, and the lowest share of each service's tasks running. It
// exits 1 when a target is missed: duration over 1.1x the floor, a service
// below its minimumHealthyPercent, or an invariant broken.
package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/rollout"
	"github.com/trunkctl/trunkctl/internal/rollout/rollouttest"
)

func main() {
	var (
		instances = flag.Int("instances", 200, "stale c5.large container instances")
		groups    = flag.Int("groups", 4, "Auto Scaling groups they are spread over")
		tasks     = flag.Int("tasks", 400, "service tasks")
		services  = flag.Int("services", 8, "services (half at minimumHealthyPercent 100, half at 50)")
		maxUnav   = flag.String("max-unavailable", "10%", "batch size: N or P%")
		maxSurge  = flag.String("max-surge", "0,100%", "comma-separated --max-surge values, each run on a fresh simulated cluster: N or P%")
		launch    = flag.Duration("launch", 90*time.Second, "launch to InService")
		register  = flag.Duration("register", 30*time.Second, "InService to the container instance ACTIVE")
		drain     = flag.Duration("drain", 60*time.Second, "a moved task's start on its new instance")
		latency   = flag.Duration("latency", 50*time.Millisecond, "per API call")
		refuse    = flag.Bool("refuse-deregister", false, "ECS refuses DeregisterContainerInstance (as without the IAM permission): a surge waits for terminated instances to leave DRAINING")
	)
	flag.Parse()
	sc := scenario{refuse: *refuse, instances: *instances, groups: *groups, tasks: *tasks, services: *services, launch: *launch, register: *register, drain: *drain, latency: *latency}
	var err error
	if sc.maxUnav, err = rollout.ParseMaxUnavailable(*maxUnav); err != nil {
		fmt.Fprintln(os.Stderr, "bench-rollout:", err)
		os.Exit(2)
	}
	var surges []rollout.MaxSurge
	for _, v := range strings.Split(*maxSurge, ",") {
		ms, err := rollout.ParseMaxSurge(v)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-rollout:", err)
			os.Exit(2)
		}
		surges = append(surges, ms)
	}
	fmt.Printf("rollout of %d stale c5.large in %d groups, %d service tasks in %d services, --max-unavailable %s, %s launch, %s registration, %s drain, %s per call, virtual clock\n",
		sc.instances, sc.groups, sc.tasks, sc.services, sc.maxUnav, sc.launch, sc.register, sc.drain, sc.latency)
	var missed []string
	var rows []outcome
	for _, ms := range surges {
		o, err := sc.run(ms)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-rollout:", err)
			os.Exit(1)
		}
		rows = append(rows, o)
		missed = append(missed, o.missed()...)
	}
	fmt.Printf("\n%-12s %7s %9s %9s %6s %8s %6s %8s  %s\n", "max-surge", "batches", "virtual", "floor", "ratio", "replaced", "calls", "cpu", "floor is")
	for _, o := range rows {
		ratio := "-"
		if o.floor > 0 {
			ratio = fmt.Sprintf("%.3f", o.ratio())
		}
		fmt.Printf("%-12s %7d %9s %9s %6s %8d %6d %8s  %s\n", fmt.Sprintf("%s (%d)", o.surge, o.plan.MaxSurge), len(o.plan.Batches), o.virtual.Round(time.Second),
			o.floor, ratio, len(o.res.Replaced), o.calls, o.cpu.Round(time.Millisecond), o.floorIs)
	}
	for _, o := range rows {
		fmt.Printf("\n--max-surge %s:\n", o.surge)
		fmt.Printf("  replaced:       %d (%d skipped); awsvpc task slots %d -> %d; desired capacity back to %s\n", len(o.res.Replaced), len(o.res.Skipped), o.res.SlotsBefore, o.res.SlotsAfter, o.desired)
		fmt.Printf("  API calls:      %d (%s)\n", o.calls, o.byOp)
		fmt.Printf("  peak desired:   %s (MaxSize %d each)\n", o.peak, 2*(sc.instances/sc.groups))
		fmt.Printf("  lowest running: %s\n", strings.Join(o.shares, ", "))
		fmt.Printf("  invariants:     %d violation(s)\n", len(o.violations))
		for _, v := range o.violations {
			fmt.Println("    " + v)
		}
	}
	if len(rows) > 1 && rows[0].virtual > 0 {
		for _, o := range rows[1:] {
			fmt.Printf("\n--max-surge %s vs %s: %s vs %s, %.2fx faster\n", o.surge, rows[0].surge, o.virtual.Round(time.Second), rows[0].virtual.Round(time.Second), rows[0].virtual.Seconds()/o.virtual.Seconds())
		}
	}
	if len(missed) > 0 {
		fmt.Fprintln(os.Stderr, "bench-rollout: "+strings.Join(missed, "; "))
		os.Exit(1)
	}
}

// scenario is the simulated cluster and its timings.
type scenario struct {
	refuse                             bool
	instances, groups, tasks, services int
	maxUnav                            rollout.MaxUnavailable
	launch, register, drain, latency   time.Duration
}

// outcome is one run's figures.
type outcome struct {
	surge      rollout.MaxSurge
	plan       *rollout.Plan
	res        *rollout.Result
	virtual    time.Duration
	floor      time.Duration
	floorIs    string
	calls      int
	byOp       string
	cpu        time.Duration
	shares     []string
	below      bool
	violations []string
	desired    string
	peak       string
}

func (o outcome) ratio() float64 { return o.virtual.Seconds() / o.floor.Seconds() }

// missed lists the targets the run missed: duration over 1.1x its floor, a
// service below its minimumHealthyPercent, an invariant broken.
func (o outcome) missed() []string {
	var out []string
	if o.floor > 0 && o.ratio() > 1.1 {
		out = append(out, fmt.Sprintf("--max-surge %s: virtual duration %.3fx the floor, over the 1.1x target", o.surge, o.ratio()))
	}
	if o.below {
		out = append(out, fmt.Sprintf("--max-surge %s: a service fell below its minimumHealthyPercent", o.surge))
	}
	if len(o.violations) > 0 {
		out = append(out, fmt.Sprintf("--max-surge %s: %d invariant violation(s)", o.surge, len(o.violations)))
	}
	return out
}

func (sc scenario) run(ms rollout.MaxSurge) (outcome, error) {
	out := outcome{surge: ms}
	sim := rollouttest.New(rollouttest.Config{Latency: sc.latency, LaunchDelay: sc.launch, RegisterDelay: sc.register, TaskStartDelay: sc.drain})
	var names []string
	for g := range sc.groups {
		n := sc.instances / sc.groups
		if g < sc.instances%sc.groups {
			n++
		}
		name := fmt.Sprintf("ecs-capacity-%d", g+1)
		names = append(names, name)
		sim.AddGroup(rollouttest.GroupSpec{Name: name, Role: "ecsInstanceRole", Count: n})
	}
	for s := range sc.services {
		n := sc.tasks / sc.services
		if s < sc.tasks%sc.services {
			n++
		}
		minHealthy := 100
		if s%2 == 1 {
			minHealthy = 50
		}
		sim.AddService(fmt.Sprintf("svc-%d", s+1), n, minHealthy, 200)
	}
	sim.EnableRole("ecsInstanceRole")
	peak := map[string]int{}
	sim.OnCall = func(string, int) {
		for _, n := range names {
			peak[n] = max(peak[n], sim.Desired(n))
		}
	}

	engine := &rollout.Engine{ECS: sim.ECS(), ASG: sim.AutoScaling(), Clock: sim, Catalog: catalog.Default()}
	if sc.refuse {
		engine.ECS = refusingECS{sim.ECS()}
	}
	o := rollout.Options{Cluster: sim.Cluster(), MaxUnavailable: sc.maxUnav, MaxSurge: ms}
	cpu0 := cpuTime()
	start := sim.Now()
	in, judged, err := sim.Judge(context.Background())
	if err != nil {
		return out, err
	}
	engine.Judge = in
	p, err := engine.Plan(context.Background(), o, judged)
	if err != nil {
		return out, err
	}
	var replace []string
	for _, it := range p.Items {
		if it.Action == rollout.ActionReplace {
			replace = append(replace, it.EC2InstanceID)
		}
	}
	sim.Watch(p.MaxUnavailable, replace)
	res, err := engine.Run(context.Background(), p, o)
	if err != nil {
		return out, fmt.Errorf("--max-surge %s: %w", ms, err)
	}
	out.plan, out.res = p, res
	out.virtual = sim.Now().Sub(start)
	out.cpu = cpuTime() - cpu0
	b := time.Duration(len(p.Batches))
	// Without a surge each batch launches, registers and drains in turn.
	// A surge that covers every later batch launches them all at once: one
	// launch and registration, then the drains in turn. A partial surge
	// lies between, and only the latter is a bound for it (no target).
	switch {
	case p.MaxSurge == 0:
		out.floor, out.floorIs = b*(sc.launch+sc.register+sc.drain), fmt.Sprintf("batches x (launch + register + drain) = %d x (%s + %s + %s)", len(p.Batches), sc.launch, sc.register, sc.drain)
	case len(p.Batches) > 0 && p.MaxSurge >= len(replace)-len(p.Batches[0]):
		out.floor, out.floorIs = sc.launch+sc.register+b*sc.drain, fmt.Sprintf("launch + register + batches x drain = %s + %s + %d x %s", sc.launch, sc.register, len(p.Batches), sc.drain)
	default:
		out.floorIs = fmt.Sprintf("partial surge: no floor; bound %s", sc.launch+sc.register+b*sc.drain)
	}
	calls := sim.Calls()
	ops := make([]string, 0, len(calls))
	for op, n := range calls {
		ops = append(ops, fmt.Sprintf("%s %d", op, n))
		out.calls += n
	}
	sort.Strings(ops)
	out.byOp = strings.Join(ops, ", ")
	share := sim.MinShare()
	for _, n := range slices.Sorted(maps.Keys(share)) {
		out.shares = append(out.shares, fmt.Sprintf("%s %.0f%% (min %d%%)", n, share[n]*100, sim.MinHealthy(n)))
		if share[n]*100 < float64(sim.MinHealthy(n)) {
			out.below = true
		}
	}
	out.violations = sim.Violations()
	var desired, peaks []string
	for _, n := range names {
		desired = append(desired, fmt.Sprintf("%s %d", n, sim.Desired(n)))
		peaks = append(peaks, fmt.Sprintf("%s %d", n, peak[n]))
	}
	out.desired, out.peak = strings.Join(desired, ", "), strings.Join(peaks, ", ")
	return out, nil
}

// refusingECS answers DeregisterContainerInstance as ECS does without the
// permission.
type refusingECS struct{ rollout.ECSAPI }

func (refusingECS) DeregisterContainerInstance(context.Context, *ecs.DeregisterContainerInstanceInput, ...func(*ecs.Options)) (*ecs.DeregisterContainerInstanceOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: ecs:DeregisterContainerInstance"}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
