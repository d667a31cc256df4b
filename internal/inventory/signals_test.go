package inventory_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

func signalsOf(c *inventorytest.Cluster) *inventory.Signals {
	l := inventory.NewLoader(c.ECS(), c.EC2(), c.IAM(), 4)
	return l.Signals(c.AutoScaling(), c.CloudTrail())
}

func TestHostAttributesSayWhetherTheAgentCanTrunk(t *testing.T) {
	attr := func(name string, v ...string) ecstypes.Attribute {
		a := ecstypes.Attribute{Name: aws.String(name)}
		if len(v) > 0 {
			a.Value = aws.String(v[0])
		}
		return a
	}
	full := []ecstypes.Attribute{attr(inventory.AttrTaskENI), attr(inventory.AttrTrunkCapable), attr(inventory.AttrBranchCNI, "a21d3a41-"), attr(inventory.AttrOSType, "linux")}
	tests := []struct {
		name    string
		attrs   []ecstypes.Attribute
		can     bool
		missing []string
	}{
		{"an agent reporting all three capabilities can trunk", full, true, nil},
		{"an agent without task ENIs cannot trunk", full[1:], false, []string{inventory.AttrTaskENI}},
		{"an old Bottlerocket without the branch plugin cannot trunk", []ecstypes.Attribute{full[0], full[1], attr(inventory.AttrBottlerocket, "aws-ecs-1")}, false, []string{inventory.AttrBranchCNI}},
		{"no attributes at all is missing every capability", nil, false, []string{inventory.AttrTaskENI, inventory.AttrTrunkCapable, inventory.AttrBranchCNI}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := inventory.HostAttributesOf(tt.attrs)
			if h.CanTrunk() != tt.can || !slices.Equal(h.Missing(), tt.missing) {
				t.Fatalf("CanTrunk=%v Missing=%v, want %v %v", h.CanTrunk(), h.Missing(), tt.can, tt.missing)
			}
		})
	}
}

func TestCapacityProvidersAreDescribedOnceAndFargateIsSkipped(t *testing.T) {
	c := inventorytest.New()
	c.AddCapacityProvider("asg-cp", "prod-asg")
	c.AddCapacityProvider("mi-cp", "")
	got, err := signalsOf(c).CapacityProviders(context.Background(), []string{"asg-cp", "mi-cp", "FARGATE", "asg-cp"})
	if err != nil {
		t.Fatal(err)
	}
	if !got["mi-cp"].Managed() || got["asg-cp"].Managed() || got["asg-cp"].AutoScalingGroupName() != "prod-asg" {
		t.Fatalf("providers = %+v", got)
	}
	if n := c.Calls()["ecs:DescribeCapacityProviders"]; n != 1 {
		t.Fatalf("%d DescribeCapacityProviders calls, want 1", n)
	}
}

