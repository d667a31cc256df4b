package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/trunkctl/trunkctl/cdk/trunking"
	"github.com/trunkctl/trunkctl/internal/contract"
)

// OrgMemberStackID is the stack of templates/org/eni-trunking-member.yaml,
// the template the organization's StackSet deploys to member accounts.
const OrgMemberStackID = "OrgMemberStack"

// The member template's parameters (besides LambdaCodeKey and OnDelete).
const (
	// ParamInstanceRoleNames lists existing instance roles to opt in.
	ParamInstanceRoleNames = "InstanceRoleNames"
	// ParamBucketPrefix names the per-Region artifact buckets: the Lambda zip
	// is read from BUCKET_PREFIX-REGION.
	ParamBucketPrefix = "BucketPrefix"
	// ParamCreateTrunkReadyRole (true/false) adds an instance role and
	// profile, made by the stack, for new capacity.
	ParamCreateTrunkReadyRole = "CreateTrunkReadyRole"
	// ParamLambdaCodeVersion pins the zip to one S3 object version
	// (make package-org prints each Region's); empty: the current object.
	ParamLambdaCodeVersion = "LambdaCodeVersion"
	// ParamSigningProfileVersionArns, when set, makes Lambda accept only code
	// signed by these AWS Signer profile versions (a code signing config
	// with Enforce).
	ParamSigningProfileVersionArns = "SigningProfileVersionArns"
)

// MaxOrgInstanceRoles is how many names InstanceRoleNames may hold: a
// template cannot loop over a list parameter without a transform, so the
// member template has this many conditional opt-ins.
const MaxOrgInstanceRoles = 10

// DefaultOrgInstanceRoleNames is the role the ECS console and documentation create.
const DefaultOrgInstanceRoleNames = "ecsInstanceRole"

// OrgMemberStackProps configures OrgMemberStack.
type OrgMemberStackProps struct {
	awscdk.StackProps
}

