package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// The member template's read-only role for trunkctl's fan-out reads.
const (
	// ParamCreateReadOnlyRole (true/false) adds the role.
	ParamCreateReadOnlyRole = "CreateReadOnlyRole"
	// ParamReadOnlyRoleName is its name: what --assume-role-name passes.
	ParamReadOnlyRoleName = "ReadOnlyRoleName"
	// ParamTrunkctlAccountID is the account trunkctl runs from (the
	// management or a delegated administrator account), which the role trusts.
	ParamTrunkctlAccountID = "TrunkctlAccountId"
	// DefaultReadOnlyRoleName is the role's default name.
	DefaultReadOnlyRoleName = "TrunkctlReadOnly"
)

// readOnlyActions are the calls trunkctl's reads make in a member account
// (instances, enis, doctor, status, capacity and the fleet view), nothing
// that writes.
var readOnlyActions = []string{
	"ecs:ListClusters", "ecs:DescribeClusters", "ecs:ListContainerInstances", "ecs:DescribeContainerInstances",
	"ecs:ListTasks", "ecs:DescribeTasks", "ecs:ListServices", "ecs:DescribeServices", "ecs:DescribeCapacityProviders",
	"ecs:ListAccountSettings",
	"ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeImages",
	"ec2:DescribeLaunchTemplateVersions", "ec2:DescribeRegions",
	"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeInstanceRefreshes",
	"cloudtrail:LookupEvents",
}

// addReadOnlyRole adds, when CreateReadOnlyRole is true, a role trunkctl's
// fan-out reads assume (--assume-role-name): it trusts only principals of
// the trunkctl account that belong to the organization (aws:PrincipalOrgID),
// lets them set their SourceIdentity, and may only read.
func addReadOnlyRole(stack awscdk.Stack) {
	create := awscdk.NewCfnParameter(stack, jsii.String(ParamCreateReadOnlyRole), &awscdk.CfnParameterProps{
		Type: jsii.String("String"),
		Description: jsii.String("true: also create a read-only role for trunkctl's reads across the organization " +
			"(trunkctl --org --assume-role-name ROLE), trusted by TrunkctlAccountId within OrganizationId"),
		AllowedValues: jsii.Strings("true", "false"),
		Default:       jsii.String("false"),
	})
	name := awscdk.NewCfnParameter(stack, jsii.String(ParamReadOnlyRoleName), &awscdk.CfnParameterProps{
		Type:           jsii.String("String"),
		Description:    jsii.String("Name of the read-only role (the same in every account, so --assume-role-name finds it)"),
		Default:        jsii.String(DefaultReadOnlyRoleName),
		AllowedPattern: jsii.String(`^[\w+=,.@-]{1,64}$`),
	})
	acct := awscdk.NewCfnParameter(stack, jsii.String(ParamTrunkctlAccountID), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Description:           jsii.String("Account trunkctl runs from (the management or a delegated administrator account): the read-only role trusts it"),
		Default:               jsii.String(""),
		AllowedPattern:        jsii.String(`^([0-9]{12})?$`),
		ConstraintDescription: jsii.String("a 12-digit account id"),
	})
	org := awscdk.NewCfnParameter(stack, jsii.String(ParamOrganizationID), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Description:           jsii.String("The organization's id (o-...): only its principals may assume the read-only role"),
		Default:               jsii.String(""),
		AllowedPattern:        jsii.String(`^(o-[a-z0-9]{10,32})?$`),
		ConstraintDescription: jsii.String("an organization id such as o-a1b2c3d4e5"),
	})
	withRole := awscdk.NewCfnCondition(stack, jsii.String("CreateReadOnlyRoleIsTrue"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(create.ValueAsString(), jsii.String("true")),
	})
	awscdk.NewCfnRule(stack, jsii.String("ReadOnlyRoleNeedsItsTrust"), &awscdk.CfnRuleProps{
		RuleCondition: awscdk.Fn_ConditionEquals(create.ValueAsString(), jsii.String("true")),
		Assertions: &[]*awscdk.CfnRuleAssertion{{
			Assert: awscdk.Fn_ConditionAnd(
				awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(acct.ValueAsString(), jsii.String(""))),
				awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(org.ValueAsString(), jsii.String("")))),
			AssertDescription: jsii.String("CreateReadOnlyRole=true needs TrunkctlAccountId and OrganizationId"),
		}},
	})

	trusted := awscdk.Fn_Join(jsii.String(""), jsii.Strings("arn:", *awscdk.Aws_PARTITION(), ":iam::", *acct.ValueAsString(), ":root"))
	role := awsiam.NewRole(stack, jsii.String("ReadOnlyRole"), &awsiam.RoleProps{
		RoleName: name.ValueAsString(),
		AssumedBy: awsiam.NewArnPrincipal(trusted).WithConditions(&map[string]interface{}{
			"StringEquals": map[string]interface{}{"aws:PrincipalOrgID": org.ValueAsString()},
		}),
		Description:        jsii.String("trunkctl: reads ECS, EC2 and Auto Scaling state for trunkctl --org; writes nothing"),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	// trunkctl sets SourceIdentity to the person who runs it.
	role.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("sts:SetSourceIdentity"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(trusted)},
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:PrincipalOrgID": org.ValueAsString()}},
	}))
	policy := awsiam.NewPolicy(stack, jsii.String("ReadOnlyRoleReads"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ReadClustersAndCapacity"), Actions: jsii.Strings(readOnlyActions...), Resources: jsii.Strings("*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:     jsii.String("ReadInstanceRoles"),
				Actions: jsii.Strings("iam:GetRole", "iam:GetInstanceProfile"),
				Resources: jsii.Strings(
					*awscdk.Fn_Join(jsii.String(""), jsii.Strings("arn:", *awscdk.Aws_PARTITION(), ":iam::", *awscdk.Aws_ACCOUNT_ID(), ":role/*")),
					*awscdk.Fn_Join(jsii.String(""), jsii.Strings("arn:", *awscdk.Aws_PARTITION(), ":iam::", *awscdk.Aws_ACCOUNT_ID(), ":instance-profile/*"))),
			}),
		},
	})
	setCondition(role, withRole)
	// cfn-lint resolves TrunkctlAccountId to its default "" and so finds the
	// principal invalid; the rule above refuses "" whenever the role exists.
	role.Node().DefaultChild().(awscdk.CfnResource).AddMetadata(jsii.String("cfn-lint"),
		map[string]interface{}{"config": map[string]interface{}{"ignore_checks": []string{"W1032"}}})
	setCondition(policy, withRole)
	cdknag.NagSuppressions_AddResourceSuppressions(policy, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("read-only calls over the account: the ECS, EC2, Auto Scaling and CloudTrail reads trunkctl makes " +
			"name clusters, instances and roles it learns as it reads, and the Describe/List calls support no resource ARNs; " +
			"iam:GetRole and iam:GetInstanceProfile read the instance roles and profiles the instances use, whatever their names"),
		AppliesTo: &[]interface{}{
			jsii.String("Resource::*"),
			jsii.String("Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*"),
			jsii.String("Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:instance-profile/*"),
		},
	}}, jsii.Bool(false))
	awscdk.NewCfnOutput(stack, jsii.String("ReadOnlyRoleArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("trunkctl's read-only role: trunkctl --org --assume-role-name <its name>"),
		Value:       role.RoleArn(),
		Condition:   withRole,
	})
}
