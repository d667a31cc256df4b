// Package inventorytest is an in-memory ECS cluster with its EC2 instances,
// ENIs, subnets, AMIs and IAM instance profiles, served through fakes with
// the SDK's exact method signatures. It enforces the API maxima (100 ARNs
// per ECS describe, pages of at most 100), paginates with tokens, counts
// calls, and can add latency to every call, which the scale benchmark uses.
package inventorytest

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/testutil/callmeter"
)

// Cluster is the fake world. Fill the exported fields, then use ECS(), EC2()
// and IAM(). Fields must not change while calls are in flight, except
// through Change.
type Cluster struct {
	Name      string
	Region    string
	AccountID string
	// Latency is added to every call.
	Latency time.Duration

	ContainerInstances []ecstypes.ContainerInstance
	Tasks              []ecstypes.Task
	ENIs               map[string]ec2types.NetworkInterface
	Instances          map[string]ec2types.Instance
	Subnets            map[string]ec2types.Subnet
	Images             map[string]ec2types.Image
	// InstanceProfiles by name.
	InstanceProfiles map[string]iamtypes.InstanceProfile
	// Roles by name (for GetRole).
	Roles map[string]iamtypes.Role
	// Services names services that exist besides those the tasks name (a
	// service with no tasks); ListServices lists both.
	Services []string
	// Extra holds the doctor's extra signals (see signals.go).
	Extra Signals
	// Fail makes an operation ("ecs:ListTasks", "iam:GetRole", ...) return this error.
	Fail map[string]error
	// OnCall, when set, hears every call (its operation and how many calls of
	// it were made so far, this one included) before the call is answered;
	// tests use it to change the cluster mid-walk through Change.
	OnCall func(op string, n int)

	mu    sync.Mutex
	meter callmeter.Meter
	// listTasksBy counts ListTasks calls by the filter they used.
	listTasksBy map[string]int
	// in-flight tracking for tests of the concurrency bound
	index *index
	// state guards the exported world against Change while handlers read it.
	state sync.RWMutex
}

type index struct {
	cis   map[string]ecstypes.ContainerInstance
	tasks map[string]ecstypes.Task
	// running and pending count each container instance's tasks as ECS does:
	// runningTasksCount is the tasks whose desired status is RUNNING,
	// pendingTasksCount those whose last status is PENDING.
	running, pending map[string]int32
}

func (c *Cluster) buildIndex() *index {
	ix := &index{cis: map[string]ecstypes.ContainerInstance{}, tasks: map[string]ecstypes.Task{}, running: map[string]int32{}, pending: map[string]int32{}}
	for _, ci := range c.ContainerInstances {
		ix.cis[aws.ToString(ci.ContainerInstanceArn)] = ci
	}
	for _, t := range c.Tasks {
		ix.tasks[aws.ToString(t.TaskArn)] = t
		ci := aws.ToString(t.ContainerInstanceArn)
		if aws.ToString(t.DesiredStatus) == "RUNNING" {
			ix.running[ci]++
		}
		if aws.ToString(t.LastStatus) == "PENDING" {
			ix.pending[ci]++
		}
	}
	return ix
}

// Change runs f, which may change the exported fields (add or stop tasks),
// while no call is reading them, and re-indexes the cluster.
func (c *Cluster) Change(f func()) {
	c.state.Lock()
	defer c.state.Unlock()
	f()
	c.mu.Lock()
	c.index = c.buildIndex()
	c.mu.Unlock()
}

// read holds the world still for one handler; call the result when done.
func (c *Cluster) read() func() {
	c.state.RLock()
	return c.state.RUnlock
}

// New returns an empty cluster "prod" in us-east-1, account 123456789012.
func New() *Cluster {
	return &Cluster{
		Name: "prod", Region: "us-east-1", AccountID: "123456789012",
		ENIs: map[string]ec2types.NetworkInterface{}, Instances: map[string]ec2types.Instance{},
		Subnets: map[string]ec2types.Subnet{}, Images: map[string]ec2types.Image{},
		InstanceProfiles: map[string]iamtypes.InstanceProfile{}, Roles: map[string]iamtypes.Role{},
		Fail: map[string]error{},
	}
}

