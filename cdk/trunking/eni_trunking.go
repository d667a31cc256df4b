package trunking

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/contract"
)

// OnDelete says what deleting an opt-in does to the role's setting.
type OnDelete = contract.OnDelete

const (
	// OnDeleteRetain leaves the setting as it is (the default): instances
	// launched later with the role keep getting trunk ENIs.
	OnDeleteRetain = contract.OnDeleteRetain
	// OnDeleteDisable sets the role's setting to disabled.
	OnDeleteDisable = contract.OnDeleteDisable
)

const (
	// DefaultSetting is the ECS account setting opted into by default.
	DefaultSetting = accountsetting.AWSVPCTrunking
	// DefaultValue is the value the setting is given by default.
	DefaultValue = accountsetting.Enabled
	// ResourceType is the CloudFormation type of each opt-in resource.
	ResourceType = contract.ResourceType
	// PropagationWaitEnv is the Lambda's variable for how long it retries an
	// AssumeRole denied because IAM has not propagated a new role or trust yet.
	PropagationWaitEnv = contract.PropagationWaitEnv
	// AllowedRolesEnv is the Lambda's allow-list of role ARNs.
	AllowedRolesEnv = contract.AllowedRolesEnv
	// ImportedRoleWarning is the id of the synth warning about an imported
	// role's trust policy (acknowledge it with Annotations.AcknowledgeWarning).
	ImportedRoleWarning = "trunkctl:importedRoleTrust"
)

// EniTrunkingProps configures EniTrunking.
type EniTrunkingProps struct {
	// Roles to opt in: existing ones, or none for a new instance role made
	// by NewInstanceRole inside the construct (id InstanceRole). A role
	// created in this app (awsiam.NewRole) gets a trust statement for the
	// function role. An imported role's trust policy cannot be edited from
	// here: see FunctionRole; the construct warns at synth.
	Roles []awsiam.IRole
	// Setting is the ECS account setting name (default awsvpcTrunking).
	Setting string
	// Value is the value to put (default enabled).
	Value string
	// OnDelete is what removing an opt-in does (default OnDeleteRetain).
	OnDelete OnDelete
	// Code is the custom-resource handler (provided.al2023, arm64, handler
	// bootstrap). Default: ./lambda of this module, built with the local Go
	// toolchain at synth. Templates pass Code_FromBucket; tests a fake asset.
	Code awslambda.Code
	// LogRetention of the function's log group (default one month).
	LogRetention awslogs.RetentionDays
	// LogRemovalPolicy of the function's log group (default DESTROY).
	LogRemovalPolicy awscdk.RemovalPolicy
	// Timeout of the function (default 2 minutes; it must exceed the
	// IAM-propagation retry window, 90 s in the handler by default).
	Timeout awscdk.Duration
	// ServiceTimeout bounds how long CloudFormation waits for an answer
	// (default 5 minutes instead of CloudFormation's one hour).
	ServiceTimeout awscdk.Duration
	// Environment adds variables to the function, e.g.
	// PropagationWaitEnv: "60s".
	Environment map[string]string
	// PrincipalArnRoles are roles opted in without any edit to them (no
	// trust statement, no policy): see PrincipalArnRole. With these and no
	// Roles, no instance role is created.
	PrincipalArnRoles []PrincipalArnRole
	// FunctionRole is an existing role for the function (default: a new
	// one). Use it with imported roles, whose trust policies must already
	// name the function's role before the first deployment. It is given the
	// same permissions a new role gets, and must trust lambda.amazonaws.com.
	FunctionRole awsiam.IRole
}

// PrincipalArnRole is a role this app does not own (e.g. the
// ecsInstanceRole of every account of an organization), given by ARN (a
// token is fine). The function role may call ecs:PutAccountSetting for the
// construct's Setting and ecs:ListAccountSettings, so the function can put
// the role's setting with principalArn as itself; where ECS refuses that, the
// function assumes the role, which then must already trust FunctionRole, or
// the opt-in answers FAILED with the reason.
type PrincipalArnRole struct {
	// ID names the opt-in (construct id OptIn+ID); unique in the construct.
	ID string
	// RoleArn is the role's ARN.
	RoleArn *string
	// Condition, when set, deploys the opt-in (and the function's
	// iam:GetRole on the role) only when it holds, for a role a template
	// creates conditionally.
	Condition awscdk.CfnCondition
}

