package trunking_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/trunking"
)

// A cluster whose Graviton instances launch only after their role is opted
// into ENI trunking. (Compiled by go test, not run: it would build the
// Lambda and synthesize.)
func Example() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]interface{}{
		"@aws-cdk/aws-ecs:disableEcsImdsBlocking": true,
	}})
	stack := awscdk.NewStack(app, jsii.String("Trunked"), nil)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2)})
	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc})

	role := trunking.NewInstanceRole(stack, "InstanceRole")
	optIn := trunking.NewEniTrunking(stack, "EniTrunking", &trunking.EniTrunkingProps{
		Roles:    []awsiam.IRole{role},
		OnDelete: trunking.OnDeleteRetain,
	})
	trunking.NewTrunkCapacity(stack, "Capacity", &trunking.TrunkCapacityProps{
		Cluster:      cluster,
		Trunking:     optIn,
		InstanceType: "m7g.large",
		MaxCapacity:  4,
	})
	app.Synth(nil)
}

// An existing role, created elsewhere: the construct cannot edit its trust
// policy, so that policy must already allow the FunctionRole (or a role you
// pass) to assume it; synth warns as a reminder.
func ExampleNewEniTrunking_importedRole() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("OptIn"), nil)
	existing := awsiam.Role_FromRoleArn(stack, jsii.String("EcsInstances"),
		jsii.String("arn:aws:iam::123456789012:role/ecsInstanceRole"), nil)
	optIn := trunking.NewEniTrunking(stack, "EniTrunking", &trunking.EniTrunkingProps{
		Roles: []awsiam.IRole{existing},
	})
	awscdk.NewCfnOutput(stack, jsii.String("TrustThisRole"), &awscdk.CfnOutputProps{Value: optIn.FunctionRole.RoleArn()})
	app.Synth(nil)
}
