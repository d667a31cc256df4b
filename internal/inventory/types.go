package inventory

import "time"

// Container-instance attributes trunkctl reads.
const (
	AttrTrunkID      = "ecs.awsvpc-trunk-id"
	AttrTrunkCapable = "ecs.capability.task-eni-trunking"
	AttrTaskENI      = "ecs.capability.task-eni"
	AttrInstanceType = "ecs.instance-type"
	AttrOSType       = "ecs.os-type"
	AttrOSFamily     = "ecs.os-family"
	AttrAMI          = "ecs.ami-id"
	AttrAZ           = "ecs.availability-zone"
)

// ContainerInstance is what ECS says of one container instance.
type ContainerInstance struct {
	Arn            string
	EC2InstanceID  string
	InstanceType   string
	Status         string
	StatusReason   string
	AgentVersion   string
	AgentConnected bool
	RegisteredAt   time.Time
	// TrunkENI is the ecs.awsvpc-trunk-id attribute: the trunk exists.
	TrunkENI string
	// TrunkCapable is ecs.capability.task-eni-trunking: the agent supports it.
	TrunkCapable bool
	OSType       string
	OSFamily     string
	AMI          string
	// RunningTasks is runningTasksCount: the tasks whose desired status is
	// RUNNING (PENDING ones included). PendingTasks is pendingTasksCount.
	RunningTasks int
	PendingTasks int
	// CountsReadAt is when, by the local clock, the DescribeContainerInstances
	// call that returned the counts was sent.
	CountsReadAt time.Time
	// Host is what the agent's attributes say the host can do (signals.go).
	Host HostAttributes
	// CapacityProvider is capacityProviderName: the provider that launched it.
	CapacityProvider string
}

// ID is the container instance id, the last segment of its ARN.
func (c ContainerInstance) ID() string { return ResourceID(c.Arn) }

// Task is one task with the ENIs ECS attached for it.
type Task struct {
	Arn                  string
	ContainerInstanceArn string
	TaskDefinitionArn    string
	Group                string
	LastStatus           string
	DesiredStatus        string
	LaunchType           string
	CreatedAt            time.Time
	Containers           []string
	ENIs                 []TaskENI
}

// ID is the task id, the last segment of its ARN.
func (t Task) ID() string { return ResourceID(t.Arn) }

// TaskENI is an ElasticNetworkInterface attachment of a task.
type TaskENI struct {
	AttachmentID       string
	AttachmentStatus   string
	NetworkInterfaceID string
	MACAddress         string
	PrivateIPv4        string
	IPv6               string
	SubnetID           string
}

// ENI is what EC2 says of a network interface.
type ENI struct {
	ID             string
	InterfaceType  string
	Status         string
	MACAddress     string
	PrivateIPv4    string
	IPv6           []string
	SubnetID       string
	VPCID          string
	SecurityGroups []string
	InstanceID     string
	OwnerID        string
	Description    string
}

// Instance is what EC2 says of an instance behind a container instance.
type Instance struct {
	ID                 string
	InstanceType       string
	ImageID            string
	SubnetID           string
	VPCID              string
	InstanceProfileArn string
	Platform           string
	// ResourceNameDNSARecord is PrivateDnsNameOptions.EnableResourceNameDnsARecord;
	// nil when EC2 did not say.
	ResourceNameDNSARecord *bool
	// Operator says whether a service (ECS Managed Instances) manages it.
	Operator ManagedOperator
	// AutoScalingGroup is the group that launched it (its
	// aws:autoscaling:groupName tag); "" when none did.
	AutoScalingGroup string
}

// TagAutoScalingGroup is the tag Auto Scaling puts on the instances it launches.
const TagAutoScalingGroup = "aws:autoscaling:groupName"

// Subnet is what EC2 says of a subnet.
type Subnet struct {
	ID      string
	OwnerID string
	VPCID   string
	AZ      string
}

// Image is what EC2 says of an AMI.
type Image struct {
	ID          string
	Name        string
	Description string
	Platform    string
}

// ResourceID is the last segment of an ARN's resource, after its last "/":
// the id of a container instance or task, the name of a service or role.
func ResourceID(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}
