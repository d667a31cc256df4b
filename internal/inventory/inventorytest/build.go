package inventorytest

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// Epoch is the fixed clock of generated resources.
func Epoch() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

// InstanceSpec describes a container instance and its EC2 instance.
type InstanceSpec struct {
	// N numbers the instance; ids and ARNs derive from it.
	N            int
	Type         string // default c5.large
	Status       string // default ACTIVE
	StatusReason string
	Agent        string // default 1.90.0
	Trunk        bool   // gets ecs.awsvpc-trunk-id and a trunk ENI
	OSType       string // default linux
	AMI          string // default ami-0al2023
	Subnet       string // default subnet-0a
	Profile      string // instance profile name, default EcsInstanceProfile
	// DNSARecord sets PrivateDnsNameOptions.EnableResourceNameDnsARecord.
	DNSARecord bool
}

// InstanceID is the EC2 instance id of the instance numbered n.
func InstanceID(n int) string { return fmt.Sprintf("i-%017x", n) }

// ContainerInstanceArn of an instance numbered n.
func (c *Cluster) ContainerInstanceArn(n int) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:container-instance/%s/%032x", c.Region, c.AccountID, c.Name, n)
}

// TrunkID of an instance numbered n.
func TrunkID(n int) string { return fmt.Sprintf("eni-0a%015x", n) }

// AddInstance adds a container instance, its EC2 instance, and its trunk ENI
// when Trunk is set. It returns the container instance ARN.
func (c *Cluster) AddInstance(s InstanceSpec) string {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&s.Type, "c5.large")
	def(&s.Status, "ACTIVE")
	def(&s.Agent, "1.90.0")
	def(&s.OSType, "linux")
	def(&s.AMI, "ami-0al2023")
	def(&s.Subnet, "subnet-0a")
	def(&s.Profile, "EcsInstanceProfile")
	id, arn := InstanceID(s.N), c.ContainerInstanceArn(s.N)
	attrs := []ecstypes.Attribute{
		{Name: aws.String("ecs.instance-type"), Value: aws.String(s.Type)},
		{Name: aws.String("ecs.os-type"), Value: aws.String(s.OSType)},
		{Name: aws.String("ecs.ami-id"), Value: aws.String(s.AMI)},
		{Name: aws.String("ecs.capability.task-eni")},
		{Name: aws.String("ecs.capability.task-eni-trunking")},
		{Name: aws.String("ecs.capability.branch-cni-plugin-version"), Value: aws.String("a21d3a41-")},
	}
	if s.Trunk {
		attrs = append(attrs, ecstypes.Attribute{Name: aws.String("ecs.awsvpc-trunk-id"), Value: aws.String(TrunkID(s.N))})
		c.ENIs[TrunkID(s.N)] = ec2types.NetworkInterface{
			NetworkInterfaceId: aws.String(TrunkID(s.N)), InterfaceType: ec2types.NetworkInterfaceTypeTrunk,
			Status: ec2types.NetworkInterfaceStatusInUse, MacAddress: aws.String(mac(0xa0, s.N)),
			PrivateIpAddress: aws.String(ip(10, s.N)), SubnetId: aws.String(s.Subnet), VpcId: aws.String("vpc-0a"),
			OwnerId: aws.String(c.AccountID), Groups: []ec2types.GroupIdentifier{{GroupId: aws.String("sg-0default")}},
			Attachment: &ec2types.NetworkInterfaceAttachment{InstanceId: aws.String(id)},
		}
	}
	registered := Epoch().Add(time.Duration(s.N) * time.Minute)
	c.ContainerInstances = append(c.ContainerInstances, ecstypes.ContainerInstance{
		ContainerInstanceArn: aws.String(arn), Ec2InstanceId: aws.String(id),
		Status: aws.String(s.Status), StatusReason: optional(s.StatusReason), AgentConnected: s.Status == "ACTIVE",
		VersionInfo:  &ecstypes.VersionInfo{AgentVersion: aws.String(s.Agent)},
		RegisteredAt: &registered, Attributes: attrs,
	})
	inst := ec2types.Instance{
		InstanceId: aws.String(id), InstanceType: ec2types.InstanceType(s.Type), ImageId: aws.String(s.AMI),
		SubnetId: aws.String(s.Subnet), VpcId: aws.String("vpc-0a"),
		IamInstanceProfile:    &ec2types.IamInstanceProfile{Arn: aws.String(fmt.Sprintf("arn:aws:iam::%s:instance-profile/%s", c.AccountID, s.Profile))},
		PrivateDnsNameOptions: &ec2types.PrivateDnsNameOptionsResponse{EnableResourceNameDnsARecord: aws.Bool(s.DNSARecord)},
	}
	c.Instances[id] = inst
	if _, ok := c.Subnets[s.Subnet]; !ok {
		c.Subnets[s.Subnet] = ec2types.Subnet{SubnetId: aws.String(s.Subnet), OwnerId: aws.String(c.AccountID), VpcId: aws.String("vpc-0a"), AvailabilityZone: aws.String("us-east-1a")}
	}
	if _, ok := c.Images[s.AMI]; !ok {
		c.Images[s.AMI] = ec2types.Image{ImageId: aws.String(s.AMI), Name: aws.String("al2023-ami-ecs-hvm-2023.0.20260301-kernel-6.1-x86_64")}
	}
	return arn
}

