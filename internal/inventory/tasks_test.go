package inventory_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

// instancesFrom reads the container instances when the task listing asks,
// concurrently with it, as the commands do.
func instancesFrom(l *inventory.Loader) func(context.Context) ([]inventory.ContainerInstance, error) {
	return func(ctx context.Context) ([]inventory.ContainerInstance, error) {
		cis, _, err := l.ContainerInstances(ctx, "prod")
		return cis, err
	}
}

func TestTasksAreListedByServiceAndProvenComplete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(c *inventorytest.Cluster)
		// change, when set, runs once when the n-th call of op arrives.
		change func(c *inventorytest.Cluster)
		op     string
		n      int
		// preread reads the container instances before the task listing starts.
		preread bool
		want    int
		// describes is how many DescribeTasks calls: batches of 100 across
		// partitions, then the tasks found by listing again.
		describes int
		// by is the ListTasks calls per filter; nil keys must be absent.
		by map[string]int
	}{
		{
			name: "every task in a service: one chain per service, no unfiltered walk",
			build: func(c *inventorytest.Cluster) {
				c.GenerateScale(inventorytest.Scale{Instances: 30, Tasks: 600, Services: 5})
			},
			want: 600, describes: 6,
			// 5 services of 12:3:3:1:1 shares = 360, 90, 90, 30, 30 tasks: 4+1+1+1+1 pages.
			by: map[string]int{"serviceName": 8, "launchType": 1},
		},
		{
			name: "standalone tasks on a few instances: those instances are listed again, and only they",
			build: func(c *inventorytest.Cluster) {
				c.GenerateScale(inventorytest.Scale{Instances: 30, Tasks: 600, Services: 5, Standalone: 20})
			},
			want: 600, describes: 7,
			// standalone are tasks 30, 60, ..., 600: on instance 30 only.
			by: map[string]int{"serviceName": 8, "launchType": 1, "containerInstance": 1},
		},
		{
			name: "standalone tasks on many instances: one unfiltered walk is fewer calls",
			build: func(c *inventorytest.Cluster) {
				c.GenerateScale(inventorytest.Scale{Instances: 30, Tasks: 600, Services: 5, Standalone: 200})
			},
			want: 600, describes: 6,
			// 400 tasks in services (240, 60, 60, 20, 20: 7 pages); 200
			// standalone on all 30 instances: 30 calls to list them again, 6 unfiltered.
			by: map[string]int{"serviceName": 7, "launchType": 1, "unfiltered": 6},
		},
		{
			name: "a service with no tasks and a Fargate task of no service are accounted for",
			build: func(c *inventorytest.Cluster) {
				c.AddInstance(inventorytest.InstanceSpec{N: 1})
				c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 1, Service: "api"})
				c.AddTask(inventorytest.TaskSpec{N: 2, Standalone: true, Fargate: true})
				c.Services = []string{"idle"}
			},
			want: 2, describes: 1,
			by: map[string]int{"serviceName": 2, "launchType": 1},
		},
		{
			name: "a service task starting mid-walk does not hide a standalone task on its instance",
			build: func(c *inventorytest.Cluster) {
				c.AddInstance(inventorytest.InstanceSpec{N: 1})
				c.AddInstance(inventorytest.InstanceSpec{N: 2})
				c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 1, Service: "api"})
				c.AddTask(inventorytest.TaskSpec{N: 2, Instance: 1, Standalone: true})
				c.AddTask(inventorytest.TaskSpec{N: 3, Instance: 2, Service: "api"})
			},
			// Counts read first (instance 1: tasks 1 and 2); then service
			// task 4 starts there and is found. Found tasks 1 and 4 are as many
			// as the count, but task 4 is newer than the count: it vouches for
			// nothing, so instance 1 is listed again and task 2 found.
			preread: true,
			change: func(c *inventorytest.Cluster) {
				c.AddTask(inventorytest.TaskSpec{N: 4, Instance: 1, Service: "api", Created: time.Now()})
			},
			op: "ecs:ListTasks", n: 1,
			want: 4, describes: 2,
			by: map[string]int{"serviceName": 1, "launchType": 1, "containerInstance": 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := inventorytest.New()
			tc.build(c)
			if tc.change != nil {
				changeOnCall(c, tc.op, tc.n, tc.change)
			}
			l := loader(c, 4)
			q := inventory.TaskQuery{Cluster: "prod", Instances: instancesFrom(l)}
			if tc.preread {
				cis, _, err := l.ContainerInstances(context.Background(), "prod")
				if err != nil {
					t.Fatal(err)
				}
				q.Instances = func(context.Context) ([]inventory.ContainerInstance, error) { return cis, nil }
			}
			tasks, _, err := l.Tasks(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			checkEachTaskOnce(t, tasks)
			if len(tasks) != tc.want {
				t.Fatalf("got %d tasks, want %d; calls %s, ListTasks %v", len(tasks), tc.want, c.SortedOps(), c.ListTasksBy())
			}
			if got := c.ListTasksBy(); fmt.Sprint(got) != fmt.Sprint(tc.by) {
				t.Fatalf("ListTasks by filter = %v, want %v", got, tc.by)
			}
			if got := c.Calls()["ecs:DescribeTasks"]; got != tc.describes {
				t.Fatalf("DescribeTasks calls = %d, want %d", got, tc.describes)
			}
		})
	}
}

