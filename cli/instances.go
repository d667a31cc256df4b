package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/assess"
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
	// wide prints every column (also -o wide).
	wide bool

	env
}

// instancesResult is one cluster's rows, computed by readInstances.
type instancesResult struct {
	cluster string
	rows    []instanceRow
	// clusterErrors are doctor's error findings not about one instance.
	clusterErrors []doctor.Finding
	unhealthy     bool
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
	RoleSource           string          `json:"roleSource,omitempty"`
	RoleEffectiveValue   string          `json:"roleEffectiveValue,omitempty"`
	AWSVPCTasks          int             `json:"awsvpcTasks"`
	TaskLimit            int             `json:"taskLimit"`
	Support              catalog.Support `json:"support"`
	AutoScalingGroup     string          `json:"autoScalingGroup,omitempty"`
	Verdict              verdictView     `json:"verdict"`
}

// verdictView is the judge's verdict as `instances` prints it (JSON contract).
type verdictView = doctor.Verdict

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
		Long: `One row per container instance: EC2 instance, type, status, the instance role, the
trunk ENI (the ecs.awsvpc-trunk-id attribute), awsvpc tasks in use against the
catalog's limit (with trunking when the instance has a trunk, else without), and the
judge's verdict, the same one trunkctl doctor reports (ok, ok-limit-not-published,
managed-instance, registered-before-opt-in, no-trunk, role-not-enabled,
role-default-only, host-cannot-trunk, agent-too-old, agent-too-old-for-os,
unsupported-type, dns-a-record, shared-subnet, registration-failed, registering,
windows, ...). The default table fits 120 columns; --wide (or -o wide) adds the
container instance, agent, registration time, remedy and the verdict's message.

"registered before the opt-in" is said only with evidence: CloudTrail's
PutAccountSetting time after the instance's registeredAt, or a trunked instance of
the same role registered later. Without it the verdict says what is known.`,
		Example: `  trunkctl instances --cluster prod
  trunkctl instances --cluster prod --output json | jq '.instances[] | select(.verdict.healthy | not)'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = envOf()
			return run(cmd.Context(), o)
		},
	}
	nonEmptyVar(cmd.Flags(), &o.cluster, flagCluster, "cluster name or ARN (required)")
	cmd.Flags().BoolVar(&o.noRoles, flagNoRoles, false, "read ECS only: no roles, EC2, IAM, STS, capacity or CloudTrail reads (verdicts then know less than doctor's)")
	cmd.Flags().BoolVar(&o.wide, flagWide, false, "print every column (same as -o wide)")
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

func (o *instancesOpts) Execute(ctx context.Context) (instancesResult, error) {
	if o.fanned(o.allClusters) {
		return instancesResult{}, o.runFleet(ctx, o.cluster, o.allClusters, o)
	}
	c, err := o.connect(ctx, o)
	if err != nil {
		return instancesResult{}, err
	}
	res, err := readInstances(ctx, o.env, c, o.cluster, o.noRoles)
	if err != nil {
		return res, err
	}
	if err := o.print(res); err != nil {
		return res, err
	}
	if res.unhealthy {
		return res, unhealthy()
	}
	return res, nil
}

// readInstances computes the rows of one cluster in one account and
// Region from the one assessment (ecsOnly: ECS alone, --no-roles).
func readInstances(ctx context.Context, e env, c *clients, cluster string, ecsOnly bool) (instancesResult, error) {
	res := instancesResult{cluster: cluster}
	stop := e.io.StartProgress("reading container instances and tasks of " + cluster)
	a, err := c.session.Assess(ctx, assess.Query{Cluster: cluster, Now: e.now(), Catalog: e.catalog, ECSOnly: ecsOnly, StuckAfter: defaultStuckAfter, Shared: c.shared})
	stop()
	if err != nil {
		return res, err
	}
	warn(e.io, a.Warnings)
	in := a.Input
	if in.Snapshot.RolesErr != nil {
		e.io.Warnf("could not find the instance roles (%v); verdicts do not say whether they are enabled", in.Snapshot.RolesErr)
	}
	for _, r := range in.Roles {
		if r.Err != nil {
			e.io.Warnf("could not read %s: %v", r.RoleArn, r.Err)
		}
	}
	res.rows = instanceRows(a.Report.Instances, in)
	for _, f := range a.Report.Findings {
		if f.Severity == doctor.Error && f.Check != doctor.CheckInstance {
			res.clusterErrors = append(res.clusterErrors, f)
		}
	}
	res.unhealthy = a.Report.Unhealthy()
	if len(res.rows) == 0 {
		e.io.Warnf("cluster %s has no container instances", cluster)
	}
	return res, nil
}

func instanceRows(reports []doctor.InstanceReport, in doctor.Input) []instanceRow {
	source := map[string]string{}
	for _, r := range in.Roles {
		source[r.RoleArn] = string(r.Source)
	}
	rows := make([]instanceRow, 0, len(reports))
	for _, r := range reports {
		ci, u, v := r.ContainerInstance, r.Usage, r.Verdict
		row := instanceRow{
			ContainerInstanceArn: ci.Arn, ContainerInstanceID: ci.ID(), EC2InstanceID: ci.EC2InstanceID,
			InstanceType: ci.InstanceType, Status: ci.Status, StatusReason: ci.StatusReason,
			AgentVersion: ci.AgentVersion, AgentConnected: ci.AgentConnected, TrunkENI: ci.TrunkENI,
			AWSVPCTasks: u.AWSVPCTasks, TaskLimit: u.Limit, Support: u.Support,
			Verdict: v, AutoScalingGroup: in.Snapshot.Instances[ci.EC2InstanceID].AutoScalingGroup,
		}
		if r.Role != nil {
			row.RoleArn, row.RoleEffectiveValue = r.Role.RoleArn, accountsetting.Disabled
			if r.Role.Enabled {
				row.RoleEffectiveValue = accountsetting.Enabled
			}
			row.RoleSource = source[r.Role.RoleArn]
		} else if arns := in.Snapshot.InstanceRoles[ci.EC2InstanceID]; len(arns) > 0 {
			row.RoleArn = arns[0]
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
func (r instancesResult) view() any {
	return struct {
		Cluster   string           `json:"cluster"`
		Instances []instanceRow    `json:"instances"`
		Summary   instancesSummary `json:"summary"`
	}{r.cluster, r.rows, summarize(r.rows)}
}

func (o *instancesOpts) print(res instancesResult) error {
	if o.structured() {
		return o.writeData(res.view())
	}
	if o.wide || o.output == outputWide {
		t := newTable(o.io, "INSTANCE", "CONTAINER INSTANCE", "TYPE", "STATUS", "AGENT", "REGISTERED", "ROLE", "TRUNK", "TASKS", "VERDICT", "REMEDY", "MESSAGE")
		for _, r := range res.rows {
			reg := ""
			if r.RegisteredAt != nil {
				reg = r.RegisteredAt.Format(time.RFC3339)
			}
			t.add(r.EC2InstanceID, r.ContainerInstanceID, r.InstanceType, r.Status, r.AgentVersion, reg, roleCell(r), r.TrunkENI,
				tasksCell(r), o.io.color(verdictColor(r.Verdict), string(r.Verdict.Code)), string(r.Verdict.Remedy), r.Verdict.Message)
		}
		return t.render()
	}
	// Fits 120 columns: ids are 19-21 characters, the role's name is cut to
	// 18 (its setting is in the verdict, and in --wide) and the verdict is
	// its code (the message is in --wide and doctor).
	t := newTable(o.io, "INSTANCE", "TYPE", "STATUS", "ROLE", "TRUNK", "TASKS", "VERDICT")
	for _, r := range res.rows {
		role := ""
		if r.RoleArn != "" {
			role = cut(inventory.ResourceID(r.RoleArn), 18)
		}
		t.add(r.EC2InstanceID, r.InstanceType, shortStatus(r.Status), role, r.TrunkENI, tasksCell(r),
			o.io.color(verdictColor(r.Verdict), string(r.Verdict.Code)))
	}
	return t.render()
}

// roleCell is the role's name and how it is set: "EcsInstanceRole" when
// enabled by its own setting, with "(default)" or "(off)" otherwise.
func roleCell(r instanceRow) string {
	if r.RoleArn == "" {
		return ""
	}
	name := inventory.ResourceID(r.RoleArn)
	switch {
	case r.RoleEffectiveValue == accountsetting.Disabled:
		return name + " (off)"
	case r.RoleSource == "default":
		return name + " (default)"
	}
	return name
}

func tasksCell(r instanceRow) string {
	limit := "?"
	if r.TaskLimit > 0 {
		limit = fmt.Sprint(r.TaskLimit)
	}
	return fmt.Sprintf("%d/%s", r.AWSVPCTasks, limit)
}

// shortStatus keeps the table narrow: REGISTRATION_FAILED is the longest status.
func shortStatus(s string) string {
	if s == "REGISTRATION_FAILED" {
		return "REG_FAILED"
	}
	return s
}

// cut shortens s to n runes, marking the cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func verdictColor(v verdictView) string {
	switch {
	case v.Code == doctor.VerdictOK || v.Code == doctor.VerdictLimitUnpublishedOK || (v.Code == doctor.VerdictManaged && v.Healthy):
		return colorGreen
	case v.Healthy || v.Severity == doctor.Warning:
		return colorYellow
	default:
		return colorRed
	}
}

// maxIDs bounds the ids a suggested command lists; the JSON has them all.
const maxIDs = 10

func (o *instancesOpts) RecommendActions(res instancesResult) {
	byRemedy := map[doctor.Remedy][]instanceRow{}
	roles := map[string]bool{}
	for _, r := range res.rows {
		if r.Verdict.Healthy {
			continue
		}
		byRemedy[r.Verdict.Remedy] = append(byRemedy[r.Verdict.Remedy], r)
		if r.Verdict.Remedy == doctor.RemedyEnableThenReplace && r.RoleArn != "" {
			roles[r.RoleArn] = true
		}
	}
	if len(roles) > 0 {
		arns := make([]string, 0, len(roles))
		for a := range roles {
			arns = append(arns, a)
		}
		sort.Strings(arns)
		o.io.Infof("Enable the instance role first (its own setting):")
		for _, a := range arns {
			o.io.Infof("  trunkctl enable --role %s", a)
		}
	}
	if replace := append(byRemedy[doctor.RemedyEnableThenReplace], byRemedy[doctor.RemedyReplace]...); len(replace) > 0 {
		o.io.Infof("%d instance(s) get a trunk only by being replaced. trunkctl rollout does it in safe batches and checks every replacement's trunk:", len(replace))
		o.io.Infof("  trunkctl rollout --cluster %s --dry-run", o.cluster)
		o.io.Infof("Or by hand: drain them, then terminate them in their Auto Scaling group:")
		o.io.Infof("  aws ecs update-container-instances-state --cluster %s --status DRAINING --container-instances %s", o.cluster, idList(replace, func(r instanceRow) string { return r.ContainerInstanceID }))
		o.io.Infof("  for id in %s; do aws autoscaling terminate-instance-in-auto-scaling-group --instance-id \"$id\" --no-should-decrement-desired-capacity; done", idList(replace, func(r instanceRow) string { return r.EC2InstanceID }))
		if len(replace) > maxIDs {
			o.io.Infof("  (the first %d of %d; all of them: trunkctl instances --cluster %s -o json | jq -r '.instances[] | select(.verdict.remedy==\"replace\" or .verdict.remedy==\"enable-then-replace\") | .ec2InstanceId')", maxIDs, len(replace), o.cluster)
		}
	}
	for _, k := range []doctor.Remedy{doctor.RemedyFixHost, doctor.RemedyFixLaunch} {
		if rs := byRemedy[k]; len(rs) > 0 {
			what := "their host set-up (agent, ecs-init, ECS_ENABLE_TASK_ENI, Bottlerocket)"
			if k == doctor.RemedyFixLaunch {
				what = "how they are launched (launch template, type, subnet)"
			}
			o.io.Infof("%d instance(s) need %s fixed first; replacing them as they are would not help: %s", len(rs), what, idList(rs, func(r instanceRow) string { return r.EC2InstanceID }))
		}
	}
	for _, f := range res.clusterErrors {
		o.io.Infof("cluster: %s %s: %s", f.Check, f.Subject, f.Message)
	}
	if res.unhealthy {
		o.io.Infof("Every finding with its exact fix: trunkctl doctor --cluster %s", o.cluster)
	}
}

// idList joins the first maxIDs ids (the JSON output has them all).
func idList(rs []instanceRow, id func(instanceRow) string) string {
	ids := make([]string, 0, min(len(rs), maxIDs))
	for i, r := range rs {
		if i == maxIDs {
			break
		}
		ids = append(ids, id(r))
	}
	return strings.Join(ids, " ")
}
