package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/sync/errgroup"
)

// Container-instance attributes that say whether the host can trunk at all
// and what it is (besides those in types.go).
const (
	AttrBranchCNI    = "ecs.capability.branch-cni-plugin-version"
	AttrBottlerocket = "bottlerocket.variant"
	// CapacityProviderTypeManaged is the type of ECS Managed Instances providers.
	CapacityProviderTypeManaged = string(ecstypes.CapacityProviderTypeManagedInstances)
)

// HostAttributes is what the agent says of its host through container
// instance attributes: whether it can use task ENIs and trunk them, and
// which OS it runs. Absent capabilities mean the host is set up wrong (the
// agent runs without ecs-init, ECS_ENABLE_TASK_ENI is off, or an old
// Bottlerocket lacks the branch plugin): replacing it from the same set-up
// does not help.
type HostAttributes struct {
	// TaskENI is ecs.capability.task-eni: awsvpc task ENIs are on.
	TaskENI bool `json:"taskEni"`
	// Trunking is ecs.capability.task-eni-trunking.
	Trunking bool `json:"trunking"`
	// BranchCNI is ecs.capability.branch-cni-plugin-version's value ("" when absent).
	BranchCNI string `json:"branchCniPluginVersion,omitempty"`
	OSType    string `json:"osType,omitempty"`
	AMI       string `json:"amiId,omitempty"`
	// Bottlerocket is the bottlerocket.variant attribute ("" off Bottlerocket).
	Bottlerocket string `json:"bottlerocketVariant,omitempty"`
}

// HostAttributesOf reads the host attributes from a container instance's attributes.
func HostAttributesOf(attrs []ecstypes.Attribute) HostAttributes {
	var h HostAttributes
	for _, a := range attrs {
		v := aws.ToString(a.Value)
		switch aws.ToString(a.Name) {
		case AttrTaskENI:
			h.TaskENI = true
		case AttrTrunkCapable:
			h.Trunking = true
		case AttrBranchCNI:
			h.BranchCNI = v
			if v == "" {
				h.BranchCNI = "present"
			}
		case AttrOSType:
			h.OSType = v
		case AttrAMI:
			h.AMI = v
		case AttrBottlerocket:
			h.Bottlerocket = v
		}
	}
	return h
}

// CanTrunk reports whether the agent says it can trunk: task ENIs on, the
// trunking capability and the branch CNI plugin present.
func (h HostAttributes) CanTrunk() bool { return h.TaskENI && h.Trunking && h.BranchCNI != "" }

// Missing lists the capability attributes the agent did not report.
func (h HostAttributes) Missing() []string {
	var out []string
	if !h.TaskENI {
		out = append(out, AttrTaskENI)
	}
	if !h.Trunking {
		out = append(out, AttrTrunkCapable)
	}
	if h.BranchCNI == "" {
		out = append(out, AttrBranchCNI)
	}
	return out
}

// ManagedOperator is EC2's Operator of an instance: Managed is true when a
// service (Principal, e.g. ecs.amazonaws.com for ECS Managed Instances)
// launched and manages it.
type ManagedOperator struct {
	Managed   bool   `json:"managed"`
	Principal string `json:"principal,omitempty"`
}

// OperatorOf reads an EC2 instance's Operator.
func OperatorOf(i ec2types.Instance) ManagedOperator {
	if i.Operator == nil {
		return ManagedOperator{}
	}
	return ManagedOperator{Managed: aws.ToBool(i.Operator.Managed), Principal: aws.ToString(i.Operator.Principal)}
}

// CapacityProvider is what ECS says of one of the cluster's capacity providers.
type CapacityProvider struct {
	Name string `json:"name"`
	// Type is EC2_AUTOSCALING, MANAGED_INSTANCES, FARGATE or FARGATE_SPOT.
	Type                string `json:"type"`
	AutoScalingGroupArn string `json:"autoScalingGroupArn,omitempty"`
	Status              string `json:"status,omitempty"`
}

// Managed reports whether the provider is ECS Managed Instances.
func (c CapacityProvider) Managed() bool { return c.Type == CapacityProviderTypeManaged }

