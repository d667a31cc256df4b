// Command benchfleet fans a cluster read out over a simulated organization
// (fakes with a fixed latency per call) and prints the API calls made
// against the minimum, the wall time against the floor that the concurrency
// bound allows, the peak calls in flight, and peak memory, once per
// concurrency and mode.
//
//	go run ./cli/benchfleet -accounts 300 -latency 50ms -concurrency 16,64
//
// Every account has 4 enabled Regions (its Regions are listed, as with
// --regions all), every Region 1 to 3 clusters of 20 container instances.
// Mode "read" runs internal/fleet with a cluster read per target
// (ListClusters, then per cluster ListContainerInstances and
// DescribeContainerInstances through inventory's loader), each account
// worked on as its page of ListAccounts arrives (fleet.RunListed); mode
// "list1st" is the same read after the whole account list (fleet.OrgAccounts,
// then fleet.Run), for comparison; mode "cli" runs
// `trunkctl instances --org --regions all --all-clusters --no-roles -o json`
// through cli.Run on the same fakes.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/trunkctl/trunkctl/cli"
	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/fleet"
	"github.com/trunkctl/trunkctl/internal/fleet/fleettest"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

const instancesPerCluster = 20

func main() {
	accounts := flag.Int("accounts", 300, "member accounts")
	latency := flag.Duration("latency", 50*time.Millisecond, "latency of every API call")
	concurrencies := flag.String("concurrency", "16,64", "comma-separated bounds on work in flight, one scenario each")
	scenario := flag.String("scenario", "", "run only MODE:CONCURRENCY in this process and print its line (used by the parent, so each scenario's peak memory is its own)")
	flag.Parse()
	if *scenario != "" {
		mode, n, ok := strings.Cut(*scenario, ":")
		c, err := strconv.Atoi(n)
		if !ok || err != nil || (mode != "read" && mode != "list1st" && mode != "cli") {
			fmt.Fprintf(os.Stderr, "-scenario: %q is not read:N, list1st:N or cli:N\n", *scenario)
			os.Exit(2)
		}
		var r result
		switch mode {
		case "cli":
			r = runCLI(*accounts, c, *latency)
		default:
			r = run(*accounts, c, *latency, mode == "list1st")
		}
		if report(mode, c, *latency, r) {
			os.Exit(1)
		}
		return
	}

	regions := len(fleettest.DefaultRegions)
	fmt.Printf("simulated organization: %d accounts x %d enabled Regions, 1-3 clusters of %d container instances per Region, %s per call\n",
		*accounts, regions, instancesPerCluster, *latency)
	fmt.Printf("%-11s %7s %7s %6s %8s %8s %6s %8s %10s %9s  %-40s %s\n", "mode concurrency", "calls", "minimum", "ratio", "wall", "floor", "ratio", "inflight", "heap peak", "RSS peak", "targets (<=1.1x, <=1.1x, <200 MB)", "calls by operation")
	failed := false
	for _, field := range strings.Split(*concurrencies, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "-concurrency: %q is not a positive number\n", field)
			os.Exit(2)
		}
		for _, mode := range []string{"read", "list1st", "cli"} {
			failed = !scenarioInChild(mode, n) || failed
		}
	}
	fmt.Printf("read: the fan-out with a cluster read per target (ListClusters, then per cluster ListContainerInstances and DescribeContainerInstances through inventory's loader), accounts worked on as their page arrives; list1st: the same after the whole account list; cli: cli.Run(\"instances --org --regions all --all-clusters --no-roles -o json\") on the same fakes\n")
	fmt.Printf("minimum = 1 GetCallerIdentity + ceil(accounts/20) ListAccounts + per account AssumeRole and DescribeRegions + per target ListClusters + per cluster 2 (read: list, describe; 20 instances fit one page) or 3 (cli: instances also lists the cluster's tasks, one empty page); floor = minimum / concurrency x latency\n")
	if failed {
		os.Exit(1)
	}
}

