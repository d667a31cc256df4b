package cli

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// clusterLister lists a cluster's container instances and tasks.
type clusterLister interface {
	ContainerInstances(ctx context.Context, cluster string) ([]inventory.ContainerInstance, []string, error)
	Tasks(ctx context.Context, q inventory.TaskQuery) ([]inventory.Task, []string, error)
}

type instancesOpts struct {
	cluster string
	output  string

	io      *IOStreams
	lister  clusterLister
	catalog *catalog.Catalog

	rows []instanceRow
}

// instanceRow is one container instance in `instances` output (JSON contract).
type instanceRow struct {
	ContainerInstanceArn string            `json:"containerInstanceArn"`
	ContainerInstanceID  string            `json:"containerInstanceId"`
	EC2InstanceID        string            `json:"ec2InstanceId"`
	InstanceType         string            `json:"instanceType"`
	Status               string            `json:"status"`
	StatusReason         string            `json:"statusReason,omitempty"`
	AgentVersion         string            `json:"agentVersion"`
	AgentConnected       bool              `json:"agentConnected"`
	RegisteredAt         *time.Time        `json:"registeredAt,omitempty"`
	TrunkENI             string            `json:"trunkEniId"`
	AWSVPCTasks          int               `json:"awsvpcTasks"`
	TaskLimit            int               `json:"taskLimit"`
	Support              catalog.Support   `json:"support"`
	Verdict              inventory.Verdict `json:"verdict"`
}

type instancesSummary struct {
	Total     int            `json:"total"`
	Healthy   int            `json:"healthy"`
	WithTrunk int            `json:"withTrunk"`
	ByVerdict map[string]int `json:"byVerdict"`
}