// AutoScalingGroupName is the group's name from its ARN ("" when none).
func (c CapacityProvider) AutoScalingGroupName() string {
	_, name, ok := strings.Cut(c.AutoScalingGroupArn, ":autoScalingGroupName/")
	if !ok {
		return ""
	}
	return name
}

// ServiceEvent is one event of a service, as DescribeServices returns it.
type ServiceEvent struct {
	Service   string    `json:"service"`
	ID        string    `json:"id,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	Message   string    `json:"message"`
}

// closestInstance finds "The closest matching container-instance <id>" in a
// placement failure message.
var closestInstance = regexp.MustCompile(`container-instance ([0-9a-f]{32}|[0-9a-f-]{36})`)

// ContainerInstanceIDs are the container instance ids the message names.
func (e ServiceEvent) ContainerInstanceIDs() []string {
	var out []string
	for _, m := range closestInstance.FindAllStringSubmatch(e.Message, -1) {
		out = append(out, m[1])
	}
	return out
}

// ENIPlacementFailure reports whether the event is a placement failure for
// lack of ENIs (RESOURCE:ENI).
func (e ServiceEvent) ENIPlacementFailure() bool { return strings.Contains(e.Message, "RESOURCE:ENI") }

// StoppedTask is a task ECS stopped, with why.
type StoppedTask struct {
	Arn                  string    `json:"taskArn"`
	ContainerInstanceArn string    `json:"containerInstanceArn,omitempty"`
	Group                string    `json:"group,omitempty"`
	StopCode             string    `json:"stopCode,omitempty"`
	StoppedReason        string    `json:"stoppedReason"`
	StoppedAt            time.Time `json:"stoppedAt"`
	ENIs                 []TaskENI `json:"enis,omitempty"`
}

// ID is the task id.
func (t StoppedTask) ID() string { return ResourceID(t.Arn) }

// AutoScalingGroup is what Auto Scaling says of a group behind a capacity provider.
type AutoScalingGroup struct {
	Name string `json:"name"`
	Arn  string `json:"arn"`
	// LaunchTemplate is the group's template (top level or of its mixed
	// instances policy); nil when it uses a launch configuration.
	LaunchTemplate          *LaunchTemplateRef `json:"launchTemplate,omitempty"`
	LaunchConfigurationName string             `json:"launchConfigurationName,omitempty"`
	// OverrideTypes are the instance types of the mixed instances policy's overrides.
	OverrideTypes []string `json:"overrideTypes,omitempty"`
	// OverrideTemplates are launch templates some overrides use instead.
	OverrideTemplates []LaunchTemplateRef `json:"overrideTemplates,omitempty"`
	Subnets           []string            `json:"subnets,omitempty"`
	InstanceIDs       []string            `json:"instanceIds,omitempty"`
}

// LaunchTemplateRef names a launch template version as a group uses it.
type LaunchTemplateRef struct {
	ID      string `json:"id,omitempty"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// Key identifies the reference (template and version as written).
func (r LaunchTemplateRef) Key() string {
	v := r.Version
	if v == "" {
		v = "$Default"
	}
	t := r.ID
	if t == "" {
		t = r.Name
	}
	return t + "@" + v
}

// LaunchTemplateVersion is what EC2 says of the version a group launches.
type LaunchTemplateVersion struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version int64  `json:"version"`
	// InstanceType is "" when the template leaves it to the group (or uses
	// attribute-based selection: InstanceRequirements).
	InstanceType         string `json:"instanceType,omitempty"`
	InstanceRequirements bool   `json:"instanceRequirements,omitempty"`
	ImageID              string `json:"imageId,omitempty"`
	// ResourceNameDNSARecord is PrivateDnsNameOptions.EnableResourceNameDnsARecord (nil: not set).
	ResourceNameDNSARecord *bool `json:"enableResourceNameDnsARecord,omitempty"`
}

// OptInEvent is a CloudTrail record of PutAccountSetting(Default) for awsvpcTrunking.
type OptInEvent struct {
	EventName string    `json:"eventName"`
	Time      time.Time `json:"eventTime"`
	// PrincipalArn is requestParameters.principalArn: the role (or user)
	// opted in; "" for a call that set the caller's own setting.
	PrincipalArn string `json:"principalArn,omitempty"`
	// Caller is userIdentity.arn: who made the call. For PutAccountSetting
	// without principalArn the setting is the caller's (its role when the
	// caller is an assumed-role session).
	Caller string `json:"caller,omitempty"`
	Value  string `json:"value"`
}