// report prints one scenario's line and says whether it failed.
func report(mode string, n int, latency time.Duration, r result) bool {
	{
		callRatio := float64(r.calls) / float64(r.minimum)
		floor := time.Duration(float64(r.minimum) / float64(n) * float64(latency))
		wallRatio := r.wall.Seconds() / floor.Seconds()
		mem := max(r.heapPeak, r.rssPeak)
		verdict := fmt.Sprintf("calls %s, wall %s, memory %s", met(callRatio <= 1.1), met(wallRatio <= 1.1), met(mem < 200<<20))
		fmt.Printf("%-7s %-3d %7d %7d %5.2fx %7.2fs %7.2fs %5.2fx %8d %8.1fMB %7.1fMB  %-40s %s\n", mode, n, r.calls, r.minimum, callRatio, r.wall.Seconds(), floor.Seconds(), wallRatio,
			r.peakInFlight, mb(r.heapPeak), mb(r.rssPeak), verdict, r.byOp)
		fmt.Printf("%-11s targets %d (%d failed), clusters %d, container instances %d (%d with a trunk)%s\n", "", r.targets, r.failedTargets, r.clusters, r.instances, r.trunked, r.note)
	}
	return r.failedTargets > 0
}

type result struct {
	calls, minimum, peakInFlight int
	wall                         time.Duration
	heapPeak, rssPeak            uint64
	targets, failedTargets       int
	clusters, instances, trunked int
	byOp                         string
	note                         string
}

// summary is what one target's read keeps: a few numbers.
type summary struct{ clusters, instances, trunked int }

func run(accounts, concurrency int, latency time.Duration, listFirst bool) result {
	runtime.GC()
	w := fleettest.New()
	w.Latency = latency
	w.AddAccounts(accounts, fleettest.Root)
	stop := sampleMemory()
	start := time.Now()
	res, err := read(context.Background(), w, concurrency, listFirst)
	if err != nil {
		fail(err)
	}
	wall := time.Since(start)
	heapPeak, rssPeak := stop()
	r := tally(w, accounts, res)
	r.wall, r.heapPeak, r.rssPeak = wall, heapPeak, rssPeak
	return r
}

// read is mode read (or, with listFirst, list1st) against w: who am I, then
// the fan-out with a cluster read per target.
func read(ctx context.Context, w *fleettest.World, concurrency int, listFirst bool) ([]fleet.Result[summary], error) {
	caller, err := accountsetting.WhoAmI(ctx, w.STS())
	if err != nil {
		return nil, err
	}
	base := aws.Config{Region: "us-east-1", Credentials: w.CallerCredentials()}
	f := fleet.New(base, caller, w.STS(), func(cfg aws.Config) fleet.RegionsAPI { return w.EC2(cfg) }, fleet.Options{Concurrency: concurrency})
	readOne := func(ctx context.Context, t fleet.Target, _ aws.Config) (summary, error) { return readTarget(ctx, w, t) }
	if listFirst {
		org, err := fleet.OrgAccounts(ctx, w.Organizations(), nil)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(org))
		for i, a := range org {
			ids[i] = a.ID
		}
		return fleet.Run(ctx, f, ids, nil, readOne), nil
	}
	// The accounts are worked on as their pages of ListAccounts arrive.
	_, res, err := fleet.RunListed(ctx, f, fleet.OrgLister(w.Organizations(), nil), nil, readOne)
	return res, err
}

// tally counts the calls w saw against the minimum for res.
func tally(w *fleettest.World, accounts int, res []fleet.Result[summary]) result {
	r := result{calls: w.TotalCalls(), peakInFlight: w.PeakInFlight(), byOp: inventorytest.FormatCounts(w.Calls())}
	r.minimum = 1 + (accounts+fleettest.PageSize-1)/fleettest.PageSize + 2*accounts
	for _, x := range res {
		r.targets++
		if x.Err != nil {
			r.failedTargets++
			fmt.Fprintln(os.Stderr, x.Err)
			continue
		}
		r.minimum += 1 + 2*x.Value.clusters
		r.clusters += x.Value.clusters
		r.instances += x.Value.instances
		r.trunked += x.Value.trunked
	}
	return r
}

// targetECS builds the target's clusters (1 to 3, by its account and
// Region; every fifth instance without a trunk) behind one ECS.
func targetECS(w *fleettest.World, t fleet.Target) *regionECS {
	n := 1 + int(fnv(t.Account+t.Region)%3)
	clusters := make([]*inventorytest.Cluster, n)
	for i := range clusters {
		c := inventorytest.New()
		c.Name, c.Region, c.AccountID = fmt.Sprintf("cluster-%d", i+1), t.Region, t.Account
		c.AddRole("EcsInstanceProfile", "EcsInstanceRole")
		for k := 1; k <= instancesPerCluster; k++ {
			c.AddInstance(inventorytest.InstanceSpec{N: k, Type: "c5.xlarge", Trunk: k%5 != 0})
		}
		clusters[i] = c
	}
	return &regionECS{w: w, region: (&inventorytest.Region{Clusters: clusters}).ECS()}
}

