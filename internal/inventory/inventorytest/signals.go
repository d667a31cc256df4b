package inventorytest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
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

	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Signals is the part of the fake world the doctor's extra reads see:
// capacity providers, services' events, Auto Scaling groups, launch
// templates and CloudTrail events. Stopped tasks are Tasks whose desired
// status is STOPPED (AddStoppedTask).
type Signals struct {
	// CapacityProviders by name; ClusterProviders are the names the cluster
	// has (DescribeClusters' capacityProviders).
	CapacityProviders map[string]ecstypes.CapacityProvider
	ClusterProviders  []string
	// ServiceEvents by service name, newest first as ECS returns them.
	ServiceEvents map[string][]ecstypes.ServiceEvent
	// AutoScalingGroups by name.
	AutoScalingGroups map[string]astypes.AutoScalingGroup
	// LaunchTemplates: each template's versions, by template id.
	LaunchTemplates map[string][]ec2types.LaunchTemplateVersion
	// TrailEvents are CloudTrail's management events, any order.
	TrailEvents []cttypes.Event
}

func (c *Cluster) signals() *Signals {
	if c.Extra.CapacityProviders == nil {
		c.Extra.CapacityProviders = map[string]ecstypes.CapacityProvider{}
		c.Extra.ServiceEvents = map[string][]ecstypes.ServiceEvent{}
		c.Extra.AutoScalingGroups = map[string]astypes.AutoScalingGroup{}
		c.Extra.LaunchTemplates = map[string][]ec2types.LaunchTemplateVersion{}
	}
	return &c.Extra
}

// containerInstance returns instance n's container instance for changing.
func (c *Cluster) containerInstance(n int) *ecstypes.ContainerInstance {
	arn := c.ContainerInstanceArn(n)
	for i := range c.ContainerInstances {
		if aws.ToString(c.ContainerInstances[i].ContainerInstanceArn) == arn {
			return &c.ContainerInstances[i]
		}
	}
	panic(fmt.Sprintf("inventorytest: no instance %d", n))
}

// SetAttribute sets (or adds) an attribute of instance n; a nil value adds a
// capability-style attribute without value.
func (c *Cluster) SetAttribute(n int, name string, value *string) {
	ci := c.containerInstance(n)
	for i, a := range ci.Attributes {
		if aws.ToString(a.Name) == name {
			ci.Attributes[i].Value = value
			return
		}
	}
	ci.Attributes = append(ci.Attributes, ecstypes.Attribute{Name: aws.String(name), Value: value})
}

// RemoveAttributes drops the named attributes of instance n (to model an
// agent that does not report a capability).
func (c *Cluster) RemoveAttributes(n int, names ...string) {
	ci := c.containerInstance(n)
	keep := ci.Attributes[:0]
	for _, a := range ci.Attributes {
		drop := false
		for _, name := range names {
			drop = drop || aws.ToString(a.Name) == name
		}
		if !drop {
			keep = append(keep, a)
		}
	}
	ci.Attributes = keep
}

// SetRegisteredAt changes when instance n registered.
func (c *Cluster) SetRegisteredAt(n int, at time.Time) {
	c.containerInstance(n).RegisteredAt = aws.Time(at)
}

// AddCapacityProvider adds a capacity provider to the cluster: of type
// EC2_AUTOSCALING with group asg, or MANAGED_INSTANCES when asg is "".
func (c *Cluster) AddCapacityProvider(name, asg string) {
	s := c.signals()
	cp := ecstypes.CapacityProvider{
		Name: aws.String(name), Status: ecstypes.CapacityProviderStatusActive,
		CapacityProviderArn: aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:capacity-provider/%s", c.Region, c.AccountID, name)),
		Type:                ecstypes.CapacityProviderTypeManagedInstances,
	}
	if asg != "" {
		cp.Type = ecstypes.CapacityProviderTypeEc2Autoscaling
		cp.AutoScalingGroupProvider = &ecstypes.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(c.AutoScalingGroupArn(asg))}
	}
	s.CapacityProviders[name] = cp
	s.ClusterProviders = append(s.ClusterProviders, name)
}

