package inventory

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/trunkctl/trunkctl/internal/awserr"
)

// SnapshotOptions choose what Snapshot reads besides the container instances.
type SnapshotOptions struct {
	// Tasks lists and describes the tasks whose desired status is RUNNING.
	Tasks bool
	// Instances describes the EC2 instances behind the container instances
	// and finds each one's instance role (ec2:DescribeInstances,
	// iam:GetInstanceProfile). A failure is kept in Snapshot.RolesErr.
	Instances bool
	// Subnets describes the EC2 instances' subnets (implies Instances). A
	// failure is kept in Snapshot.SubnetsErr.
	Subnets bool
	// ENIs describes every trunk ENI and task ENI in EC2, in batches, while
	// the tasks are still being listed.
	ENIs bool
	// Instance, when set, keeps only the container instance with this EC2
	// instance id, container instance id or ARN (and only its tasks);
	// *InstanceNotFoundError when the cluster has none.
	Instance string
}

// Snapshot is a cluster as inventory read it at one time.
type Snapshot struct {
	Cluster string
	// ContainerInstances are the cluster's container instances that are not
	// INACTIVE, sorted by EC2 instance id.
	ContainerInstances []ContainerInstance
	// Tasks are sorted by ARN (SnapshotOptions.Tasks).
	Tasks []Task
	// Services are the service ARNs listed on the way to the tasks (empty
	// when the tasks were listed without them, e.g. when no container
	// instance counts a task).
	Services []string
	// Instances are the EC2 instances by id (SnapshotOptions.Instances).
	Instances map[string]Instance
	// InstanceRoles maps an EC2 instance id to the role ARNs of its instance
	// profile; instances without a profile are absent.
	InstanceRoles map[string][]string
	// NoProfile are the EC2 instances without an instance profile, sorted.
	NoProfile []string
	// RolesErr says why Instances or InstanceRoles could not be read.
	RolesErr error
	// Subnets are the instances' subnets by id (SnapshotOptions.Subnets).
	Subnets    map[string]Subnet
	SubnetsErr error
	// ENIs are the trunk and task ENIs by id (SnapshotOptions.ENIs);
	// MissingENIs are the ids EC2 no longer knows, sorted.
	ENIs        map[string]ENI
	MissingENIs []string
	// Warnings name container instances ECS failed to describe.
	Warnings []string
	// StoppedTasks name tasks that stopped while being listed.
	StoppedTasks []string
}

// RoleArns returns the distinct instance role ARNs behind the cluster, sorted.
func (s *Snapshot) RoleArns() []string {
	var out []string
	for _, rs := range s.InstanceRoles {
		out = append(out, rs...)
	}
	return uniq(out)
}

// InstanceNotFoundError says the cluster has no container instance by that name.
type InstanceNotFoundError struct{ Cluster, Instance string }

func (e *InstanceNotFoundError) Error() string {
	return fmt.Sprintf("no container instance %q in cluster %s", e.Instance, e.Cluster)
}

// Snapshot reads the cluster: its container instances and, as opts say,
// their tasks, EC2 instances, roles, subnets and ENIs. Independent reads run
// concurrently, and tasks are listed by service once the instances' task
// counts are known (see Tasks). A missing cluster is *ClusterNotFoundError.
func (l *Loader) Snapshot(ctx context.Context, cluster string, opts SnapshotOptions) (*Snapshot, error) {
	s := &Snapshot{Cluster: cluster}
	var enis *ENIBatcher
	if opts.ENIs {
		// Not on a child context of the walk's errgroup: its Wait would
		// cancel the context before the last batch is flushed.
		enis = l.NewENIBatcher(ctx)
	}
	var err error
	if opts.Instance != "" {
		err = l.snapshotOne(ctx, s, opts, enis)
	} else {
		err = l.snapshotAll(ctx, s, opts, enis)
	}
	if enis != nil {
		// Flushed even on error, so no batch outlives the call.
		var ferr error
		s.ENIs, s.MissingENIs, ferr = enis.Flush()
		if err == nil {
			err = ferr
		}
	}
	if err != nil {
		return nil, clusterError(cluster, err)
	}
	return s, nil
}