// EniTrunking opts IAM roles into an ECS account setting (awsvpcTrunking by
// default) during deployment. A Go Lambda assumes each role and calls
// ecs:PutAccountSetting as that role, because ECS accepts a principal's
// setting only from the root user or from the principal itself.
//
// Make capacity depend on OptInFor(role) (TrunkCapacity does) so that no
// instance registers before its role is opted in.
type EniTrunking struct {
	constructs.Construct
	// Function is the custom-resource handler.
	Function awslambda.Function
	// FunctionRole is the handler's role: it may assume exactly the opted-in
	// roles and write its own logs, nothing else.
	FunctionRole awsiam.IRole
	// LogGroup receives the handler's logs.
	LogGroup awslogs.LogGroup

	setting string
	value   string
	optIns  []OptIn
	// allowed are the role ARNs the function may act for (its allow-list).
	allowed []*string
	// principalArnPolicy lets the function name other principals; nil
	// without PrincipalArnRoles.
	principalArnPolicy awsiam.Policy
}

// OptIn is one role's opt-in resource.
type OptIn struct {
	Role awsiam.IRole
	// Resource is the custom resource; depend on it.
	Resource awscdk.CustomResource
	// Policy is the role's inline permission for the account-setting calls
	// (nil for a PrincipalArnRole).
	Policy awsiam.Policy
	// Condition is the PrincipalArnRole's condition (nil: always).
	Condition awscdk.CfnCondition
}

// NewEniTrunking creates the function, its role and one custom resource per role.
func NewEniTrunking(scope constructs.Construct, id string, props *EniTrunkingProps) *EniTrunking {
	p := EniTrunkingProps{}
	if props != nil {
		p = *props
	}
	p.Setting = orDefault(p.Setting, DefaultSetting)
	p.Value = orDefault(p.Value, DefaultValue)
	if p.OnDelete == "" {
		p.OnDelete = OnDeleteRetain
	}
	// A token (a template parameter) is checked by the handler at deploy time.
	if !p.OnDelete.Valid() && !*awscdk.Token_IsUnresolved(jsii.String(string(p.OnDelete))) {
		panic(fmt.Sprintf("EniTrunking %s: OnDelete %q is neither %q nor %q", id, p.OnDelete, OnDeleteRetain, OnDeleteDisable))
	}
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_ONE_MONTH
	}
	if p.LogRemovalPolicy == "" {
		p.LogRemovalPolicy = awscdk.RemovalPolicy_DESTROY
	}
	if p.Timeout == nil {
		p.Timeout = awscdk.Duration_Minutes(jsii.Number(2))
	}
	if p.ServiceTimeout == nil {
		p.ServiceTimeout = awscdk.Duration_Minutes(jsii.Number(5))
	}

	t := &EniTrunking{setting: p.Setting, value: p.Value}
	constructs.NewConstruct_Override(t, scope, &id)

	t.FunctionRole = p.FunctionRole
	if t.FunctionRole == nil {
		t.FunctionRole = awsiam.NewRole(t, jsii.String("FunctionRole"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("Lets the trunkctl opt-in function assume the roles it opts in, and nothing else"),
		})
	}
	t.LogGroup = awslogs.NewLogGroup(t, jsii.String("LogGroup"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: p.LogRemovalPolicy,
	})
	t.LogGroup.GrantWrite(t.FunctionRole)

	code := p.Code
	if code == nil {
		code = LambdaCode()
	}
	env := map[string]*string{}
	for k, v := range p.Environment {
		env[k] = jsii.String(v)
	}
	t.Function = awslambda.NewFunction(t, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String("trunkctl: opts IAM roles into an ECS account setting for CloudFormation"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         code,
		Role:         t.FunctionRole,
		Timeout:      p.Timeout,
		MemorySize:   jsii.Number(128),
		LogGroup:     t.LogGroup,
		Environment:  &env,
		// CloudFormation must get exactly one answer per request: a retried
		// invocation could answer a second time.
		RetryAttempts: jsii.Number(0),
	})

	if len(p.Roles) == 0 && len(p.PrincipalArnRoles) == 0 {
		p.Roles = []awsiam.IRole{NewInstanceRole(t, "InstanceRole")}
	}
	if len(p.PrincipalArnRoles) > 0 {
		t.grantPutForOtherPrincipals(p.Setting)
	}
	seen := map[string]bool{}
	for _, role := range p.Roles {
		name := *role.Node().Id()
		if seen[name] {
			panic(fmt.Sprintf("EniTrunking %s: two roles share the construct id %q; give them distinct ids", id, name))
		}
		seen[name] = true
		t.optIns = append(t.optIns, t.optIn(role, name, p))
	}
	for _, r := range p.PrincipalArnRoles {
		if seen[r.ID] || r.ID == "" || r.RoleArn == nil {
			panic(fmt.Sprintf("EniTrunking %s: PrincipalArnRole %q needs a unique ID and a RoleArn", id, r.ID))
		}
		seen[r.ID] = true
		role := awsiam.Role_FromRoleArn(t, jsii.String("Role"+r.ID), r.RoleArn, &awsiam.FromRoleArnOptions{Mutable: jsii.Bool(false)})
		o := OptIn{Role: role, Resource: t.newOptInResource(r.ID, r.RoleArn, p), Condition: r.Condition}
		if r.Condition != nil {
			o.Resource.Node().DefaultChild().(awscdk.CfnResource).CfnOptions().SetCondition(r.Condition)
		}
		t.optIns = append(t.optIns, o)
	}
	t.allowOptedInRoles()
	t.dependOnPolicyOnly()
	t.suppressNagFindings()
	return t
}

