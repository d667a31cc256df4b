// Command bench runs `trunkctl instances` and `trunkctl enis` against a
// simulated cluster (fakes with a fixed latency per call) and prints the API
// calls made against the minimum the API maxima allow, and the wall time.
//
//	go run ./cli/bench -instances 2000 -tasks 10000 -latency 50ms
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
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
	latency := flag.Duration("latency", 50*time.Millisecond, "latency of every API call")
	concurrency := flag.Int("concurrency", inventory.DefaultConcurrency, "calls in flight at most")
	noRoles := flag.Bool("no-roles", false, "run instances with --no-roles (no role reads)")
	flag.Parse()

	c := inventorytest.New()
	c.Generate(*instances, *tasks)
	c.Latency = *latency
	// The instance role, enabled, in an account that enforces who may read it.
	acct := accountsettingtest.New()
	acct.AddRole("EcsInstanceRole", accountsettingtest.RoleState{})
	acct.SetExplicit(acct.RoleARN("EcsInstanceRole"), accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	const caller = "arn:aws:sts::123456789012:assumed-role/Admin/bench"

	ceil := func(n, d int) int { return (n + d - 1) / d }
	// instances: list and describe container instances and tasks; and for the
	// role behind them: DescribeInstances, one GetInstanceProfile,
	// GetCallerIdentity, AssumeRole, ListAccountSettings.
	minInstances := 2*ceil(*instances, inventory.MaxECSListPage) + 2*ceil(*tasks, inventory.MaxECSListPage)
	if !*noRoles {
		minInstances += ceil(*instances, inventory.MaxEC2IDs) + 4
	}
	minEnis := 2*ceil(*instances, inventory.MaxECSListPage) + 2*ceil(*tasks, inventory.MaxECSListPage) +
		ceil(*instances+*tasks, inventory.MaxEC2IDs)
	fmt.Printf("simulated cluster: %d container instances, %d awsvpc tasks, %s per call, at most %d calls in flight\n",
		*instances, *tasks, *latency, *concurrency)
	fmt.Printf("%-10s %7s %7s %6s %9s %8s  %-30s %s\n", "command", "calls", "minimum", "ratio", "wall", "inflight", "targets (<=1.1x, <=2s)", "calls by operation")
	failed := false
	for _, b := range []struct {
		name    string
		minimum int
	}{{"instances", minInstances}, {"enis", minEnis}} {
		c.ResetCalls()
		acct.Reset()
		deps := cli.Deps{
			IO: &cli.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: os.Stderr},
			AWS: func(context.Context, cli.GlobalOptions, io.Writer) (*cli.AWS, error) {
				return &cli.AWS{Region: c.Region, ECS: c.ECS(), EC2: c.EC2(), IAM: c.IAM(),
					STS: acct.STSAs(caller), Settings: acct.ECSAs(caller), NewECS: acct.ECSFactory()}, nil
			},
			Concurrency: *concurrency,
		}
		start := time.Now()
		args := []string{b.name, "--cluster", c.Name, "--output", "json"}
		if b.name == "instances" && *noRoles {
			args = append(args, "--no-roles")
		}
		code := cli.Run(context.Background(), args, deps)
		wall := time.Since(start)
		if code != cli.ExitOK {
			fmt.Fprintf(os.Stderr, "%s exited %d\n", b.name, code)
			failed = true
		}
		calls := c.TotalCalls() + len(acct.Ops())
		ratio := float64(calls) / float64(b.minimum)
		verdict := fmt.Sprintf("calls %s, wall %s", met(ratio <= 1.1), met(wall <= 2*time.Second))
		fmt.Printf("%-10s %7d %7d %5.2fx %8.2fs %8d  %-30s %s\n", b.name, calls, b.minimum, ratio, wall.Seconds(), c.MaxInFlight(), verdict, strings.TrimSpace(c.SortedOps()+" "+countOps(acct.Ops())))
	}
	chain := max(ceil(*tasks, inventory.MaxECSListPage), ceil(*instances, inventory.MaxECSListPage))
	fmt.Printf("floor: ListTasks and ListContainerInstances pages are sequential token chains: %d pages x %s = %s\n",
		chain, *latency, time.Duration(chain)**latency)
	if failed {
		os.Exit(1)
	}
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func countOps(ops []string) string {
	n := map[string]int{}
	for _, o := range ops {
		n[o]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d ", k, n[k])
	}
	return strings.TrimSpace(b.String())
}
