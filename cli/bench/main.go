// Command bench runs `trunkctl instances`, `trunkctl doctor` and `trunkctl enis` against a
// simulated cluster (fakes with a fixed latency per call) and prints the API
// calls made against the minimum the API maxima allow, and the wall time,
// once per scenario: all tasks in services, and some standalone.
//
//	go run ./cli/bench -instances 2000 -tasks 10000 -services 50 -standalone 0,100,1000 -latency 50ms
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/trunkctl/trunkctl/cli"
	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

func main() {
	instances := flag.Int("instances", 2000, "container instances")
	tasks := flag.Int("tasks", 10000, "awsvpc tasks")
	services := flag.Int("services", 50, "services the tasks belong to")
	standalone := flag.String("standalone", "0,100,1000", "comma-separated standalone task counts, one scenario each")
	latency := flag.Duration("latency", 50*time.Millisecond, "latency of every API call")
	concurrency := flag.Int("concurrency", inventory.DefaultConcurrency, "calls in flight at most")
	noRoles := flag.Bool("no-roles", false, "run instances with --no-roles (no role reads)")
	flag.Parse()

	ceil := func(n, d int) int { return (n + d - 1) / d }
	// The minimum is that of the unfiltered walk of the same data: every
	// container instance and task listed and described in full pages.
	// instances adds, for the role behind them: DescribeInstances, one
	// GetInstanceProfile, GetCallerIdentity, AssumeRole, ListAccountSettings;
	// enis adds DescribeNetworkInterfaces for trunk and task ENIs.
	ecsMin := 2*ceil(*instances, inventory.MaxECSListPage) + 2*ceil(*tasks, inventory.MaxECSListPage)
	minInstances := ecsMin
	// instances and doctor judge the same reads: besides the walk and the
	// roles, DescribeClusters, the service-linked role (GetRole), the
	// instances' subnets (DescribeSubnets), and the signals' own floor: one
	// DescribeCapacityProviders, DescribeAutoScalingGroups and
	// DescribeLaunchTemplateVersions for the one group, DescribeServices for
	// 10 services a call, and one page of stopped tasks.
	signalsMin := 3 + 3 + ceil(*services, inventory.MaxDescribeServices) + 1
	if !*noRoles {
		minInstances += ceil(*instances, inventory.MaxEC2IDs) + 4 + signalsMin
	}
	minEnis := ecsMin + ceil(*instances+*tasks, inventory.MaxEC2IDs)
	minDoctor := minInstances
	fmt.Printf("simulated cluster: %d container instances, %d awsvpc tasks in %d services (some standalone, per scenario), %s per call, at most %d calls in flight\n",
		*instances, *tasks, *services, *latency, *concurrency)
	fmt.Printf("minimum = the unfiltered walk's: 2 x ceil(instances/100) + 2 x ceil(tasks/100) = %d; instances and doctor add ceil(instances/200) + 4 role reads + %d for the cluster, service-linked role, subnets and signals = %d; enis adds ceil((instances+tasks)/200) ENI describes = %d\n",
		ecsMin, signalsMin, minInstances, minEnis)
	fmt.Printf("%-10s %-10s %7s %7s %6s %9s %8s  %-30s %-70s %s\n", "standalone", "command", "calls", "minimum", "ratio", "wall", "inflight", "targets (<=1.1x, <=2s)", "ListTasks by filter", "calls by operation")
	failed := false
	for _, field := range strings.Split(*standalone, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 0 || n > *tasks {
			fmt.Fprintf(os.Stderr, "-standalone: %q is not a task count\n", field)
			os.Exit(2)
		}
		c := inventorytest.New()
		c.GenerateScale(inventorytest.Scale{Instances: *instances, Tasks: *tasks, Services: *services, Standalone: n})
		c.AddBenchCapacity(*instances)
		c.Latency = *latency
		for _, b := range []struct {
			name    string
			minimum int
		}{{"instances", minInstances}, {"doctor", minDoctor}, {"enis", minEnis}} {
			calls, wall, ok := run(c, b.name, *concurrency, *noRoles)
			failed = failed || !ok
			ratio := float64(calls.total) / float64(b.minimum)
			verdict := fmt.Sprintf("calls %s, wall %s", met(ratio <= 1.1), met(wall <= 2*time.Second))
			fmt.Printf("%-10d %-10s %7d %7d %5.2fx %8.2fs %8d  %-30s %-70s %s\n", n, b.name, calls.total, b.minimum, ratio, wall.Seconds(), c.MaxInFlight(), verdict, inventorytest.FormatCounts(c.ListTasksBy()), calls.byOp)
		}
	}
	fmt.Printf("floor: ListContainerInstances pages are a sequential token chain: %d pages x %s = %s; so are ListTasks pages of one partition, and all %d of the unfiltered walk (%s) when standalone tasks force it\n",
		ceil(*instances, inventory.MaxECSListPage), *latency, time.Duration(ceil(*instances, inventory.MaxECSListPage))**latency,
		ceil(*tasks, inventory.MaxECSListPage), time.Duration(ceil(*tasks, inventory.MaxECSListPage))**latency)
	if failed {
		os.Exit(1)
	}
}

type calls struct {
	total int
	byOp  string
}

// run runs one command against the cluster and an account where the
// instance role is enabled and reads are enforced by principal.
func run(c *inventorytest.Cluster, name string, concurrency int, noRoles bool) (calls, time.Duration, bool) {
	acct := accountsettingtest.New()
	acct.AddRole("EcsInstanceRole", accountsettingtest.RoleState{})
	acct.SetExplicit(acct.RoleARN("EcsInstanceRole"), accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	const caller = "arn:aws:sts::123456789012:assumed-role/Admin/bench"
	c.ResetCalls()
	deps := cli.Deps{
		IO: &cli.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: os.Stderr},
		AWS: func(context.Context, cli.GlobalOptions, io.Writer) (*cli.AWS, error) {
			return &cli.AWS{Region: c.Region, ECS: c.ECS(), EC2: c.EC2(), IAM: c.IAM(),
				STS: acct.STSAs(caller), Settings: acct.ECSAs(caller), NewECS: acct.ECSFactory(),
				AutoScaling: c.AutoScaling(), CloudTrail: c.CloudTrail()}, nil
		},
		Concurrency: concurrency,
	}
	start := time.Now()
	args := []string{name, "--cluster", c.Name, "--output", "json"}
	if name == "instances" && noRoles {
		args = append(args, "--no-roles")
	}
	code := cli.Run(context.Background(), args, deps)
	wall := time.Since(start)
	ok := code == cli.ExitOK
	if !ok {
		fmt.Fprintf(os.Stderr, "%s exited %d\n", name, code)
	}
	return calls{total: c.TotalCalls() + len(acct.Ops()), byOp: strings.TrimSpace(c.SortedOps() + " " + inventorytest.FormatCounts(opCounts(acct.Ops())))}, wall, ok
}

func opCounts(ops []string) map[string]int {
	n := map[string]int{}
	for _, o := range ops {
		n[o]++
	}
	return n
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