// NewOrgMemberStack is the member-account template of the organization's
// StackSet. In each account and Region it deploys to, it opts the existing
// instance roles named by InstanceRoleNames into awsvpcTrunking without
// editing them (principalArn; see trunking.PrincipalArnRole), and with
// CreateTrunkReadyRole=true it adds a trunk-ready instance role and instance
// profile for new capacity, which trusts EC2 and the function and is opted
// in by the same function. The Lambda code is read from the Region's
// artifact bucket, BucketPrefix-REGION.
func NewOrgMemberStack(scope constructs.Construct, id string, props *OrgMemberStackProps) awscdk.Stack {
	if props == nil {
		props = &OrgMemberStackProps{}
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("trunkctl (StackSet member): opts existing EC2 instance roles into ECS ENI trunking " +
			"(awsvpcTrunking) without editing them, and optionally creates a trunk-ready instance role")
	}
	stack := awscdk.NewStack(scope, &id, &sp)

	names := awscdk.NewCfnParameter(stack, jsii.String(ParamInstanceRoleNames), &awscdk.CfnParameterProps{
		Type: jsii.String("CommaDelimitedList"),
		Description: jsii.String(fmt.Sprintf("Existing EC2 instance roles to opt in, by name (PATH/NAME for a role with a path), "+
			"at most %d; the stack edits neither their trust nor their policies. Empty: none", MaxOrgInstanceRoles)),
		Default: jsii.String(DefaultOrgInstanceRoleNames),
	})
	prefix := bucketPrefixParameter(stack, "Artifact buckets' name prefix: the Lambda zip is read from BUCKET_PREFIX-REGION (make package-org)")
	key := awscdk.NewCfnParameter(stack, jsii.String(ParamLambdaCodeKey), &awscdk.CfnParameterProps{
		Type:        jsii.String("String"),
		Description: jsii.String("S3 key of the Lambda zip in every Region's artifact bucket (make package-org prints it)"),
		MinLength:   jsii.Number(1),
	})
	createRole := awscdk.NewCfnParameter(stack, jsii.String(ParamCreateTrunkReadyRole), &awscdk.CfnParameterProps{
		Type: jsii.String("String"),
		Description: jsii.String("true: also create an EC2 instance role and instance profile, opted in by this stack, " +
			"for new capacity (it trusts EC2 and the opt-in function)"),
		AllowedValues: jsii.Strings("true", "false"),
		Default:       jsii.String("false"),
	})
	onDelete := awscdk.NewCfnParameter(stack, jsii.String(ParamOnDelete), &awscdk.CfnParameterProps{
		Type:          jsii.String("String"),
		Description:   jsii.String("What deleting the stack does to the roles' awsvpcTrunking setting: retain it, or set it to disabled"),
		AllowedValues: jsii.Strings(string(trunking.OnDeleteRetain), string(trunking.OnDeleteDisable)),
		Default:       jsii.String(string(trunking.OnDeleteRetain)),
	})

	version := objectVersion(stack, ParamLambdaCodeVersion, "S3 object version of the Lambda zip in this Region's bucket (make package-org prints one per Region; "+
		"pass it per Region with --parameter-overrides): the function then runs exactly that upload. Empty: the key's current object")
	signers := awscdk.NewCfnParameter(stack, jsii.String(ParamSigningProfileVersionArns), &awscdk.CfnParameterProps{
		Type: jsii.String("CommaDelimitedList"),
		Description: jsii.String("AWS Signer signing profile version ARNs: when set, Lambda refuses code not signed by one of them " +
			"(a code signing config with Enforce; LambdaCodeKey must then name the signed zip). Empty: no code signing"),
		Default: jsii.String(""),
	})
	hasSigners := awscdk.NewCfnCondition(stack, jsii.String("HasSigningProfiles"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(awscdk.Fn_Join(jsii.String(""), signers.ValueAsList()), jsii.String(""))),
	})

	bucket := awss3.Bucket_FromBucketName(stack, jsii.String("LambdaCodeBucketRef"),
		awscdk.Fn_Join(jsii.String("-"), jsii.Strings(*prefix.ValueAsString(), *awscdk.Aws_REGION())))
	code := awslambda.Code_FromBucket(bucket, key.ValueAsString(), version)

	withRole := awscdk.NewCfnCondition(stack, jsii.String("CreateTrunkReadyRoleIsTrue"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(createRole.ValueAsString(), jsii.String("true")),
	})
	hasNames := awscdk.NewCfnCondition(stack, jsii.String("HasInstanceRoleNames"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(awscdk.Fn_Join(jsii.String(""), names.ValueAsList()), jsii.String(""))),
	})
	// The function's allow-list and its iam:GetRole need each listed role's
	// ARN; a template cannot map over a list, so they are built per list
	// element, up to MaxOrgInstanceRoles (the opt-in itself is one resource
	// over the whole list, keyed by role: see lambda/rolelist.go).
	padded := awscdk.Fn_Split(jsii.String(","), awscdk.Fn_Join(jsii.String(""), jsii.Strings(
		*awscdk.Fn_Join(jsii.String(","), names.ValueAsList()), strings.Repeat(",", MaxOrgInstanceRoles+1))), nil)
	slotName := func(i int) *string { return awscdk.Fn_Select(jsii.Number(float64(i)), padded) }
	var allowed, getRole []*string
	for i := 0; i < MaxOrgInstanceRoles; i++ {
		has := awscdk.NewCfnCondition(stack, jsii.String(fmt.Sprintf("HasInstanceRoleName%d", i+1)), &awscdk.CfnConditionProps{
			Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(slotName(i), jsii.String(""))),
		})
		arn := awscdk.Fn_Join(jsii.String(""), jsii.Strings("arn:", *awscdk.Aws_PARTITION(), ":iam::", *awscdk.Aws_ACCOUNT_ID(), ":role/", *slotName(i)))
		allowed = append(allowed, trunking.IfCondition(has, arn, jsii.String("")))
		getRole = append(getRole, trunking.IfCondition(has, arn, awscdk.Aws_NO_VALUE()))
	}

	// More names than that must not be dropped silently: this wait
	// condition, created only then, fails the deployment after a second; its
	// logical id says why.
	tooMany := awscdk.NewCfnCondition(stack, jsii.String("MoreInstanceRoleNamesThanSupported"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(slotName(MaxOrgInstanceRoles), jsii.String(""))),
	})
	handle := awscdk.NewCfnWaitConditionHandle(stack, jsii.String(fmt.Sprintf("AtMost%dInstanceRoleNamesHandle", MaxOrgInstanceRoles)), nil)
	wait := awscdk.NewCfnWaitCondition(stack, jsii.String(fmt.Sprintf("AtMost%dInstanceRoleNames", MaxOrgInstanceRoles)), &awscdk.CfnWaitConditionProps{
		Handle:  handle.Ref(),
		Timeout: jsii.String("1"),
		Count:   jsii.Number(1),
	})
	setCondition(handle, tooMany)
	setCondition(wait, tooMany)

	// Created before the opt-in so its ARN can be listed; its trust in the
	// function is added once the function role exists.
	readyRole := trunking.NewInstanceRole(stack, "TrunkReadyRole")

	t := trunking.NewEniTrunking(stack, "EniTrunking", &trunking.EniTrunkingProps{
		PrincipalArnRoles: []trunking.PrincipalArnRole{{ID: "TrunkReadyRole", RoleArn: readyRole.RoleArn(), Condition: withRole}},
		Code:              code,
		OnDelete:          trunking.OnDelete(*onDelete.ValueAsString()),
	})
	t.AllowRoleArns(allowed...)

	csc := awslambda.NewCfnCodeSigningConfig(stack, jsii.String("CodeSigningConfig"), &awslambda.CfnCodeSigningConfigProps{
		Description: jsii.String("trunkctl opt-in function: only code signed by the given AWS Signer profiles"),
		AllowedPublishers: &awslambda.CfnCodeSigningConfig_AllowedPublishersProperty{
			SigningProfileVersionArns: signers.ValueAsList(),
		},
		CodeSigningPolicies: &awslambda.CfnCodeSigningConfig_CodeSigningPoliciesProperty{
			UntrustedArtifactOnDeployment: jsii.String("Enforce"),
		},
	})
	setCondition(csc, hasSigners)
	// The validator resolves LambdaCodeVersion to its default "" and misses
	// the Fn::If that drops S3ObjectVersion then.
	awscdk.Validations_Of(t.Function.Node().DefaultChild()).Acknowledge(&awscdk.Acknowledgment{
		Id:     jsii.String("CloudFormation-Validate::W1030"),
		Reason: jsii.String("S3ObjectVersion is set only when LambdaCodeVersion is not empty (Fn::If with AWS::NoValue)"),
	})
	t.Function.Node().DefaultChild().(awslambda.CfnFunction).SetCodeSigningConfigArn(
		trunking.IfCondition(hasSigners, csc.AttrCodeSigningConfigArn(), awscdk.Aws_NO_VALUE()))

	// The listed roles: one resource over the whole list. An update diffs
	// the old list against the new one by role, so reordering, removing a
	// name or swapping two never disables a role that is still listed.
	getListed := awsiam.NewPolicy(stack, jsii.String("FunctionMayGetListedRoles"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{t.FunctionRole},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("GetListedRoles"),
			Actions:   jsii.Strings("iam:GetRole"),
			Resources: &getRole,
		})},
	})
	setCondition(getListed, hasNames)
	listed := awscdk.NewCustomResource(stack, jsii.String("OptInInstanceRoles"), &awscdk.CustomResourceProps{
		ServiceToken:   t.Function.FunctionArn(),
		ResourceType:   jsii.String(contract.ListResourceType),
		ServiceTimeout: awscdk.Duration_Minutes(jsii.Number(5)),
		Properties: &map[string]interface{}{
			contract.PropRoleNames: names.ValueAsList(),
			contract.PropSetting:   trunking.DefaultSetting,
			contract.PropValue:     trunking.DefaultValue,
			contract.PropOnDelete:  onDelete.ValueAsString(),
		},
	})
	setCondition(listed, hasNames)
	listed.Node().AddDependency(getListed)
	t.DependOnFunction(listed)

	// The trunk-ready role: the assume path works for it wherever ECS refuses
	// principalArn, because the stack owns it and may edit it.
	readyRole.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("sts:AssumeRole"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(t.FunctionRole.RoleArn())},
	}))
	readyPolicy := awsiam.NewPolicy(stack, jsii.String("TrunkReadyRoleAccountSetting"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{readyRole},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("PutOwnAccountSetting"),
				Actions:    jsii.Strings("ecs:PutAccountSetting"),
				Resources:  jsii.Strings("*"),
				Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"ecs:account-setting": trunking.DefaultSetting}},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadOwnAccountSettings"),
				Actions:   jsii.Strings("ecs:ListAccountSettings"),
				Resources: jsii.Strings("*"),
			}),
		},
	})
	assumeReady := awsiam.NewPolicy(stack, jsii.String("FunctionMayAssumeTrunkReadyRole"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{t.FunctionRole},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("AssumeTrunkReadyRole"),
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: jsii.Strings(*readyRole.RoleArn()),
		})},
	})
	profile := awsiam.NewCfnInstanceProfile(stack, jsii.String("TrunkReadyInstanceProfile"), &awsiam.CfnInstanceProfileProps{
		Roles: &[]interface{}{readyRole.RoleName()},
	})
	readyOptIn := t.OptInFor(readyRole)
	readyOptIn.Node().AddDependency(readyPolicy, assumeReady)
	for _, c := range []constructs.IConstruct{readyRole, readyPolicy, assumeReady, profile} {
		setCondition(c, withRole)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(readyPolicy, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("ecs:PutAccountSetting and ecs:ListAccountSettings support no resource ARNs; PutAccountSetting " +
			"is limited to awsvpcTrunking by the ecs:account-setting condition key and affects only the role itself"),
		AppliesTo: &[]interface{}{jsii.String("Resource::*")},
	}}, jsii.Bool(false))

	addReadOnlyRole(stack)

	awscdk.NewCfnOutput(stack, jsii.String("OptInFunctionRoleArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("Role of the opt-in function: where ECS refuses principalArn, an existing role must trust it (sts:AssumeRole)"),
		Value:       t.FunctionRole.RoleArn(),
	})
	for _, o := range []struct {
		id, what string
		value    *string
	}{
		{"TrunkReadyRoleArn", "The trunk-ready instance role, opted into awsvpcTrunking", readyRole.RoleArn()},
		{"TrunkReadyInstanceProfileName", "Its instance profile, for launch templates of new capacity", profile.Ref()},
		{"TrunkReadyInstanceProfileArn", "Its instance profile's ARN", profile.AttrArn()},
	} {
		awscdk.NewCfnOutput(stack, jsii.String(o.id), &awscdk.CfnOutputProps{
			Description: jsii.String(o.what), Value: o.value, Condition: withRole,
		})
	}
	addOrgGuard(stack, bucket, hasSigners, csc)
	return stack
}