func TestServiceEventsAreReadTenServicesPerCallAndNameTheInstance(t *testing.T) {
	c := inventorytest.New()
	for i := 1; i <= 25; i++ {
		c.Services = append(c.Services, fmt.Sprintf("svc-%02d", i))
	}
	now := inventorytest.Epoch().Add(48 * time.Hour)
	c.AddServiceEvent("svc-07", now.Add(-time.Minute), c.ENIPlacementFailure("svc-07", 3))
	c.AddServiceEvent("svc-07", now.Add(-30*time.Hour), c.ENIPlacementFailure("svc-07", 4))
	c.AddServiceEvent("svc-20", now.Add(-2*time.Minute), "(service svc-20) has reached a steady state.")
	evs, err := signalsOf(c).ServiceEvents(context.Background(), "prod", c.Services, now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Calls()["ecs:DescribeServices"]; n != 3 {
		t.Fatalf("%d DescribeServices calls for 25 services, want 3", n)
	}
	if len(evs) != 2 || evs[0].Service != "svc-07" || !evs[0].ENIPlacementFailure() || evs[1].ENIPlacementFailure() {
		t.Fatalf("events = %+v", evs)
	}
	if ids := evs[0].ContainerInstanceIDs(); len(ids) != 1 || ids[0] != fmt.Sprintf("%032x", 3) {
		t.Fatalf("instance ids = %v", ids)
	}
}

func TestStoppedTasksAreBoundedToTheirPages(t *testing.T) {
	c := inventorytest.New()
	c.AddInstance(inventorytest.InstanceSpec{N: 1, Trunk: true})
	for i := 1; i <= 250; i++ {
		c.AddStoppedTask(i, 1, "web", "ResourceInitializationError: failed to associate branch interface to trunk interface: AssociationLimitExceeded", inventorytest.Epoch())
	}
	got, err := signalsOf(c).StoppedTasks(context.Background(), "prod", 2)
	if err != nil {
		t.Fatal(err)
	}
	calls := c.Calls()
	if len(got) != 200 || calls["ecs:ListTasks"] != 2 || calls["ecs:DescribeTasks"] != 2 {
		t.Fatalf("%d tasks, calls %s", len(got), c.SortedOps())
	}
	if got[0].StoppedReason == "" || got[0].ContainerInstanceArn != c.ContainerInstanceArn(1) {
		t.Fatalf("task = %+v", got[0])
	}
}

func TestAutoScalingGroupsAndTheirLaunchTemplateVersions(t *testing.T) {
	c := inventorytest.New()
	c.AddAutoScalingGroup(inventorytest.ASGSpec{Name: "mixed", Template: "lt-0mixed", Version: "$Latest", MixedTypes: []string{"c5.large", "t3.large"}, Subnets: []string{"subnet-0a", "subnet-0b"}, Instances: []int{1, 2}})
	c.AddAutoScalingGroup(inventorytest.ASGSpec{Name: "plain", Template: "lt-0plain"})
	c.AddLaunchTemplate("lt-0mixed", "mixed", inventorytest.TemplateVersion{InstanceType: "c5.large", Default: true}, inventorytest.TemplateVersion{InstanceType: "c5.large", DNSARecord: aws.Bool(true)})
	c.AddLaunchTemplate("lt-0plain", "plain", inventorytest.TemplateVersion{InstanceType: "m5.large", DNSARecord: aws.Bool(false), Default: true})
	s := signalsOf(c)
	groups, err := s.AutoScalingGroups(context.Background(), []string{"mixed", "plain", "gone"})
	if err != nil {
		t.Fatal(err)
	}
	m := groups["mixed"]
	if !slices.Equal(m.OverrideTypes, []string{"c5.large", "t3.large"}) || !slices.Equal(m.Subnets, []string{"subnet-0a", "subnet-0b"}) || len(m.InstanceIDs) != 2 || m.LaunchTemplate == nil {
		t.Fatalf("mixed = %+v", m)
	}
	refs := []inventory.LaunchTemplateRef{*m.LaunchTemplate, *groups["plain"].LaunchTemplate}
	vs, err := s.LaunchTemplateVersions(context.Background(), refs)
	if err != nil {
		t.Fatal(err)
	}
	latest, def := vs[refs[0].Key()], vs[refs[1].Key()]
	if latest.Version != 2 || latest.ResourceNameDNSARecord == nil || !*latest.ResourceNameDNSARecord {
		t.Fatalf("$Latest of lt-0mixed = %+v", latest)
	}
	if def.InstanceType != "m5.large" || def.ResourceNameDNSARecord == nil || *def.ResourceNameDNSARecord {
		t.Fatalf("$Default of lt-0plain = %+v", def)
	}
	if calls := c.Calls(); calls["autoscaling:DescribeAutoScalingGroups"] != 1 || calls["ec2:DescribeLaunchTemplateVersions"] != 2 {
		t.Fatalf("calls %s", c.SortedOps())
	}
}

func TestOptInEventsKeepOnlyTrunkingChangesOldestFirst(t *testing.T) {
	c := inventorytest.New()
	role := "arn:aws:iam::123456789012:role/EcsInstanceRole"
	admin := "arn:aws:iam::123456789012:role/Admin"
	now := inventorytest.Epoch().Add(100 * 24 * time.Hour)
	c.AddOptInEvent("PutAccountSetting", now.Add(-2*time.Hour), role, admin, "enabled")
	c.AddOptInEvent("PutAccountSettingDefault", now.Add(-5*time.Hour), "", admin, "enabled")
	c.AddOptInEvent("PutAccountSetting", now.Add(-95*24*time.Hour), role, admin, "disabled")
	for i := 0; i < 60; i++ {
		c.AddOptInEvent("PutAccountSetting", now.Add(-time.Duration(i)*time.Minute), role, admin, "enabled")
	}
	got, err := signalsOf(c).OptInEvents(context.Background(), now.Add(-inventory.CloudTrailWindow), 1)
	if err != nil {
		t.Fatal(err)
	}
	// One page of 50 PutAccountSetting events (the newest) and the default's one.
	if len(got) != 51 || c.Calls()["cloudtrail:LookupEvents"] != 2 {
		t.Fatalf("%d events, calls %s", len(got), c.SortedOps())
	}
	if got[0].EventName != "PutAccountSettingDefault" || got[0].PrincipalArn != "" || got[1].PrincipalArn != role || got[1].Caller != admin {
		t.Fatalf("first events = %+v %+v", got[0], got[1])
	}
}

func TestReadSignalsReadsCloudTrailOnlyWhenAskedAndFollowsProvidersToTemplates(t *testing.T) {
	c := inventorytest.New()
	c.AddInstance(inventorytest.InstanceSpec{N: 1, Trunk: true})
	c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 1, AWSVPC: true, Service: "web"})
	c.AddCapacityProvider("asg-cp", "prod-asg")
	c.AddCapacityProvider("mi-cp", "")
	c.AddAutoScalingGroup(inventorytest.ASGSpec{Name: "prod-asg", Template: "lt-0a", Subnets: []string{"subnet-0a"}, Instances: []int{1}})
	c.AddLaunchTemplate("lt-0a", "prod", inventorytest.TemplateVersion{InstanceType: "c5.large", Default: true})
	c.AddStoppedTask(2, 1, "web", "Essential container in task exited", inventorytest.Epoch())
	now := inventorytest.Epoch().Add(2 * time.Hour)
	c.AddServiceEvent("web", now.Add(-time.Minute), c.ENIPlacementFailure("web", 1))
	q := inventory.SignalQuery{Cluster: "prod", Providers: []string{"asg-cp", "mi-cp", "FARGATE"}, Now: now}
	for _, optIn := range []bool{false, true} {
		c.ResetCalls()
		q.OptIn = optIn
		got, err := signalsOf(c).ReadSignals(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{"providers": got.ProvidersErr, "groups": got.GroupsErr, "templates": got.TemplatesErr, "subnets": got.GroupSubnetsErr, "events": got.ServiceEventErr, "stopped": got.StoppedErr, "optin": got.OptInErr} {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if len(got.Providers) != 2 || len(got.Groups) != 1 || len(got.Templates) != 1 || len(got.GroupSubnets) != 1 || len(got.ServiceEvents) != 1 || len(got.StoppedTasks) != 1 {
			t.Fatalf("set = %+v", got)
		}
		if n := c.Calls()["cloudtrail:LookupEvents"]; (n > 0) != optIn || got.OptInRead != optIn {
			t.Fatalf("OptIn=%v: %d LookupEvents calls, OptInRead=%v", optIn, n, got.OptInRead)
		}
		// One call each: providers, groups, template, subnets, ListServices,
		// DescribeServices, stopped ListTasks and DescribeTasks (+2 lookups).
		want := 8
		if optIn {
			want += 2
		}
		if n := c.TotalCalls(); n != want {
			t.Fatalf("OptIn=%v: %d calls (%s), want %d", optIn, n, c.SortedOps(), want)
		}
	}
}

func TestReadSignalsKeepsWhatItCouldReadWhenOnePartFails(t *testing.T) {
	c := inventorytest.New()
	c.AddInstance(inventorytest.InstanceSpec{N: 1, Trunk: true})
	c.AddCapacityProvider("asg-cp", "prod-asg")
	c.Fail["autoscaling:DescribeAutoScalingGroups"] = inventorytest.APIError("AccessDenied", "not authorized")
	c.Fail["cloudtrail:LookupEvents"] = inventorytest.APIError("AccessDeniedException", "not authorized")
	got, err := signalsOf(c).ReadSignals(context.Background(), inventory.SignalQuery{Cluster: "prod", Providers: []string{"asg-cp"}, Now: inventorytest.Epoch(), OptIn: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.GroupsErr == nil || got.OptInErr == nil || got.ProvidersErr != nil || got.StoppedErr != nil || len(got.Providers) != 1 {
		t.Fatalf("set = %+v", got)
	}
}