// AutoScalingGroupArn of the named group.
func (c *Cluster) AutoScalingGroupArn(name string) string {
	return fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:0f1e2d3c-0000-4000-8000-000000000001:autoScalingGroupName/%s", c.Region, c.AccountID, name)
}

// UseCapacityProvider records that instance n was launched by the provider
// (containerInstance.capacityProviderName).
func (c *Cluster) UseCapacityProvider(n int, provider string) {
	c.containerInstance(n).CapacityProviderName = aws.String(provider)
}

// MakeManaged turns instance n into an ECS Managed Instance of the provider:
// capacityProviderName set, EC2's Operator managed by ECS, Bottlerocket
// attributes, and no versionInfo (as ECS may report them).
func (c *Cluster) MakeManaged(n int, provider string) {
	ci := c.containerInstance(n)
	ci.CapacityProviderName = aws.String(provider)
	ci.VersionInfo = nil
	c.SetAttribute(n, inventory.AttrBottlerocket, aws.String("aws-ecs-2"))
	id := InstanceID(n)
	inst := c.Instances[id]
	inst.Operator = &ec2types.OperatorResponse{Managed: aws.Bool(true), Principal: aws.String("ecs.amazonaws.com")}
	c.Instances[id] = inst
}

// ASGSpec describes an Auto Scaling group.
type ASGSpec struct {
	Name string
	// Template and Version: the group's launch template (id) and version
	// ("$Default" when empty).
	Template, Version string
	// MixedTypes puts the template in a mixed instances policy with these
	// instance type overrides.
	MixedTypes []string
	Subnets    []string
	// Instances are the numbers of the group's instances.
	Instances []int
}

// AddAutoScalingGroup adds a group.
func (c *Cluster) AddAutoScalingGroup(s ASGSpec) {
	g := astypes.AutoScalingGroup{
		AutoScalingGroupName: aws.String(s.Name), AutoScalingGroupARN: aws.String(c.AutoScalingGroupArn(s.Name)),
		MinSize: aws.Int32(0), MaxSize: aws.Int32(10), DesiredCapacity: aws.Int32(count(len(s.Instances))),
	}
	spec := &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(s.Template), Version: optional(s.Version)}
	if len(s.MixedTypes) > 0 {
		var overrides []astypes.LaunchTemplateOverrides
		for _, t := range s.MixedTypes {
			overrides = append(overrides, astypes.LaunchTemplateOverrides{InstanceType: aws.String(t)})
		}
		g.MixedInstancesPolicy = &astypes.MixedInstancesPolicy{LaunchTemplate: &astypes.LaunchTemplate{LaunchTemplateSpecification: spec, Overrides: overrides}}
	} else {
		g.LaunchTemplate = spec
	}
	for i, sn := range s.Subnets {
		if i == 0 {
			g.VPCZoneIdentifier = aws.String(sn)
		} else {
			g.VPCZoneIdentifier = aws.String(aws.ToString(g.VPCZoneIdentifier) + "," + sn)
		}
	}
	for _, n := range s.Instances {
		g.Instances = append(g.Instances, astypes.Instance{InstanceId: aws.String(InstanceID(n)), LifecycleState: astypes.LifecycleStateInService})
	}
	c.signals().AutoScalingGroups[s.Name] = g
}

// TemplateVersion describes one launch template version.
type TemplateVersion struct {
	InstanceType string
	// DNSARecord sets PrivateDnsNameOptions.EnableResourceNameDnsARecord when not nil.
	DNSARecord *bool
	Default    bool
}

