package stacks_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/internal/cdktest"
	"github.com/trunkctl/trunkctl/cdk/stacks"
)

type orgSynthesized struct {
	member, bucket, stackSet          awscdk.Stack
	memberTpl, bucketTpl, stackSetTpl *cdktest.Template
	body                              string
}

var (
	orgOnce sync.Once
	org     orgSynthesized
)

// GIVEN the organization's stacks with cdk-nag's checks: the member stack,
// the artifact bucket stack, and the StackSet stack deploying the member
// template to two OUs in two Regions with the trunk-ready role.
func getOrg(t *testing.T) *orgSynthesized {
	t.Helper()
	cdktest.SkipIfShort(t)
	orgOnce.Do(func() {
		body, err := stacks.OrgMemberTemplate()
		if err != nil {
			t.Fatal(err)
		}
		org.body = string(body)
		a := stacks.NewApp(&awscdk.AppProps{Context: ptr(cdktest.NoBundling())})
		org.member = stacks.NewOrgMemberStack(a, stacks.OrgMemberStackID, nil)
		org.bucket = stacks.NewOrgArtifactBucketStack(a, stacks.OrgArtifactBucketStackID, nil)
		org.stackSet = stacks.NewOrgTrunkingStack(a, stacks.OrgTrunkingStackID, &stacks.OrgTrunkingStackProps{
			TemplateBody:          org.body,
			OrganizationalUnitIDs: []string{"ou-abcd-11111111", "ou-abcd-22222222"},
			Regions:               []string{"us-east-1", "eu-west-1"},
			BucketPrefix:          "org-artifacts",
			LambdaCodeKey:         "trunkctl/lambda-0123456789abcdef.zip",
			InstanceRoleNames:     []string{"ecsInstanceRole", "ops/legacy-ecs"},
			CreateTrunkReadyRole:  true,
		})
		stacks.AddNagChecks(a)
		org.memberTpl = cdktest.FromStack(t, org.member)
		org.bucketTpl = cdktest.FromStack(t, org.bucket)
		org.stackSetTpl = cdktest.FromStack(t, org.stackSet)
	})
	if org.stackSetTpl == nil {
		t.Fatal("the organization's stacks did not synthesize")
	}
	return &org
}

func ptr[T any](v T) *T { return &v }

func TestOrgNag(t *testing.T) {
	s := getOrg(t)
	checkNag(t, s.member, s.memberTpl)
	checkNag(t, s.bucket, s.bucketTpl)
	t.Run("OrgTrunkingStack has no AwsSolutions finding", func(t *testing.T) {
		ann := assertions.Annotations_FromStack(s.stackSet)
		nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-"))
		if n := len(*ann.FindError(jsii.String("*"), nag)) + len(*ann.FindWarning(jsii.String("*"), nag)); n > 0 {
			t.Errorf("%d findings", n)
		}
	})
}

func TestOrgTrunkingStack(t *testing.T) {
	s := getOrg(t)
	tpl := s.stackSetTpl

	t.Run("the StackSet is service-managed, auto-deploys, and targets the OUs in the Regions", func(t *testing.T) {
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::CloudFormation::StackSet"), map[string]interface{}{
				"StackSetName":     stacks.DefaultStackSetName,
				"PermissionModel":  "SERVICE_MANAGED",
				"CallAs":           "SELF",
				"AutoDeployment":   map[string]interface{}{"Enabled": true, "RetainStacksOnAccountRemoval": true},
				"ManagedExecution": map[string]interface{}{"Active": true},
				"Capabilities":     []interface{}{"CAPABILITY_NAMED_IAM"},
				"StackInstancesGroup": []interface{}{map[string]interface{}{
					"DeploymentTargets": map[string]interface{}{"OrganizationalUnitIds": []interface{}{"ou-abcd-11111111", "ou-abcd-22222222"}},
					"Regions":           []interface{}{"us-east-1", "eu-west-1"},
				}},
			})
		})
	})

	t.Run("its operation preferences do not let failures collapse the concurrency", func(t *testing.T) {
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::CloudFormation::StackSet"), map[string]interface{}{
				"OperationPreferences": map[string]interface{}{
					"ConcurrencyMode":            "SOFT_FAILURE_TOLERANCE",
					"MaxConcurrentPercentage":    25,
					"FailureTolerancePercentage": 10,
					"RegionConcurrencyType":      "PARALLEL",
				},
			})
		})
	})

	t.Run("it passes the artifact bucket, the key, the role names and the trunk-ready choice", func(t *testing.T) {
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::CloudFormation::StackSet"), map[string]interface{}{
				"Parameters": []interface{}{
					map[string]interface{}{"ParameterKey": stacks.ParamBucketPrefix, "ParameterValue": "org-artifacts"},
					map[string]interface{}{"ParameterKey": stacks.ParamLambdaCodeKey, "ParameterValue": "trunkctl/lambda-0123456789abcdef.zip"},
					map[string]interface{}{"ParameterKey": stacks.ParamInstanceRoleNames, "ParameterValue": "ecsInstanceRole,ops/legacy-ecs"},
					map[string]interface{}{"ParameterKey": stacks.ParamCreateTrunkReadyRole, "ParameterValue": "true"},
					map[string]interface{}{"ParameterKey": stacks.ParamOnDelete, "ParameterValue": "retain"},
				},
			})
		})
	})

	t.Run("the TemplateBody is the member template and fits CloudFormation's 51,200-byte limit", func(t *testing.T) {
		_, ss := tpl.One(t, "AWS::CloudFormation::StackSet")
		body, _ := ss.Properties["TemplateBody"].(string)
		if body != s.body || !strings.Contains(body, `"Type":"Custom::EniTrunking"`) {
			t.Errorf("TemplateBody is not the member template (%d bytes)", len(body))
		}
		if len(body) > stacks.MaxTemplateBodyBytes {
			t.Errorf("TemplateBody %d bytes, over %d", len(body), stacks.MaxTemplateBodyBytes)
		}
		t.Logf("TemplateBody: %d bytes of %d", len(body), stacks.MaxTemplateBodyBytes)
	})
}

