// Package trunking provides CDK v2 constructs (Go) that give Amazon ECS on
// EC2 more awsvpc tasks per instance by turning on ENI trunking, in the only
// order that works: opt the instance role in first, then launch instances.
//
// EniTrunking opts IAM roles into an ECS account setting (awsvpcTrunking by
// default) with a CloudFormation custom resource backed by the trunkctl Go
// Lambda (./lambda of this module, built with the local Go toolchain at
// synth). Its function role may assume exactly the opted-in roles; each role
// trusts the function role and may call ecs:PutAccountSetting (only for that
// setting, via the ecs:account-setting condition key) and
// ecs:ListAccountSettings. The custom resource's ServiceToken is the function
// ARN (no Provider framework) and its ServiceTimeout is 5 minutes.
//
// TrunkCapacity adds EC2 capacity to an ECS cluster whose instances get trunk
// ENIs: a launch template (ECS-optimized Amazon Linux 2023, IMDSv2 with hop
// limit 1, no resource-name DNS A records, encrypted root volume, the
// opted-in role's instance profile), an Auto Scaling group that depends on
// the opt-in, and a capacity provider with managed scaling and managed
// termination protection. Instance types are checked against ECS's published
// trunking table at synth.
//
// Use from another CDK Go app:
//
//	go get github.com/trunkctl/trunkctl@<version>
//
//	role := trunking.NewInstanceRole(stack, "InstanceRole")
//	optIn := trunking.NewEniTrunking(stack, "EniTrunking", &trunking.EniTrunkingProps{
//		Roles: []awsiam.IRole{role},
//	})
//	trunking.NewTrunkCapacity(stack, "Capacity", &trunking.TrunkCapacityProps{
//		Cluster:      cluster,
//		Trunking:     optIn,
//		InstanceType: "m7g.large",
//	})
//
// Synth needs Go and Node.js, not Docker. Set the CDK feature flag
// "@aws-cdk/aws-ecs:disableEcsImdsBlocking": true in your app's context, or
// the CDK adds deprecated iptables lines to the user data (harmless; the
// launch template already keeps tasks away from IMDS). See docs/cdk.md.
package trunking