// readTarget lists the target's clusters and reads their container instances.
func readTarget(ctx context.Context, w *fleettest.World, t fleet.Target) (summary, error) {
	api := targetECS(w, t)
	var s summary
	l := inventory.NewLoader(api, nil, nil, inventory.DefaultConcurrency)
	out, err := api.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil {
		return s, err
	}
	for _, arn := range out.ClusterArns {
		cis, _, err := l.ContainerInstances(ctx, inventory.ResourceID(arn))
		if err != nil {
			return s, err
		}
		s.clusters++
		s.instances += len(cis)
		for _, ci := range cis {
			if ci.TrunkENI != "" {
				s.trunked++
			}
		}
	}
	return s, nil
}

// regionECS is the ECS of one account and Region: it waits for the
// account's rate limit, counts the call in the world (with its latency),
// and answers from the named cluster's fake.
type regionECS struct {
	w      *fleettest.World
	region *inventorytest.RegionECS
}

func (r *regionECS) enter(ctx context.Context, op string) (func(), error) {
	if err := fleet.WaitTurn(ctx); err != nil {
		return nil, err
	}
	return r.w.Enter(ctx, op)
}

func (r *regionECS) ListClusters(ctx context.Context, in *ecs.ListClustersInput, o ...func(*ecs.Options)) (*ecs.ListClustersOutput, error) {
	leave, err := r.enter(ctx, "ecs:ListClusters")
	if err != nil {
		return nil, err
	}
	defer leave()
	return r.region.ListClusters(ctx, in, o...)
}

func (r *regionECS) DescribeClusters(ctx context.Context, in *ecs.DescribeClustersInput, o ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error) {
	leave, err := r.enter(ctx, "ecs:DescribeClusters")
	if err != nil {
		return nil, err
	}
	defer leave()
	return r.region.DescribeClusters(ctx, in, o...)
}

func (r *regionECS) ListContainerInstances(ctx context.Context, in *ecs.ListContainerInstancesInput, o ...func(*ecs.Options)) (*ecs.ListContainerInstancesOutput, error) {
	leave, err := r.enter(ctx, "ecs:ListContainerInstances")
	if err != nil {
		return nil, err
	}
	defer leave()
	return r.region.ListContainerInstances(ctx, in, o...)
}

func (r *regionECS) DescribeContainerInstances(ctx context.Context, in *ecs.DescribeContainerInstancesInput, o ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error) {
	leave, err := r.enter(ctx, "ecs:DescribeContainerInstances")
	if err != nil {
		return nil, err
	}
	defer leave()
	return r.region.DescribeContainerInstances(ctx, in, o...)
}

func (r *regionECS) ListServices(ctx context.Context, in *ecs.ListServicesInput, o ...func(*ecs.Options)) (*ecs.ListServicesOutput, error) {
	leave, err := r.enter(ctx, "ecs:ListServices")
	if err != nil {
		return nil, err
	}
	defer leave()
	return r.region.ListServices(ctx, in, o...)
}

func (r *regionECS) ListTasks(ctx context.Context, in *ecs.ListTasksInput, o ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	leave, err := r.enter(ctx, "ecs:ListTasks")
	if err != nil {
		return nil, err
	}
	defer leave()
	return r.region.ListTasks(ctx, in, o...)
}

func (r *regionECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, o ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	leave, err := r.enter(ctx, "ecs:DescribeServices")
	if err != nil {
		return nil, err
	}
	defer leave()
	return r.region.DescribeServices(ctx, in, o...)
}

func (r *regionECS) DescribeCapacityProviders(ctx context.Context, in *ecs.DescribeCapacityProvidersInput, o ...func(*ecs.Options)) (*ecs.DescribeCapacityProvidersOutput, error) {
	leave, err := r.enter(ctx, "ecs:DescribeCapacityProviders")
	if err != nil {
		return nil, err
	}
	defer leave()
	return r.region.DescribeCapacityProviders(ctx, in, o...)
}

func (r *regionECS) DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, o ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	leave, err := r.enter(ctx, "ecs:DescribeTasks")
	if err != nil {
		return nil, err
	}
	defer leave()
	return r.region.DescribeTasks(ctx, in, o...)
}

// sampleMemory samples the heap in use every 10 ms until the returned func
// is called, which returns the peak heap and the process's peak RSS.
func sampleMemory() func() (heap, rss uint64) {
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return peak, peakRSS()
	}
}

