package inventory

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/sync/errgroup"

	"github.com/trunkctl/trunkctl/internal/awserr"
)

// TaskQuery selects tasks: every task of the cluster whose desired status is
// RUNNING (which includes PROVISIONING and PENDING ones), or those of one
// container instance.
type TaskQuery struct {
	Cluster           string
	ContainerInstance string
	// Instances, when set (and ContainerInstance is not), returns the
	// cluster's container instances as ContainerInstances reads them,
	// blocking until they are known. Tasks then lists the cluster's tasks by
	// service, in parallel, and proves the result complete against the
	// instances' task counts (see listPartitioned) instead of walking the
	// cluster's single ListTasks token chain.
	Instances func(context.Context) ([]ContainerInstance, error)
	// Busy, when set with Instances, is closed as soon as the container
	// instances read so far show a task (a runningTasksCount or
	// pendingTasksCount above zero), or when one could not be described (its
	// counts are unknown). The tasks are listed by service only once an
	// instance shows a task: when Instances returns and none does, no task
	// can be on them (see listPartitioned), and ListServices is not called.
	// Without Busy, that is decided when Instances returns.
	Busy <-chan struct{}
	// OnBatch, when set, hears each described batch as it arrives, so callers
	// can start dependent calls before the listing ends. Calls are serialized.
	OnBatch func([]Task)
}

// countSkew is how far the local clock may be from ECS's: a task created
// less than this before an instance's counts were read does not vouch for
// them (it may have started after the reading).
const countSkew = time.Minute

// Tasks lists and describes tasks, each once, sorted by ARN. DescribeTasks
// failures (tasks that stopped in between) come back as warnings.
func (l *Loader) Tasks(ctx context.Context, q TaskQuery) ([]Task, []string, error) {
	tasks, warnings, _, err := l.tasks(ctx, q)
	return tasks, warnings, err
}

// tasks is Tasks that also returns the services listed on the way, sorted.
func (l *Loader) tasks(ctx context.Context, q TaskQuery) ([]Task, []string, []string, error) {
	gate := make(chan struct{})
	c := newTaskCollector(ctx, l, q, gate)
	defer c.cancel()
	var err error
	if q.Instances == nil || q.ContainerInstance != "" {
		close(gate)
		in := &ecs.ListTasksInput{Cluster: aws.String(q.Cluster), MaxResults: aws.Int32(MaxECSListPage)}
		if q.ContainerInstance != "" {
			in.ContainerInstance = aws.String(q.ContainerInstance)
		}
		err = l.listTaskPages(c.ctx, in, c.add)
	} else {
		err = l.listPartitioned(c.ctx, q, c, gate)
	}
	if err != nil {
		c.cancel()
	}
	if serr := c.settle(); serr != nil && (err == nil || errors.Is(err, context.Canceled)) {
		err = serr
	}
	if err != nil {
		return nil, nil, nil, err
	}
	sort.Slice(c.out, func(i, j int) bool { return c.out[i].Arn < c.out[j].Arn })
	sort.Strings(c.warnings)
	sort.Strings(c.services)
	return c.out, c.warnings, c.services, nil
}

