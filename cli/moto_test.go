package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/trunkctl/trunkctl/internal/awsclient"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
)

// motoCluster is what setUpMotoCluster created.
type motoCluster struct {
	instanceID, trunkID, amiID string
	roleArn                    string
	tasks                      []string
}

// setUpMotoCluster creates, through the real SDK: a role in an instance
// profile, a VPC and subnet, an EC2 instance with that profile, a cluster with
// the instance registered and given a trunk attribute, and two tasks.
func setUpMotoCluster(t *testing.T, c *awsclient.Clients) motoCluster {
	t.Helper()
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var mc motoCluster
	role, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("EcsInstanceRole"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	must(role, err)
	mc.roleArn = aws.ToString(role.Role.Arn)
	must(c.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("EcsInstanceProfile")}))
	must(c.IAM.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("EcsInstanceProfile"), RoleName: aws.String("EcsInstanceRole")}))
	vpc, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	must(vpc, err)
	subnet, err := c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	must(subnet, err)
	images, err := c.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{})
	must(images, err)
	for _, im := range images.Images { // a Linux AMI: moto copies the platform into ecs.os-type
		if im.Platform != ec2types.PlatformValuesWindows && strings.Contains(aws.ToString(im.Name), "amzn") {
			mc.amiID = aws.ToString(im.ImageId)
			break
		}
	}
	if mc.amiID == "" {
		t.Fatal("moto offers no Amazon Linux AMI")
	}
	run, err := c.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(mc.amiID), InstanceType: ec2types.InstanceTypeC5Large,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: subnet.Subnet.SubnetId,
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String("EcsInstanceProfile")}})
	must(run, err)
	mc.instanceID = aws.ToString(run.Instances[0].InstanceId)
	trunk, err := c.EC2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: subnet.Subnet.SubnetId, Description: aws.String("trunk")})
	must(trunk, err)
	mc.trunkID = aws.ToString(trunk.NetworkInterface.NetworkInterfaceId)

	must(c.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}))
	ci, err := c.ECS.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("prod"),
		InstanceIdentityDocument: aws.String(fmt.Sprintf(`{"instanceId":%q}`, mc.instanceID))})
	must(ci, err)
	must(c.ECS.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("prod"), Attributes: []ecstypes.Attribute{{
		Name: aws.String(inventory.AttrTrunkID), Value: aws.String(mc.trunkID), TargetId: ci.ContainerInstance.ContainerInstanceArn}}}))
	// moto 5.2.1 fails RunTask for awsvpc task definitions (AttributeError:
	// 'NetworkInterface' object has no attribute 'private_dns_name'), so the
	// tasks here use bridge mode: ListTasks and DescribeTasks still go over
	// the wire; matching task ENIs to trunks is covered by the fakes.
	must(c.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeBridge,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("nginx"), Memory: aws.Int32(128)}}}))
	tasks, err := c.ECS.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("web"), Count: aws.Int32(2), LaunchType: ecstypes.LaunchTypeEc2})
	must(tasks, err)
	for _, tk := range tasks.Tasks {
		mc.tasks = append(mc.tasks, aws.ToString(tk.TaskArn))
	}
	if len(mc.tasks) != 2 {
		t.Fatalf("moto placed %d tasks, want 2", len(mc.tasks))
	}
	return mc
}

// TestAgainstMoto runs trunkctl's real SDK clients against one moto_server,
// reset between subtests, for every call moto implements: STS
// GetCallerIdentity and AssumeRole; ECS DescribeClusters, List/Describe
// ContainerInstances, ListTasks, DescribeTasks, Put/ListAccountSettings;
// EC2 DescribeInstances, DescribeNetworkInterfaces (ids and filter),
// DescribeSubnets, DescribeImages; IAM GetInstanceProfile, GetRole.
// (moto has no PutAccountSettingDefault; the fakes cover --default.)
func TestAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("moto integration skipped in -short mode")
	}
	m := moto.Start(t)
	m.Env(t)
	// A 500 from moto is a bug to see at once, not to retry for a minute.
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	t.Setenv("AWS_ENDPOINT_URL", moto.Proxy(t, m.URL, moto.ContainerNumbersAsStrings))
	rig := &motoRig{m: m}

	t.Run("status reads a role by assuming it, enable turns it on, disable off", rig.motoStatusEnableDisable)

	t.Run("instances reads the trunk attribute and the role, and judges moto's old agent", rig.motoInstances)

	t.Run("enis describes the trunk named by the attribute in EC2", rig.motoEnis)

	t.Run("doctor reports the missing service-linked role and the role that is not opted in", rig.motoDoctor)

	t.Run("the loader's reads work on the wire", rig.motoLoaderReads)

	t.Run("--debug logs the SDK's requests to stderr", rig.motoDebug)
}

