package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/inventory"
)

// eniLoader lists instances and tasks and describes ENIs in batches.
type eniLoader interface {
	clusterLister
	NewENIBatcher(ctx context.Context) *inventory.ENIBatcher
}

type enisOpts struct {
	cluster  string
	instance string
	output   string

	io     *IOStreams
	loader eniLoader

	rows    []eniInstance
	missing []string
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
	NetworkInterfaceID string   `json:"networkInterfaceId"`
	TaskArn            string   `json:"taskArn"`
	TaskStatus         string   `json:"taskStatus"`
	Containers         []string `json:"containers"`
	PrivateIPv4        string   `json:"privateIpv4Address"`
	IPv6               string   `json:"ipv6Address,omitempty"`
	MACAddress         string   `json:"macAddress"`
	SubnetID           string   `json:"subnetId"`
	AttachmentStatus   string   `json:"attachmentStatus"`
	// Status and InterfaceType come from EC2; empty when EC2 no longer knows the ENI.
	Status         string   `json:"status"`
	InterfaceType  string   `json:"interfaceType"`
	SecurityGroups []string `json:"securityGroups"`
}

func newEnisCmd(a *app) *cobra.Command {
	o := &enisOpts{}
	cmd := &cobra.Command{
		Use:   "enis --cluster CLUSTER [--instance ID]",
		Short: "Show each trunk ENI with its branch ENIs and the tasks they serve",
		Long: `For each container instance, its trunk ENI (from the ecs.awsvpc-trunk-id attribute and
EC2) and the task ENIs on it: task, containers, IPv4/IPv6, MAC, subnet, ECS
attachment status and EC2 status. Branch ENIs come from the tasks' ENI attachments,
matched to trunks by container instance, and are described in EC2 in batches.
No SSH needed. VLAN ids are not exposed by any API.

--instance takes an EC2 instance id, a container instance id or its ARN.`,
		Example: `  trunkctl enis --cluster prod
  trunkctl enis --cluster prod --instance i-0123456789abcdef0 --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.output, o.io = a.global.Output, a.streams()
			return a.runWithAWS(cmd.Context(), o, func(c *AWS) {
				o.loader = a.loader(c)
			})
		},
	}
	cmd.Flags().StringVar(&o.cluster, flagCluster, "", "cluster name or ARN (required)")
	cmd.Flags().StringVar(&o.instance, flagInstance, "", "only this instance: EC2 instance id, container instance id or ARN")
	return cmd
}

func (o *enisOpts) Validate() error {
	if err := validateOutput(o.output); err != nil {
		return err
	}
	if o.cluster == "" {
		return usageErrorf("--%s is required", flagCluster)
	}
	return nil
}

func (o *enisOpts) Execute(ctx context.Context) error {
	stop := o.io.StartProgress("reading trunk and branch ENIs of " + o.cluster)
	defer stop()
	var (
		cis   []inventory.ContainerInstance
		tasks []inventory.Task
		err   error
	)
	// Trunk and task ENIs are described together, in batches, as their ids
	// arrive. Not on a child context of an errgroup: Wait would cancel it
	// before the last batch is flushed.
	batcher := o.loader.NewENIBatcher(ctx)
	q := inventory.TaskQuery{Cluster: o.cluster, OnBatch: func(ts []inventory.Task) {
		for _, t := range ts {
			for _, e := range t.ENIs {
				batcher.Add(e.NetworkInterfaceID)
			}
		}
	}}
	if o.instance != "" {
		// One instance: find its container instance first, then only its tasks.
		var ci inventory.ContainerInstance
		if ci, err = o.findInstance(ctx); err == nil {
			cis, q.ContainerInstance = []inventory.ContainerInstance{ci}, ci.Arn
			batcher.Add(ci.TrunkENI)
			tasks, err = listTasks(ctx, o.io, o.loader, q)
		}
	} else {
		cis, tasks, err = loadInstancesAndTasks(ctx, o.io, o.loader, q, func(_ context.Context, cis []inventory.ContainerInstance) {
			for _, ci := range cis {
				batcher.Add(ci.TrunkENI)
			}
		})
	}
	// Flush even on error so no batch goroutine outlives the command.
	enis, missing, ferr := batcher.Flush()
	if err != nil {
		return clusterErr(err, o.cluster)
	}
	if ferr != nil {
		return ferr
	}
	stop()
	o.missing = missing
	if len(missing) > 0 {
		o.io.Warnf("%d ENI(s) no longer exist in EC2 (task stopping or trunk gone): %s", len(missing), strings.Join(missing, " "))
	}
	o.rows = eniRows(cis, tasks, enis)
	return o.print()
}

// findInstance finds the container instance --instance names.
func (o *enisOpts) findInstance(ctx context.Context) (inventory.ContainerInstance, error) {
	all, ws, err := o.loader.ContainerInstances(ctx, o.cluster)
	if err != nil {
		return inventory.ContainerInstance{}, err
	}
	for _, w := range ws {
		o.io.Warnf("%s", w)
	}
	for _, ci := range all {
		if ci.EC2InstanceID == o.instance || ci.Arn == o.instance || ci.ID() == o.instance {
			return ci, nil
		}
	}
	return inventory.ContainerInstance{}, fmt.Errorf("no container instance %q in cluster %s (give an EC2 instance id, container instance id or ARN)", o.instance, o.cluster)
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
				r.TaskENIs = append(r.TaskENIs, taskENI{
					NetworkInterfaceID: a.NetworkInterfaceID, TaskArn: t.Arn, TaskStatus: t.LastStatus, Containers: nonNil(t.Containers),
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

func (o *enisOpts) print() error {
	if o.output == outputJSON {
		return writeJSON(o.io.Out, struct {
			Cluster   string        `json:"cluster"`
			Instances []eniInstance `json:"instances"`
			Missing   []string      `json:"missingEnis"`
		}{o.cluster, o.rows, nonNil(o.missing)})
	}
	t := newTable(o.io, "INSTANCE", "TRUNK", "TASK ENI", "TASK", "CONTAINERS", "IPV4", "IPV6", "MAC", "SUBNET", "ATTACHMENT")
	for _, r := range o.rows {
		trunk := "no trunk"
		if r.Trunk != nil {
			trunk = r.Trunk.NetworkInterfaceID
		}
		if len(r.TaskENIs) == 0 {
			t.add(r.EC2InstanceID, trunk, "", "", "", "", "", "", "", "")
		}
		for _, e := range r.TaskENIs {
			t.add(r.EC2InstanceID, trunk, e.NetworkInterfaceID, shortArn(e.TaskArn), strings.Join(e.Containers, ","),
				e.PrivateIPv4, e.IPv6, e.MACAddress, e.SubnetID, e.AttachmentStatus)
		}
	}
	return t.render()
}

func shortArn(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func (o *enisOpts) RecommendActions() error {
	for _, r := range o.rows {
		if r.Trunk == nil && len(r.TaskENIs) > 0 {
			o.io.Infof("Instances without a trunk give each task a whole ENI. Find out why: trunkctl instances --cluster %s", o.cluster)
			return nil
		}
	}
	return nil
}