// ClusterArn is the cluster's ARN.
func (c *Cluster) ClusterArn() string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", c.Region, c.AccountID, c.Name)
}

// Calls returns the number of calls per operation.
func (c *Cluster) Calls() map[string]int { return c.meter.Calls() }

// TotalCalls is the sum of all calls.
func (c *Cluster) TotalCalls() int { return c.meter.Total() }

// MaxInFlight is the most calls that were in flight at once.
func (c *Cluster) MaxInFlight() int { return c.meter.Peak() }

// ResetCalls forgets the call counts.
func (c *Cluster) ResetCalls() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.meter.Reset()
	c.listTasksBy = nil
}

// enter counts a call, waits the latency, applies Fail, and takes the read
// lock; the returned func releases it and ends the call.
func (c *Cluster) enter(ctx context.Context, op string) (func(), error) {
	n, leave := c.meter.Enter(op)
	c.mu.Lock()
	if c.index == nil {
		c.index = c.buildIndex()
	}
	fail := c.Fail[op]
	c.mu.Unlock()
	if c.OnCall != nil {
		c.OnCall(op, n)
	}
	if err := callmeter.Wait(ctx, c.Latency); err != nil {
		leave()
		return nil, err
	}
	if fail != nil {
		leave()
		return nil, fail
	}
	// Answer under the read lock, so Change cannot move the cluster mid-answer.
	unlock := c.read()
	return func() { unlock(); leave() }, nil
}

// APIError builds a client-fault API error with a code, as AWS returns.
func APIError(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg, Fault: smithy.FaultClient}
}

func (c *Cluster) checkCluster(name *string) error {
	n := aws.ToString(name)
	if n != c.Name && n != c.ClusterArn() {
		return APIError("ClusterNotFoundException", "Cluster not found.")
	}
	return nil
}

// page returns items [token, token+max) and the next token; pages hold
// size items unless maxResults (1-100) says otherwise.
func page[T any](items []T, token *string, maxResults *int32, size int) ([]T, *string, error) {
	start := 0
	if token != nil {
		n, err := strconv.Atoi(*token)
		if err != nil || n < 0 || n > len(items) {
			return nil, nil, APIError("InvalidParameterException", "invalid nextToken")
		}
		start = n
	}
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 100 {
			return nil, nil, APIError("InvalidParameterException", "maxResults must be 1-100")
		}
		size = int(*maxResults)
	}
	end := min(start+size, len(items))
	var next *string
	if end < len(items) {
		next = aws.String(strconv.Itoa(end))
	}
	return items[start:end], next, nil
}

// ECS returns the fake ECS client.
func (c *Cluster) ECS() *ECS { return &ECS{c: c} }

// EC2 returns the fake EC2 client.
func (c *Cluster) EC2() *EC2 { return &EC2{c: c} }

// IAM returns the fake IAM client.
func (c *Cluster) IAM() *IAM { return &IAM{c: c} }

// ECS is the fake ECS client. Calls it does not implement panic.
type ECS struct {
	inventory.ECSAPI
	c *Cluster
}

// DescribeClusters is the fake ecs:DescribeClusters.
func (e *ECS) DescribeClusters(ctx context.Context, in *ecs.DescribeClustersInput, _ ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error) {
	leave, err := e.c.enter(ctx, "ecs:DescribeClusters")
	if err != nil {
		return nil, err
	}
	defer leave()
	out := &ecs.DescribeClustersOutput{}
	for _, n := range in.Clusters {
		if e.c.checkCluster(&n) != nil {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(n), Reason: aws.String("MISSING")})
			continue
		}
		out.Clusters = append(out.Clusters, ecstypes.Cluster{ClusterName: aws.String(e.c.Name), ClusterArn: aws.String(e.c.ClusterArn()), Status: aws.String("ACTIVE"),
			RegisteredContainerInstancesCount: count(len(e.c.ContainerInstances)), RunningTasksCount: count(len(e.c.Tasks)),
			CapacityProviders: e.c.Extra.ClusterProviders})
	}
	return out, nil
}