// allowOptedInRoles puts every opted-in role on the function's allow-list
// and lets the function ask IAM whether it exists: a conditional role
// through its own conditional policy, so that nothing unconditional refers
// to a role that may not exist.
func (t *EniTrunking) allowOptedInRoles() {
	var always, allowed []*string
	for _, o := range t.optIns {
		if o.Condition == nil {
			always = append(always, o.Role.RoleArn())
			allowed = append(allowed, o.Role.RoleArn())
			continue
		}
		id := *o.Resource.Node().Id()
		allowed = append(allowed, IfCondition(o.Condition, o.Role.RoleArn(), jsii.String("")))
		policy := awsiam.NewPolicy(t, jsii.String("GetRole"+id), &awsiam.PolicyProps{
			Roles: &[]awsiam.IRole{t.FunctionRole},
			Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("GetOptedInRole"), Actions: jsii.Strings("iam:GetRole"), Resources: &[]*string{o.Role.RoleArn()},
			})},
		})
		policy.Node().DefaultChild().(awscdk.CfnResource).CfnOptions().SetCondition(o.Condition)
		o.Resource.Node().AddDependency(policy)
	}
	t.AllowRoleArns(allowed...)
	if len(always) > 0 {
		t.AllowGetRole("GetOptedInRoles", &always)
	}
}

// IfCondition is Fn::If(cond, yes, no) as a string.
func IfCondition(cond awscdk.CfnCondition, yes, no *string) *string {
	return awscdk.Token_AsString(awscdk.Fn_ConditionIf(cond.LogicalId(), yes, no), nil)
}

// AllowRoleArns adds role ARNs (tokens are fine; an element may be a
// comma-separated list) to the function's allow-list, AllowedRolesEnv: the
// function refuses every role not on it, even in its own account. Every
// role the construct opts in is on it already; a stack that opts in more
// roles through the function (a list resource) adds them here.
func (t *EniTrunking) AllowRoleArns(arns ...*string) {
	t.allowed = append(t.allowed, arns...)
	t.Function.AddEnvironment(jsii.String(AllowedRolesEnv), awscdk.Fn_Join(jsii.String(","), &t.allowed), nil)
}

