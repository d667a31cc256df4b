package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/trunking"
)

// EniTrunkingStackProps configures EniTrunkingStack.
type EniTrunkingStackProps struct {
	awscdk.StackProps
	Code CodeOptions
	// OnDelete of the opt-in (default retain).
	OnDelete trunking.OnDelete
}

// NewEniTrunkingStack is the seed template's stack, done with the
// constructs: an EC2 instance role, opted into awsvpcTrunking during the
// deployment, and the role as output for the instances of any cluster.
func NewEniTrunkingStack(scope constructs.Construct, id string, props *EniTrunkingStackProps) awscdk.Stack {
	if props == nil {
		props = &EniTrunkingStackProps{}
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("trunkctl: an EC2 instance role for ECS, opted into ENI trunking (awsvpcTrunking) by a custom resource")
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	onDelete := props.OnDelete
	if props.Code.FromParameters && onDelete == "" {
		onDelete = trunking.OnDelete(*awscdk.NewCfnParameter(stack, jsii.String(ParamOnDelete), &awscdk.CfnParameterProps{
			Type:          jsii.String("String"),
			Description:   jsii.String("What deleting the stack does to the role's awsvpcTrunking setting: retain it, or set it to disabled"),
			AllowedValues: jsii.Strings(string(trunking.OnDeleteRetain), string(trunking.OnDeleteDisable)),
			Default:       jsii.String(string(trunking.OnDeleteRetain)),
		}).ValueAsString())
	}
	role := trunking.NewInstanceRole(stack, "InstanceRole")
	t := trunking.NewEniTrunking(stack, "EniTrunking", &trunking.EniTrunkingProps{
		Roles:    []awsiam.IRole{role},
		Code:     props.Code.code(stack),
		OnDelete: onDelete,
	})
	awscdk.NewCfnOutput(stack, jsii.String("EC2Role"), &awscdk.CfnOutputProps{
		Description: jsii.String("The role for ECS container instances, opted into awsvpcTrunking (name)"),
		Value:       role.RoleName(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("EC2RoleArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("ARN of the opted-in role"),
		Value:       role.RoleArn(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("OptInFunctionRoleArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("Role of the opt-in function; a role opted in later must trust it"),
		Value:       t.FunctionRole.RoleArn(),
	})
	return stack
}