// motoRig runs trunkctl and the SDK clients against one moto_server.
type motoRig struct{ m *moto.Server }

// real resets moto and sets up the cluster the subtests read.
func (rig *motoRig) real(t *testing.T) (*awsclient.Clients, motoCluster) {
	t.Helper()
	rig.m.Reset(t)
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := awsclient.New(cfg)
	return c, setUpMotoCluster(t, c)
}

// trunkctl runs trunkctl with the real AWS clients.
func (rig *motoRig) trunkctl(t *testing.T, args ...string) (ExitCode, string, string) {
	t.Helper()
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	deps := Deps{IO: &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, AWS: RealAWS, Catalog: catalog.Default()}
	code := Run(context.Background(), args, deps)
	return code, out.String(), errOut.String()
}

func (rig *motoRig) motoStatusEnableDisable(t *testing.T) {
	_, mc := rig.real(t)
	code, out, stderr := rig.trunkctl(t, "status", "--role", "EcsInstanceRole", "-o", "json")
	if code != ExitUnhealthy || !strings.Contains(out, `"roleArn": "`+mc.roleArn+`"`) || !strings.Contains(out, `"effectiveValue": "disabled"`) || !strings.Contains(out, `"via": "assume"`) {
		t.Fatalf("before: exit %d\n%s\n%s", code, out, stderr)
	}
	if code, out, stderr := rig.trunkctl(t, "enable", "--role", mc.roleArn, "-o", "json"); code != ExitOK || !strings.Contains(out, `"effectiveValue": "enabled"`) {
		t.Fatalf("enable: exit %d\n%s\n%s", code, out, stderr)
	}
	if code, out, stderr := rig.trunkctl(t, "status", "--cluster", "prod"); code != ExitOK || !strings.HasPrefix(out, mc.roleArn+"\tawsvpcTrunking\tprincipal\tassume\tenabled") {
		t.Fatalf("status --cluster: exit %d\n%q\n%s", code, out, stderr)
	}
	if code, out, stderr := rig.trunkctl(t, "disable", "--role", "EcsInstanceRole"); code != ExitOK || !strings.Contains(out, "disabled") {
		t.Fatalf("disable: exit %d\n%s\n%s", code, out, stderr)
	}
}