// AddLaunchTemplate adds a template with versions numbered from 1.
func (c *Cluster) AddLaunchTemplate(id, name string, versions ...TemplateVersion) {
	var vs []ec2types.LaunchTemplateVersion
	for i, v := range versions {
		d := &ec2types.ResponseLaunchTemplateData{InstanceType: ec2types.InstanceType(v.InstanceType), ImageId: aws.String("ami-0al2023")}
		if v.DNSARecord != nil {
			d.PrivateDnsNameOptions = &ec2types.LaunchTemplatePrivateDnsNameOptions{EnableResourceNameDnsARecord: aws.Bool(*v.DNSARecord)}
		}
		vs = append(vs, ec2types.LaunchTemplateVersion{
			LaunchTemplateId: aws.String(id), LaunchTemplateName: aws.String(name), VersionNumber: aws.Int64(int64(i + 1)),
			DefaultVersion: aws.Bool(v.Default), LaunchTemplateData: d,
		})
	}
	c.signals().LaunchTemplates[id] = vs
}

// AddServiceEvent adds an event to a service (which must have tasks or be in Services).
func (c *Cluster) AddServiceEvent(service string, at time.Time, message string) {
	s := c.signals()
	id := fmt.Sprintf("%08x-0000-4000-8000-%012x", len(s.ServiceEvents[service])+1, at.Unix())
	s.ServiceEvents[service] = append([]ecstypes.ServiceEvent{{Id: aws.String(id), CreatedAt: aws.Time(at), Message: aws.String(message)}}, s.ServiceEvents[service]...)
}

// ENIPlacementFailure is the event ECS writes when no instance has a free
// ENI for a task of the service; it names the closest instance.
func (c *Cluster) ENIPlacementFailure(service string, instance int) string {
	return fmt.Sprintf("(service %s) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance %032x) encountered error \"RESOURCE:ENI\". For more information, see the Troubleshooting section.", service, instance)
}

// AddStoppedTask adds a stopped task of a service on instance n with
// ECS's reason, stopped at.
func (c *Cluster) AddStoppedTask(n, instance int, service, reason string, at time.Time) string {
	arn := c.TaskArn(n)
	c.Tasks = append(c.Tasks, ecstypes.Task{
		TaskArn: aws.String(arn), ContainerInstanceArn: aws.String(c.ContainerInstanceArn(instance)),
		TaskDefinitionArn: aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/web:3", c.Region, c.AccountID)),
		Group:             aws.String("service:" + service), LastStatus: aws.String("STOPPED"), DesiredStatus: aws.String("STOPPED"),
		LaunchType: ecstypes.LaunchTypeEc2, CreatedAt: aws.Time(at.Add(-time.Minute)), StoppedAt: aws.Time(at),
		StopCode: ecstypes.TaskStopCodeTaskFailedToStart, StoppedReason: aws.String(reason),
	})
	return arn
}

// AddOptInEvent adds a CloudTrail record of an awsvpcTrunking change:
// eventName PutAccountSetting (principalArn "" means the caller's own
// setting) or PutAccountSettingDefault.
func (c *Cluster) AddOptInEvent(eventName string, at time.Time, principalArn, callerArn, value string) {
	params := map[string]string{"name": "awsvpcTrunking", "value": value}
	if principalArn != "" {
		params["principalArn"] = principalArn
	}
	rec, _ := json.Marshal(map[string]any{
		"eventVersion": "1.08", "eventSource": "ecs.amazonaws.com", "eventName": eventName,
		"eventTime": at.UTC().Format(time.RFC3339), "awsRegion": c.Region,
		"userIdentity":      map[string]any{"type": "AssumedRole", "arn": callerArn},
		"requestParameters": params,
	})
	s := c.signals()
	s.TrailEvents = append(s.TrailEvents, cttypes.Event{
		EventId: aws.String(fmt.Sprintf("%08x-1111-4000-8000-%012x", len(s.TrailEvents)+1, at.Unix())), EventName: aws.String(eventName),
		EventSource: aws.String("ecs.amazonaws.com"), EventTime: aws.Time(at), CloudTrailEvent: aws.String(string(rec)),
	})
}