// AllowGetRole lets the function call iam:GetRole on exactly these role
// ARNs, to tell a missing role from one ECS would accept by principalArn.
func (t *EniTrunking) AllowGetRole(sid string, arns *[]*string) {
	t.FunctionRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings("iam:GetRole"),
		Resources: arns,
	}))
}

// dependOnPolicyOnly trims the function's DependsOn to its role's policy:
// the L2 also lists the role, which the Role property already references
// (cfn-lint W3005).
func (t *EniTrunking) dependOnPolicyOnly() {
	policy, ok := t.FunctionRole.Node().TryFindChild(jsii.String("DefaultPolicy")).(awsiam.Policy)
	if !ok {
		return
	}
	stack := awscdk.Stack_Of(t)
	cfnPolicy := policy.Node().DefaultChild().(awscdk.CfnElement)
	cfnFn := t.Function.Node().DefaultChild().(awscdk.CfnResource)
	cfnFn.AddOverride(jsii.String("DependsOn"), []*string{stack.GetLogicalId(cfnPolicy)})
}

func (t *EniTrunking) optIn(role awsiam.IRole, name string, p EniTrunkingProps) OptIn {
	// The function role may assume exactly the opted-in roles.
	t.FunctionRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AssumeOptedInRole" + sanitizeSid(name)),
		Actions:   jsii.Strings("sts:AssumeRole"),
		Resources: jsii.Strings(*role.RoleArn()),
	}))
	if r, ok := role.(awsiam.Role); ok {
		r.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("sts:AssumeRole"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(t.FunctionRole.RoleArn())},
		}))
	} else {
		awscdk.Annotations_Of(t).AddWarningV2(jsii.String(ImportedRoleWarning), jsii.String(fmt.Sprintf(
			"role %s is imported: its trust policy must allow the function role (%s) to sts:AssumeRole, "+
				"or the opt-in fails with AccessDenied; pass an existing FunctionRole it trusts, or add the "+
				"statement outside this app", name, *t.FunctionRole.Node().Path())), nil)
	}
	// ecs:PutAccountSetting supports no resource ARNs but the
	// ecs:account-setting condition key; ecs:ListAccountSettings supports
	// neither (Service Authorization Reference, Amazon ECS).
	policy := awsiam.NewPolicy(t, jsii.String("AccountSettingPolicy"+name), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("PutOwnAccountSetting"),
				Actions:    jsii.Strings("ecs:PutAccountSetting"),
				Resources:  jsii.Strings("*"),
				Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"ecs:account-setting": p.Setting}},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadOwnAccountSettings"),
				Actions:   jsii.Strings("ecs:ListAccountSettings"),
				Resources: jsii.Strings("*"),
			}),
		},
	})
	cr := t.newOptInResource(name, role.RoleArn(), p)
	// The role must hold its permission before the function acts as it.
	cr.Node().AddDependency(policy)
	return OptIn{Role: role, Resource: cr, Policy: policy}
}

// newOptInResource is the custom resource that opts roleArn in.
func (t *EniTrunking) newOptInResource(name string, roleArn *string, p EniTrunkingProps) awscdk.CustomResource {
	cr := awscdk.NewCustomResource(t, jsii.String("OptIn"+name), &awscdk.CustomResourceProps{
		ServiceToken:   t.Function.FunctionArn(),
		ResourceType:   jsii.String(ResourceType),
		ServiceTimeout: p.ServiceTimeout,
		Properties: &map[string]interface{}{
			contract.PropRoleArn:  roleArn,
			contract.PropRegion:   awscdk.Stack_Of(t).Region(),
			contract.PropSetting:  p.Setting,
			contract.PropValue:    p.Value,
			contract.PropOnDelete: string(p.OnDelete),
		},
	})
	t.DependOnFunction(cr)
	return cr
}