func (l *Loader) snapshotAll(ctx context.Context, s *Snapshot, opts SnapshotOptions, enis *ENIBatcher) error {
	known, busy := make(chan struct{}), make(chan struct{})
	var markBusy sync.Once
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		cis, ws, err := l.containerInstances(gctx, s.Cluster, func(batch []ContainerInstance) {
			if showTasks(batch) {
				markBusy.Do(func() { close(busy) })
			}
		})
		if err != nil {
			return err
		}
		s.ContainerInstances, s.Warnings = cis, ws
		if len(ws) > 0 {
			// An instance ECS failed to describe has no counts to go by.
			markBusy.Do(func() { close(busy) })
		}
		close(known)
		if enis != nil {
			for _, ci := range cis {
				enis.Add(ci.TrunkENI)
			}
		}
		// The instances and roles are read while the tasks are listed.
		l.readInstances(gctx, s, opts)
		return nil
	})
	if opts.Tasks {
		q := taskQuery(s.Cluster, enis)
		q.Busy = busy
		q.Instances = func(ctx context.Context) ([]ContainerInstance, error) {
			select {
			case <-known:
				return s.ContainerInstances, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		g.Go(func() (err error) {
			s.Tasks, s.StoppedTasks, s.Services, err = l.tasks(gctx, q)
			return err
		})
	}
	return g.Wait()
}

func (l *Loader) snapshotOne(ctx context.Context, s *Snapshot, opts SnapshotOptions, enis *ENIBatcher) error {
	all, ws, err := l.ContainerInstances(ctx, s.Cluster)
	if err != nil {
		return err
	}
	s.Warnings = ws
	for _, ci := range all {
		if ci.EC2InstanceID == opts.Instance || ci.Arn == opts.Instance || ci.ID() == opts.Instance {
			s.ContainerInstances = []ContainerInstance{ci}
		}
	}
	if len(s.ContainerInstances) == 0 {
		return &InstanceNotFoundError{Cluster: s.Cluster, Instance: opts.Instance}
	}
	ci := s.ContainerInstances[0]
	if enis != nil {
		enis.Add(ci.TrunkENI)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		l.readInstances(gctx, s, opts)
		return nil
	})
	// An instance that counts no task has none that ran throughout the read
	// (see listPartitioned): its tasks are not listed.
	if opts.Tasks && ci.RunningTasks+ci.PendingTasks > 0 {
		q := taskQuery(s.Cluster, enis)
		q.ContainerInstance = ci.Arn
		g.Go(func() (err error) {
			s.Tasks, s.StoppedTasks, s.Services, err = l.tasks(gctx, q)
			return err
		})
	}
	return g.Wait()
}

// taskQuery selects the cluster's tasks, handing their ENIs to enis.
func taskQuery(cluster string, enis *ENIBatcher) TaskQuery {
	q := TaskQuery{Cluster: cluster}
	if enis != nil {
		q.OnBatch = func(ts []Task) {
			for _, t := range ts {
				for _, e := range t.ENIs {
					enis.Add(e.NetworkInterfaceID)
				}
			}
		}
	}
	return q
}

// readInstances describes the EC2 instances behind s.ContainerInstances and
// finds their roles and subnets, as opts say. Failures are kept in s.
func (l *Loader) readInstances(ctx context.Context, s *Snapshot, opts SnapshotOptions) {
	if !opts.Instances && !opts.Subnets {
		return
	}
	ids := make([]string, 0, len(s.ContainerInstances))
	for _, c := range s.ContainerInstances {
		ids = append(ids, c.EC2InstanceID)
	}
	if len(ids) == 0 {
		return
	}
	insts, err := l.Instances(ctx, ids)
	if err != nil {
		s.RolesErr = err
		return
	}
	s.Instances = insts
	var subnets []string
	for id, i := range insts {
		subnets = append(subnets, i.SubnetID)
		if i.InstanceProfileArn == "" {
			s.NoProfile = append(s.NoProfile, id)
		}
	}
	sort.Strings(s.NoProfile)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		s.InstanceRoles, s.RolesErr = l.RolesByInstance(gctx, insts)
		return nil
	})
	if opts.Subnets && len(uniq(subnets)) > 0 {
		g.Go(func() error {
			s.Subnets, s.SubnetsErr = l.Subnets(gctx, subnets)
			return nil
		})
	}
	_ = g.Wait()
}

// clusterError turns ECS's ClusterNotFoundException into *ClusterNotFoundError.
func clusterError(cluster string, err error) error {
	var nf *ClusterNotFoundError
	if errors.As(err, &nf) || !awserr.IsClusterNotFound(err) {
		return err
	}
	return &ClusterNotFoundError{Cluster: cluster, Reason: awserr.Message(err), Err: err}
}