func (rig *motoRig) motoInstances(t *testing.T) {
	_, mc := rig.real(t)
	code, out, stderr := rig.trunkctl(t, "instances", "--cluster", "prod", "-o", "json")
	var got struct {
		Instances []instanceRow `json:"instances"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Instances) != 1 {
		t.Fatalf("exit %d, %v\n%s\n%s", code, err, out, stderr)
	}
	r := got.Instances[0]
	if code != ExitUnhealthy || r.EC2InstanceID != mc.instanceID || r.TrunkENI != mc.trunkID || r.InstanceType != "c5.large" ||
		r.AWSVPCTasks != 0 || r.TaskLimit != 10 || r.Verdict.Code != doctor.VerdictAgentTooOld ||
		r.RoleArn != mc.roleArn || r.RoleEffectiveValue != "disabled" {
		t.Fatalf("exit %d, row %+v", code, r)
	}
}

func (rig *motoRig) motoEnis(t *testing.T) {
	_, mc := rig.real(t)
	code, out, stderr := rig.trunkctl(t, "enis", "--cluster", "prod", "--instance", mc.instanceID, "-o", "json")
	var got struct {
		Instances []eniInstance `json:"instances"`
		Missing   []string      `json:"missingEnis"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != ExitOK || len(got.Instances) != 1 {
		t.Fatalf("exit %d, %v\n%s\n%s", code, err, out, stderr)
	}
	r := got.Instances[0]
	if r.Trunk == nil || r.Trunk.NetworkInterfaceID != mc.trunkID || r.Trunk.MACAddress == "" || r.Trunk.SubnetID == "" || len(r.TaskENIs) != 0 || len(got.Missing) != 0 {
		t.Fatalf("row %+v", r)
	}
}

func (rig *motoRig) motoDoctor(t *testing.T) {
	_, _ = rig.real(t)
	code, out, stderr := rig.trunkctl(t, "doctor", "--cluster", "prod", "-o", "json")
	if code != ExitUnhealthy {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{`"check": "service-linked-role",
      "severity": "error"`, `"check": "role-opt-in",
      "severity": "error"`, `"check": "instance",
      "severity": "error"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %s in\n%s", want, out)
		}
	}
	if code, _, stderr := rig.trunkctl(t, "doctor", "--cluster", "nope"); code != ExitError || !strings.Contains(stderr, "not found") {
		t.Fatalf("missing cluster: exit %d, %s", code, stderr)
	}
}

func (rig *motoRig) motoLoaderReads(t *testing.T) {
	c, mc := rig.real(t)
	l := inventory.NewLoader(c.ECS, c.EC2, c.IAM, 4)
	tasks, warnings, err := l.Tasks(context.Background(), inventory.TaskQuery{Cluster: "prod"})
	if err != nil || len(tasks) != 2 || len(warnings) != 0 || tasks[0].Containers[0] != "app" || tasks[0].ContainerInstanceArn == "" {
		t.Fatalf("tasks %+v warnings %v err %v", tasks, warnings, err)
	}
	// By service, proven by the instance's counts: moto 5.2.1 lists
	// services but ignores ListTasks' serviceName and launchType filters
	// (it returns every task), which the listing's dedupe absorbs.
	byService, _, err := l.Tasks(context.Background(), inventory.TaskQuery{Cluster: "prod", Instances: func(ctx context.Context) ([]inventory.ContainerInstance, error) {
		cis, _, err := l.ContainerInstances(ctx, "prod")
		return cis, err
	}})
	if err != nil || len(byService) != 2 || byService[0].Arn != tasks[0].Arn || byService[1].Arn != tasks[1].Arn {
		t.Fatalf("tasks by service %+v err %v", byService, err)
	}
	if _, err := l.Cluster(context.Background(), "prod"); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.RoleExists(context.Background(), "EcsInstanceRole"); !ok || err != nil {
		t.Fatalf("RoleExists = %v, %v", ok, err)
	}
	if ok, err := l.RoleExists(context.Background(), "AWSServiceRoleForECS"); ok || err != nil {
		t.Fatalf("RoleExists(missing) = %v, %v", ok, err)
	}
	b := l.NewENIBatcher(context.Background())
	b.Add(mc.trunkID, "eni-0123456789abcdef0")
	enis, missing, err := b.Flush()
	if err != nil || len(enis) != 1 || len(missing) != 1 {
		t.Fatalf("enis %v missing %v err %v", enis, missing, err)
	}
	images, err := l.Images(context.Background(), []string{mc.amiID})
	if err != nil || images[mc.amiID].ID != mc.amiID {
		t.Fatalf("images %v err %v", images, err)
	}
	insts, err := l.Instances(context.Background(), []string{mc.instanceID})
	if err != nil || !strings.HasSuffix(insts[mc.instanceID].InstanceProfileArn, "instance-profile/EcsInstanceProfile") {
		t.Fatalf("instances %+v err %v", insts, err)
	}
	subnets, err := l.Subnets(context.Background(), []string{insts[mc.instanceID].SubnetID})
	if err != nil || subnets[insts[mc.instanceID].SubnetID].OwnerID == "" {
		t.Fatalf("subnets %+v err %v", subnets, err)
	}
}

func (rig *motoRig) motoDebug(t *testing.T) {
	_, _ = rig.real(t)
	_, _, stderr := rig.trunkctl(t, "instances", "--cluster", "prod", "--debug")
	if !strings.Contains(stderr, "ListContainerInstances") {
		t.Fatalf("stderr has no request log:\n%.2000s", stderr)
	}
}
