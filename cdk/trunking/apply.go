package trunking

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// OptInIdentityPrefix starts the user-data line that names the opt-in an
// instance was launched under (see ApplyToAutoScalingGroup).
const OptInIdentityPrefix = "# trunkctl opt-in="

// ReplacedUpdatePolicyWarning is the id of the synth warning given when
// ApplyToAutoScalingGroup replaces a group's rolling-update policy.
const ReplacedUpdatePolicyWarning = "trunkctl:replacedRollingUpdate"

// ApplyOptions configures EniTrunking.ApplyToAutoScalingGroup.
type ApplyOptions struct {
	// Role is the group's instance role; it must be one of the construct's
	// roles. Default: the construct's only role.
	Role awsiam.IRole
	// UserData of the group's launch template or configuration. Default: the
	// group's own (asg.UserData()), which the CDK knows when it built the
	// launch template or configuration.
	UserData awsec2.UserData
}

// InstanceRefreshPolicy is the AutoScalingInstanceRefresh update policy
// ApplyToAutoScalingGroup gives a group: CloudFormation replaces every
// instance launched from an older launch template, launching each
// replacement before terminating (100% stay in service, up to 200% run), and
// replaces the instances the capacity provider protects from scale-in too;
// the capacity provider's managed draining moves their tasks first.
func InstanceRefreshPolicy() map[string]interface{} {
	return map[string]interface{}{
		"Strategy": "Rolling",
		"Preferences": map[string]interface{}{
			"MinHealthyPercentage":      100,
			"MaxHealthyPercentage":      200,
			"ScaleInProtectedInstances": "Refresh",
			"SkipMatching":              true,
		},
	}
}

// ApplyToAutoScalingGroup puts this opt-in in front of a group that already
// exists, so that adding or changing the opt-in replaces its instances on
// deploy (only instances launched after the opt-in get trunk ENIs):
//   - the group depends on the role's opt-in, so no instance launches first;
//   - the launch template's user data gains a line naming the opt-in (its
//     physical id: setting and role ARN) and the value, so a new or changed
//     opt-in is a new launch template version;
//   - the group gets the InstanceRefreshPolicy update policy (replacing an
//     AutoScalingRollingUpdate policy, with a synth warning).
//
// TrunkCapacity calls it for its own group.
func (t *EniTrunking) ApplyToAutoScalingGroup(asg awsautoscaling.AutoScalingGroup, opts *ApplyOptions) OptIn {
	o := ApplyOptions{}
	if opts != nil {
		o = *opts
	}
	path := *asg.Node().Path()
	role := o.Role
	if role == nil {
		if len(t.optIns) != 1 {
			panic(fmt.Sprintf("ApplyToAutoScalingGroup %s: %s opts in %d roles; say which is the group's instance role (ApplyOptions.Role)",
				path, *t.Node().Path(), len(t.optIns)))
		}
		role = t.optIns[0].Role
	}
	var optIn *OptIn
	for i := range t.optIns {
		if *t.optIns[i].Role.RoleArn() == *role.RoleArn() {
			optIn = &t.optIns[i]
		}
	}
	if optIn == nil {
		panic(fmt.Sprintf("ApplyToAutoScalingGroup %s: role %s is not opted in by %s; instances would launch without trunking",
			path, *role.Node().Path(), *t.Node().Path()))
	}
	userData := o.UserData
	if userData == nil {
		userData = groupUserData(asg)
	}
	// e.g. "# trunkctl opt-in=trunkctl/awsvpcTrunking/arn:aws:iam::1:role/R;awsvpcTrunking=enabled"
	userData.AddCommands(jsii.String(OptInIdentityPrefix + *optIn.Resource.Ref() + ";" + t.setting + "=" + t.value))

	asg.Node().AddDependency(optIn.Resource)
	cfnGroup := asg.Node().DefaultChild().(awsautoscaling.CfnAutoScalingGroup)
	if up := cfnGroup.CfnOptions().UpdatePolicy(); up != nil && up.AutoScalingRollingUpdate != nil {
		awscdk.Annotations_Of(asg).AddWarningV2(jsii.String(ReplacedUpdatePolicyWarning), jsii.String(
			"the group's AutoScalingRollingUpdate policy is replaced by an AutoScalingInstanceRefresh policy "+
				"(the two are mutually exclusive), so that a new opt-in replaces instances without stopping tasks"), nil)
		cfnGroup.AddDeletionOverride(jsii.String("UpdatePolicy.AutoScalingRollingUpdate"))
	}
	// aws-cdk-go v2.224.0 has no UpdatePolicy.instanceRefresh nor the
	// CfnUpdatePolicy field for it, hence the override.
	cfnGroup.AddOverride(jsii.String("UpdatePolicy.AutoScalingInstanceRefresh"), InstanceRefreshPolicy())
	// cfn-lint's update-policy schema (E3016) predates this policy and
	// rejects it; the rule checks nothing else.
	cfnGroup.AddMetadata(jsii.String("cfn-lint"), map[string]interface{}{
		"config": map[string]interface{}{"ignore_checks": []string{"E3016"}},
	})
	return *optIn
}

// ApplyToCapacityProvider is ApplyToAutoScalingGroup for the group of an
// existing capacity provider.
func (t *EniTrunking) ApplyToCapacityProvider(cp awsecs.AsgCapacityProvider, opts *ApplyOptions) OptIn {
	return t.ApplyToAutoScalingGroup(cp.AutoScalingGroup(), opts)
}

// groupUserData is asg.UserData(), with a message saying what to do when the
// CDK does not know it (a group built from a launch template without user
// data, or an imported one).
func groupUserData(asg awsautoscaling.AutoScalingGroup) (ud awsec2.UserData) {
	defer func() {
		if r := recover(); r != nil {
			panic(fmt.Sprintf("ApplyToAutoScalingGroup %s: the group's user data is not known to the CDK (%v); "+
				"pass the launch template's user data as ApplyOptions.UserData", *asg.Node().Path(), r))
		}
	}()
	ud = asg.UserData()
	if ud == nil {
		panic(fmt.Sprintf("ApplyToAutoScalingGroup %s: the group has no user data; pass ApplyOptions.UserData", *asg.Node().Path()))
	}
	return ud
}
