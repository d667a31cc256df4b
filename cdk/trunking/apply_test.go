package trunking_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/internal/cdktest"
	"github.com/trunkctl/trunkctl/cdk/stacks"
	"github.com/trunkctl/trunkctl/cdk/trunking"
)

// existing is capacity a user already runs: a role, a launch template with
// user data, a group with a rolling-update policy and a capacity provider.
type existing struct {
	stack awscdk.Stack
	role  awsiam.Role
	asg   awsautoscaling.AutoScalingGroup
	cp    awsecs.AsgCapacityProvider
	optIn *trunking.EniTrunking
	tpl   *cdktest.Template
}

func newExisting(app awscdk.App, id string) *existing {
	e := &existing{stack: awscdk.NewStack(app, jsii.String(id), nil)}
	vpc := awsec2.NewVpc(e.stack, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs: jsii.Number(1), NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC}},
	})
	cluster := awsecs.NewCluster(e.stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc})
	e.role = trunking.NewInstanceRole(e.stack, "InstanceRole")
	ud := awsec2.UserData_ForLinux(nil)
	ud.AddCommands(jsii.String("echo existing capacity"))
	lt := awsec2.NewLaunchTemplate(e.stack, jsii.String("LaunchTemplate"), &awsec2.LaunchTemplateProps{
		InstanceType: awsec2.NewInstanceType(jsii.String("c5.large")),
		MachineImage: awsecs.EcsOptimizedImage_AmazonLinux2023(awsecs.AmiHardwareType_STANDARD, nil),
		UserData:     ud,
		Role:         e.role,
	})
	e.asg = awsautoscaling.NewAutoScalingGroup(e.stack, jsii.String("Group"), &awsautoscaling.AutoScalingGroupProps{
		Vpc: vpc, VpcSubnets: &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		LaunchTemplate: lt,
		UpdatePolicy:   awsautoscaling.UpdatePolicy_RollingUpdate(nil),
	})
	e.cp = awsecs.NewAsgCapacityProvider(e.stack, jsii.String("CapacityProvider"), &awsecs.AsgCapacityProviderProps{AutoScalingGroup: e.asg})
	cluster.AddAsgCapacityProvider(e.cp, nil)
	return e
}

var (
	applyOnce sync.Once
	before    *existing // no opt-in
	after     *existing // EniTrunking put in front of the capacity provider
	disabled  *existing // the same opt-in putting disabled, applied to the group
)

// GIVEN the same existing capacity three times: without an opt-in, with
// EniTrunking applied to its capacity provider, and with an opt-in of
// another value applied to its group.
func applied(t *testing.T) {
	t.Helper()
	cdktest.SkipIfShort(t)
	applyOnce.Do(func() {
		app := stacks.NewApp(&awscdk.AppProps{Context: ptr(cdktest.NoBundling())})
		before = newExisting(app, "Before")
		after = newExisting(app, "After")
		after.optIn = trunking.NewEniTrunking(after.stack, "Trunking", &trunking.EniTrunkingProps{Roles: []awsiam.IRole{after.role}})
		// WHEN the opt-in is put in front of what exists
		after.optIn.ApplyToCapacityProvider(after.cp, nil)
		disabled = newExisting(app, "Disabled")
		disabled.optIn = trunking.NewEniTrunking(disabled.stack, "Trunking", &trunking.EniTrunkingProps{
			Roles: []awsiam.IRole{disabled.role}, Value: "disabled",
		})
		disabled.optIn.ApplyToAutoScalingGroup(disabled.asg, &trunking.ApplyOptions{Role: disabled.role})
		for _, e := range []*existing{before, after, disabled} {
			e.tpl = cdktest.FromStack(t, e.stack)
		}
	})
}

func launchTemplateUserData(t *testing.T, tpl *cdktest.Template) string {
	t.Helper()
	_, lt := tpl.One(t, "AWS::EC2::LaunchTemplate")
	return cdktest.JSON(lt.Properties["LaunchTemplateData"].(map[string]interface{})["UserData"])
}

func groupResource(t *testing.T, tpl *cdktest.Template) map[string]interface{} {
	t.Helper()
	id, _ := tpl.One(t, "AWS::AutoScaling::AutoScalingGroup")
	return tpl.Raw["Resources"].(map[string]interface{})[id].(map[string]interface{})
}

var wantRefresh = map[string]interface{}{
	"Strategy": "Rolling",
	"Preferences": map[string]interface{}{
		"MinHealthyPercentage": 100, "MaxHealthyPercentage": 200,
		"ScaleInProtectedInstances": "Refresh", "SkipMatching": true,
	},
}

