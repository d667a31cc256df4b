// Command bench counts the AWS calls of the guard: one scheduled sweep of
// the simulated 2,000-instance cluster of cli/bench beside `trunkctl
// doctor` on the same cluster, and one state-change event for a trunked and
// for an untrunked container instance.
//
//	go run ./guard/bench -instances 2000 -tasks 10000 -services 50 -latency 50ms
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/trunkctl/trunkctl/cli"
	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/guard"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
	"github.com/trunkctl/trunkctl/internal/testutil/callmeter"
)

const caller = "arn:aws:sts::123456789012:assumed-role/Admin/bench"

func main() {
	instances := flag.Int("instances", 2000, "container instances")
	tasks := flag.Int("tasks", 10000, "awsvpc tasks")
	services := flag.Int("services", 50, "services the tasks belong to")
	latency := flag.Duration("latency", 50*time.Millisecond, "latency of every API call")
	flag.Parse()

	c := inventorytest.New()
	c.GenerateScale(inventorytest.Scale{Instances: *instances, Tasks: *tasks, Services: *services})
	c.AddBenchCapacity(*instances)
	c.Latency = *latency
	fmt.Printf("simulated cluster: %d container instances, %d awsvpc tasks in %d services, %s per call, %d calls in flight at most (cli/bench's cluster)\n",
		*instances, *tasks, *services, *latency, inventory.DefaultConcurrency)
	fmt.Printf("%-44s %-40s %6s %8s  %s\n", "run", "ECS principalArn rule", "calls", "wall", "calls by operation")
	for _, rule := range []struct {
		name string
		r    accountsettingtest.Rule
	}{{"API reference (root or the principal)", accountsettingtest.RuleAPIReference}, {"developer guide (an administrator too)", accountsettingtest.RuleGuide}} {
		acct := account(rule.r)
		n, wall, ops := doctor(c, acct)
		fmt.Printf("%-44s %-40s %6d %7.2fs  %s\n", "trunkctl doctor", rule.name, n, wall.Seconds(), ops)
		for _, all := range []bool{false, true} {
			name := "guard sweep, CLUSTERS=prod"
			if all {
				name = "guard sweep, every cluster (ListClusters)"
			}
			acct = account(rule.r)
			n, wall, ops = sweep(c, acct, all)
			fmt.Printf("%-44s %-40s %6d %7.2fs  %s\n", name, rule.name, n, wall.Seconds(), ops)
		}
		acct = account(rule.r)
		n, wall, ops = warmSweep(c, acct)
		fmt.Printf("%-44s %-40s %6d %7.2fs  %s\n", "guard sweep, CLUSTERS=prod, a later one", rule.name, n, wall.Seconds(), ops)
		fmt.Printf("%-44s %-40s %6s %8s  allocated %.0f MiB in the sweep (fakes' answers included)\n", "", "", "", "", sweepAlloc)
	}
	acct := account(accountsettingtest.RuleAPIReference)
	for _, ev := range []struct {
		name  string
		trunk bool
	}{{"state change, trunked instance", true}, {"state change, untrunked instance (first)", false}} {
		n, ops := event(c, acct, ev.trunk)
		fmt.Printf("%-44s %-40s %6d %8s  %s\n", ev.name, "-", n, "-", ops)
	}
}

func account(r accountsettingtest.Rule) *accountsettingtest.Account {
	a := accountsettingtest.New()
	a.Rule = r
	a.AddRole("EcsInstanceRole", accountsettingtest.RoleState{})
	a.SetExplicit(a.RoleARN("EcsInstanceRole"), accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	return a
}

func doctor(c *inventorytest.Cluster, acct *accountsettingtest.Account) (int, time.Duration, string) {
	c.ResetCalls()
	deps := cli.Deps{
		IO: &cli.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard},
		AWS: func(context.Context, cli.GlobalOptions, io.Writer) (*cli.AWS, error) {
			return &cli.AWS{Region: c.Region, ECS: c.ECS(), EC2: c.EC2(), IAM: c.IAM(),
				STS: acct.STSAs(caller), Settings: acct.ECSAs(caller), NewECS: acct.ECSFactory(),
				AutoScaling: c.AutoScaling(), CloudTrail: c.CloudTrail()}, nil
		},
	}
	start := time.Now()
	code := cli.Run(context.Background(), []string{"doctor", "--cluster", c.Name, "--output", "json"}, deps)
	wall := time.Since(start)
	if code != cli.ExitOK {
		fmt.Fprintf(os.Stderr, "doctor exited %d\n", code)
		os.Exit(1)
	}
	return c.TotalCalls() + len(acct.Ops()), wall, ops(c, acct, nil)
}

func sweep(c *inventorytest.Cluster, acct *accountsettingtest.Account, all bool) (int, time.Duration, string) {
	c.ResetCalls()
	st := &counter{}
	cfg := guard.Config{TopicArn: "arn:aws:sns:us-east-1:123456789012:trunkctl-guard", StatePrefix: guard.DefaultStatePrefix}
	if !all {
		cfg.Clusters = []string{c.Name}
	}
	return sweepWith(c, acct, st, newGuard(c, acct, st, cfg))
}

// warmSweep is the second of two scheduled sweeps in one execution
// environment: the guard keeps its clients, and so who it is
// (sts:GetCallerIdentity), between invocations; its state then holds what
// the first sweep notified.
func warmSweep(c *inventorytest.Cluster, acct *accountsettingtest.Account) (int, time.Duration, string) {
	st := &counter{}
	g := newGuard(c, acct, st, guard.Config{TopicArn: "arn:aws:sns:us-east-1:123456789012:trunkctl-guard", StatePrefix: guard.DefaultStatePrefix, Clusters: []string{c.Name}})
	sweepWith(c, acct, st, g)
	acct.Reset()
	st.Reset()
	c.ResetCalls()
	return sweepWith(c, acct, st, g)
}

