package trunking_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/trunking"
)

// Capacity that already runs, without trunking: adding the opt-in in front
// of its capacity provider replaces its instances on the next deploy
// (launch before terminate; managed draining moves the tasks). (Compiled by
// go test, not run.)
func ExampleEniTrunking_ApplyToCapacityProvider() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Existing"), nil)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), nil)
	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc})
	role := trunking.NewInstanceRole(stack, "InstanceRole")
	asg := awsautoscaling.NewAutoScalingGroup(stack, jsii.String("Group"), &awsautoscaling.AutoScalingGroupProps{
		Vpc: vpc,
		LaunchTemplate: awsec2.NewLaunchTemplate(stack, jsii.String("LaunchTemplate"), &awsec2.LaunchTemplateProps{
			InstanceType: awsec2.NewInstanceType(jsii.String("c5.large")),
			MachineImage: awsecs.EcsOptimizedImage_AmazonLinux2023(awsecs.AmiHardwareType_STANDARD, nil),
			UserData:     awsec2.UserData_ForLinux(nil),
			Role:         role,
		}),
	})
	capacityProvider := awsecs.NewAsgCapacityProvider(stack, jsii.String("CapacityProvider"), &awsecs.AsgCapacityProviderProps{AutoScalingGroup: asg})
	cluster.AddAsgCapacityProvider(capacityProvider, nil)

	// The lines added for trunking:
	optIn := trunking.NewEniTrunking(stack, "EniTrunking", &trunking.EniTrunkingProps{Roles: []awsiam.IRole{role}})
	optIn.ApplyToCapacityProvider(capacityProvider, nil)
	app.Synth(nil)
}
