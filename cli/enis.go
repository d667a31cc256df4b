package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/validate"
)

type enisOpts struct {
	cluster  string
	instance string

	env
}

// eniInstance is a container instance with its trunk and task ENIs (JSON contract).
type eniInstance struct {
	EC2InstanceID        string    `json:"ec2InstanceId"`
	ContainerInstanceArn string    `json:"containerInstanceArn"`
	InstanceType         string    `json:"instanceType"`
	Trunk                *trunkENI `json:"trunk"`
	TaskENIs             []taskENI `json:"taskEnis"`
}

type trunkENI struct {
	NetworkInterfaceID string   `json:"networkInterfaceId"`
	Status             string   `json:"status"`
	MACAddress         string   `json:"macAddress"`
	PrivateIPv4        string   `json:"privateIpv4Address"`
	SubnetID           string   `json:"subnetId"`
	VPCID              string   `json:"vpcId"`
	SecurityGroups     []string `json:"securityGroups"`
}

// taskENI is a branch ENI on a trunk, or a whole ENI on an instance without one.
type taskENI struct {
	NetworkInterfaceID string `json:"networkInterfaceId"`
	TaskArn            string `json:"taskArn"`
	TaskStatus         string `json:"taskStatus"`
	// Service is the task's service (group service:NAME); Family its task
	// definition family, for tasks in no service (RunTask).
	Service          string   `json:"service,omitempty"`
	Family           string   `json:"family"`
	Containers       []string `json:"containers"`
	PrivateIPv4      string   `json:"privateIpv4Address"`
	IPv6             string   `json:"ipv6Address,omitempty"`
	MACAddress       string   `json:"macAddress"`
	SubnetID         string   `json:"subnetId"`
	AttachmentStatus string   `json:"attachmentStatus"`
	// Status and InterfaceType come from EC2; empty when EC2 no longer knows the ENI.
	Status         string   `json:"status"`
	InterfaceType  string   `json:"interfaceType"`
	SecurityGroups []string `json:"securityGroups"`
}