// AddRole adds an instance profile holding the named role.
func (c *Cluster) AddRole(profile, role string) {
	c.InstanceProfiles[profile] = iamtypes.InstanceProfile{
		InstanceProfileName: aws.String(profile),
		Arn:                 aws.String(fmt.Sprintf("arn:aws:iam::%s:instance-profile/%s", c.AccountID, profile)),
		Roles:               []iamtypes.Role{{RoleName: aws.String(role), Arn: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/%s", c.AccountID, role))}},
	}
	c.Roles[role] = iamtypes.Role{RoleName: aws.String(role), Arn: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/%s", c.AccountID, role))}
}

// TaskSpec describes a task.
type TaskSpec struct {
	N        int
	Instance int    // the instance number it runs on
	AWSVPC   bool   // has an ENI attachment (and a branch ENI in EC2)
	Status   string // last status, default RUNNING
	Created  time.Time
	Subnet   string // default subnet-0a
	// Service the task belongs to (group "service:NAME"), default web;
	// Standalone makes it a RunTask task of no service (group "family:web").
	Service    string
	Standalone bool
	// Fargate puts the task on Fargate: no container instance.
	Fargate bool
}

// TaskArn of task n.
func (c *Cluster) TaskArn(n int) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%032x", c.Region, c.AccountID, c.Name, n)
}

// BranchID of task n's ENI.
func BranchID(n int) string { return fmt.Sprintf("eni-0b%015x", n) }

// AddTask adds a task, and its branch ENI when AWSVPC.
func (c *Cluster) AddTask(s TaskSpec) string {
	if s.Status == "" {
		s.Status = "RUNNING"
	}
	if s.Subnet == "" {
		s.Subnet = "subnet-0a"
	}
	if s.Created.IsZero() {
		s.Created = Epoch().Add(time.Hour)
	}
	if s.Service == "" {
		s.Service = "web"
	}
	group, startedBy := "service:"+s.Service, optional("ecs-svc/"+s.Service)
	if s.Standalone {
		group, startedBy = "family:web", nil
	}
	arn := c.TaskArn(s.N)
	t := ecstypes.Task{
		TaskArn: aws.String(arn), ContainerInstanceArn: aws.String(c.ContainerInstanceArn(s.Instance)),
		TaskDefinitionArn: aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/web:3", c.Region, c.AccountID)),
		Group:             aws.String(group), StartedBy: startedBy, LastStatus: aws.String(s.Status), DesiredStatus: aws.String("RUNNING"),
		LaunchType: ecstypes.LaunchTypeEc2, CreatedAt: aws.Time(s.Created),
		Containers: []ecstypes.Container{{Name: aws.String("app")}, {Name: aws.String("envoy")}},
	}
	if s.Fargate {
		t.ContainerInstanceArn, t.LaunchType = nil, ecstypes.LaunchTypeFargate
	}
	if s.AWSVPC {
		id := BranchID(s.N)
		status := "ATTACHED"
		if s.Status == "PROVISIONING" {
			status = "PRECREATED"
		}
		t.Attachments = []ecstypes.Attachment{{
			Id: aws.String(fmt.Sprintf("%08x-0000-4000-8000-%012x", s.N, s.N)), Type: aws.String("ElasticNetworkInterface"), Status: aws.String(status),
			Details: []ecstypes.KeyValuePair{
				{Name: aws.String("subnetId"), Value: aws.String(s.Subnet)},
				{Name: aws.String("networkInterfaceId"), Value: aws.String(id)},
				{Name: aws.String("macAddress"), Value: aws.String(mac(0xb0, s.N))},
				{Name: aws.String("privateIPv4Address"), Value: aws.String(ip(20, s.N))},
				{Name: aws.String("ipv6Address"), Value: aws.String(fmt.Sprintf("2600:1f18::b:%x", s.N))},
			},
		}}
		if s.Status != "PROVISIONING" {
			// A branch ENI on a trunked instance; a whole ENI otherwise.
			typ := ec2types.NetworkInterfaceTypeInterface
			if _, trunked := c.ENIs[TrunkID(s.Instance)]; trunked {
				typ = ec2types.NetworkInterfaceType("branch")
			}
			c.ENIs[id] = ec2types.NetworkInterface{
				NetworkInterfaceId: aws.String(id), InterfaceType: typ,
				Status: ec2types.NetworkInterfaceStatusInUse, MacAddress: aws.String(mac(0xb0, s.N)),
				PrivateIpAddress: aws.String(ip(20, s.N)), SubnetId: aws.String(s.Subnet), VpcId: aws.String("vpc-0a"),
				OwnerId: aws.String(c.AccountID), Groups: []ec2types.GroupIdentifier{{GroupId: aws.String("sg-0web")}},
				Ipv6Addresses: []ec2types.NetworkInterfaceIpv6Address{{Ipv6Address: aws.String(fmt.Sprintf("2600:1f18::b:%x", s.N))}},
			}
		}
	}
	c.Tasks = append(c.Tasks, t)
	return arn
}

// Generate fills the cluster with instances trunked c5.xlarge instances
// (instance profile EcsInstanceProfile, role EcsInstanceRole) and tasks
// awsvpc tasks spread evenly over them, in 50 services, for scale tests.
func (c *Cluster) Generate(instances, tasks int) {
	c.GenerateScale(Scale{Instances: instances, Tasks: tasks, Services: 50})
}

// Scale shapes a generated cluster.
type Scale struct {
	Instances, Tasks int
	// Services share the tasks that are not standalone: the first fifth of
	// them 12 shares each, the next two fifths 3, the rest 1 (with 50
	// services and 10,000 tasks: 10 of 600 tasks, 20 of 150, 20 of 50), a
	// mix of large and small services whose task counts are not all
	// multiples of a page.
	Services int
	// Standalone tasks (RunTask, in no service) are spread evenly among the
	// others: every (Tasks/Standalone)th task.
	Standalone int
}

// GenerateScale fills the cluster as s says; tasks are placed round-robin
// over the instances, awsvpc each.
func (c *Cluster) GenerateScale(s Scale) {
	c.AddRole("EcsInstanceProfile", "EcsInstanceRole")
	for i := 1; i <= s.Instances; i++ {
		c.AddInstance(InstanceSpec{N: i, Type: "c5.xlarge", Trunk: true})
	}
	standalone := func(int) bool { return false }
	if s.Standalone > 0 {
		every := max(1, s.Tasks/s.Standalone)
		standalone = func(t int) bool { return t%every == 0 && t/every <= s.Standalone }
	}
	var inServices int
	for t := 1; t <= s.Tasks; t++ {
		if !standalone(t) {
			inServices++
		}
	}
	sizes := serviceSizes(max(1, s.Services), inServices)
	svc, used := 0, 0
	for t := 1; t <= s.Tasks; t++ {
		spec := TaskSpec{N: t, Instance: (t-1)%s.Instances + 1, AWSVPC: true}
		if standalone(t) {
			spec.Standalone = true
		} else {
			for used == sizes[svc] {
				svc, used = svc+1, 0
			}
			spec.Service, used = fmt.Sprintf("svc-%03d", svc+1), used+1
		}
		c.AddTask(spec)
	}
}

// serviceSizes splits n tasks over k services by the shares Scale describes;
// the first service takes what rounding leaves.
func serviceSizes(k, n int) []int {
	shares := make([]int, k)
	total := 0
	for i := range shares {
		switch {
		case i < k/5:
			shares[i] = 12
		case i < k/5+2*k/5:
			shares[i] = 3
		default:
			shares[i] = 1
		}
		total += shares[i]
	}
	sizes := make([]int, k)
	sum := 0
	for i, sh := range shares {
		sizes[i] = n * sh / total
		sum += sizes[i]
	}
	sizes[0] += n - sum
	return sizes
}

func mac(prefix, n int) string {
	return fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x", prefix, (n>>24)&0xff, (n>>16)&0xff, (n>>8)&0xff, n&0xff)
}

func ip(third, n int) string {
	return fmt.Sprintf("10.%d.%d.%d", third+(n>>16)&0xff, (n>>8)&0xff, n&0xff)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