func newInstancesCmd(a *app) *cobra.Command {
	o := &instancesOpts{}
	cmd := &cobra.Command{
		Use:   "instances --cluster CLUSTER",
		Short: "List container instances with their trunk ENI, task use and a verdict",
		Long: `One row per container instance: EC2 instance, type, status, agent version, registration
time, trunk ENI (the ecs.awsvpc-trunk-id attribute), awsvpc tasks in use against the
catalog's limit (with trunking when the instance has a trunk, else without), and a
verdict: ok; no trunk (registered while the role was not opted in, or before:
replace it); type not supported; type not in the published table; agent too old;
registration failed (with ECS's reason); registering; Windows.

No API records when a role was opted in, so "registered before the opt-in" is an
inference: an ACTIVE, supported, current instance without a trunk.

Exit 0 when every instance is ok (or still registering), 3 when any is not.`,
		Example: `  trunkctl instances --cluster prod
  trunkctl instances --cluster prod --output json | jq '.instances[] | select(.verdict.healthy | not)'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.output, o.io, o.catalog = a.global.Output, a.streams(), a.catalog()
			return run(cmd.Context(), lazy(o.Validate, func(ctx context.Context) error {
				c, err := a.aws(ctx)
				if err != nil {
					return err
				}
				o.lister = a.loader(c)
				return o.Execute(ctx)
			}, o.RecommendActions))
		},
	}
	cmd.Flags().StringVar(&o.cluster, flagCluster, "", "cluster name or ARN (required)")
	return cmd
}

func (o *instancesOpts) Validate() error {
	if err := validateOutput(o.output); err != nil {
		return err
	}
	if o.cluster == "" {
		return usageErrorf("--%s is required", flagCluster)
	}
	return nil
}

// loadInstancesAndTasks lists container instances and tasks concurrently.
func loadInstancesAndTasks(ctx context.Context, s *IOStreams, l clusterLister, q inventory.TaskQuery) ([]inventory.ContainerInstance, []inventory.Task, error) {
	var (
		cis   []inventory.ContainerInstance
		tasks []inventory.Task
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var ws []string
		var err error
		cis, ws, err = l.ContainerInstances(gctx, q.Cluster)
		for _, w := range ws {
			s.Warnf("%s", w)
		}
		return err
	})
	g.Go(func() error {
		var ws []string
		var err error
		tasks, ws, err = l.Tasks(gctx, q)
		if len(ws) > 0 {
			s.Warnf("%d task(s) stopped while being listed", len(ws))
		}
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, nil, clusterErr(err, q.Cluster)
	}
	return cis, tasks, nil
}

func (o *instancesOpts) Execute(ctx context.Context) error {
	stop := o.io.StartProgress("reading container instances and tasks of " + o.cluster)
	cis, tasks, err := loadInstancesAndTasks(ctx, o.io, o.lister, inventory.TaskQuery{Cluster: o.cluster})
	stop()
	if err != nil {
		return err
	}
	o.rows = instanceRows(cis, tasks, o.catalog)
	if len(o.rows) == 0 {
		o.io.Warnf("cluster %s has no container instances", o.cluster)
	}
	if err := o.print(); err != nil {
		return err
	}
	for _, r := range o.rows {
		if !r.Verdict.Healthy {
			return unhealthy()
		}
	}
	return nil
}

func instanceRows(cis []inventory.ContainerInstance, tasks []inventory.Task, cat *catalog.Catalog) []instanceRow {
	awsvpc := map[string]int{}
	for _, t := range tasks {
		if t.AWSVPC() {
			awsvpc[t.ContainerInstanceArn]++
		}
	}
	rows := make([]instanceRow, 0, len(cis))
	for _, ci := range cis {
		it := cat.Lookup(ci.InstanceType)
		u := inventory.UsageOf(ci, it, awsvpc[ci.Arn])
		r := instanceRow{
			ContainerInstanceArn: ci.Arn, ContainerInstanceID: ci.ID(), EC2InstanceID: ci.EC2InstanceID,
			InstanceType: ci.InstanceType, Status: ci.Status, StatusReason: ci.StatusReason,
			AgentVersion: ci.AgentVersion, AgentConnected: ci.AgentConnected, TrunkENI: ci.TrunkENI,
			AWSVPCTasks: u.AWSVPCTasks, TaskLimit: u.Limit, Support: u.Support, Verdict: inventory.Judge(ci, it),
		}
		if !ci.RegisteredAt.IsZero() {
			t := ci.RegisteredAt
			r.RegisteredAt = &t
		}
		rows = append(rows, r)
	}
	return rows
}

func summarize(rows []instanceRow) instancesSummary {
	s := instancesSummary{Total: len(rows), ByVerdict: map[string]int{}}
	for _, r := range rows {
		s.ByVerdict[string(r.Verdict.Code)]++
		if r.Verdict.Healthy {
			s.Healthy++
		}
		if r.TrunkENI != "" {
			s.WithTrunk++
		}
	}
	return s
}

func (o *instancesOpts) print() error {
	if o.output == outputJSON {
		return writeJSON(o.io.Out, struct {
			Cluster   string           `json:"cluster"`
			Instances []instanceRow    `json:"instances"`
			Summary   instancesSummary `json:"summary"`
		}{o.cluster, o.rows, summarize(o.rows)})
	}
	t := newTable(o.io, "INSTANCE", "CONTAINER INSTANCE", "TYPE", "STATUS", "AGENT", "REGISTERED", "TRUNK", "TASKS", "VERDICT")
	for _, r := range o.rows {
		reg := ""
		if r.RegisteredAt != nil {
			reg = r.RegisteredAt.Format(time.RFC3339)
		}
		limit := "?"
		if r.TaskLimit > 0 {
			limit = fmt.Sprint(r.TaskLimit)
		}
		t.add(r.EC2InstanceID, r.ContainerInstanceID, r.InstanceType, r.Status, r.AgentVersion, reg, r.TrunkENI,
			fmt.Sprintf("%d/%s", r.AWSVPCTasks, limit), o.io.color(verdictColor(r.Verdict), r.Verdict.Message))
	}
	return t.render()
}

func verdictColor(v inventory.Verdict) string {
	switch {
	case v.Code == inventory.VerdictOK:
		return colorGreen
	case v.Healthy || v.Code == inventory.VerdictUnknownType:
		return colorYellow
	default:
		return colorRed
	}
}

func (o *instancesOpts) RecommendActions() error {
	codes := map[inventory.VerdictCode]int{}
	for _, r := range o.rows {
		codes[r.Verdict.Code]++
	}
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	if codes[inventory.VerdictNoTrunk] > 0 {
		o.io.Infof("%d instance(s) have no trunk. Check the role is enabled (trunkctl status --cluster %s), then drain and replace them:", codes[inventory.VerdictNoTrunk], o.cluster)
		o.io.Infof("  aws ecs update-container-instances-state --cluster %s --status DRAINING --container-instances ID...", o.cluster)
	}
	if len(codes) > 0 && (len(codes) > 1 || codes[inventory.VerdictOK] == 0) {
		o.io.Infof("Every check with its fix: trunkctl doctor --cluster %s", o.cluster)
	}
	return nil
}
