package cli

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
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
	noRoles bool
	output  string

	io      *IOStreams
	lister  clusterLister
	catalog *catalog.Catalog
	// finder and resolver read the instance roles' settings; when nil
	// (or --no-roles) verdicts do not say whether the role is enabled now.
	finder   roleFinder
	resolver roleResolver

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
	RoleArn              string            `json:"roleArn,omitempty"`
	RoleEffectiveValue   string            `json:"roleEffectiveValue,omitempty"`
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
			return a.runWithAWS(cmd.Context(), o, func(c *AWS) {
				l := a.loader(c)
				o.lister = l
				if !o.noRoles {
					o.finder, o.resolver = l, a.resolver(c)
				}
			})
		},
	}
	cmd.Flags().StringVar(&o.cluster, flagCluster, "", "cluster name or ARN (required)")
	cmd.Flags().BoolVar(&o.noRoles, flagNoRoles, false, "do not read the instance roles' settings (no EC2, IAM or STS calls)")
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

// loadInstancesAndTasks lists container instances and tasks concurrently;
// afterCIs, when set, runs as soon as the container instances are known,
// alongside the rest of the task listing. The task listing gets the
// instances too: their task counts let it list by service in parallel.
func loadInstancesAndTasks(ctx context.Context, s *IOStreams, l clusterLister, q inventory.TaskQuery, afterCIs func(context.Context, []inventory.ContainerInstance)) ([]inventory.ContainerInstance, []inventory.Task, error) {
	var (
		cis   []inventory.ContainerInstance
		tasks []inventory.Task
		known = make(chan struct{})
	)
	q.Instances = func(ctx context.Context) ([]inventory.ContainerInstance, error) {
		select {
		case <-known:
			return cis, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var ws []string
		var err error
		cis, ws, err = l.ContainerInstances(gctx, q.Cluster)
		for _, w := range ws {
			s.Warnf("%s", w)
		}
		if err != nil {
			return err
		}
		close(known)
		if afterCIs != nil {
			afterCIs(gctx, cis)
		}
		return nil
	})
	g.Go(func() error {
		var err error
		tasks, err = listTasks(gctx, s, l, q)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, nil, clusterErr(err, q.Cluster)
	}
	return cis, tasks, nil
}

// listTasks lists and describes tasks, warning about those that stopped meanwhile.
func listTasks(ctx context.Context, s *IOStreams, l clusterLister, q inventory.TaskQuery) ([]inventory.Task, error) {
	tasks, ws, err := l.Tasks(ctx, q)
	if len(ws) > 0 {
		s.Warnf("%d task(s) stopped while being listed", len(ws))
	}
	return tasks, err
}

func (o *instancesOpts) Execute(ctx context.Context) error {
	stop := o.io.StartProgress("reading container instances and tasks of " + o.cluster)
	var roles instanceRoles
	cis, tasks, err := loadInstancesAndTasks(ctx, o.io, o.lister, inventory.TaskQuery{Cluster: o.cluster},
		func(ctx context.Context, cis []inventory.ContainerInstance) {
			if o.finder != nil && o.resolver != nil {
				roles = readInstanceRoles(ctx, o.finder, o.resolver, cis)
			}
		})
	stop()
	if err != nil {
		return err
	}
	warnRoles(o.io, roles)
	o.rows = instanceRows(cis, tasks, o.catalog, roles.byInstance)
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

// warnRoles says on stderr what kept verdicts from knowing the roles' settings.
func warnRoles(s *IOStreams, r instanceRoles) {
	if r.err != nil {
		s.Warnf("could not find the instance roles (%v); verdicts do not say whether they are enabled", r.err)
	}
	for _, st := range r.roles {
		if st.Error != "" {
			s.Warnf("could not read %s: %s", st.RoleArn, st.Error)
		}
	}
}

func instanceRows(cis []inventory.ContainerInstance, tasks []inventory.Task, cat *catalog.Catalog, roles map[string]*inventory.RoleOptIn) []instanceRow {
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
		row := instanceRow{
			ContainerInstanceArn: ci.Arn, ContainerInstanceID: ci.ID(), EC2InstanceID: ci.EC2InstanceID,
			InstanceType: ci.InstanceType, Status: ci.Status, StatusReason: ci.StatusReason,
			AgentVersion: ci.AgentVersion, AgentConnected: ci.AgentConnected, TrunkENI: ci.TrunkENI,
			AWSVPCTasks: u.AWSVPCTasks, TaskLimit: u.Limit, Support: u.Support,
			Verdict: inventory.JudgeWithRole(ci, it, roles[ci.EC2InstanceID]),
		}
		if r := roles[ci.EC2InstanceID]; r != nil {
			r2 := accountsetting.Disabled
			if r.Enabled {
				r2 = accountsetting.Enabled
			}
			row.RoleArn, row.RoleEffectiveValue = r.RoleArn, r2
		}
		if !ci.RegisteredAt.IsZero() {
			t := ci.RegisteredAt
			row.RegisteredAt = &t
		}
		rows = append(rows, row)
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