// listPartitioned lists the cluster's tasks in partitions whose pages run
// concurrently, then lists again whatever the partitions did not account for.
//
// ListTasks pages are a token chain: unfiltered, a cluster of 10,000 tasks is
// 100 calls one after another. Partitions are chains that can run side by
// side:
//   - by service: ListServices, then ListTasks{serviceName} per service.
//     Services hold most tasks; the cost over the unfiltered walk is the
//     ListServices pages plus each service's last, partial page.
//   - by launch type FARGATE: tasks with no container instance. Usually one
//     call that returns nothing; it is listed because no count below vouches
//     for Fargate tasks.
//
// Tasks started outside services (RunTask, StartTask) are in no partition. To
// find them, each container instance's runningTasksCount (by the API
// reference: the tasks whose desired status is RUNNING, i.e. what ListTasks
// lists, PENDING ones included) plus pendingTasksCount (added although the
// reference says running already includes them, so that a reading of
// runningTasksCount as "last status RUNNING" cannot hide a task) is compared
// with the tasks found on it. A found task vouches for its instance's count
// only if it was created at least countSkew before the count was read and
// was still desired RUNNING when described. Tasks are described only after
// every count is read, so a vouching task was desired RUNNING when its count
// was read (desired status never goes back to RUNNING): the vouching tasks are
// a subset of what the count counts, and when they are as many, none is
// missing. A task that starts (or stops) during the walk cannot make a
// missing one look found.
//
// When no container instance shows a task (every count is zero), no task was
// on them throughout the walk, and only the Fargate partition is listed: the
// services are not (ListServices is only called once an instance shows a
// task, see TaskQuery.Busy), so a cluster whose instances run nothing costs
// one ListTasks. A cluster that lists no services costs the Fargate call and
// whatever the counts show unexplained.
//
// An instance whose count is not vouched for is listed again with
// ListTasks{containerInstance}, one chain per instance, concurrently; when
// that would take more calls than one unfiltered walk (many instances with
// standalone tasks), the unfiltered walk runs instead. Either way the result
// holds every task that was running throughout, like the unfiltered walk;
// what it costs is that calls and wall time depend on how many tasks are
// standalone.
func (l *Loader) listPartitioned(ctx context.Context, q TaskQuery, c *taskCollector, gate chan struct{}) error {
	cluster := aws.String(q.Cluster)
	g, gctx := errgroup.WithContext(ctx)
	// The partitions' pages get at most half the calls in flight: they have
	// slack until the container instances (a chain of their own, which the
	// counts and so every describe wait for) are read, and that chain should
	// not queue behind them.
	share := make(chan struct{}, max(1, cap(l.sem)/2))
	list := func(in *ecs.ListTasksInput) func() error {
		return func() error {
			select {
			case share <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			defer func() { <-share }()
			return l.listTaskPages(gctx, in, c.add)
		}
	}
	g.Go(list(&ecs.ListTasksInput{Cluster: cluster, LaunchType: ecstypes.LaunchTypeFargate, MaxResults: aws.Int32(MaxECSListPage)}))
	var cis []ContainerInstance
	g.Go(func() error {
		select {
		case <-q.Busy:
		case <-gate:
			// cis is set before gate closes.
			if !showTasks(cis) && !closed(q.Busy) {
				return nil
			}
		case <-gctx.Done():
			return gctx.Err()
		}
		p := ecs.NewListServicesPaginator(l.ECS, &ecs.ListServicesInput{Cluster: cluster, MaxResults: aws.Int32(MaxECSListPage)})
		for p.HasMorePages() {
			var page *ecs.ListServicesOutput
			err := l.call(gctx, func() (err error) { page, err = p.NextPage(gctx); return err })
			if awserr.IsAccessDenied(err) {
				// No ecs:ListServices: walk the cluster unpartitioned.
				return list(&ecs.ListTasksInput{Cluster: cluster, MaxResults: aws.Int32(MaxECSListPage)})()
			}
			if err != nil {
				return fmt.Errorf("list services in %s: %w", q.Cluster, err)
			}
			c.addServices(page.ServiceArns)
			for _, arn := range page.ServiceArns {
				g.Go(list(&ecs.ListTasksInput{Cluster: cluster, ServiceName: aws.String(ResourceID(arn)), MaxResults: aws.Int32(MaxECSListPage)}))
			}
		}
		return nil
	})
	g.Go(func() error {
		var err error
		if cis, err = q.Instances(gctx); err != nil {
			return err
		}
		close(gate)
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	if err := c.settle(); err != nil {
		return err
	}

	vouched := c.vouched(cis)
	var unexplained []string
	relist, expected := 0, 0
	for _, ci := range cis {
		want := ci.RunningTasks + ci.PendingTasks
		expected += want
		if vouched[ci.Arn] < want {
			unexplained = append(unexplained, ci.Arn)
			relist += max(1, ceilDiv(want, MaxECSListPage))
		}
	}
	if len(unexplained) == 0 {
		return nil
	}
	if relist > max(1, ceilDiv(max(expected, c.count()), MaxECSListPage)) {
		return l.listTaskPages(ctx, &ecs.ListTasksInput{Cluster: cluster, MaxResults: aws.Int32(MaxECSListPage)}, c.add)
	}
	rg, rctx := errgroup.WithContext(ctx)
	for _, arn := range unexplained {
		rg.Go(func() error {
			return l.listTaskPages(rctx, &ecs.ListTasksInput{Cluster: cluster, ContainerInstance: aws.String(arn), MaxResults: aws.Int32(MaxECSListPage)}, c.add)
		})
	}
	return rg.Wait()
}

// listTaskPages pages through one ListTasks chain, handing each page to emit.
func (l *Loader) listTaskPages(ctx context.Context, in *ecs.ListTasksInput, emit func([]string)) error {
	p := ecs.NewListTasksPaginator(l.ECS, in)
	for p.HasMorePages() {
		var page *ecs.ListTasksOutput
		if err := l.call(ctx, func() (err error) { page, err = p.NextPage(ctx); return err }); err != nil {
			return fmt.Errorf("list tasks in %s: %w", aws.ToString(in.Cluster), err)
		}
		emit(page.TaskArns)
	}
	return nil
}

// taskCollector describes listed task ARNs once each, in batches of
// MaxECSDescribe across list pages, none before gate opens, and gathers the
// tasks. The first failure cancels its context.
type taskCollector struct {
	l       *Loader
	cluster string
	onBatch func([]Task)
	gate    <-chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu       sync.Mutex
	err      error
	arns     idBatch
	out      []Task
	warnings []string
	services []string
}

// addServices records service ARNs listed on the way to the tasks.
func (c *taskCollector) addServices(arns []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.services = append(c.services, arns...)
}

func newTaskCollector(ctx context.Context, l *Loader, q TaskQuery, gate <-chan struct{}) *taskCollector {
	cctx, cancel := context.WithCancel(ctx)
	return &taskCollector{l: l, cluster: q.Cluster, onBatch: q.OnBatch, gate: gate, ctx: cctx, cancel: cancel, arns: newIDBatch(MaxECSDescribe)}
}

// add queues ARNs not seen before, describing a batch as soon as one is full.
func (c *taskCollector) add(arns []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, batch := range c.arns.add(arns) {
		c.start(batch)
	}
}

// start describes one batch; c.mu is held.
func (c *taskCollector) start(arns []string) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		select {
		case <-c.gate:
		case <-c.ctx.Done():
			c.fail(c.ctx.Err())
			return
		}
		if err := c.describe(arns); err != nil {
			c.fail(err)
		}
	}()
}

func (c *taskCollector) describe(arns []string) error {
	var res *ecs.DescribeTasksOutput
	err := c.l.call(c.ctx, func() (err error) {
		res, err = c.l.ECS.DescribeTasks(c.ctx, &ecs.DescribeTasksInput{Cluster: aws.String(c.cluster), Tasks: arns})
		return err
	})
	if err != nil {
		return fmt.Errorf("describe tasks in %s: %w", c.cluster, err)
	}
	ts := make([]Task, 0, len(res.Tasks))
	for _, t := range res.Tasks {
		ts = append(ts, task(t))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.onBatch != nil {
		c.onBatch(ts)
	}
	c.out = append(c.out, ts...)
	for _, f := range res.Failures {
		c.warnings = append(c.warnings, fmt.Sprintf("task %s: %s", aws.ToString(f.Arn), aws.ToString(f.Reason)))
	}
	return nil
}

func (c *taskCollector) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	c.cancel()
}

// settle describes what is queued and waits for every describe started so far.
func (c *taskCollector) settle() error {
	c.mu.Lock()
	if rest := c.arns.rest(); len(rest) > 0 {
		c.start(rest)
	}
	c.mu.Unlock()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// count is how many distinct task ARNs were listed.
func (c *taskCollector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.arns.distinct()
}

// vouched counts, per container instance, the described tasks that prove
// part of its task count (see listPartitioned).
func (c *taskCollector) vouched(cis []ContainerInstance) map[string]int {
	readAt := make(map[string]time.Time, len(cis))
	for _, ci := range cis {
		readAt[ci.Arn] = ci.CountsReadAt
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, t := range c.out {
		at, ok := readAt[t.ContainerInstanceArn]
		if !ok || t.DesiredStatus != "RUNNING" || t.CreatedAt.IsZero() || !t.CreatedAt.Before(at.Add(-countSkew)) {
			continue
		}
		out[t.ContainerInstanceArn]++
	}
	return out
}

// showTasks says whether a container instance counts a task.
func showTasks(cis []ContainerInstance) bool {
	for _, ci := range cis {
		if ci.RunningTasks+ci.PendingTasks > 0 {
			return true
		}
	}
	return false
}

// closed says whether ch is closed (a nil ch never is).
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func ceilDiv(n, d int) int { return (n + d - 1) / d }
