package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/trunkctl/trunkctl/cdk/trunking"
)

// DemoImage is the example service's container: it only sleeps, so every
// task costs an ENI (or a branch ENI) and little else.
const DemoImage = "public.ecr.aws/docker/library/busybox:1.36"

// TrunkClusterStackProps configures TrunkClusterStack.
type TrunkClusterStackProps struct {
	awscdk.StackProps
	Code CodeOptions
	// VpcID selects an existing VPC (looked up; needs an account and Region
	// in StackProps.Env). Default: a new VPC over two Availability Zones.
	VpcID string
	// InstanceType of the capacity (default c5.large).
	InstanceType string
	// Image and HostBootstrap choose how instances join (see trunking.Image).
	Image         trunking.Image
	HostBootstrap *trunking.S3Object
	// HostBootstrapFromParameters (with ImageAL2023HostBootstrap) takes the
	// binary's bucket and key as template parameters instead of an asset.
	HostBootstrapFromParameters bool
	// MaxCapacity of the group (default 2).
	MaxCapacity int
	// DesiredTasks of the example service (default: one more than
	// MaxCapacity instances fit without trunking; see ProofTaskCount).
	DesiredTasks int
}

// ProofTaskCount is how many awsvpc tasks the example service runs: one more
// than maxInstances of the type can hold without trunking, so the service
// reaches its desired count only if the instances have trunk ENIs.
func ProofTaskCount(tasksWithoutTrunking, maxInstances int) int {
	return tasksWithoutTrunking*maxInstances + 1
}