// DependOnFunction makes c wait for the function's asynchronous-invoke
// configuration (no retries) as well as the function: an event sent before
// it exists could be retried and answered twice.
func (t *EniTrunking) DependOnFunction(c constructs.IConstruct) {
	if cfg := t.Function.Node().TryFindChild(jsii.String("EventInvokeConfig")); cfg != nil {
		c.Node().AddDependency(cfg)
	}
	if t.principalArnPolicy != nil {
		c.Node().AddDependency(t.principalArnPolicy)
	}
}

// grantPutForOtherPrincipals lets the function put setting for principals
// other than itself (principalArn), and read settings back.
func (t *EniTrunking) grantPutForOtherPrincipals(setting string) {
	// A policy of its own, so that the suppression below covers these two
	// statements and nothing added to the role later.
	t.principalArnPolicy = awsiam.NewPolicy(t, jsii.String("AccountSettingsByPrincipalArn"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{t.FunctionRole},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("PutAccountSettingByPrincipalArn"),
				Actions:    jsii.Strings("ecs:PutAccountSetting"),
				Resources:  jsii.Strings("*"),
				Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"ecs:account-setting": setting}},
			}),
			// ecs:ListAccountSettings supports no condition key: a condition on
			// ecs:account-setting would never match and deny the read-back.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadAccountSettingsByPrincipalArn"),
				Actions:   jsii.Strings("ecs:ListAccountSettings"),
				Resources: jsii.Strings("*"),
			}),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(t.principalArnPolicy, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("ecs:PutAccountSetting and ecs:ListAccountSettings support no resource ARNs; PutAccountSetting " +
			"is limited to one setting by the ecs:account-setting condition key, which is how the function opts in roles " +
			"it may not edit (principalArn); the function acts only for the roles on its allow-list"),
		AppliesTo: &[]interface{}{jsii.String("Resource::*")},
	}}, jsii.Bool(false))
}

// Roles returns the opted-in roles, in the order given.
func (t *EniTrunking) Roles() []awsiam.IRole {
	roles := make([]awsiam.IRole, len(t.optIns))
	for i, o := range t.optIns {
		roles[i] = o.Role
	}
	return roles
}

// OptIns returns the opt-in of every role, in the order given.
func (t *EniTrunking) OptIns() []OptIn { return append([]OptIn(nil), t.optIns...) }

// OptInFor returns the opt-in resource of role, or nil when role is not one
// of the roles this construct opts in.
func (t *EniTrunking) OptInFor(role awsiam.IRole) awscdk.CustomResource {
	arn := *role.RoleArn()
	for _, o := range t.optIns {
		if *o.Role.RoleArn() == arn {
			return o.Resource
		}
	}
	return nil
}

// Setting is the account setting this construct puts.
func (t *EniTrunking) Setting() string { return t.setting }

// suppressNagFindings records, with reasons, the cdk-nag AwsSolutions
// findings that are inherent to what this construct does.
func (t *EniTrunking) suppressNagFindings() {
	for _, o := range t.optIns {
		if o.Policy == nil { // a PrincipalArnRole: no policy on the role
			continue
		}
		cdknag.NagSuppressions_AddResourceSuppressions(o.Policy, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("ecs:PutAccountSetting and ecs:ListAccountSettings support no resource ARNs; " +
				"PutAccountSetting is limited to one setting by the ecs:account-setting condition key, and either call " +
				"affects only the calling role itself"),
			AppliesTo: &[]interface{}{jsii.String("Resource::*")},
		}}, jsii.Bool(false))
	}
}

// LambdaCode is the custom-resource handler built from ./lambda of this
// module for provided.al2023 on arm64, with the local Go toolchain.
func LambdaCode() awslambda.Code {
	dir, err := FindModuleDir()
	if err != nil {
		panic(err)
	}
	return awslambda.Code_FromAsset(jsii.String(dir), goAssetOptions(dir, GoBuild{
		Package: "./lambda",
		Output:  "bootstrap",
		GOARCH:  "arm64",
		Tags:    []string{"lambda.norpc"},
	}, awscdk.BundlingOutput_NOT_ARCHIVED))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// sanitizeSid keeps the characters IAM allows in a statement id.
func sanitizeSid(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			out = append(out, r)
		}
	}
	return string(out)
}