// Signals reads what the doctor needs besides the cluster walk, through the
// loader's ECS and EC2 clients and the Auto Scaling and CloudTrail ones.
// Each read is batched to its API maximum and runs inside the loader's
// concurrency bound.
type Signals struct {
	l           *Loader
	ECS         ECSAPI
	EC2         EC2API
	AutoScaling AutoScalingAPI
	CloudTrail  CloudTrailAPI
}

// Signals returns a reader of the extra signals sharing the loader's clients
// and bound. asg or ct may be nil; the reads that need them then fail with
// *MissingClientError.
func (l *Loader) Signals(asg AutoScalingAPI, ct CloudTrailAPI) *Signals {
	return &Signals{l: l, ECS: l.ECS, EC2: l.EC2, AutoScaling: asg, CloudTrail: ct}
}

// MissingClientError says a read was asked of a client that was not given.
type MissingClientError struct{ API string }

func (e *MissingClientError) Error() string { return "no " + e.API + " client" }

// CapacityProviders describes the named capacity providers (FARGATE and
// FARGATE_SPOT, which ECS defines, are not described), up to 100 per call.
func (s *Signals) CapacityProviders(ctx context.Context, names []string) (map[string]CapacityProvider, error) {
	var ask []string
	for _, n := range uniq(names) {
		if n != "FARGATE" && n != "FARGATE_SPOT" {
			ask = append(ask, n)
		}
	}
	out := map[string]CapacityProvider{}
	if len(ask) == 0 {
		return out, nil
	}
	if s.ECS == nil {
		return nil, &MissingClientError{"ECS"}
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for _, batch := range chunk(ask, MaxDescribeCapacityProviders) {
		g.Go(func() error {
			cps, err := s.describeProviders(gctx, batch)
			mu.Lock()
			defer mu.Unlock()
			for _, c := range cps {
				out[c.Name] = c
			}
			return err
		})
	}
	return out, g.Wait()
}

// describeProviders describes one batch, following nextToken (the SDK has
// no paginator for this call).
func (s *Signals) describeProviders(ctx context.Context, batch []string) ([]CapacityProvider, error) {
	var out []CapacityProvider
	in := &ecs.DescribeCapacityProvidersInput{CapacityProviders: batch}
	for {
		var page *ecs.DescribeCapacityProvidersOutput
		if err := s.l.call(ctx, func() (err error) { page, err = s.ECS.DescribeCapacityProviders(ctx, in); return err }); err != nil {
			return out, fmt.Errorf("describe capacity providers: %w", err)
		}
		for _, cp := range page.CapacityProviders {
			c := CapacityProvider{Name: aws.ToString(cp.Name), Type: string(cp.Type), Status: string(cp.Status)}
			if a := cp.AutoScalingGroupProvider; a != nil {
				c.AutoScalingGroupArn = aws.ToString(a.AutoScalingGroupArn)
			}
			if c.Type == "" && c.AutoScalingGroupArn != "" {
				c.Type = string(ecstypes.CapacityProviderTypeEc2Autoscaling)
			}
			out = append(out, c)
		}
		if page.NextToken == nil {
			return out, nil
		}
		next := *in
		next.NextToken = page.NextToken
		in = &next
	}
}

// ServiceEvents describes the named services (10 per call) and returns
// their events newer than since, newest first.
func (s *Signals) ServiceEvents(ctx context.Context, cluster string, services []string, since time.Time) ([]ServiceEvent, error) {
	if s.ECS == nil {
		return nil, &MissingClientError{"ECS"}
	}
	var (
		mu  sync.Mutex
		out []ServiceEvent
	)
	g, gctx := errgroup.WithContext(ctx)
	names := make([]string, 0, len(services))
	for _, svc := range services {
		names = append(names, ResourceID(svc))
	}
	for _, batch := range chunk(uniq(names), MaxDescribeServices) {
		g.Go(func() error {
			var res *ecs.DescribeServicesOutput
			if err := s.l.call(gctx, func() (err error) {
				res, err = s.ECS.DescribeServices(gctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: batch})
				return err
			}); err != nil {
				return fmt.Errorf("describe services in %s: %w", cluster, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, svc := range res.Services {
				for _, e := range svc.Events {
					at := aws.ToTime(e.CreatedAt)
					if at.Before(since) {
						continue
					}
					out = append(out, ServiceEvent{Service: aws.ToString(svc.ServiceName), ID: aws.ToString(e.Id), CreatedAt: at.UTC(), Message: aws.ToString(e.Message)})
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].Service < out[j].Service
	})
	return out, nil
}

// StoppedTasks lists the cluster's stopped tasks (ECS keeps them about an
// hour), at most maxPages pages of 100, and describes them for their
// stoppedReason. The newest come first in ListTasks, so a bound keeps the
// most recent.
func (s *Signals) StoppedTasks(ctx context.Context, cluster string, maxPages int) ([]StoppedTask, error) {
	if s.ECS == nil {
		return nil, &MissingClientError{"ECS"}
	}
	var (
		mu  sync.Mutex
		out []StoppedTask
	)
	err := pipeline(ctx,
		func(ctx context.Context, emit func([]string)) error {
			p := ecs.NewListTasksPaginator(s.ECS, &ecs.ListTasksInput{Cluster: aws.String(cluster), DesiredStatus: ecstypes.DesiredStatusStopped, MaxResults: aws.Int32(MaxECSListPage)})
			for n := 0; p.HasMorePages() && n < maxPages; n++ {
				var page *ecs.ListTasksOutput
				if err := s.l.call(ctx, func() (err error) { page, err = p.NextPage(ctx); return err }); err != nil {
					return fmt.Errorf("list stopped tasks in %s: %w", cluster, err)
				}
				emit(page.TaskArns)
			}
			return nil
		},
		func(ctx context.Context, arns []string) error {
			var res *ecs.DescribeTasksOutput
			if err := s.l.call(ctx, func() (err error) {
				res, err = s.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns})
				return err
			}); err != nil {
				return fmt.Errorf("describe stopped tasks in %s: %w", cluster, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, t := range res.Tasks {
				st := StoppedTask{
					Arn: aws.ToString(t.TaskArn), ContainerInstanceArn: aws.ToString(t.ContainerInstanceArn),
					Group: aws.ToString(t.Group), StopCode: string(t.StopCode), StoppedReason: aws.ToString(t.StoppedReason),
					StoppedAt: aws.ToTime(t.StoppedAt).UTC(), ENIs: task(t).ENIs,
				}
				out = append(out, st)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Arn < out[j].Arn })
	return out, nil
}

// AutoScalingGroups describes groups by name, 100 per call.
func (s *Signals) AutoScalingGroups(ctx context.Context, names []string) (map[string]AutoScalingGroup, error) {
	out := map[string]AutoScalingGroup{}
	names = uniq(names)
	if len(names) == 0 {
		return out, nil
	}
	if s.AutoScaling == nil {
		return nil, &MissingClientError{"Auto Scaling"}
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for _, batch := range chunk(names, MaxASGNames) {
		g.Go(func() error {
			p := autoscaling.NewDescribeAutoScalingGroupsPaginator(s.AutoScaling, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: batch, MaxRecords: aws.Int32(MaxASGNames)})
			for p.HasMorePages() {
				var page *autoscaling.DescribeAutoScalingGroupsOutput
				if err := s.l.call(gctx, func() (err error) { page, err = p.NextPage(gctx); return err }); err != nil {
					return fmt.Errorf("describe auto scaling groups: %w", err)
				}
				mu.Lock()
				for _, g := range page.AutoScalingGroups {
					a := autoScalingGroup(g)
					out[a.Name] = a
				}
				mu.Unlock()
			}
			return nil
		})
	}
	return out, g.Wait()
}

func autoScalingGroup(g astypes.AutoScalingGroup) AutoScalingGroup {
	a := AutoScalingGroup{
		Name: aws.ToString(g.AutoScalingGroupName), Arn: aws.ToString(g.AutoScalingGroupARN),
		LaunchConfigurationName: aws.ToString(g.LaunchConfigurationName),
	}
	ref := func(s *astypes.LaunchTemplateSpecification) *LaunchTemplateRef {
		if s == nil || (s.LaunchTemplateId == nil && s.LaunchTemplateName == nil) {
			return nil
		}
		return &LaunchTemplateRef{ID: aws.ToString(s.LaunchTemplateId), Name: aws.ToString(s.LaunchTemplateName), Version: aws.ToString(s.Version)}
	}
	a.LaunchTemplate = ref(g.LaunchTemplate)
	if m := g.MixedInstancesPolicy; m != nil && m.LaunchTemplate != nil {
		if a.LaunchTemplate == nil {
			a.LaunchTemplate = ref(m.LaunchTemplate.LaunchTemplateSpecification)
		}
		for _, o := range m.LaunchTemplate.Overrides {
			if t := aws.ToString(o.InstanceType); t != "" {
				a.OverrideTypes = append(a.OverrideTypes, t)
			}
			if r := ref(o.LaunchTemplateSpecification); r != nil {
				a.OverrideTemplates = append(a.OverrideTemplates, *r)
			}
		}
	}
	for _, s := range strings.Split(aws.ToString(g.VPCZoneIdentifier), ",") {
		if s = strings.TrimSpace(s); s != "" {
			a.Subnets = append(a.Subnets, s)
		}
	}
	for _, i := range g.Instances {
		a.InstanceIDs = append(a.InstanceIDs, aws.ToString(i.InstanceId))
	}
	return a
}

// LaunchTemplateVersions describes the versions the references name: one
// call per template, naming every version asked of it. The result is keyed
// by LaunchTemplateRef.Key.
func (s *Signals) LaunchTemplateVersions(ctx context.Context, refs []LaunchTemplateRef) (map[string]LaunchTemplateVersion, error) {
	out := map[string]LaunchTemplateVersion{}
	if len(refs) == 0 {
		return out, nil
	}
	if s.EC2 == nil {
		return nil, &MissingClientError{"EC2"}
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for _, t := range refsByTemplate(refs) {
		g.Go(func() error {
			got, err := s.describeTemplate(gctx, t)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, r := range t {
				if v, ok := matchVersion(got, r.Version); ok {
					out[r.Key()] = v
				}
			}
			return nil
		})
	}
	return out, g.Wait()
}

// refsByTemplate groups references by template (id, or name when no id).
func refsByTemplate(refs []LaunchTemplateRef) map[string][]LaunchTemplateRef {
	out := map[string][]LaunchTemplateRef{}
	for _, r := range refs {
		k := r.ID
		if k == "" {
			k = "name:" + r.Name
		}
		out[k] = append(out[k], r)
	}
	return out
}

// describeTemplate describes, in one call (and its pages), every version
// the references to one template name.
func (s *Signals) describeTemplate(ctx context.Context, refs []LaunchTemplateRef) ([]ec2types.LaunchTemplateVersion, error) {
	in := &ec2.DescribeLaunchTemplateVersionsInput{}
	if id := refs[0].ID; id != "" {
		in.LaunchTemplateId = aws.String(id)
	} else {
		in.LaunchTemplateName = aws.String(refs[0].Name)
	}
	asked := map[string]bool{}
	for _, r := range refs {
		v := r.Version
		if v == "" {
			v = "$Default"
		}
		if !asked[v] {
			asked[v] = true
			in.Versions = append(in.Versions, v)
		}
	}
	sort.Strings(in.Versions)
	var got []ec2types.LaunchTemplateVersion
	p := ec2.NewDescribeLaunchTemplateVersionsPaginator(s.EC2, in)
	for p.HasMorePages() {
		var page *ec2.DescribeLaunchTemplateVersionsOutput
		if err := s.l.call(ctx, func() (err error) { page, err = p.NextPage(ctx); return err }); err != nil {
			return nil, fmt.Errorf("describe launch template %s versions: %w", refs[0].ID+refs[0].Name, err)
		}
		got = append(got, page.LaunchTemplateVersions...)
	}
	return got, nil
}

// matchVersion picks the version a reference means among those described.
func matchVersion(vs []ec2types.LaunchTemplateVersion, want string) (LaunchTemplateVersion, bool) {
	var pick *ec2types.LaunchTemplateVersion
	for i := range vs {
		v := &vs[i]
		switch want {
		case "", "$Default":
			if aws.ToBool(v.DefaultVersion) {
				pick = v
			}
		case "$Latest":
			if pick == nil || aws.ToInt64(v.VersionNumber) > aws.ToInt64(pick.VersionNumber) {
				pick = v
			}
		default:
			if strconv.FormatInt(aws.ToInt64(v.VersionNumber), 10) == want {
				pick = v
			}
		}
	}
	if pick == nil {
		return LaunchTemplateVersion{}, false
	}
	out := LaunchTemplateVersion{ID: aws.ToString(pick.LaunchTemplateId), Name: aws.ToString(pick.LaunchTemplateName), Version: aws.ToInt64(pick.VersionNumber)}
	if d := pick.LaunchTemplateData; d != nil {
		out.InstanceType = string(d.InstanceType)
		out.InstanceRequirements = d.InstanceRequirements != nil
		out.ImageID = aws.ToString(d.ImageId)
		if o := d.PrivateDnsNameOptions; o != nil && o.EnableResourceNameDnsARecord != nil {
			v := *o.EnableResourceNameDnsARecord
			out.ResourceNameDNSARecord = &v
		}
	}
	return out, true
}

// trunkingSetting is the account setting the opt-in events are about.
const trunkingSetting = "awsvpcTrunking"

// OptInEvents looks up PutAccountSetting and PutAccountSettingDefault calls
// for awsvpcTrunking since since (CloudTrail keeps 90 days), at most maxPages
// pages of 50 per event name, oldest first. CloudTrail allows one lookup
// attribute per call, so the two names are two lookups.
func (s *Signals) OptInEvents(ctx context.Context, since time.Time, maxPages int) ([]OptInEvent, error) {
	if s.CloudTrail == nil {
		return nil, &MissingClientError{"CloudTrail"}
	}
	var (
		mu  sync.Mutex
		out []OptInEvent
	)
	g, gctx := errgroup.WithContext(ctx)
	for _, name := range []string{"PutAccountSetting", "PutAccountSettingDefault"} {
		g.Go(func() error {
			p := cloudtrail.NewLookupEventsPaginator(s.CloudTrail, &cloudtrail.LookupEventsInput{
				LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}},
				StartTime:        aws.Time(since),
				MaxResults:       aws.Int32(MaxLookupEvents),
			})
			for n := 0; p.HasMorePages() && n < maxPages; n++ {
				var page *cloudtrail.LookupEventsOutput
				if err := s.l.call(gctx, func() (err error) { page, err = p.NextPage(gctx); return err }); err != nil {
					return fmt.Errorf("look up %s events: %w", name, err)
				}
				for _, e := range page.Events {
					if ev, ok := optInEvent(e); ok {
						mu.Lock()
						out = append(out, ev)
						mu.Unlock()
					}
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// optInEvent reads an awsvpcTrunking setting change from a CloudTrail event;
// false for other settings, other sources and failed calls.
func optInEvent(e cttypes.Event) (OptInEvent, bool) {
	var rec struct {
		EventSource  string `json:"eventSource"`
		ErrorCode    string `json:"errorCode"`
		UserIdentity struct {
			Arn            string `json:"arn"`
			SessionContext struct {
				SessionIssuer struct {
					Arn string `json:"arn"`
				} `json:"sessionIssuer"`
			} `json:"sessionContext"`
		} `json:"userIdentity"`
		RequestParameters struct {
			Name         string `json:"name"`
			Value        string `json:"value"`
			PrincipalArn string `json:"principalArn"`
		} `json:"requestParameters"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec); err != nil {
		return OptInEvent{}, false
	}
	src := rec.EventSource
	if src == "" {
		src = aws.ToString(e.EventSource)
	}
	if src != "ecs.amazonaws.com" || rec.ErrorCode != "" || rec.RequestParameters.Name != trunkingSetting {
		return OptInEvent{}, false
	}
	caller := rec.UserIdentity.SessionContext.SessionIssuer.Arn
	if caller == "" {
		caller = rec.UserIdentity.Arn
	}
	return OptInEvent{
		EventName: aws.ToString(e.EventName), Time: aws.ToTime(e.EventTime).UTC(),
		PrincipalArn: rec.RequestParameters.PrincipalArn, Caller: caller, Value: rec.RequestParameters.Value,
	}, true
}
