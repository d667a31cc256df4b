// Command bench runs a rollout against a simulated cluster on a virtual
// clock and reports its virtual duration against the floor, the API calls,
// the real CPU time, and the lowest share of each service's tasks running.
// It exits 1 when a target is missed: duration over 1.1x the floor, or a
// service below its minimumHealthyPercent.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

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
		launch    = flag.Duration("launch", 90*time.Second, "launch to InService")
		register  = flag.Duration("register", 30*time.Second, "InService to the container instance ACTIVE")
		drain     = flag.Duration("drain", 60*time.Second, "a moved task's start on its new instance")
		latency   = flag.Duration("latency", 50*time.Millisecond, "per API call")
	)
	flag.Parse()
	if err := run(*instances, *groups, *tasks, *services, *maxUnav, *launch, *register, *drain, *latency); err != nil {
		fmt.Fprintln(os.Stderr, "bench-rollout:", err)
		os.Exit(1)
	}
}

func run(instances, groups, tasks, services int, maxUnav string, launch, register, drain, latency time.Duration) error {
	mu, err := rollout.ParseMaxUnavailable(maxUnav)
	if err != nil {
		return err
	}
	sim := rollouttest.New(rollouttest.Config{Latency: latency, LaunchDelay: launch, RegisterDelay: register, TaskStartDelay: drain})
	for g := range groups {
		n := instances / groups
		if g < instances%groups {
			n++
		}
		sim.AddGroup(rollouttest.GroupSpec{Name: fmt.Sprintf("ecs-capacity-%d", g+1), Role: "ecsInstanceRole", Count: n})
	}
	for s := range services {
		n := tasks / services
		if s < tasks%services {
			n++
		}
		minHealthy := 100
		if s%2 == 1 {
			minHealthy = 50
		}
		sim.AddService(fmt.Sprintf("svc-%d", s+1), n, minHealthy, 200)
	}
	sim.EnableRole("ecsInstanceRole")

	engine := &rollout.Engine{ECS: sim.ECS(), ASG: sim.AutoScaling(), Clock: sim, Catalog: catalog.Default()}
	o := rollout.Options{Cluster: sim.Cluster(), MaxUnavailable: mu}
	cpu0 := cpuTime()
	start := sim.Now()
	in, judged, err := sim.Judge(context.Background())
	if err != nil {
		return err
	}
	engine.Judge = in
	p, err := engine.Plan(context.Background(), o, judged)
	if err != nil {
		return err
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
		return err
	}
	virtual := sim.Now().Sub(start)
	cpu := cpuTime() - cpu0

	floor := time.Duration(len(p.Batches)) * (launch + register + drain)
	ratio := virtual.Seconds() / floor.Seconds()
	fmt.Printf("rollout of %d stale c5.large in %d groups, %d service tasks in %d services, --max-unavailable %s (%d), %s launch, %s registration, %s drain, %s per call\n",
		instances, groups, tasks, services, maxUnav, p.MaxUnavailable, launch, register, drain, latency)
	fmt.Printf("replaced:         %d (%d skipped); awsvpc task slots %d -> %d\n", len(res.Replaced), len(res.Skipped), res.SlotsBefore, res.SlotsAfter)
	fmt.Printf("virtual duration: %s; floor %d batches x (%s + %s + %s) = %s; ratio %.3f (target <= 1.1)\n",
		virtual.Round(time.Second), len(p.Batches), launch, register, drain, floor, ratio)
	calls := sim.Calls()
	ops := make([]string, 0, len(calls))
	total := 0
	for op, n := range calls {
		ops = append(ops, fmt.Sprintf("%s %d", op, n))
		total += n
	}
	sort.Strings(ops)
	fmt.Printf("API calls:        %d (%s)\n", total, strings.Join(ops, ", "))
	fmt.Printf("real CPU time:    %s\n", cpu.Round(time.Millisecond))
	share := sim.MinShare()
	names := make([]string, 0, len(share))
	for n := range share {
		names = append(names, n)
	}
	sort.Strings(names)
	below := false
	var shares []string
	for _, n := range names {
		shares = append(shares, fmt.Sprintf("%s %.0f%% (min %d%%)", n, share[n]*100, sim.MinHealthy(n)))
		if share[n]*100 < float64(sim.MinHealthy(n)) {
			below = true
		}
	}
	fmt.Printf("lowest running:   %s\n", strings.Join(shares, ", "))
	v := sim.Violations()
	fmt.Printf("invariants:       %d violation(s)\n", len(v))
	for _, s := range v {
		fmt.Println("  " + s)
	}
	switch {
	case ratio > 1.1:
		return fmt.Errorf("virtual duration %.3fx the floor, over the 1.1x target", ratio)
	case below:
		return fmt.Errorf("a service fell below its minimumHealthyPercent")
	case len(v) > 0:
		return fmt.Errorf("%d invariant violation(s)", len(v))
	}
	return nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