// DescribeCapacityProviders answers up to 100 names; unknown names are failures.
func (e *ECS) DescribeCapacityProviders(ctx context.Context, in *ecs.DescribeCapacityProvidersInput, _ ...func(*ecs.Options)) (*ecs.DescribeCapacityProvidersOutput, error) {
	leave, err := e.c.enter(ctx, "ecs:DescribeCapacityProviders")
	if err != nil {
		return nil, err
	}
	defer leave()
	if len(in.CapacityProviders) > inventory.MaxDescribeCapacityProviders {
		return nil, APIError("InvalidParameterException", "capacityProviders must hold at most 100 items")
	}
	out := &ecs.DescribeCapacityProvidersOutput{}
	for _, n := range in.CapacityProviders {
		if cp, ok := e.c.Extra.CapacityProviders[inventory.ResourceID(n)]; ok {
			out.CapacityProviders = append(out.CapacityProviders, cp)
		} else {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(n), Reason: aws.String("MISSING")})
		}
	}
	return out, nil
}

// DescribeServices answers up to 10 services with their events.
func (e *ECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	leave, err := e.c.enter(ctx, "ecs:DescribeServices")
	if err != nil {
		return nil, err
	}
	defer leave()
	if err := e.c.checkCluster(in.Cluster); err != nil {
		return nil, err
	}
	if len(in.Services) == 0 || len(in.Services) > inventory.MaxDescribeServices {
		return nil, APIError("InvalidParameterException", fmt.Sprintf("services must hold 1-10 items, got %d", len(in.Services)))
	}
	exists := map[string]bool{}
	for _, n := range e.c.Services {
		exists[n] = true
	}
	for _, t := range e.c.Tasks {
		if g := aws.ToString(t.Group); len(g) > 8 && g[:8] == "service:" {
			exists[g[8:]] = true
		}
	}
	out := &ecs.DescribeServicesOutput{}
	for _, s := range in.Services {
		name := inventory.ResourceID(s)
		if !exists[name] {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(s), Reason: aws.String("MISSING")})
			continue
		}
		out.Services = append(out.Services, ecstypes.Service{
			ServiceName: aws.String(name), ServiceArn: aws.String(e.c.ServiceArn(name)), ClusterArn: aws.String(e.c.ClusterArn()),
			Status: aws.String("ACTIVE"), Events: e.c.Extra.ServiceEvents[name],
		})
	}
	return out, nil
}

// DescribeLaunchTemplateVersions answers one template's versions: numbers,
// $Latest and $Default.
func (e *EC2) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	leave, err := e.c.enter(ctx, "ec2:DescribeLaunchTemplateVersions")
	if err != nil {
		return nil, err
	}
	defer leave()
	vs, ok := e.c.Extra.LaunchTemplates[aws.ToString(in.LaunchTemplateId)]
	if !ok && in.LaunchTemplateName != nil {
		for _, cand := range e.c.Extra.LaunchTemplates {
			if len(cand) > 0 && aws.ToString(cand[0].LaunchTemplateName) == aws.ToString(in.LaunchTemplateName) {
				vs, ok = cand, true
			}
		}
	}
	if !ok {
		return nil, APIError("InvalidLaunchTemplateId.NotFound", "The specified launch template does not exist.")
	}
	out := &ec2.DescribeLaunchTemplateVersionsOutput{}
	for _, want := range in.Versions {
		for i, v := range vs {
			if (want == "$Latest" && i == len(vs)-1) || (want == "$Default" && aws.ToBool(v.DefaultVersion)) ||
				want == strconv.FormatInt(aws.ToInt64(v.VersionNumber), 10) {
				out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, v)
			}
		}
	}
	if len(in.Versions) == 0 {
		out.LaunchTemplateVersions = vs
	}
	return out, nil
}

// AutoScaling is the fake Auto Scaling client.
type AutoScaling struct{ c *Cluster }

// AutoScaling returns the fake Auto Scaling client.
func (c *Cluster) AutoScaling() *AutoScaling { return &AutoScaling{c: c} }