// setCondition deploys c's CloudFormation resource only when cond holds.
func setCondition(c constructs.IConstruct, cond awscdk.CfnCondition) {
	res, ok := c.(awscdk.CfnResource)
	if !ok {
		res = c.Node().DefaultChild().(awscdk.CfnResource)
	}
	res.CfnOptions().SetCondition(cond)
}

// BucketPrefixPattern is what S3 accepts at the start of a bucket name:
// lower-case letters and digits, separated by single dots or runs of
// hyphens, never "..", ".-" or "-.".
const BucketPrefixPattern = "^[a-z0-9]+(?:(?:\\.|-+)[a-z0-9]+)*$"

// bucketPrefixParameter is BucketPrefix, the one rule for the artifact
// buckets' names (BUCKET_PREFIX-REGION) that the bucket template and the
// member template must both accept.
func bucketPrefixParameter(stack awscdk.Stack, description string) awscdk.CfnParameter {
	return awscdk.NewCfnParameter(stack, jsii.String(ParamBucketPrefix), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Description:           jsii.String(description),
		AllowedPattern:        jsii.String(BucketPrefixPattern),
		ConstraintDescription: jsii.String("lower-case letters, digits, dots and hyphens, as in an S3 bucket name: no two dots in a row, no dot beside a hyphen"),
		MinLength:             jsii.Number(3),
		MaxLength:             jsii.Number(46), // + "-" + the longest Region name <= 63
	})
}
