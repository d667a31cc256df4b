package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

type instancesOpts struct {
	cluster string
	// noRoles skips reading the instance roles' settings: verdicts then do
	// not say whether the role is enabled now.
	noRoles bool
	// allClusters reads every cluster of each account and Region.
	allClusters bool

	env
	rows []instanceRow
}

// instanceRow is one container instance in `instances` output (JSON contract).
type instanceRow struct {
	ContainerInstanceArn string          `json:"containerInstanceArn"`
	ContainerInstanceID  string          `json:"containerInstanceId"`
	EC2InstanceID        string          `json:"ec2InstanceId"`
	InstanceType         string          `json:"instanceType"`
	Status               string          `json:"status"`
	StatusReason         string          `json:"statusReason,omitempty"`
	AgentVersion         string          `json:"agentVersion"`
	AgentConnected       bool            `json:"agentConnected"`
	RegisteredAt         *time.Time      `json:"registeredAt,omitempty"`
	TrunkENI             string          `json:"trunkEniId"`
	RoleArn              string          `json:"roleArn,omitempty"`
	RoleEffectiveValue   string          `json:"roleEffectiveValue,omitempty"`
	AWSVPCTasks          int             `json:"awsvpcTasks"`
	TaskLimit            int             `json:"taskLimit"`
	Support              catalog.Support `json:"support"`
	Verdict              verdictView     `json:"verdict"`
}

// verdictView is the judge's verdict as `instances` prints it (JSON contract).
type verdictView struct {
	Code    doctor.VerdictCode `json:"code"`
	Message string             `json:"message"`
	Healthy bool               `json:"healthy"`
}

type instancesSummary struct {
	Total     int            `json:"total"`
	Healthy   int            `json:"healthy"`
	WithTrunk int            `json:"withTrunk"`
	ByVerdict map[string]int `json:"byVerdict"`
}

func newInstancesCmd(envOf func() env) *cobra.Command {
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
			o.env = envOf()
			return run(cmd.Context(), o)
		},
	}
	nonEmptyVar(cmd.Flags(), &o.cluster, flagCluster, "cluster name or ARN (required)")
	cmd.Flags().BoolVar(&o.noRoles, flagNoRoles, false, "do not read the instance roles' settings (no EC2, IAM or STS calls)")
	addAllClustersFlag(cmd, &o.allClusters)
	return cmd
}

func (o *instancesOpts) Validate() error {
	if err := validateClusterFlags(o.cluster, o.allClusters); err != nil {
		return err
	}
	return validateClusterIfSet(o.cluster, "")
}

// ValidateRegion checks that a cluster ARN is in the Region.
func (o *instancesOpts) ValidateRegion(region string) error {
	return validateClusterIfSet(o.cluster, region)
}

func (o *instancesOpts) Execute(ctx context.Context) error {
	if o.fanned(o.allClusters) {
		return o.runFleet(ctx, o.cluster, o.allClusters, o.forTarget)
	}
	c, err := o.connect(ctx, o)
	if err != nil {
		return err
	}
	if err := o.read(ctx, c); err != nil {
		return err
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

// read computes the rows of one cluster in one account and Region.
func (o *instancesOpts) read(ctx context.Context, c *clients) error {
	stop := o.io.StartProgress("reading container instances and tasks of " + o.cluster)
	snap, err := c.loader.Snapshot(ctx, o.cluster, inventory.SnapshotOptions{Tasks: true, Instances: !o.noRoles})
	var (
		roles    []roleStatus
		rolesErr error
	)
	if err == nil && !o.noRoles {
		roles, rolesErr = readSnapshotRoles(ctx, c.resolver, snap)
	}
	stop()
	if err != nil {
		return err
	}
	warnSnapshot(o.io, snap)
	if rolesErr != nil {
		o.io.Warnf("could not find the instance roles (%v); verdicts do not say whether they are enabled", rolesErr)
	}
	for _, st := range roles {
		if st.Error != "" {
			o.io.Warnf("could not read %s: %s", st.RoleArn, st.Error)
		}
	}
	report := doctor.Judge(doctor.Input{Snapshot: *snap, Roles: judgedRoles(roles), Catalog: o.catalog, Now: o.now()})
	o.rows = instanceRows(report.Instances)
	if len(o.rows) == 0 {
		o.io.Warnf("cluster %s has no container instances", o.cluster)
	}
	return nil
}

func instanceRows(reports []doctor.InstanceReport) []instanceRow {
	rows := make([]instanceRow, 0, len(reports))
	for _, r := range reports {
		ci, u, v := r.ContainerInstance, r.Usage, r.Verdict
		row := instanceRow{
			ContainerInstanceArn: ci.Arn, ContainerInstanceID: ci.ID(), EC2InstanceID: ci.EC2InstanceID,
			InstanceType: ci.InstanceType, Status: ci.Status, StatusReason: ci.StatusReason,
			AgentVersion: ci.AgentVersion, AgentConnected: ci.AgentConnected, TrunkENI: ci.TrunkENI,
			AWSVPCTasks: u.AWSVPCTasks, TaskLimit: u.Limit, Support: u.Support,
			Verdict: verdictView{Code: v.Code, Message: v.Message, Healthy: v.Healthy},
		}
		if r.Role != nil {
			row.RoleArn, row.RoleEffectiveValue = r.Role.RoleArn, accountsetting.Disabled
			if r.Role.Enabled {
				row.RoleEffectiveValue = accountsetting.Enabled
			}
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

// view is the JSON shape of one cluster (JSON contract).
func (o *instancesOpts) view() any {
	return struct {
		Cluster   string           `json:"cluster"`
		Instances []instanceRow    `json:"instances"`
		Summary   instancesSummary `json:"summary"`
	}{o.cluster, o.rows, summarize(o.rows)}
}

func (o *instancesOpts) print() error {
	if o.structured() {
		return o.writeData(o.view())
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

func verdictColor(v verdictView) string {
	switch {
	case v.Code == doctor.VerdictOK:
		return colorGreen
	case v.Healthy || v.Code == doctor.VerdictUnknownType:
		return colorYellow
	default:
		return colorRed
	}
}

func (o *instancesOpts) RecommendActions() error {
	codes := map[doctor.VerdictCode]int{}
	for _, r := range o.rows {
		codes[r.Verdict.Code]++
	}
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	if codes[doctor.VerdictNoTrunk] > 0 {
		var ids []string
		for _, r := range o.rows {
			if r.Verdict.Code == doctor.VerdictNoTrunk {
				ids = append(ids, r.ContainerInstanceID)
			}
		}
		o.io.Infof("%d instance(s) have no trunk. Check the role is enabled (trunkctl status --cluster %s), then drain and replace them:", codes[doctor.VerdictNoTrunk], o.cluster)
		o.io.Infof("  aws ecs update-container-instances-state --cluster %s --status DRAINING --container-instances %s", o.cluster, strings.Join(ids, " "))
	}
	if len(codes) > 0 && (len(codes) > 1 || codes[doctor.VerdictOK] == 0) {
		o.io.Infof("Every check with its fix: trunkctl doctor --cluster %s", o.cluster)
	}
	return nil
}