func newEnisCmd(envOf func() env) *cobra.Command {
	o := &enisOpts{}
	cmd := &cobra.Command{
		Use:   "enis --cluster CLUSTER [--instance ID]",
		Short: "Show each trunk ENI with its branch ENIs and the tasks they serve",
		Long: `For each container instance, its trunk ENI (from the ecs.awsvpc-trunk-id attribute and
EC2) and the task ENIs on it: the ENI's interface type in EC2 (branch on a trunk,
interface without one), the task, its status, its service (or its task definition
family when it is in no service), IPv4, subnet and the ECS attachment status; -o wide
adds containers, IPv6, MAC and security groups. Branch ENIs come from the tasks' ENI
attachments, matched to trunks by container instance, and are described in EC2 in
batches. No SSH needed. VLAN ids are not exposed by any API.

--instance takes an EC2 instance id, a container instance id or its ARN.`,
		Example: `  trunkctl enis --cluster prod
  trunkctl enis --cluster prod --instance i-0123456789abcdef0 --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = envOf()
			return run(cmd.Context(), o)
		},
	}
	nonEmptyVar(cmd.Flags(), &o.cluster, flagCluster, "cluster name or ARN (required)")
	nonEmptyVar(cmd.Flags(), &o.instance, flagInstance, "only this instance: EC2 instance id, container instance id or ARN")
	return cmd
}

func (o *enisOpts) Validate() error {
	if err := validateCluster(o.cluster, ""); err != nil {
		return err
	}
	if o.instance != "" {
		return validate.Instance("--"+flagInstance, o.instance)
	}
	return nil
}

// ValidateRegion checks that a cluster ARN is in the Region.
func (o *enisOpts) ValidateRegion(region string) error { return validateCluster(o.cluster, region) }

func (o *enisOpts) Execute(ctx context.Context) ([]eniInstance, error) {
	c, err := o.connect(ctx, o)
	if err != nil {
		return nil, err
	}
	stop := o.io.StartProgress("reading trunk and branch ENIs of " + o.cluster)
	defer stop()
	snap, warnings, err := c.session.ENIs(ctx, o.cluster, o.instance)
	if err != nil {
		return nil, err
	}
	stop()
	warn(o.io, warnings)
	missing := snap.MissingENIs
	if len(missing) > 0 {
		o.io.Warnf("%d ENI(s) no longer exist in EC2 (task stopping or trunk gone): %s", len(missing), strings.Join(missing, " "))
	}
	rows := eniRows(snap.ContainerInstances, snap.Tasks, snap.ENIs)
	return rows, o.print(rows, missing)
}

func eniRows(cis []inventory.ContainerInstance, tasks []inventory.Task, enis map[string]inventory.ENI) []eniInstance {
	byCI := map[string][]inventory.Task{}
	for _, t := range tasks {
		if t.AWSVPC() {
			byCI[t.ContainerInstanceArn] = append(byCI[t.ContainerInstanceArn], t)
		}
	}
	rows := make([]eniInstance, 0, len(cis))
	for _, ci := range cis {
		r := eniInstance{EC2InstanceID: ci.EC2InstanceID, ContainerInstanceArn: ci.Arn, InstanceType: ci.InstanceType, TaskENIs: []taskENI{}}
		if ci.TrunkENI != "" {
			e := enis[ci.TrunkENI]
			r.Trunk = &trunkENI{NetworkInterfaceID: ci.TrunkENI, Status: e.Status, MACAddress: e.MACAddress, PrivateIPv4: e.PrivateIPv4,
				SubnetID: e.SubnetID, VPCID: e.VPCID, SecurityGroups: nonNil(e.SecurityGroups)}
		}
		for _, t := range byCI[ci.Arn] {
			for _, a := range t.ENIs {
				e := enis[a.NetworkInterfaceID]
				svc, _ := strings.CutPrefix(t.Group, "service:")
				if svc == t.Group {
					svc = ""
				}
				r.TaskENIs = append(r.TaskENIs, taskENI{
					NetworkInterfaceID: a.NetworkInterfaceID, TaskArn: t.Arn, TaskStatus: t.LastStatus, Containers: nonNil(t.Containers),
					Service: svc, Family: taskFamily(t),
					PrivateIPv4: a.PrivateIPv4, IPv6: a.IPv6, MACAddress: a.MACAddress, SubnetID: a.SubnetID,
					AttachmentStatus: a.AttachmentStatus, Status: e.Status, InterfaceType: e.InterfaceType, SecurityGroups: nonNil(e.SecurityGroups),
				})
			}
		}
		rows = append(rows, r)
	}
	return rows
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// taskFamily is the family of the task's definition (".../web:3" -> "web").
func taskFamily(t inventory.Task) string {
	f := inventory.ResourceID(t.TaskDefinitionArn)
	if i := strings.LastIndex(f, ":"); i > 0 {
		f = f[:i]
	}
	return f
}

// serviceOrFamily is what a task ENI row says the task belongs to.
func serviceOrFamily(e taskENI) string {
	if e.Service != "" {
		return "service:" + e.Service
	}
	if e.Family != "" {
		return "family:" + e.Family
	}
	return ""
}

func (o *enisOpts) print(rows []eniInstance, missing []string) error {
	if o.structured() {
		return o.writeData(struct {
			Cluster   string        `json:"cluster"`
			Instances []eniInstance `json:"instances"`
			Missing   []string      `json:"missingEnis"`
		}{o.cluster, rows, nonNil(missing)})
	}
	wide := o.output == outputWide
	headers := []string{"INSTANCE", "TRUNK", "TASK ENI", "ENI TYPE", "TASK", "TASK STATUS", "SERVICE/FAMILY", "IPV4", "SUBNET", "ATTACHMENT"}
	if wide {
		headers = append(headers, "CONTAINERS", "IPV6", "MAC", "SECURITY GROUPS")
	}
	t := newTable(o.io, headers...)
	for _, r := range rows {
		trunk := "no trunk"
		if r.Trunk != nil {
			trunk = r.Trunk.NetworkInterfaceID
		}
		if len(r.TaskENIs) == 0 {
			cells := make([]string, len(headers))
			cells[0], cells[1] = r.EC2InstanceID, trunk
			t.add(cells...)
		}
		for _, e := range r.TaskENIs {
			cells := []string{r.EC2InstanceID, trunk, e.NetworkInterfaceID, e.InterfaceType, inventory.ResourceID(e.TaskArn), e.TaskStatus,
				serviceOrFamily(e), e.PrivateIPv4, e.SubnetID, e.AttachmentStatus}
			if wide {
				cells = append(cells, strings.Join(e.Containers, ","), e.IPv6, e.MACAddress, strings.Join(e.SecurityGroups, ","))
			}
			t.add(cells...)
		}
	}
	return t.render()
}

func (o *enisOpts) RecommendActions(rows []eniInstance) {
	var untrunked []string
	for _, r := range rows {
		if r.Trunk == nil && len(r.TaskENIs) > 0 {
			untrunked = append(untrunked, r.EC2InstanceID)
		}
	}
	if len(untrunked) > 0 {
		o.io.Infof("%d instance(s) have no trunk, so each of their tasks takes a whole ENI: %s. Their verdicts and fixes: trunkctl instances --cluster %s",
			len(untrunked), strings.Join(firstIDs(untrunked, maxIDs), " "), o.cluster)
	}
}

// firstIDs keeps the first n ids, saying how many more there are.
func firstIDs(ids []string, n int) []string {
	if len(ids) <= n {
		return ids
	}
	return append(append([]string(nil), ids[:n]...), fmt.Sprintf("(and %d more)", len(ids)-n))
}