// peakRSS reads VmHWM from /proc/self/status (0 where there is none).
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func fnv(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// runCLI runs trunkctl instances across the simulated organization through
// cli.Run, as a user would, and reads the counts from its JSON summary.
func runCLI(accounts, concurrency int, latency time.Duration) result {
	runtime.GC()
	w := fleettest.New()
	w.Latency = latency
	ids := w.AddAccounts(accounts, fleettest.Root)
	stop := sampleMemory()
	start := time.Now()
	code, out := cliRead(context.Background(), w, concurrency)
	wall := time.Since(start)
	heapPeak, rssPeak := stop()
	r := tallyCLI(w, ids, accounts, code, out)
	r.wall, r.heapPeak, r.rssPeak = wall, heapPeak, rssPeak
	return r
}

// cliRead is mode cli against w: `trunkctl instances --org` through cli.Run.
func cliRead(ctx context.Context, w *fleettest.World, concurrency int) (cli.ExitCode, *tail) {
	out := &tail{}
	deps := cli.Deps{
		IO:      &cli.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: io.Discard},
		Catalog: catalog.Default(),
		AWS: func(context.Context, cli.GlobalOptions, io.Writer) (*cli.AWS, error) {
			return nil, errors.New("a fanned-out command must not use the single-target clients")
		},
		Fleet: func(context.Context, cli.GlobalOptions, io.Writer) (*cli.FleetAWS, error) {
			return &cli.FleetAWS{
				Base: aws.Config{Region: "us-east-1", Credentials: w.CallerCredentials()},
				STS:  w.STS(), Organizations: w.Organizations(),
				Regions: func(cfg aws.Config) fleet.RegionsAPI { return w.EC2(cfg) },
				Target: func(_ context.Context, t fleet.Target, _ aws.Config) (*cli.AWS, cli.ClustersAPI, error) {
					api := targetECS(w, t)
					return &cli.AWS{Region: t.Region, ECS: api}, api, nil
				},
			}, nil
		},
	}
	code := cli.Run(ctx, []string{"instances", "--org", "--regions", "all", "--all-clusters", "--no-roles", "-o", "json", "--concurrency", strconv.Itoa(concurrency)}, deps)
	return code, out
}

// tallyCLI counts the calls w saw against the minimum for the accounts ids
// and reads the summary off the command's output.
func tallyCLI(w *fleettest.World, ids []string, accounts int, code cli.ExitCode, out *tail) result {
	r := result{calls: w.TotalCalls(), peakInFlight: w.PeakInFlight(), byOp: inventorytest.FormatCounts(w.Calls())}
	r.minimum = 1 + (accounts+fleettest.PageSize-1)/fleettest.PageSize + 2*accounts
	for _, id := range ids {
		for _, region := range fleettest.DefaultRegions {
			r.minimum += 1 + 3*(1+int(fnv(id+region)%3))
		}
	}
	var sum struct {
		Targets, Failed, Clusters, Instances, Trunked int
	}
	// The summary is the output's last member: from its "{" to the last
	// "}" but one (the document's).
	if i := bytes.LastIndex(out.last, []byte(`"summary": {`)); i >= 0 {
		tailObj := out.last[i+len(`"summary": `):]
		if j := bytes.LastIndexByte(tailObj, '}'); j > 0 {
			_ = json.Unmarshal(bytes.TrimSpace(tailObj[:j]), &sum)
		}
	}
	r.targets, r.failedTargets, r.clusters, r.instances, r.trunked = sum.Targets, sum.Failed, sum.Clusters, sum.Instances, sum.Trunked
	r.note = fmt.Sprintf(", exit %d, %.1f MB of JSON", code, float64(out.n)/1e6)
	if code != cli.ExitUnhealthy { // every fifth instance has no trunk
		r.failedTargets = max(r.failedTargets, 1)
	}
	return r
}

// tail counts what is written and keeps the last 4 KiB (the JSON summary).
type tail struct {
	n    int
	last []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.n += len(p)
	t.last = append(t.last, p...)
	if len(t.last) > 4096 {
		t.last = append([]byte(nil), t.last[len(t.last)-4096:]...)
	}
	return len(p), nil
}

// scenarioInChild runs one scenario in a fresh process of this program
// (peak RSS is a process's high-water mark) and copies its output.
func scenarioInChild(mode string, n int) bool {
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	args := []string{"-scenario", fmt.Sprintf("%s:%d", mode, n)}
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "concurrency" && f.Name != "scenario" {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	cmd := exec.Command(self, args...) //nolint:gosec // re-runs this benchmark binary with its own flags
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run() == nil
}
