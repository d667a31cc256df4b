package rollout_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/rollout"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
)

// motoWorld is an Auto Scaling group of two c5.large whose instances are
// registered to an ECS cluster, created through the real SDK on moto_server.
type motoWorld struct {
	mu        *sync.Mutex
	ecs       *ecs.Client
	asg       *autoscaling.Client
	group     string
	instances []string
	cis       []string
	task      string
}

func setUpMoto(t *testing.T, srv *moto.Server) motoWorld {
	t.Helper()
	srv.Reset(t)
	srv.Env(t)
	// moto 5.2.1 answers agent 1.0.0 whatever the agent says (the judge
	// rightly says it cannot trunk), and task containers' numbers as numbers.
	t.Setenv("AWS_ENDPOINT_URL_ECS", moto.Proxy(t, srv.URL, moto.AgentVersion("1.89.0"), moto.ContainerNumbersAsStrings))
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ec2c, ecsc, asgc := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg), autoscaling.NewFromConfig(cfg)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	vpc, err := ec2c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	must(vpc, err)
	subnet, err := ec2c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	must(subnet, err)
	images, err := ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{})
	must(images, err)
	var ami string
	for _, im := range images.Images {
		if im.Platform != ec2types.PlatformValuesWindows && strings.Contains(aws.ToString(im.Name), "amzn") {
			ami = aws.ToString(im.ImageId)
			break
		}
	}
	must(ec2c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("ecs"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(ami), InstanceType: ec2types.InstanceTypeC5Large}}))
	w := motoWorld{mu: &sync.Mutex{}, ecs: ecsc, asg: asgc, group: "ecs-capacity"}
	must(asgc.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(w.group),
		MinSize: aws.Int32(0), MaxSize: aws.Int32(4), DesiredCapacity: aws.Int32(2), VPCZoneIdentifier: subnet.Subnet.SubnetId,
		NewInstancesProtectedFromScaleIn: aws.Bool(true), // as a capacity provider's managed termination protection does
		LaunchTemplate:                   &asgtypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("ecs"), Version: aws.String("$Latest")}}))
	groups, err := asgc.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{w.group}})
	must(groups, err)
	must(ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}))
	agent := &ecstypes.VersionInfo{AgentVersion: aws.String("1.89.0")}
	for _, i := range groups.AutoScalingGroups[0].Instances {
		id := aws.ToString(i.InstanceId)
		ci, err := ecsc.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("prod"),
			InstanceIdentityDocument: aws.String(fmt.Sprintf(`{"instanceId":%q}`, id)), VersionInfo: agent})
		must(ci, err)
		must(ecsc.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("prod"), Attributes: agentCapabilities(ci.ContainerInstance.ContainerInstanceArn)}))
		w.instances = append(w.instances, id)
		w.cis = append(w.cis, aws.ToString(ci.ContainerInstance.ContainerInstanceArn))
	}
	if len(w.instances) != 2 {
		t.Fatalf("moto launched %d instances, want 2", len(w.instances))
	}
	// A standalone task (bridge mode: moto 5.2.1 fails RunTask for awsvpc).
	must(ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("batch"), NetworkMode: ecstypes.NetworkModeBridge,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("job"), Image: aws.String("busybox"), Memory: aws.Int32(128)}}}))
	run, err := ecsc.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("batch"), LaunchType: ecstypes.LaunchTypeEc2})
	must(run, err)
	w.task = aws.ToString(run.Tasks[0].TaskArn)
	return w
}

// lockedECS describes container instances under the agent's lock.
type lockedECS struct {
	rollout.ECSAPI
	mu *sync.Mutex
}

func (l lockedECS) DescribeContainerInstances(ctx context.Context, in *ecs.DescribeContainerInstancesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ECSAPI.DescribeContainerInstances(ctx, in, optFns...)
}

// unprotectCounter counts SetInstanceProtection calls that went through,
// and CreateOrUpdateTags calls with the value the group reads back after.
type unprotectCounter struct {
	rollout.AutoScalingAPI
	n       int
	tagged  int
	lastTag string
}

func (u *unprotectCounter) CreateOrUpdateTags(ctx context.Context, in *autoscaling.CreateOrUpdateTagsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.CreateOrUpdateTagsOutput, error) {
	out, err := u.AutoScalingAPI.CreateOrUpdateTags(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	u.tagged++
	g, derr := u.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{aws.ToString(in.Tags[0].ResourceId)}})
	if derr == nil && len(g.AutoScalingGroups) == 1 {
		for _, tag := range g.AutoScalingGroups[0].Tags {
			if aws.ToString(tag.Key) == rollout.RaisedTagKey {
				u.lastTag = aws.ToString(tag.Value)
			}
		}
	}
	return out, err
}