// ListContainerInstances is the fake ecs:ListContainerInstances.
func (e *ECS) ListContainerInstances(ctx context.Context, in *ecs.ListContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.ListContainerInstancesOutput, error) {
	leave, err := e.c.enter(ctx, "ecs:ListContainerInstances")
	if err != nil {
		return nil, err
	}
	defer leave()
	if err := e.c.checkCluster(in.Cluster); err != nil {
		return nil, err
	}
	var arns []string
	for _, ci := range e.c.ContainerInstances {
		if aws.ToString(ci.Status) != "INACTIVE" {
			arns = append(arns, aws.ToString(ci.ContainerInstanceArn))
		}
	}
	p, next, err := page(arns, in.NextToken, in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	return &ecs.ListContainerInstancesOutput{ContainerInstanceArns: p, NextToken: next}, nil
}

// DescribeContainerInstances is the fake ecs:DescribeContainerInstances.
func (e *ECS) DescribeContainerInstances(ctx context.Context, in *ecs.DescribeContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error) {
	leave, err := e.c.enter(ctx, "ecs:DescribeContainerInstances")
	if err != nil {
		return nil, err
	}
	defer leave()
	if err := e.c.checkCluster(in.Cluster); err != nil {
		return nil, err
	}
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > inventory.MaxECSDescribe {
		return nil, APIError("InvalidParameterException", fmt.Sprintf("containerInstances must hold 1-100 items, got %d", len(in.ContainerInstances)))
	}
	out := &ecs.DescribeContainerInstancesOutput{}
	for _, arn := range in.ContainerInstances {
		if ci, ok := e.c.index.cis[arn]; ok {
			ci.RunningTasksCount, ci.PendingTasksCount = e.c.index.running[arn], e.c.index.pending[arn]
			out.ContainerInstances = append(out.ContainerInstances, ci)
		} else {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
		}
	}
	return out, nil
}

// ListTasks is the fake ecs:ListTasks.
func (e *ECS) ListTasks(ctx context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	leave, err := e.c.enter(ctx, "ecs:ListTasks")
	if err != nil {
		return nil, err
	}
	defer leave()
	if err := e.c.checkCluster(in.Cluster); err != nil {
		return nil, err
	}
	e.c.countListTasks(in)
	desired := string(in.DesiredStatus)
	if desired == "" {
		desired = "RUNNING"
	}
	var arns []string
	for _, t := range e.c.Tasks {
		if aws.ToString(t.DesiredStatus) != desired {
			continue
		}
		if ci := aws.ToString(in.ContainerInstance); ci != "" && ci != aws.ToString(t.ContainerInstanceArn) && !strings.HasSuffix(aws.ToString(t.ContainerInstanceArn), "/"+ci) {
			continue
		}
		if svc := aws.ToString(in.ServiceName); svc != "" && aws.ToString(t.Group) != "service:"+path.Base(svc) {
			continue
		}
		if in.LaunchType != "" && in.LaunchType != t.LaunchType {
			continue
		}
		arns = append(arns, aws.ToString(t.TaskArn))
	}
	p, next, err := page(arns, in.NextToken, in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	return &ecs.ListTasksOutput{TaskArns: p, NextToken: next}, nil
}

func (c *Cluster) countListTasks(in *ecs.ListTasksInput) {
	var by []string
	if in.ServiceName != nil {
		by = append(by, "serviceName")
	}
	if in.ContainerInstance != nil {
		by = append(by, "containerInstance")
	}
	if in.LaunchType != "" {
		by = append(by, "launchType")
	}
	if len(by) == 0 {
		by = append(by, "unfiltered")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.listTasksBy == nil {
		c.listTasksBy = map[string]int{}
	}
	c.listTasksBy[strings.Join(by, "+")]++
}

// ListTasksBy counts ListTasks calls by filter: "unfiltered", "serviceName",
// "containerInstance", "launchType" (or several joined by "+").
func (c *Cluster) ListTasksBy() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.listTasksBy {
		out[k] = v
	}
	return out
}

// ServiceArn of the named service.
func (c *Cluster) ServiceArn(name string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", c.Region, c.AccountID, c.Name, name)
}

// ListServices lists the services the tasks name (group "service:NAME") and
// those in Services, sorted, in pages of at most 100 (10 by default, as ECS).
func (e *ECS) ListServices(ctx context.Context, in *ecs.ListServicesInput, _ ...func(*ecs.Options)) (*ecs.ListServicesOutput, error) {
	leave, err := e.c.enter(ctx, "ecs:ListServices")
	if err != nil {
		return nil, err
	}
	defer leave()
	if err := e.c.checkCluster(in.Cluster); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, n := range e.c.Services {
		names[n] = true
	}
	for _, t := range e.c.Tasks {
		if n, ok := strings.CutPrefix(aws.ToString(t.Group), "service:"); ok {
			names[n] = true
		}
	}
	arns := make([]string, 0, len(names))
	for n := range names {
		arns = append(arns, e.c.ServiceArn(n))
	}
	sort.Strings(arns)
	p, next, err := page(arns, in.NextToken, in.MaxResults, 10)
	if err != nil {
		return nil, err
	}
	return &ecs.ListServicesOutput{ServiceArns: p, NextToken: next}, nil
}

// DescribeTasks is the fake ecs:DescribeTasks.
func (e *ECS) DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	leave, err := e.c.enter(ctx, "ecs:DescribeTasks")
	if err != nil {
		return nil, err
	}
	defer leave()
	if err := e.c.checkCluster(in.Cluster); err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 || len(in.Tasks) > inventory.MaxECSDescribe {
		return nil, APIError("InvalidParameterException", fmt.Sprintf("tasks must hold 1-100 items, got %d", len(in.Tasks)))
	}
	out := &ecs.DescribeTasksOutput{}
	for _, arn := range in.Tasks {
		if t, ok := e.c.index.tasks[arn]; ok {
			out.Tasks = append(out.Tasks, t)
		} else {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
		}
	}
	return out, nil
}

// EC2 is the fake EC2 client.
type EC2 struct {
	inventory.EC2API
	c *Cluster
}

func checkIDs(ids []string) error {
	if len(ids) > inventory.MaxEC2IDs {
		return APIError("InvalidParameterValue", fmt.Sprintf("too many ids: %d", len(ids)))
	}
	return nil
}

// describeByID answers an EC2 Describe call by ids, given directly or as the
// one filter the fake supports (filterName). As in EC2, an unknown id given
// directly is an error (notFound) and one given in a filter is skipped.
func describeByID[T any](direct []string, filters []ec2types.Filter, filterName string, items map[string]T, notFound func(id string) error) ([]T, error) {
	ids, byFilter := direct, false
	for _, f := range filters {
		if aws.ToString(f.Name) != filterName {
			return nil, APIError("InvalidParameterValue", "fake supports only the "+filterName+" filter")
		}
		ids, byFilter = f.Values, true
	}
	if err := checkIDs(ids); err != nil {
		return nil, err
	}
	var out []T
	for _, id := range ids {
		item, ok := items[id]
		if !ok {
			if byFilter {
				continue
			}
			return nil, notFound(id)
		}
		out = append(out, item)
	}
	return out, nil
}

// DescribeInstances is the fake ec2:DescribeInstances.
func (e *EC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	leave, err := e.c.enter(ctx, "ec2:DescribeInstances")
	if err != nil {
		return nil, err
	}
	defer leave()
	instances, err := describeByID(in.InstanceIds, in.Filters, "instance-id", e.c.Instances, func(id string) error {
		return APIError("InvalidInstanceID.NotFound", fmt.Sprintf("The instance ID '%s' does not exist", id))
	})
	if err != nil {
		return nil, err
	}
	for i := range instances {
		if g := e.c.groupOf(aws.ToString(instances[i].InstanceId)); g != "" {
			instances[i].Tags = append(append([]ec2types.Tag(nil), instances[i].Tags...), ec2types.Tag{Key: aws.String(inventory.TagAutoScalingGroup), Value: aws.String(g)})
		}
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: instances}}}, nil
}

