package stacks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/trunking"
)

// OrgTrunkingStackID is the stack that creates the organization's StackSet.
const OrgTrunkingStackID = "OrgTrunkingStack"

// DefaultStackSetName is the StackSet's name unless OrgTrunkingStackProps says otherwise.
const DefaultStackSetName = "trunkctl-eni-trunking"

// MaxTemplateBodyBytes is CloudFormation's limit on a TemplateBody.
const MaxTemplateBodyBytes = 51200

// OrgTrunkingStackProps configures OrgTrunkingStack.
type OrgTrunkingStackProps struct {
	awscdk.StackProps
	// TemplateBody is the member template (OrgMemberTemplate). Required.
	TemplateBody string
	// OrganizationalUnitIDs (ou-... or the root r-...) and Regions the
	// StackSet deploys to. Required.
	OrganizationalUnitIDs []string
	Regions               []string
	// BucketPrefix and LambdaCodeKey name the zip in every Region's artifact
	// bucket (make package-org). Required.
	BucketPrefix  string
	LambdaCodeKey string
	// InstanceRoleNames to opt in (default ecsInstanceRole; at most
	// MaxOrgInstanceRoles).
	InstanceRoleNames []string
	// CreateTrunkReadyRole adds the trunk-ready role and instance profile.
	CreateTrunkReadyRole bool
	// OnDelete (default retain).
	OnDelete trunking.OnDelete
	// StackSetName (default DefaultStackSetName).
	StackSetName string
	// CallAs is SELF (the management account, default) or DELEGATED_ADMIN.
	CallAs string
	// MaxConcurrentPercentage of the accounts of a Region deployed at once
	// (default 25) and FailureTolerancePercentage of them that may fail
	// before the Region stops (default 10). Under SOFT_FAILURE_TOLERANCE the
	// tolerance does not lower the concurrency.
	MaxConcurrentPercentage, FailureTolerancePercentage int
	// RetainStacksOnAccountRemoval keeps the member stack of an account that
	// leaves the targeted OUs (default true: instances may be using the
	// trunk-ready role).
	RetainStacksOnAccountRemoval *bool
}

// NewOrgTrunkingStack creates the service-managed StackSet that deploys the
// member template (OrgMemberStack) to every account of the given OUs in the
// given Regions, and with auto-deployment to accounts that join them later.
// Deploy it in the management account, or in a delegated administrator
// account with CallAs DELEGATED_ADMIN.
func NewOrgTrunkingStack(scope constructs.Construct, id string, props *OrgTrunkingStackProps) awscdk.Stack {
	if err := props.validate(); err != nil {
		panic(fmt.Sprintf("OrgTrunkingStack %s: %v", id, err))
	}
	p := *props
	if len(p.InstanceRoleNames) == 0 {
		p.InstanceRoleNames = []string{DefaultOrgInstanceRoleNames}
	}
	if p.OnDelete == "" {
		p.OnDelete = trunking.OnDeleteRetain
	}
	if p.StackSetName == "" {
		p.StackSetName = DefaultStackSetName
	}
	if p.CallAs == "" {
		p.CallAs = "SELF"
	}
	if p.MaxConcurrentPercentage == 0 {
		p.MaxConcurrentPercentage = 25
	}
	if p.FailureTolerancePercentage == 0 {
		p.FailureTolerancePercentage = 10
	}
	if p.RetainStacksOnAccountRemoval == nil {
		p.RetainStacksOnAccountRemoval = jsii.Bool(true)
	}
	sp := p.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("trunkctl: a service-managed StackSet that opts the organization's EC2 instance roles into ECS ENI trunking")
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	param := func(k, v string) *awscdk.CfnStackSet_ParameterProperty {
		return &awscdk.CfnStackSet_ParameterProperty{ParameterKey: jsii.String(k), ParameterValue: jsii.String(v)}
	}
	awscdk.NewCfnStackSet(stack, jsii.String("StackSet"), &awscdk.CfnStackSetProps{
		StackSetName:    jsii.String(p.StackSetName),
		Description:     jsii.String("trunkctl: opts EC2 instance roles into ECS ENI trunking in every account and Region"),
		PermissionModel: jsii.String("SERVICE_MANAGED"),
		CallAs:          jsii.String(p.CallAs),
		AutoDeployment: &awscdk.CfnStackSet_AutoDeploymentProperty{
			Enabled:                      jsii.Bool(true),
			RetainStacksOnAccountRemoval: p.RetainStacksOnAccountRemoval,
		},
		// Operations queue instead of failing when one is already running.
		ManagedExecution: map[string]interface{}{"Active": true},
		Capabilities:     jsii.Strings("CAPABILITY_NAMED_IAM"), // the read-only role has a fixed name
		OperationPreferences: &awscdk.CfnStackSet_OperationPreferencesProperty{
			ConcurrencyMode:            jsii.String("SOFT_FAILURE_TOLERANCE"),
			MaxConcurrentPercentage:    jsii.Number(float64(p.MaxConcurrentPercentage)),
			FailureTolerancePercentage: jsii.Number(float64(p.FailureTolerancePercentage)),
			RegionConcurrencyType:      jsii.String("PARALLEL"),
		},
		TemplateBody: jsii.String(p.TemplateBody),
		Parameters: &[]interface{}{
			param(ParamBucketPrefix, p.BucketPrefix),
			param(ParamLambdaCodeKey, p.LambdaCodeKey),
			param(ParamInstanceRoleNames, strings.Join(p.InstanceRoleNames, ",")),
			param(ParamCreateTrunkReadyRole, fmt.Sprint(p.CreateTrunkReadyRole)),
			param(ParamOnDelete, string(p.OnDelete)),
		},
		StackInstancesGroup: &[]interface{}{&awscdk.CfnStackSet_StackInstancesProperty{
			DeploymentTargets: &awscdk.CfnStackSet_DeploymentTargetsProperty{
				OrganizationalUnitIds: jsii.Strings(p.OrganizationalUnitIDs...),
			},
			Regions: jsii.Strings(p.Regions...),
		}},
	})
	return stack
}

func (p *OrgTrunkingStackProps) validate() error {
	if p == nil {
		return fmt.Errorf("props are required")
	}
	var missing []string
	for name, empty := range map[string]bool{
		"TemplateBody": p.TemplateBody == "", "OrganizationalUnitIDs": len(p.OrganizationalUnitIDs) == 0,
		"Regions": len(p.Regions) == 0, "BucketPrefix": p.BucketPrefix == "", "LambdaCodeKey": p.LambdaCodeKey == "",
	} {
		if empty {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s required", strings.Join(sorted(missing), ", "))
	}
	if n := len(p.TemplateBody); n > MaxTemplateBodyBytes {
		return fmt.Errorf("the member template is %d bytes, over CloudFormation's TemplateBody limit of %d; upload it and use TemplateURL",
			n, MaxTemplateBodyBytes)
	}
	if n := len(p.InstanceRoleNames); n > MaxOrgInstanceRoles {
		return fmt.Errorf("%d InstanceRoleNames, the member template takes at most %d", n, MaxOrgInstanceRoles)
	}
	if p.CallAs != "" && p.CallAs != "SELF" && p.CallAs != "DELEGATED_ADMIN" {
		return fmt.Errorf("CallAs %q: want SELF or DELEGATED_ADMIN", p.CallAs)
	}
	return nil
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}
