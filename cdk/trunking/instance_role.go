package trunking

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// NewInstanceRole creates the role for ECS container instances: EC2 may
// assume it and it carries AWS's managed policy for the ECS agent. Opt it in
// with EniTrunking, which adds the trust and account-setting permissions.
func NewInstanceRole(scope constructs.Construct, id string) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String(id), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description: jsii.String("ECS container instances; opted into ENI trunking by trunkctl"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AmazonEC2ContainerServiceforEC2Role")),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM4"),
		Reason: jsii.String("AmazonEC2ContainerServiceforEC2Role is AWS's maintained policy for the ECS agent " +
			"(register, poll, telemetry, image pulls); AWS updates it as the agent needs new calls"),
		AppliesTo: &[]interface{}{jsii.String("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role")},
	}}, jsii.Bool(false))
	return role
}