// groupOf is the Auto Scaling group an instance is in ("" for none).
func (c *Cluster) groupOf(id string) string {
	for name, g := range c.Extra.AutoScalingGroups {
		for _, i := range g.Instances {
			if aws.ToString(i.InstanceId) == id {
				return name
			}
		}
	}
	return ""
}

// DescribeNetworkInterfaces is the fake ec2:DescribeNetworkInterfaces.
func (e *EC2) DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	leave, err := e.c.enter(ctx, "ec2:DescribeNetworkInterfaces")
	if err != nil {
		return nil, err
	}
	defer leave()
	enis, err := describeByID(in.NetworkInterfaceIds, in.Filters, "network-interface-id", e.c.ENIs, func(id string) error {
		return APIError("InvalidNetworkInterfaceID.NotFound", fmt.Sprintf("The networkInterface ID '%s' does not exist", id))
	})
	if err != nil {
		return nil, err
	}
	return &ec2.DescribeNetworkInterfacesOutput{NetworkInterfaces: enis}, nil
}

// DescribeSubnets is the fake ec2:DescribeSubnets.
func (e *EC2) DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	leave, err := e.c.enter(ctx, "ec2:DescribeSubnets")
	if err != nil {
		return nil, err
	}
	defer leave()
	subnets, err := describeByID(in.SubnetIds, nil, "subnet-id", e.c.Subnets, func(id string) error {
		return APIError("InvalidSubnetID.NotFound", fmt.Sprintf("The subnet ID '%s' does not exist", id))
	})
	if err != nil {
		return nil, err
	}
	return &ec2.DescribeSubnetsOutput{Subnets: subnets}, nil
}