// NewTrunkClusterStack is a cluster whose capacity gets trunk ENIs, with an
// example awsvpc service that proves it: a VPC, an instance role opted in by
// EniTrunking, TrunkCapacity, and the service.
func NewTrunkClusterStack(scope constructs.Construct, id string, props *TrunkClusterStackProps) awscdk.Stack {
	if props == nil {
		props = &TrunkClusterStackProps{}
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("trunkctl: an ECS cluster whose EC2 capacity launches only after its role is opted into ENI trunking, with an awsvpc service that needs trunking to run")
	}
	stack := awscdk.NewStack(scope, &id, &sp)

	var vpc awsec2.IVpc
	var newVpc awsec2.Vpc
	if props.VpcID != "" {
		vpc = awsec2.Vpc_FromLookup(stack, jsii.String("Vpc"), &awsec2.VpcLookupOptions{VpcId: jsii.String(props.VpcID)})
	} else {
		v := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
			MaxAzs:      jsii.Number(2),
			NatGateways: jsii.Number(1),
			SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
				{Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24)},
				// Every task takes an address: leave room.
				{Name: jsii.String("Private"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(20)},
			},
			// Restricting it takes a CDK custom resource (a Node.js asset).
			RestrictDefaultSecurityGroup: jsii.Bool(false),
		})
		cdknag.NagSuppressions_AddResourceSuppressions(v, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-VPC7"),
			Reason: jsii.String("example VPC for a demonstration cluster; flow logs cost money per GB and are left to " +
				"production VPCs, which this stack can use instead (context vpcId)"),
		}}, jsii.Bool(false))
		vpc, newVpc = v, v
	}

	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc})
	cdknag.NagSuppressions_AddResourceSuppressions(cluster, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-ECS4"),
		Reason: jsii.String("Container Insights is a paid CloudWatch feature; the example cluster leaves it to the " +
			"operator (trunkctl status and enis inspect trunking without it)"),
	}}, jsii.Bool(false))

	role := trunking.NewInstanceRole(stack, "InstanceRole")
	optIn := trunking.NewEniTrunking(stack, "EniTrunking", &trunking.EniTrunkingProps{
		Roles: []awsiam.IRole{role},
		Code:  props.Code.code(stack),
	})
	hostBootstrap := props.HostBootstrap
	if hostBootstrap == nil && props.HostBootstrapFromParameters {
		hostBootstrap = hostBootstrapFromParameters(stack)
	}
	capacity := trunking.NewTrunkCapacity(stack, "Capacity", &trunking.TrunkCapacityProps{
		Cluster:       cluster,
		Trunking:      optIn,
		Role:          role,
		InstanceType:  props.InstanceType,
		Image:         props.Image,
		HostBootstrap: hostBootstrap,
		MaxCapacity:   props.MaxCapacity,
	})
	if capacity.HostBootstrapSha256 != "" {
		awscdk.NewCfnOutput(stack, jsii.String("RequiredHostBootstrapSha256"), &awscdk.CfnOutputProps{
			Description: jsii.String("SHA-256 that user data requires of hostbootstrap before running it"),
			Value:       jsii.String(capacity.HostBootstrapSha256),
		})
	}

	if newVpc != nil {
		// An instance that boots before its subnet's default route to the NAT
		// gateway exists cannot fetch hostbootstrap or reach ECS: launch the
		// group only once the private subnets' routes are in place.
		for _, sn := range *newVpc.PrivateSubnets() {
			capacity.AutoScalingGroup.Node().AddDependency(sn.InternetConnectivityEstablished())
		}
	}

	maxInstances := props.MaxCapacity
	if maxInstances == 0 {
		maxInstances = 2
	}
	desired := props.DesiredTasks
	if desired == 0 {
		desired = ProofTaskCount(capacity.InstanceType.TasksWithoutTrunking, maxInstances)
	}
	if limit := capacity.InstanceType.TasksWithTrunking; limit > 0 && desired > limit*maxInstances {
		panic(fmt.Sprintf("%s: %d tasks do not fit on %d %s instances even with trunking (%d each)",
			id, desired, maxInstances, capacity.InstanceType.Name, limit))
	}
	newDemoService(stack, cluster, capacity, desired)

	awscdk.NewCfnOutput(stack, jsii.String("ClusterName"), &awscdk.CfnOutputProps{
		Description: jsii.String("Run: trunkctl instances --cluster <this> (and enis, doctor)"),
		Value:       cluster.ClusterName(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("InstanceRoleArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("The opted-in instance role; trunkctl status --role <this>"),
		Value:       role.RoleArn(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("DemoTaskCount"), &awscdk.CfnOutputProps{
		Description: jsii.String(fmt.Sprintf("Tasks of the example service: more than %d %s instances hold without trunking (%d each)",
			maxInstances, capacity.InstanceType.Name, capacity.InstanceType.TasksWithoutTrunking)),
		Value: jsii.String(fmt.Sprint(desired)),
	})
	return stack
}

func newDemoService(stack awscdk.Stack, cluster awsecs.Cluster, capacity *trunking.TrunkCapacity, desired int) awsecs.Ec2Service {
	task := awsecs.NewEc2TaskDefinition(stack, jsii.String("DemoTask"), &awsecs.Ec2TaskDefinitionProps{
		NetworkMode: awsecs.NetworkMode_AWS_VPC,
	})
	logs := awslogs.NewLogGroup(stack, jsii.String("DemoLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_WEEK,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	task.AddContainer(jsii.String("Sleeper"), &awsecs.ContainerDefinitionOptions{
		Image:                  awsecs.ContainerImage_FromRegistry(jsii.String(DemoImage), nil),
		Command:                jsii.Strings("sleep", "2147483647"),
		Cpu:                    jsii.Number(32),
		MemoryLimitMiB:         jsii.Number(48),
		Essential:              jsii.Bool(true),
		ReadonlyRootFilesystem: jsii.Bool(true),
		Logging: awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{
			LogGroup:     logs,
			StreamPrefix: jsii.String("demo"),
		}),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(task, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-ECS2"),
		Reason: jsii.String("the only variable is AWS_REGION, which the CDK adds for the awslogs driver; " +
			"the example holds no configuration or secrets"),
	}}, jsii.Bool(false))
	sg := awsec2.NewSecurityGroup(stack, jsii.String("DemoTaskSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              cluster.Vpc(),
		Description:      jsii.String("Example awsvpc tasks: no inbound"),
		AllowAllOutbound: jsii.Bool(true),
	})
	service := awsecs.NewEc2Service(stack, jsii.String("DemoService"), &awsecs.Ec2ServiceProps{
		Cluster:        cluster,
		TaskDefinition: task,
		DesiredCount:   jsii.Number(float64(desired)),
		CapacityProviderStrategies: &[]*awsecs.CapacityProviderStrategy{{
			CapacityProvider: capacity.CapacityProvider.CapacityProviderName(),
			Weight:           jsii.Number(1),
		}},
		// Pack tasks onto as few instances as memory allows: more tasks on
		// one instance than it has ENIs is the proof.
		PlacementStrategies: &[]awsecs.PlacementStrategy{awsecs.PlacementStrategy_PackedByMemory()},
		SecurityGroups:      &[]awsec2.ISecurityGroup{sg},
		VpcSubnets:          &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		MinHealthyPercent:   jsii.Number(0),
		MaxHealthyPercent:   jsii.Number(100),
		CircuitBreaker:      &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(false)},
	})
	awscdk.Aspects_Of(service).Add(&dependOnAssociations{cluster: cluster, service: service}, nil)
	return service
}

// dependOnAssociations makes the service wait for the cluster's capacity
// provider associations: a service may name a capacity provider only once it
// is associated. The cluster creates that resource in an aspect of its own,
// so this runs as an aspect too, after the cluster's (tree order). Depending
// on the whole cluster would repeat the Ref the service holds (cfn-lint W3005).
type dependOnAssociations struct {
	cluster awsecs.Cluster
	service awsecs.Ec2Service
}

func (a *dependOnAssociations) Visit(node constructs.IConstruct) {
	if *node.Node().Path() != *a.service.Node().Path() {
		return
	}
	for _, c := range *a.cluster.Node().Children() {
		if assoc, ok := c.(awsecs.CfnClusterCapacityProviderAssociations); ok {
			a.service.Node().AddDependency(assoc)
		}
	}
}

func hostBootstrapFromParameters(stack awscdk.Stack) *trunking.S3Object {
	bucket := awscdk.NewCfnParameter(stack, jsii.String(ParamHostBootstrapBucket), &awscdk.CfnParameterProps{
		Type:        jsii.String("String"),
		Description: jsii.String("S3 bucket holding hostbootstrap for the instances' architecture (make package BUCKET=...)"),
		MinLength:   jsii.Number(3),
	})
	key := awscdk.NewCfnParameter(stack, jsii.String(ParamHostBootstrapKey), &awscdk.CfnParameterProps{
		Type:        jsii.String("String"),
		Description: jsii.String("S3 key of the hostbootstrap binary (dist/hostbootstrap-linux-amd64 for x86_64 instance types)"),
		MinLength:   jsii.Number(1),
	})
	sum := awscdk.NewCfnParameter(stack, jsii.String(ParamHostBootstrapSha256), &awscdk.CfnParameterProps{
		Type: jsii.String("String"),
		Description: jsii.String("SHA-256 of that binary, lower-case hex (make package prints it): user data refuses to run " +
			"a download that does not match"),
		AllowedPattern:        jsii.String("^[0-9a-f]{64}$"),
		ConstraintDescription: jsii.String("64 lower-case hex digits, as sha256sum prints them"),
	})
	return &trunking.S3Object{
		Bucket: awss3.Bucket_FromBucketName(stack, jsii.String("HostBootstrapBucketRef"), bucket.ValueAsString()),
		Key:    *key.ValueAsString(),
		Sha256: *sum.ValueAsString(),
	}
}
