package guard

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/trunkctl/trunkctl/internal/inventory"
)

// envelope is the part of an EventBridge event the guard routes on.
type envelope struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Account    string          `json:"account"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// instanceDetail is the detail of "ECS Container Instance State Change":
// the ContainerInstance object as DescribeContainerInstances returns it,
// plus clusterArn. Only the fields inventory reads are decoded (ECS adds
// fields; they are ignored), and times are kept as text so that a format
// ECS may change does not make the whole event unreadable.
type instanceDetail struct {
	ClusterArn           string `json:"clusterArn"`
	ContainerInstanceArn string `json:"containerInstanceArn"`
	EC2InstanceID        string `json:"ec2InstanceId"`
	Status               string `json:"status"`
	StatusReason         string `json:"statusReason"`
	AgentConnected       bool   `json:"agentConnected"`
	RegisteredAt         string `json:"registeredAt"`
	CapacityProviderName string `json:"capacityProviderName"`
	RunningTasksCount    int32  `json:"runningTasksCount"`
	PendingTasksCount    int32  `json:"pendingTasksCount"`
	VersionInfo          *struct {
		AgentVersion string `json:"agentVersion"`
	} `json:"versionInfo"`
	Attributes []struct {
		Name  string  `json:"name"`
		Value *string `json:"value"`
	} `json:"attributes"`
}

// errBadDetail says which required field an event lacked.
var errBadDetail = errors.New("bad event detail")

// decodeInstance reads a state-change detail into what inventory reads of a
// DescribeContainerInstances result, through the same conversion.
func decodeInstance(raw json.RawMessage) (cluster string, ci inventory.ContainerInstance, err error) {
	var d instanceDetail
	if err := json.Unmarshal(raw, &d); err != nil {
		return "", ci, errors.Join(errBadDetail, err)
	}
	if d.ClusterArn == "" || d.ContainerInstanceArn == "" || d.EC2InstanceID == "" {
		return "", ci, errors.Join(errBadDetail, errors.New("detail lacks clusterArn, containerInstanceArn or ec2InstanceId"))
	}
	sdk := ecstypes.ContainerInstance{
		ContainerInstanceArn: aws.String(d.ContainerInstanceArn),
		Ec2InstanceId:        aws.String(d.EC2InstanceID),
		Status:               aws.String(d.Status),
		StatusReason:         optional(d.StatusReason),
		AgentConnected:       d.AgentConnected,
		CapacityProviderName: optional(d.CapacityProviderName),
		RunningTasksCount:    d.RunningTasksCount,
		PendingTasksCount:    d.PendingTasksCount,
	}
	if at, err := time.Parse(time.RFC3339Nano, d.RegisteredAt); err == nil {
		sdk.RegisteredAt = &at
	}
	if d.VersionInfo != nil {
		sdk.VersionInfo = &ecstypes.VersionInfo{AgentVersion: optional(d.VersionInfo.AgentVersion)}
	}
	for _, a := range d.Attributes {
		sdk.Attributes = append(sdk.Attributes, ecstypes.Attribute{Name: aws.String(a.Name), Value: a.Value})
	}
	return inventory.ResourceID(d.ClusterArn), inventory.ContainerInstanceOf(sdk), nil
}

// serviceActionDetail is the detail of "ECS Service Action".
type serviceActionDetail struct {
	ClusterArn string   `json:"clusterArn"`
	EventType  string   `json:"eventType"`
	EventName  string   `json:"eventName"`
	Reasons    []string `json:"reasons"`
}

// PlacementFailure is the event name of a service that could not place tasks.
const PlacementFailure = "SERVICE_TASK_PLACEMENT_FAILURE"

// eniPlacementFailure says whether the reasons mention RESOURCE:ENI.
func (d serviceActionDetail) eniPlacementFailure() bool {
	if d.EventName != PlacementFailure {
		return false
	}
	for _, r := range d.Reasons {
		if strings.Contains(r, "RESOURCE:ENI") {
			return true
		}
	}
	return false
}

// serviceName is the service a service ARN names: the last segment of
// service/NAME or service/CLUSTER/NAME.
func serviceName(arn string) string {
	if i := strings.LastIndex(arn, ":service/"); i >= 0 {
		return inventory.ResourceID(arn[i+1:])
	}
	return ""
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