// DescribeImages is the fake ec2:DescribeImages.
func (e *EC2) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	leave, err := e.c.enter(ctx, "ec2:DescribeImages")
	if err != nil {
		return nil, err
	}
	defer leave()
	images, err := describeByID(in.ImageIds, in.Filters, "image-id", e.c.Images, func(id string) error {
		return APIError("InvalidAMIID.NotFound", fmt.Sprintf("The image id '[%s]' does not exist", id))
	})
	if err != nil {
		return nil, err
	}
	return &ec2.DescribeImagesOutput{Images: images}, nil
}

// IAM is the fake IAM client.
type IAM struct {
	inventory.IAMAPI
	c *Cluster
}

// GetInstanceProfile is the fake iam:GetInstanceProfile.
func (i *IAM) GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, _ ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error) {
	leave, err := i.c.enter(ctx, "iam:GetInstanceProfile")
	if err != nil {
		return nil, err
	}
	defer leave()
	p, ok := i.c.InstanceProfiles[aws.ToString(in.InstanceProfileName)]
	if !ok {
		return nil, APIError("NoSuchEntity", "Instance Profile "+aws.ToString(in.InstanceProfileName)+" cannot be found.")
	}
	return &iam.GetInstanceProfileOutput{InstanceProfile: &p}, nil
}

// GetRole is the fake iam:GetRole.
func (i *IAM) GetRole(ctx context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	leave, err := i.c.enter(ctx, "iam:GetRole")
	if err != nil {
		return nil, err
	}
	defer leave()
	r, ok := i.c.Roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, APIError("NoSuchEntity", "The role with name "+aws.ToString(in.RoleName)+" cannot be found.")
	}
	return &iam.GetRoleOutput{Role: &r}, nil
}

// SortedOps lists "op=count" pairs, for failure messages.
func (c *Cluster) SortedOps() string { return FormatCounts(c.Calls()) }

// FormatCounts renders counts as "key=n" pairs sorted by key.
func FormatCounts(n map[string]int) string {
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