func sweepWith(c *inventorytest.Cluster, acct *accountsettingtest.Account, st *counter, g *guard.Guard) (int, time.Duration, string) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	if err := g.Handle(context.Background(), json.RawMessage(`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`)); err != nil {
		fmt.Fprintln(os.Stderr, "sweep:", err)
		os.Exit(1)
	}
	wall := time.Since(start)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	sweepAlloc = float64(after.TotalAlloc-before.TotalAlloc) / (1 << 20)
	return c.TotalCalls() + len(acct.Ops()) + st.Total(), wall, ops(c, acct, st)
}

// sweepAlloc is how many MiB the last sweep allocated (the fakes' answers
// included), an upper bound of what its heap held at once.
var sweepAlloc float64

func event(c *inventorytest.Cluster, acct *accountsettingtest.Account, trunk bool) (int, string) {
	c.ResetCalls()
	st := &counter{}
	g := newGuard(c, acct, st, guard.Config{TopicArn: "arn:aws:sns:us-east-1:123456789012:trunkctl-guard", StatePrefix: guard.DefaultStatePrefix})
	attrs := `{"name":"ecs.instance-type","value":"c5.xlarge"},{"name":"ecs.capability.task-eni"},{"name":"ecs.capability.task-eni-trunking"},{"name":"ecs.capability.branch-cni-plugin-version","value":"a21d3a41-"}`
	if trunk {
		attrs += `,{"name":"ecs.awsvpc-trunk-id","value":"eni-0a000000000000001"}`
	}
	ev := `{"source":"aws.ecs","detail-type":"ECS Container Instance State Change","account":"123456789012","region":"us-east-1","detail":{"clusterArn":"` + c.ClusterArn() +
		`","containerInstanceArn":"` + c.ContainerInstanceArn(1) + `","ec2InstanceId":"` + inventorytest.InstanceID(1) + `","status":"ACTIVE","versionInfo":{"agentVersion":"1.90.0"},"attributes":[` + attrs + `]}}`
	if err := g.Handle(context.Background(), json.RawMessage(ev)); err != nil {
		fmt.Fprintln(os.Stderr, "event:", err)
		os.Exit(1)
	}
	return c.TotalCalls() + len(acct.Ops()) + st.Total(), ops(c, acct, st)
}

// newGuard is the guard with its clients made once, on first use, as
// guard/awsclients.go makes them once per execution environment.
func newGuard(c *inventorytest.Cluster, acct *accountsettingtest.Account, st *counter, cfg guard.Config) *guard.Guard {
	var once sync.Once
	var clients *guard.Clients
	return &guard.Guard{
		Config: cfg,
		Clients: func(context.Context) (*guard.Clients, error) {
			once.Do(func() {
				loader := inventory.NewLoader(c.ECS(), c.EC2(), c.IAM(), inventory.DefaultConcurrency)
				stsc := &accountsetting.OnceCaller{STSAPI: acct.STSAs(caller)}
				clients = &guard.Clients{
					Session: &assess.Session{Region: c.Region, Loader: loader, Signals: loader.Signals(c.AutoScaling(), c.CloudTrail()),
						Roles: accountsetting.Resolver{STS: stsc, ECS: acct.ECSAs(caller), PrincipalArnFirst: true, NoAssume: true}},
					Clusters: lister{c: c, n: st}, SNS: st, SSM: st,
				}
			})
			return clients, nil
		},
		Catalog: catalog.Default(),
		Now:     time.Now,
		Log:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Metrics: io.Discard,
	}
}

func ops(c *inventorytest.Cluster, acct *accountsettingtest.Account, st *counter) string {
	n := c.Calls()
	for _, o := range acct.Ops() {
		n[o]++
	}
	if st != nil {
		for k, v := range st.Calls() {
			n[k] += v
		}
	}
	return inventorytest.FormatCounts(n)
}

// counter is the guard's state and topic: SSM, SNS and ListClusters,
// counted by its Meter (whose Reset forgets the counts, not the state).
type counter struct {
	callmeter.Meter
	mu     sync.Mutex
	params map[string]string
}

func (s *counter) add(op string) {
	_, leave := s.Enter(op)
	leave()
}

func (s *counter) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	s.add("ssm:GetParameter")
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.params[aws.ToString(in.Name)]
	if !ok {
		return nil, &ssmtypes.ParameterNotFound{Message: aws.String("not found")}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String(v)}}, nil
}

func (s *counter) PutParameter(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	s.add("ssm:PutParameter")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.params == nil {
		s.params = map[string]string{}
	}
	s.params[aws.ToString(in.Name)] = aws.ToString(in.Value)
	return &ssm.PutParameterOutput{}, nil
}

func (s *counter) Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error) {
	s.add("sns:Publish")
	return &sns.PublishOutput{}, nil
}

// lister lists the one cluster, counted.
type lister struct {
	c *inventorytest.Cluster
	n *counter
}

func (l lister) ListClusters(ctx context.Context, in *ecs.ListClustersInput, o ...func(*ecs.Options)) (*ecs.ListClustersOutput, error) {
	l.n.add("ecs:ListClusters")
	return (&inventorytest.Region{Clusters: []*inventorytest.Cluster{l.c}}).ECS().ListClusters(ctx, in, o...)
}
