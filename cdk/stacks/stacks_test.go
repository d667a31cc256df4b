package stacks_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/internal/cdktest"
	"github.com/trunkctl/trunkctl/cdk/stacks"
	"github.com/trunkctl/trunkctl/cdk/trunking"
)

type synthesized struct {
	eni, cluster, existing          awscdk.Stack
	eniTpl, clusterTpl, existingTpl *cdktest.Template
}

var (
	once sync.Once
	app  synthesized
)

// GIVEN the app's two stacks with cdk-nag's AwsSolutions checks, bundling
// skipped, synthesized once for every test in this package.
func get(t *testing.T) *synthesized {
	t.Helper()
	cdktest.SkipIfShort(t)
	once.Do(func() {
		a := stacks.NewApp(&awscdk.AppProps{Context: &map[string]interface{}{"aws:cdk:bundling-stacks": []interface{}{}}})
		app.eni = stacks.NewEniTrunkingStack(a, stacks.EniTrunkingStackID, nil)
		app.cluster = stacks.NewTrunkClusterStack(a, stacks.TrunkClusterStackID, nil)
		app.existing = stacks.NewTrunkClusterStack(a, "ExistingVpcClusterStack", &stacks.TrunkClusterStackProps{
			StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}},
			VpcID:      "vpc-0123456789abcdef0",
		})
		stacks.AddNagChecks(a)
		app.eniTpl = cdktest.FromStack(t, app.eni)
		app.clusterTpl = cdktest.FromStack(t, app.cluster)
		app.existingTpl = cdktest.FromStack(t, app.existing)
	})
	if app.clusterTpl == nil {
		t.Fatal("the stacks did not synthesize")
	}
	return &app
}

func TestNag(t *testing.T) {
	s := get(t)
	checkNag(t, s.eni, s.eniTpl)
	checkNag(t, s.cluster, s.clusterTpl)
}

// checkNag fails on any unsuppressed AwsSolutions finding of a stack
// synthesized with AddNagChecks, and on a suppression without a reason.
func checkNag(t *testing.T, stack awscdk.Stack, tpl *cdktest.Template) {
	name := *stack.StackName()
	t.Run(name+" has no unsuppressed AwsSolutions finding", func(t *testing.T) {
		ann := assertions.Annotations_FromStack(stack)
		nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-"))
		for _, m := range *ann.FindError(jsii.String("*"), nag) {
			t.Errorf("error at %s: %v", *m.Id, m.Entry.Data) //nolint:staticcheck // SA1019: Id moved to another jsii type, the Go binding has no replacement yet
		}
		for _, m := range *ann.FindWarning(jsii.String("*"), nag) {
			t.Errorf("warning at %s: %v", *m.Id, m.Entry.Data) //nolint:staticcheck // SA1019: as above
		}
	})
	t.Run(name+" gives a reason for every suppression", func(t *testing.T) {
		n := 0
		for id, r := range tpl.Resources {
			nag, _ := r.Metadata["cdk_nag"].(map[string]interface{})
			rules, _ := nag["rules_to_suppress"].([]interface{})
			for _, rule := range rules {
				n++
				m := rule.(map[string]interface{})
				if reason, _ := m["reason"].(string); len(reason) < 40 {
					t.Errorf("%s: suppression of %v has no real reason: %q", id, m["id"], reason)
				}
			}
		}
		if n == 0 {
			t.Error("no suppressions found; the test would pass vacuously")
		}
	})
	t.Run(name+" exempts wildcards only in the policy that grants them", func(t *testing.T) {
		for id, r := range tpl.Resources {
			nag, _ := r.Metadata["cdk_nag"].(map[string]interface{})
			rules, _ := nag["rules_to_suppress"].([]interface{})
			for _, rule := range rules {
				m := rule.(map[string]interface{})
				if m["id"] != "AwsSolutions-IAM5" {
					continue
				}
				if r.Type != "AWS::IAM::Policy" {
					t.Errorf("%s (%s) carries an IAM5 suppression: it would hide a wildcard in every policy under it", id, r.Type)
					continue
				}
				applies, _ := m["applies_to"].([]interface{})
				if len(applies) == 0 {
					t.Errorf("%s: an IAM5 suppression without applies_to hides every wildcard", id)
				}
				doc := cdktest.JSON(r.Properties["PolicyDocument"])
				for _, a := range applies {
					finding, _ := a.(string)
					_, what, _ := strings.Cut(finding, "::")
					if i := strings.LastIndex(what, ">"); i >= 0 {
						what = what[i+1:]
					}
					if !strings.Contains(doc, `"`+what+`"`) && !strings.Contains(doc, what+`"`) {
						t.Errorf("%s: suppression for %s, which the policy does not grant: %s", id, finding, doc)
					}
				}
			}
		}
	})
}