func TestApplyToExistingCapacity(t *testing.T) {
	applied(t)

	t.Run("the group waits for the opt-in", func(t *testing.T) {
		_, asg := after.tpl.One(t, "AWS::AutoScaling::AutoScalingGroup")
		optInID := cdktest.LogicalID(after.stack, after.optIn.OptInFor(after.role))
		if !slices.Contains(asg.DependsOn, optInID) {
			t.Errorf("group DependsOn %v, want the opt-in %s", asg.DependsOn, optInID)
		}
	})

	t.Run("the launch template's user data names the opt-in and its value, after the user's own lines", func(t *testing.T) {
		ud := launchTemplateUserData(t, after.tpl)
		optInID := cdktest.LogicalID(after.stack, after.optIn.OptInFor(after.role))
		want := `\n` + trunking.OptInIdentityPrefix + `",` + cdktest.Ref(optInID) + `,";awsvpcTrunking=enabled`
		at := strings.Index(ud, want)
		if at < 0 || !strings.Contains(ud[:at], "echo existing capacity") {
			t.Errorf("user data %s\nlacks %s after the user's lines", ud, want)
		}
	})

	t.Run("adding the opt-in, or changing its value, changes the launch template", func(t *testing.T) {
		b, a, d := launchTemplateUserData(t, before.tpl), launchTemplateUserData(t, after.tpl), launchTemplateUserData(t, disabled.tpl)
		if strings.Contains(b, "trunkctl") {
			t.Fatalf("the capacity without an opt-in has the line: %s", b)
		}
		if a == b || a == d || !strings.Contains(d, ";awsvpcTrunking=disabled") {
			t.Errorf("user data does not follow the opt-in:\nbefore   %s\nenabled  %s\ndisabled %s", b, a, d)
		}
	})

	t.Run("the group replaces its instances by an instance refresh that launches before it terminates", func(t *testing.T) {
		cdktest.Check(t, func() {
			after.tpl.Assert.HasResource(jsii.String("AWS::AutoScaling::AutoScalingGroup"), map[string]interface{}{
				"UpdatePolicy": assertions.Match_ObjectLike(&map[string]interface{}{"AutoScalingInstanceRefresh": wantRefresh}),
			})
		})
	})

	t.Run("the instance refresh replaces the rolling update, with a warning", func(t *testing.T) {
		up := cdktest.JSON(groupResource(t, before.tpl)["UpdatePolicy"])
		if !strings.Contains(up, "AutoScalingRollingUpdate") {
			t.Fatalf("the fixture has no rolling update to replace: %s", up)
		}
		if up := cdktest.JSON(groupResource(t, after.tpl)["UpdatePolicy"]); strings.Contains(up, "AutoScalingRollingUpdate") {
			t.Errorf("UpdatePolicy %s keeps the rolling update next to the instance refresh", up)
		}
		msgs := assertions.Annotations_FromStack(after.stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AutoScalingRollingUpdate policy is replaced")))
		if len(*msgs) != 1 {
			t.Errorf("%d warnings about the replaced rolling update, want 1", len(*msgs))
		}
	})
}

func TestTrunkCapacityReplacesInstancesWhenTheOptInChanges(t *testing.T) {
	s := get(t)
	t.Run("the launch template names the opt-in of the capacity's role", func(t *testing.T) {
		ud := launchTemplateUserData(t, s.tpl)
		want := trunking.OptInIdentityPrefix + `",` + cdktest.Ref(cdktest.LogicalID(s.stack, s.optIn.OptInFor(s.newRole))) + `,";awsvpcTrunking=enabled`
		if !strings.Contains(ud, want) {
			t.Errorf("user data %s\nlacks %s", ud, want)
		}
	})
	t.Run("the group has the instance refresh and the capacity provider drains", func(t *testing.T) {
		got := groupResource(t, s.tpl)["UpdatePolicy"].(map[string]interface{})["AutoScalingInstanceRefresh"]
		if g, w := cdktest.JSON(got), cdktest.JSON(wantRefresh); g != w {
			t.Errorf("AutoScalingInstanceRefresh %s, want %s", g, w)
		}
		cdktest.Check(t, func() {
			s.tpl.Assert.HasResourceProperties(jsii.String("AWS::ECS::CapacityProvider"), map[string]interface{}{
				"AutoScalingGroupProvider": assertions.Match_ObjectLike(&map[string]interface{}{"ManagedDraining": "ENABLED"}),
			})
		})
	})
}

func TestApplyRejects(t *testing.T) {
	applied(t)
	for _, c := range []struct {
		name string
		opts *trunking.ApplyOptions
		want string
	}{
		{"a role the opt-in does not cover", &trunking.ApplyOptions{Role: before.role}, "is not opted in"},
	} {
		t.Run("applying rejects "+c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("panic %v, want one mentioning %q", r, c.want)
				}
			}()
			after.optIn.ApplyToAutoScalingGroup(before.asg, c.opts)
		})
	}
}
