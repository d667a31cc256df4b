package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/trunking"
)

// The member template's guard parameters.
const (
	// ParamEnableGuard (true/false) adds trunking.TrunkGuard to every
	// account and Region the StackSet deploys to.
	ParamEnableGuard = "EnableGuard"
	// ParamGuardCodeKey is the S3 key of dist/guard.zip in every Region's
	// artifact bucket (make package-guard-org prints it).
	ParamGuardCodeKey = "GuardCodeKey"
	// NoGuardCodeKey is GuardCodeKey's default: not empty, because a Ref to
	// an empty default in Code.S3Key is a lint warning even when the
	// function is not created.
	NoGuardCodeKey = "none"
	// ParamGuardCodeVersion pins the guard zip to one S3 object version.
	ParamGuardCodeVersion = "GuardCodeVersion"
)

// addOrgGuard adds the guard to the member template, created only when
// EnableGuard is true, its code read from the Region's artifact bucket.
// Each account gets its own topic and alarm.
// The guard's code is pinned and signed as the opt-in function's is: by the
// object version (GuardCodeVersion) and the same code signing config.
func addOrgGuard(stack awscdk.Stack, bucket awss3.IBucket, hasSigners awscdk.CfnCondition, csc awslambda.CfnCodeSigningConfig) {
	enable := awscdk.NewCfnParameter(stack, jsii.String(ParamEnableGuard), &awscdk.CfnParameterProps{
		Type: jsii.String("String"),
		Description: jsii.String("true: also deploy the trunkctl guard, a read-only Lambda that judges every ECS cluster " +
			"as trunkctl doctor does and notifies an SNS topic the stack creates"),
		AllowedValues: jsii.Strings("true", "false"),
		Default:       jsii.String("false"),
	})
	key := awscdk.NewCfnParameter(stack, jsii.String(ParamGuardCodeKey), &awscdk.CfnParameterProps{
		Type:        jsii.String("String"),
		Description: jsii.String("S3 key of the guard zip in every Region's artifact bucket (make package-guard-org prints it); needed with EnableGuard=true"),
		Default:     jsii.String(NoGuardCodeKey),
		MinLength:   jsii.Number(1),
	})
	version := objectVersion(stack, ParamGuardCodeVersion, "S3 object version of the guard zip in this Region's bucket (make package-guard-org prints one per Region): "+
		"the guard then runs exactly that upload. Empty: the key's current object")
	on := awscdk.NewCfnCondition(stack, jsii.String("EnableGuardIsTrue"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(enable.ValueAsString(), jsii.String("true")),
	})
	awscdk.NewCfnRule(stack, jsii.String("GuardNeedsItsCode"), &awscdk.CfnRuleProps{
		RuleCondition: awscdk.Fn_ConditionEquals(enable.ValueAsString(), jsii.String("true")),
		Assertions: &[]*awscdk.CfnRuleAssertion{{
			Assert:            awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(key.ValueAsString(), jsii.String(NoGuardCodeKey))),
			AssertDescription: jsii.String("EnableGuard=true needs GuardCodeKey, the key of the guard zip in every Region's artifact bucket"),
		}},
	})
	g := trunking.NewTrunkGuard(stack, "TrunkGuard", &trunking.TrunkGuardProps{
		Code: awslambda.Code_FromBucket(bucket, key.ValueAsString(), version),
	})
	fn := g.Function.Node().DefaultChild().(awslambda.CfnFunction)
	fn.SetCodeSigningConfigArn(trunking.IfCondition(hasSigners, csc.AttrCodeSigningConfigArn(), awscdk.Aws_NO_VALUE()))
	// The validator resolves GuardCodeVersion to its default "" and misses
	// the Fn::If that drops S3ObjectVersion then.
	awscdk.Validations_Of(fn).Acknowledge(&awscdk.Acknowledgment{
		Id:     jsii.String("CloudFormation-Validate::W1030"),
		Reason: jsii.String("S3ObjectVersion is set only when GuardCodeVersion is not empty (Fn::If with AWS::NoValue)"),
	})
	for _, c := range *g.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if r, ok := c.(awscdk.CfnResource); ok {
			r.CfnOptions().SetCondition(on)
		}
	}
	awscdk.NewCfnOutput(stack, jsii.String("GuardTopicArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("The topic the guard notifies: subscribe to it"),
		Value:       g.Topic.TopicArn(),
		Condition:   on,
	})
}

// objectVersion is a parameter pinning a zip to one S3 object version, as
// the object version a Code takes: the parameter's value, or no version
// (the key's current object) when it is left empty.
func objectVersion(stack awscdk.Stack, param, description string) *string {
	v := awscdk.NewCfnParameter(stack, jsii.String(param), &awscdk.CfnParameterProps{
		Type: jsii.String("String"), Description: jsii.String(description), Default: jsii.String(""),
	})
	has := awscdk.NewCfnCondition(stack, jsii.String("Has"+param), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(v.ValueAsString(), jsii.String(""))),
	})
	return trunking.IfCondition(has, v.ValueAsString(), awscdk.Aws_NO_VALUE())
}