func TestEniTrunkingStack(t *testing.T) {
	s := get(t)
	tpl := s.eniTpl

	t.Run("it has the seed's shape: an EC2 role, the opt-in function and its role, one opt-in", func(t *testing.T) {
		for typ, n := range map[string]float64{"AWS::IAM::Role": 2, "AWS::Lambda::Function": 1, trunking.ResourceType: 1} {
			cdktest.Check(t, func() { tpl.Assert.ResourceCountIs(jsii.String(typ), jsii.Number(n)) })
		}
	})

	t.Run("the EC2 role carries the ECS agent policy, trusts EC2 and the function, and is opted in", func(t *testing.T) {
		_, fn := tpl.One(t, "AWS::Lambda::Function")
		fnRoleID := fn.Properties["Role"].(map[string]interface{})["Fn::GetAtt"].([]interface{})[0].(string)
		var ec2RoleID string
		for _, id := range tpl.OfType("AWS::IAM::Role") {
			if id != fnRoleID {
				ec2RoleID = id
			}
		}
		role := tpl.Resources[ec2RoleID]
		if got := cdktest.JSON(role.Properties["ManagedPolicyArns"]); !strings.Contains(got, "service-role/AmazonEC2ContainerServiceforEC2Role") {
			t.Errorf("managed policies %s", got)
		}
		trust := cdktest.JSON(role.Properties["AssumeRolePolicyDocument"])
		if !strings.Contains(trust, `"Service":"ec2.amazonaws.com"`) || !strings.Contains(trust, `"AWS":`+cdktest.GetAtt(fnRoleID, "Arn")) {
			t.Errorf("trust policy %s", trust)
		}
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String(trunking.ResourceType), assertions.Match_ObjectLike(&map[string]interface{}{
				"RoleArn": map[string]interface{}{"Fn::GetAtt": []string{ec2RoleID, "Arn"}},
				"Setting": "awsvpcTrunking", "Value": "enabled", "OnDelete": "retain", "ServiceTimeout": "300",
			}))
		})
		cdktest.Check(t, func() {
			tpl.Assert.HasOutput(jsii.String("EC2Role"), map[string]interface{}{"Value": map[string]interface{}{"Ref": ec2RoleID}})
		})
	})
}