func TestServicesAndTheirTasksArePaginated(t *testing.T) {
	c := inventorytest.New()
	c.AddInstance(inventorytest.InstanceSpec{N: 1})
	for s := 1; s <= 150; s++ {
		c.AddTask(inventorytest.TaskSpec{N: s, Instance: 1, Service: fmt.Sprintf("svc-%03d", s)})
	}
	for n := 151; n <= 400; n++ {
		c.AddTask(inventorytest.TaskSpec{N: n, Instance: 1, Service: "big"})
	}
	l := loader(c, 8)
	tasks, _, err := l.Tasks(context.Background(), inventory.TaskQuery{Cluster: "prod", Instances: instancesFrom(l)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 400 {
		t.Fatalf("got %d tasks, want 400", len(tasks))
	}
	// 151 services: 2 pages of ListServices; "big" has 251 tasks: 3 pages.
	if got := c.Calls()["ecs:ListServices"]; got != 2 {
		t.Fatalf("ListServices calls = %d, want 2", got)
	}
	if got := c.ListTasksBy()["serviceName"]; got != 150+3 {
		t.Fatalf("ListTasks by service = %d, want 153", got)
	}
}

func TestPartitionedListingStaysWithinTheBound(t *testing.T) {
	c := inventorytest.New()
	c.GenerateScale(inventorytest.Scale{Instances: 300, Tasks: 1500, Services: 20, Standalone: 10})
	c.Latency = 2 * time.Millisecond
	l := loader(c, 3)
	tasks, _, err := l.Tasks(context.Background(), inventory.TaskQuery{Cluster: "prod", Instances: instancesFrom(l)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1500 {
		t.Fatalf("got %d tasks", len(tasks))
	}
	if got := c.MaxInFlight(); got > 3 || got < 2 {
		t.Fatalf("max in flight = %d, want 2-3 (bounded at 3 yet concurrent)", got)
	}
}

func TestPartitionedListingFailuresEndTheListing(t *testing.T) {
	for _, tc := range []struct {
		name, op, want string
	}{
		{"a failing describe names the verb", "ecs:DescribeTasks", "describe tasks in prod"},
		{"failing container instances stop the task listing", "ecs:DescribeContainerInstances", "describe container instances in prod"},
		{"a failing service listing names the verb", "ecs:ListServices", "list services in prod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := inventorytest.New()
			c.GenerateScale(inventorytest.Scale{Instances: 10, Tasks: 300, Services: 3})
			c.Fail[tc.op] = inventorytest.APIError("ThrottlingException", "slow down")
			l := loader(c, 4)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _, err := l.Tasks(ctx, inventory.TaskQuery{Cluster: "prod", Instances: instancesFrom(l)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestWithoutListServicesTheClusterIsWalkedUnpartitioned(t *testing.T) {
	c := inventorytest.New()
	c.GenerateScale(inventorytest.Scale{Instances: 10, Tasks: 250, Services: 3, Standalone: 5})
	c.Fail["ecs:ListServices"] = inventorytest.APIError("AccessDeniedException", "not authorized to perform: ecs:ListServices")
	l := loader(c, 4)
	tasks, _, err := l.Tasks(context.Background(), inventory.TaskQuery{Cluster: "prod", Instances: instancesFrom(l)})
	if err != nil || len(tasks) != 250 {
		t.Fatalf("got %d tasks, err %v", len(tasks), err)
	}
	if got := c.ListTasksBy(); got["unfiltered"] != 3 || got["containerInstance"] != 0 {
		t.Fatalf("ListTasks by filter = %v, want 3 unfiltered pages and nothing listed again", got)
	}
}

// afterListTasks calls after once a ListTasks call has been answered.
type afterListTasks struct {
	inventory.ECSAPI
	after func(*ecs.ListTasksInput)
}

func (a afterListTasks) ListTasks(ctx context.Context, in *ecs.ListTasksInput, optFns ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	out, err := a.ECSAPI.ListTasks(ctx, in, optFns...)
	a.after(in)
	return out, err
}

func TestATaskStoppingBeforeTheCountIsReadDoesNotHideAStandaloneTask(t *testing.T) {
	c := inventorytest.New()
	c.AddInstance(inventorytest.InstanceSpec{N: 1})
	c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 1, Service: "api"})
	c.AddTask(inventorytest.TaskSpec{N: 2, Instance: 1, Service: "api"})
	c.AddTask(inventorytest.TaskSpec{N: 3, Instance: 1, Standalone: true})
	// Task 2 is listed with its service, then stops; then instance 1's count
	// is read (tasks 1 and 3). Found tasks 1 and 2 are as many, but task 2
	// is described STOPPED, so it does not vouch and task 3 is found.
	listed := make(chan struct{})
	var once sync.Once
	ecsc := afterListTasks{ECSAPI: c.ECS(), after: func(in *ecs.ListTasksInput) {
		if in.ServiceName != nil {
			once.Do(func() {
				c.Change(func() { c.Tasks[1].DesiredStatus = aws.String("STOPPED") })
				close(listed)
			})
		}
	}}
	l := inventory.NewLoader(ecsc, c.EC2(), c.IAM(), 4)
	// Instance 1 is known to show tasks before its counts are read (as
	// Snapshot knows from an earlier batch), so the services are listed first.
	busy := make(chan struct{})
	close(busy)
	q := inventory.TaskQuery{Cluster: "prod", Busy: busy, Instances: func(ctx context.Context) ([]inventory.ContainerInstance, error) {
		<-listed
		cis, _, err := l.ContainerInstances(ctx, "prod")
		return cis, err
	}}
	tasks, _, err := l.Tasks(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 3 || tasks[2].Arn != c.TaskArn(3) {
		t.Fatalf("tasks = %+v; want 1, 2 (stopped) and 3; ListTasks %v", tasks, c.ListTasksBy())
	}
}

// changeOnCall runs change once, when the n-th call of op arrives.
func changeOnCall(c *inventorytest.Cluster, op string, n int, change func(*inventorytest.Cluster)) {
	c.OnCall = func(gotOp string, gotN int) {
		if gotOp == op && gotN == n {
			c.Change(func() { change(c) })
		}
	}
}

// checkEachTaskOnce fails when a task is listed twice.
func checkEachTaskOnce(t *testing.T, tasks []inventory.Task) {
	t.Helper()
	seen := map[string]bool{}
	for _, tk := range tasks {
		if seen[tk.Arn] {
			t.Fatalf("task %s twice", tk.Arn)
		}
		seen[tk.Arn] = true
	}
}

func TestTasksAreListedByServiceOnlyWhenAnInstanceCountsATask(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(c *inventorytest.Cluster)
		want  int
		// services is the ListServices calls; by the ListTasks calls per filter.
		services int
		by       map[string]int
	}{
		{
			name: "no instance counts a task: one Fargate ListTasks and no ListServices",
			build: func(c *inventorytest.Cluster) {
				for n := 1; n <= 3; n++ {
					c.AddInstance(inventorytest.InstanceSpec{N: n})
				}
				c.AddTask(inventorytest.TaskSpec{N: 1, Standalone: true, Fargate: true})
				c.Services = []string{"idle"}
			},
			want: 1, services: 0,
			by: map[string]int{"launchType": 1},
		},
		{
			name: "a cluster without container instances: one Fargate ListTasks",
			build: func(c *inventorytest.Cluster) {
				c.AddTask(inventorytest.TaskSpec{N: 1, Service: "api", Fargate: true})
			},
			want: 1, services: 0,
			by: map[string]int{"launchType": 1},
		},
		{
			name: "one instance counts a standalone task: the services are listed and that instance again",
			build: func(c *inventorytest.Cluster) {
				for n := 1; n <= 3; n++ {
					c.AddInstance(inventorytest.InstanceSpec{N: n})
				}
				c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 2, Standalone: true})
			},
			want: 1, services: 1,
			by: map[string]int{"launchType": 1, "containerInstance": 1},
		},
		{
			name: "one instance counts a service task: the services are listed, nothing again",
			build: func(c *inventorytest.Cluster) {
				for n := 1; n <= 3; n++ {
					c.AddInstance(inventorytest.InstanceSpec{N: n})
				}
				c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 3, Service: "api"})
			},
			want: 1, services: 1,
			by: map[string]int{"launchType": 1, "serviceName": 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, via := range []string{"Tasks", "Snapshot"} {
				c := inventorytest.New()
				tc.build(c)
				l := loader(c, 4)
				var tasks []inventory.Task
				var err error
				if via == "Tasks" {
					tasks, _, err = l.Tasks(context.Background(), inventory.TaskQuery{Cluster: "prod", Instances: instancesFrom(l)})
				} else {
					var s *inventory.Snapshot
					if s, err = l.Snapshot(context.Background(), "prod", inventory.SnapshotOptions{Tasks: true}); err == nil {
						tasks = s.Tasks
					}
				}
				if err != nil {
					t.Fatalf("%s: %v", via, err)
				}
				if len(tasks) != tc.want {
					t.Fatalf("%s: got %d tasks, want %d; calls %s", via, len(tasks), tc.want, c.SortedOps())
				}
				if got := c.Calls()["ecs:ListServices"]; got != tc.services {
					t.Fatalf("%s: ListServices calls = %d, want %d", via, got, tc.services)
				}
				if got := c.ListTasksBy(); fmt.Sprint(got) != fmt.Sprint(tc.by) {
					t.Fatalf("%s: ListTasks by filter = %v, want %v", via, got, tc.by)
				}
			}
		})
	}
}

// gatedInstances holds back the n-th ListContainerInstances page until
// ListServices is called (or a deadline passes), and drops one container
// instance from every DescribeContainerInstances answer as MISSING.
type gatedInstances struct {
	inventory.ECSAPI
	n        int32
	pages    *atomic.Int32
	services chan struct{}
	once     *sync.Once
	waited   *atomic.Bool
	drop     string
}

func (g gatedInstances) ListContainerInstances(ctx context.Context, in *ecs.ListContainerInstancesInput, optFns ...func(*ecs.Options)) (*ecs.ListContainerInstancesOutput, error) {
	if g.pages.Add(1) == g.n {
		select {
		case <-g.services:
		case <-time.After(3 * time.Second):
			g.waited.Store(true)
		}
	}
	return g.ECSAPI.ListContainerInstances(ctx, in, optFns...)
}

func (g gatedInstances) ListServices(ctx context.Context, in *ecs.ListServicesInput, optFns ...func(*ecs.Options)) (*ecs.ListServicesOutput, error) {
	g.once.Do(func() { close(g.services) })
	return g.ECSAPI.ListServices(ctx, in, optFns...)
}

func (g gatedInstances) DescribeContainerInstances(ctx context.Context, in *ecs.DescribeContainerInstancesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error) {
	out, err := g.ECSAPI.DescribeContainerInstances(ctx, in, optFns...)
	if err != nil || g.drop == "" {
		return out, err
	}
	kept := out.ContainerInstances[:0]
	for _, ci := range out.ContainerInstances {
		if aws.ToString(ci.ContainerInstanceArn) == g.drop {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: ci.ContainerInstanceArn, Reason: aws.String("MISSING")})
			continue
		}
		kept = append(kept, ci)
	}
	out.ContainerInstances = kept
	return out, nil
}

func newGated(c *inventorytest.Cluster, n int32) gatedInstances {
	return gatedInstances{ECSAPI: c.ECS(), n: n, pages: &atomic.Int32{}, services: make(chan struct{}), once: &sync.Once{}, waited: &atomic.Bool{}}
}

func TestSnapshotListsServicesAsSoonAsABatchOfInstancesCountsATask(t *testing.T) {
	c := inventorytest.New()
	for n := 1; n <= 300; n++ {
		c.AddInstance(inventorytest.InstanceSpec{N: n})
	}
	c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 1, Service: "api"})
	// The last of 3 pages of instances is answered only once ListServices is
	// called: the first batch counts a task, so the services need not wait
	// for the whole instance chain.
	g := newGated(c, 3)
	l := inventory.NewLoader(g, c.EC2(), c.IAM(), 4)
	s, err := l.Snapshot(context.Background(), "prod", inventory.SnapshotOptions{Tasks: true})
	if err != nil {
		t.Fatal(err)
	}
	if g.waited.Load() {
		t.Fatal("ListServices waited for every container instance to be read")
	}
	if len(s.Tasks) != 1 || len(s.ContainerInstances) != 300 {
		t.Fatalf("got %d tasks on %d instances, want 1 on 300", len(s.Tasks), len(s.ContainerInstances))
	}
}