func TestOrgTrunkingStackRejects(t *testing.T) {
	s := getOrg(t)
	good := func() *stacks.OrgTrunkingStackProps {
		return &stacks.OrgTrunkingStackProps{TemplateBody: s.body, OrganizationalUnitIDs: []string{"ou-abcd-11111111"},
			Regions: []string{"us-east-1"}, BucketPrefix: "p", LambdaCodeKey: "k"}
	}
	for i, c := range []struct {
		name string
		edit func(p *stacks.OrgTrunkingStackProps)
		want string
	}{
		{"a template over the TemplateBody limit", func(p *stacks.OrgTrunkingStackProps) {
			p.TemplateBody = strings.Repeat(" ", stacks.MaxTemplateBodyBytes+1)
		}, "over CloudFormation's TemplateBody limit"},
		{"more role names than the template has slots", func(p *stacks.OrgTrunkingStackProps) {
			p.InstanceRoleNames = strings.Split(strings.Repeat("r,", stacks.MaxOrgInstanceRoles)+"r", ",")
		}, "at most 10"},
		{"no Regions", func(p *stacks.OrgTrunkingStackProps) { p.Regions = nil }, "Regions required"},
	} {
		t.Run("it rejects "+c.name, func(t *testing.T) {
			p := good()
			c.edit(p)
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("panic %v, want one mentioning %q", r, c.want)
				}
			}()
			stacks.NewOrgTrunkingStack(awscdk.NewApp(nil), fmt.Sprintf("Rejected%d", i), p)
		})
	}
}

func TestBuildAddsOrgTrunkingStackOnlyWithTheOrgContext(t *testing.T) {
	cdktest.SkipIfShort(t)
	build := func(ctx map[string]interface{}) (awscdk.App, error) {
		for k, v := range cdktest.NoBundling() {
			ctx[k] = v
		}
		a := stacks.NewApp(&awscdk.AppProps{Context: &ctx})
		return a, stacks.Build(a)
	}
	t.Run("without orgUnitIds there is no OrgTrunkingStack", func(t *testing.T) {
		a, err := build(map[string]interface{}{})
		if err != nil || a.Node().TryFindChild(jsii.String(stacks.OrgTrunkingStackID)) != nil {
			t.Errorf("err %v, or the stack was added", err)
		}
	})
	t.Run("with the OUs, Regions, prefix and key it is added", func(t *testing.T) {
		a, err := build(map[string]interface{}{
			stacks.CtxOrgUnitIDs: "ou-abcd-11111111", stacks.CtxOrgRegions: "us-east-1,eu-west-1",
			stacks.CtxOrgBucketPrefix: "org-artifacts", stacks.CtxOrgLambdaCodeKey: "trunkctl/lambda-0123456789abcdef.zip",
		})
		if err != nil || a.Node().TryFindChild(jsii.String(stacks.OrgTrunkingStackID)) == nil {
			t.Errorf("err %v, or the stack is missing", err)
		}
	})
	t.Run("OUs without a key is an error naming the missing context", func(t *testing.T) {
		_, err := build(map[string]interface{}{stacks.CtxOrgUnitIDs: "ou-abcd-11111111", stacks.CtxOrgRegions: "us-east-1",
			stacks.CtxOrgBucketPrefix: "org-artifacts"})
		if err == nil || !strings.Contains(err.Error(), stacks.CtxOrgLambdaCodeKey) {
			t.Errorf("err %v", err)
		}
	})
}