// DescribeAutoScalingGroups answers up to 100 names, in pages of MaxRecords (<= 100).
func (a *AutoScaling) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	leave, err := a.c.enter(ctx, "autoscaling:DescribeAutoScalingGroups")
	if err != nil {
		return nil, err
	}
	defer leave()
	if len(in.AutoScalingGroupNames) > inventory.MaxASGNames {
		return nil, APIError("ValidationError", "The number of group names must not exceed 100")
	}
	var groups []astypes.AutoScalingGroup
	for _, n := range in.AutoScalingGroupNames {
		if g, ok := a.c.Extra.AutoScalingGroups[n]; ok {
			groups = append(groups, g)
		}
	}
	if in.AutoScalingGroupNames == nil {
		for _, g := range a.c.Extra.AutoScalingGroups {
			groups = append(groups, g)
		}
		sort.Slice(groups, func(i, j int) bool {
			return aws.ToString(groups[i].AutoScalingGroupName) < aws.ToString(groups[j].AutoScalingGroupName)
		})
	}
	p, next, err := page(groups, in.NextToken, in.MaxRecords, 50)
	if err != nil {
		return nil, err
	}
	return &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: p, NextToken: next}, nil
}

// CloudTrail is the fake CloudTrail client.
type CloudTrail struct{ c *Cluster }

// CloudTrail returns the fake CloudTrail client.
func (c *Cluster) CloudTrail() *CloudTrail { return &CloudTrail{c: c} }

// LookupEvents answers one lookup attribute (EventName or EventSource, as
// CloudTrail allows only one), newest first, in pages of at most 50.
func (t *CloudTrail) LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	leave, err := t.c.enter(ctx, "cloudtrail:LookupEvents")
	if err != nil {
		return nil, err
	}
	defer leave()
	if len(in.LookupAttributes) > 1 {
		return nil, APIError("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
	}
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > inventory.MaxLookupEvents) {
		return nil, APIError("InvalidMaxResultsException", "maxResults must be 1-50")
	}
	var evs []cttypes.Event
	for _, e := range t.c.Extra.TrailEvents {
		if in.StartTime != nil && aws.ToTime(e.EventTime).Before(*in.StartTime) {
			continue
		}
		if in.EndTime != nil && aws.ToTime(e.EventTime).After(*in.EndTime) {
			continue
		}
		if len(in.LookupAttributes) == 1 {
			la := in.LookupAttributes[0]
			switch la.AttributeKey {
			case cttypes.LookupAttributeKeyEventName:
				if aws.ToString(e.EventName) != aws.ToString(la.AttributeValue) {
					continue
				}
			case cttypes.LookupAttributeKeyEventSource:
				if aws.ToString(e.EventSource) != aws.ToString(la.AttributeValue) {
					continue
				}
			default:
				return nil, APIError("InvalidLookupAttributesException", "fake supports EventName and EventSource")
			}
		}
		evs = append(evs, e)
	}
	sort.SliceStable(evs, func(i, j int) bool { return aws.ToTime(evs[i].EventTime).After(aws.ToTime(evs[j].EventTime)) })
	size := int32(inventory.MaxLookupEvents)
	if in.MaxResults != nil {
		size = *in.MaxResults
	}
	p, next, err := page(evs, in.NextToken, &size, 50)
	if err != nil {
		return nil, err
	}
	return &cloudtrail.LookupEventsOutput{Events: p, NextToken: next}, nil
}

// count is a fake's count as the int32 the API returns, capped at its maximum.
func count(n int) int32 {
	if n > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(n) //nolint:gosec // G115: n <= math.MaxInt32 here
}

// AddBenchCapacity gives the cluster what a real one has around it (the
// benchmarks' cluster): the ECS service-linked role, and a capacity
// provider prod-cp whose Auto Scaling group prod-asg launches instances 1 to
// instances from one launch template (c5.xlarge, DNS A records off).
func (c *Cluster) AddBenchCapacity(instances int) {
	c.AddRole("ServiceLinked", "AWSServiceRoleForECS")
	c.AddCapacityProvider("prod-cp", "prod-asg")
	all := make([]int, instances)
	for i := range all {
		all[i] = i + 1
	}
	c.AddAutoScalingGroup(ASGSpec{Name: "prod-asg", Template: "lt-0prod", Subnets: []string{"subnet-0a"}, Instances: all})
	c.AddLaunchTemplate("lt-0prod", "prod", TemplateVersion{InstanceType: "c5.xlarge", DNSARecord: aws.Bool(false), Default: true})
}