func TestAnInstanceThatCouldNotBeDescribedIsNotTakenAsIdle(t *testing.T) {
	c := inventorytest.New()
	c.AddInstance(inventorytest.InstanceSpec{N: 1})
	c.AddInstance(inventorytest.InstanceSpec{N: 2})
	c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 2, Service: "api"})
	// Instance 2 fails to describe: instance 1 counts nothing, yet the
	// services are listed, and instance 2's service task is found.
	g := newGated(c, 0)
	g.drop = c.ContainerInstanceArn(2)
	l := inventory.NewLoader(g, c.EC2(), c.IAM(), 4)
	s, err := l.Snapshot(context.Background(), "prod", inventory.SnapshotOptions{Tasks: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Warnings) != 1 || len(s.Tasks) != 1 || c.Calls()["ecs:ListServices"] != 1 {
		t.Fatalf("warnings %v, %d tasks, calls %s; want 1 warning, 1 task, 1 ListServices", s.Warnings, len(s.Tasks), c.SortedOps())
	}
}

func TestOneInstancesTasksAreListedOnlyWhenItCountsOne(t *testing.T) {
	for _, tc := range []struct {
		name     string
		instance int
		want     int
		by       map[string]int
	}{
		{"an instance counting no task: no ListTasks at all", 1, 0, map[string]int{}},
		{"an instance counting a task: its tasks are listed", 2, 1, map[string]int{"containerInstance": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := inventorytest.New()
			c.AddInstance(inventorytest.InstanceSpec{N: 1})
			c.AddInstance(inventorytest.InstanceSpec{N: 2})
			c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 2, Standalone: true})
			s, err := loader(c, 4).Snapshot(context.Background(), "prod", inventory.SnapshotOptions{Tasks: true, Instance: inventorytest.InstanceID(tc.instance)})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Tasks) != tc.want {
				t.Fatalf("got %d tasks, want %d", len(s.Tasks), tc.want)
			}
			if got := c.ListTasksBy(); fmt.Sprint(got) != fmt.Sprint(tc.by) {
				t.Fatalf("ListTasks by filter = %v, want %v", got, tc.by)
			}
		})
	}
}
