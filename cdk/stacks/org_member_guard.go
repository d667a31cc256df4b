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
)

// addOrgGuard adds the guard to the member template, created only when
// EnableGuard is true, its code read from the Region's artifact bucket.
// Each account gets its own topic and alarm.
func addOrgGuard(stack awscdk.Stack, bucket awss3.IBucket) {
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
		Code: awslambda.Code_FromBucket(bucket, key.ValueAsString(), nil),
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