func (u *unprotectCounter) SetInstanceProtection(ctx context.Context, in *autoscaling.SetInstanceProtectionInput, optFns ...func(*autoscaling.Options)) (*autoscaling.SetInstanceProtectionOutput, error) {
	out, err := u.AutoScalingAPI.SetInstanceProtection(ctx, in, optFns...)
	if err == nil {
		u.n++
	}
	return out, err
}

// agent plays the ECS agent of instances the group launches: it registers
// them with a trunk (their role is opted in), until ctx ends.
func (w motoWorld) agent(ctx context.Context, t *testing.T) {
	registered := map[string]bool{}
	for _, id := range w.instances {
		registered[id] = true
	}
	for ctx.Err() == nil {
		g, err := w.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{w.group}})
		if err == nil {
			for _, i := range g.AutoScalingGroups[0].Instances {
				id := aws.ToString(i.InstanceId)
				if registered[id] || i.LifecycleState != asgtypes.LifecycleStateInService {
					continue
				}
				// ECS shows an instance REGISTERING until its trunk is attached;
				// moto has no such state, so the engine's describes wait on
				// the lock while the agent registers and adds the trunk.
				w.mu.Lock()
				ci, err := w.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("prod"),
					InstanceIdentityDocument: aws.String(fmt.Sprintf(`{"instanceId":%q}`, id)), VersionInfo: &ecstypes.VersionInfo{AgentVersion: aws.String("1.89.0")}})
				if err == nil {
					_, err = w.ecs.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("prod"), Attributes: append(agentCapabilities(ci.ContainerInstance.ContainerInstanceArn), ecstypes.Attribute{
						Name: aws.String("ecs.awsvpc-trunk-id"), Value: aws.String("eni-" + id[2:]), TargetId: ci.ContainerInstance.ContainerInstanceArn})})
				}
				w.mu.Unlock()
				if err != nil {
					t.Errorf("register %s with a trunk: %v", id, err)
					continue
				}
				registered[id] = true
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestMoto runs a rollout over the wire against moto_server, which covers
// the calls moto 5.2.1 implements: ECS ListContainerInstances,
// DescribeContainerInstances, UpdateContainerInstancesState, ListTasks,
// DescribeTasks, StopTask; Auto Scaling DescribeAutoScalingInstances,
// DescribeAutoScalingGroups (with Tags), SetDesiredCapacity, SetInstanceProtection,
// TerminateInstanceInAutoScalingGroup, CreateOrUpdateTags, DeleteTags. ECS DescribeServices (called only
// when services ran on a batch) is covered by the simulator; moto has no
// instance refreshes (StartInstanceRefresh, DescribeInstanceRefreshes and
// CancelInstanceRefresh answer HTTP 500), which the second subtest pins.
func TestMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("moto_server: not in -short")
	}
	srv := moto.Start(t)
	t.Run("a rollout replaces the group through the wire", func(t *testing.T) { testRolloutOverMoto(t, srv) })
	t.Run("moto does not implement instance refreshes", func(t *testing.T) { testMotoHasNoInstanceRefresh(t, srv) })
}