func TestTrunkClusterStack(t *testing.T) {
	s := get(t)
	tpl := s.clusterTpl

	t.Run("a new VPC spans two Availability Zones with public and private subnets", func(t *testing.T) {
		cdktest.Check(t, func() { tpl.Assert.ResourceCountIs(jsii.String("AWS::EC2::VPC"), jsii.Number(1)) })
		azs := map[string]bool{}
		for _, id := range tpl.OfType("AWS::EC2::Subnet") {
			azs[cdktest.JSON(tpl.Resources[id].Properties["AvailabilityZone"])] = true
		}
		if n := len(tpl.OfType("AWS::EC2::Subnet")); n != 4 || len(azs) != 2 {
			t.Errorf("%d subnets over %d zones, want 4 over 2", n, len(azs))
		}
	})

	t.Run("the example service runs more awsvpc tasks than the group's instances hold without trunking", func(t *testing.T) {
		want := stacks.ProofTaskCount(2, 2) // c5.large: 2 tasks without trunking; at most 2 instances
		if want <= 2*2 || want > 10 {
			t.Fatalf("ProofTaskCount(2, 2) = %d: it must exceed 4 and fit one trunked c5.large (10)", want)
		}
		_, svc := tpl.One(t, "AWS::ECS::Service")
		if got := svc.Properties["DesiredCount"]; got != float64(want) {
			t.Errorf("DesiredCount %v, want %d", got, want)
		}
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::ECS::TaskDefinition"), assertions.Match_ObjectLike(&map[string]interface{}{
				"NetworkMode": "awsvpc", "RequiresCompatibilities": []string{"EC2"},
			}))
		})
	})

	t.Run("the service uses the trunk capacity provider once it is associated with the cluster", func(t *testing.T) {
		cpID, _ := tpl.One(t, "AWS::ECS::CapacityProvider")
		assocID, _ := tpl.One(t, "AWS::ECS::ClusterCapacityProviderAssociations")
		_, svc := tpl.One(t, "AWS::ECS::Service")
		if got := cdktest.JSON(svc.Properties["CapacityProviderStrategy"]); !strings.Contains(got, cdktest.Ref(cpID)) {
			t.Errorf("CapacityProviderStrategy %s", got)
		}
		if !slices.Contains(svc.DependsOn, assocID) {
			t.Errorf("service DependsOn %v, want %s", svc.DependsOn, assocID)
		}
		if svc.Properties["LaunchType"] != nil {
			t.Errorf("LaunchType %v set next to a capacity provider strategy", svc.Properties["LaunchType"])
		}
	})

	t.Run("the capacity waits for the opt-in", func(t *testing.T) {
		crID, _ := tpl.One(t, trunking.ResourceType)
		_, asg := tpl.One(t, "AWS::AutoScaling::AutoScalingGroup")
		if !slices.Contains(asg.DependsOn, crID) {
			t.Errorf("group DependsOn %v, want %s", asg.DependsOn, crID)
		}
	})

	t.Run("the capacity waits for the private subnets' routes to the NAT gateway", func(t *testing.T) {
		_, asg := tpl.One(t, "AWS::AutoScaling::AutoScalingGroup")
		var natRoutes []string
		for _, id := range tpl.OfType("AWS::EC2::Route") {
			if tpl.Resources[id].Properties["NatGatewayId"] != nil {
				natRoutes = append(natRoutes, id)
			}
		}
		if len(natRoutes) != 2 {
			t.Fatalf("%d NAT routes, want one per private subnet (2)", len(natRoutes))
		}
		for _, id := range natRoutes {
			if !slices.Contains(asg.DependsOn, id) {
				t.Errorf("group DependsOn %v, want the NAT route %s", asg.DependsOn, id)
			}
		}
	})
}

func TestTrunkClusterStackInAnExistingVpc(t *testing.T) {
	s := get(t)
	tpl := s.existingTpl
	t.Run("it creates no VPC and puts instances and tasks in the looked-up VPC's private subnets", func(t *testing.T) {
		if n := len(tpl.OfType("AWS::EC2::VPC")) + len(tpl.OfType("AWS::EC2::Subnet")); n != 0 {
			t.Errorf("%d VPC or subnet resources", n)
		}
		_, asg := tpl.One(t, "AWS::AutoScaling::AutoScalingGroup")
		subnets := cdktest.JSON(asg.Properties["VPCZoneIdentifier"])
		_, svc := tpl.One(t, "AWS::ECS::Service")
		if !strings.Contains(subnets, `"p-`) || !strings.Contains(cdktest.JSON(svc.Properties["NetworkConfiguration"]), `"p-`) {
			t.Errorf("group subnets %s; service %s", subnets, cdktest.JSON(svc.Properties["NetworkConfiguration"]))
		}
	})
}

func TestProofTaskCount(t *testing.T) {
	for _, c := range []struct{ without, instances, want int }{{2, 2, 5}, {2, 1, 3}, {14, 2, 29}} {
		if got := stacks.ProofTaskCount(c.without, c.instances); got != c.want {
			t.Errorf("ProofTaskCount(%d, %d) = %d, want %d", c.without, c.instances, got, c.want)
		}
	}
}

func TestBuildRejectsABadMaxCapacity(t *testing.T) {
	cdktest.SkipIfShort(t) // starts the jsii runtime
	a := stacks.NewApp(&awscdk.AppProps{Context: &map[string]interface{}{stacks.CtxMaxCapacity: "two"}})
	if err := stacks.Build(a); err == nil || !strings.Contains(err.Error(), "maxCapacity") {
		t.Errorf("Build = %v, want an error about maxCapacity", err)
	}
}