func testRolloutOverMoto(t *testing.T, srv *moto.Server) {
	w := setUpMoto(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	agentCtx, stopAgent := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.agent(agentCtx, t) }()
	defer func() { stopAgent(); <-done }()

	asg := &unprotectCounter{AutoScalingAPI: w.asg}
	e := &rollout.Engine{ECS: lockedECS{ECSAPI: w.ecs, mu: w.mu}, ASG: asg, Clock: rollout.SystemClock{}, Catalog: catalog.Default()}
	o := rollout.Options{Cluster: "prod", MaxUnavailable: rollout.MaxUnavailable{N: 1}, Standalone: rollout.StandaloneStop, PollInterval: 50 * time.Millisecond,
		LaunchTimeout: 30 * time.Second, DrainTimeout: 30 * time.Second}
	snap, err := inventory.NewLoader(w.ecs, nil, nil, 4).Snapshot(ctx, "prod", inventory.SnapshotOptions{})
	if err != nil {
		t.Fatalf("snapshot over moto: %v", err)
	}
	in := doctor.Input{Snapshot: *snap, Catalog: catalog.Default()}
	e.Judge = in
	p, err := e.Plan(ctx, o, doctor.Judge(in).Instances)
	if err != nil {
		t.Fatalf("plan over moto: %v", err)
	}
	if p.Count(rollout.ActionReplace) != 2 || len(p.Batches) != 2 || p.Groups[w.group].Max != 4 || p.SlotsAfter != 20 {
		t.Fatalf("plan over moto: %d to replace in %d batches, group %+v, slots after %d; want 2 in 2, MaxSize 4, 20",
			p.Count(rollout.ActionReplace), len(p.Batches), p.Groups[w.group], p.SlotsAfter)
	}
	res, err := e.Run(ctx, p, o)
	if err != nil {
		t.Fatalf("run over moto: %v", err)
	}
	if len(res.Replaced) != 2 || res.SlotsAfter != 20 {
		t.Fatalf("replaced %+v, slots after %d; want both, 20", res.Replaced, res.SlotsAfter)
	}
	g, err := w.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{w.group}})
	if err != nil {
		t.Fatal(err)
	}
	if d := aws.ToInt32(g.AutoScalingGroups[0].DesiredCapacity); d != 2 {
		t.Fatalf("desired capacity %d after the rollout, want 2 again", d)
	}
	for _, tag := range g.AutoScalingGroups[0].Tags {
		if aws.ToString(tag.Key) == rollout.RaisedTagKey {
			t.Fatalf("group still tagged %s=%s after the rollout, want it deleted", rollout.RaisedTagKey, aws.ToString(tag.Value))
		}
	}
	if asg.tagged == 0 || asg.lastTag != "raised=1 from=2 cluster=prod" {
		t.Fatalf("%d CreateOrUpdateTags calls, last value %q; want the raise tagged over the wire", asg.tagged, asg.lastTag)
	}
	for _, i := range g.AutoScalingGroups[0].Instances {
		if slices.Contains(w.instances, aws.ToString(i.InstanceId)) {
			t.Errorf("old instance %s still in the group", aws.ToString(i.InstanceId))
		}
	}
	if asg.n != 2 {
		t.Fatalf("%d SetInstanceProtection calls, want one per batch for the protected instances", asg.n)
	}
	tasks, err := w.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{w.task}})
	if err != nil || aws.ToString(tasks.Tasks[0].DesiredStatus) != "STOPPED" {
		t.Fatalf("standalone task: %v, %+v; want it stopped (--standalone stop)", err, tasks)
	}
	cis, err := w.ecs.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("prod"), ContainerInstances: w.cis})
	if err != nil {
		t.Fatal(err)
	}
	for _, ci := range cis.ContainerInstances {
		if aws.ToString(ci.Status) != "DRAINING" {
			t.Errorf("old container instance %s is %s, want DRAINING (set over the wire)", aws.ToString(ci.Ec2InstanceId), aws.ToString(ci.Status))
		}
	}
}

// moto 5.2.1 does not implement instance refreshes: StartInstanceRefresh
// answers HTTP 500 with a body that is not an AWS error. When this fails,
// moto gained them: extend the test above to --method refresh.
func testMotoHasNoInstanceRefresh(t *testing.T, srv *moto.Server) {
	w := setUpMoto(t, srv)
	ctx := context.Background()
	_, err := w.asg.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String(w.group),
		Preferences: &asgtypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(100), MaxHealthyPercentage: aws.Int32(150), SkipMatching: aws.Bool(false)}},
		func(o *autoscaling.Options) { o.RetryMaxAttempts = 1 })
	if err == nil || !strings.Contains(err.Error(), "StatusCode: 500") {
		t.Fatalf("StartInstanceRefresh on moto: %v, want moto's HTTP 500", err)
	}
	_, err = w.asg.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(w.group)},
		func(o *autoscaling.Options) { o.RetryMaxAttempts = 1 })
	if err == nil || !strings.Contains(err.Error(), "StatusCode: 500") {
		t.Fatalf("DescribeInstanceRefreshes on moto: %v, want moto's HTTP 500", err)
	}
}

// agentCapabilities are the attributes an agent that can trunk reports
// (moto's registration reports none).
func agentCapabilities(target *string) []ecstypes.Attribute {
	return []ecstypes.Attribute{
		{Name: aws.String("ecs.capability.task-eni"), TargetId: target},
		{Name: aws.String("ecs.capability.task-eni-trunking"), TargetId: target},
		{Name: aws.String("ecs.capability.branch-cni-plugin-version"), Value: aws.String("a21d3a41-"), TargetId: target},
	}
}
