package trunking

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/contract"
)

// Image selects how instances become container instances.
type Image string

const (
	// ImageECSOptimized is the ECS-optimized Amazon Linux 2023 AMI (from its
	// public SSM parameter). It ships ecs-init and the agent; user data only
	// writes /etc/ecs/ecs.config. The default.
	ImageECSOptimized Image = "ecs-optimized-al2023"
	// ImageAL2023HostBootstrap is plain Amazon Linux 2023: user data downloads
	// hostbootstrap from S3 and runs it, which installs the signed ecs-init
	// package, writes ecs.config and starts the agent.
	ImageAL2023HostBootstrap Image = "al2023-hostbootstrap"
)

// DefaultInstanceType is ECS's own example: 2 awsvpc tasks without trunking, 10 with.
const DefaultInstanceType = "c5.large"

// HostBootstrapPath is where user data puts hostbootstrap on the instance.
const HostBootstrapPath = "/usr/local/bin/hostbootstrap"

// S3Object names an object, e.g. a hostbootstrap binary uploaded by hand.
type S3Object struct {
	Bucket awss3.IBucket
	Key    string
	// Sha256 is the object's SHA-256 in lower-case hex (a token is fine):
	// user data checks the download against it before making it executable.
	// Required for HostBootstrap (make package prints it).
	Sha256 string
}

// TrunkCapacityProps configures TrunkCapacity.
type TrunkCapacityProps struct {
	// Cluster receives the capacity provider. Required.
	Cluster awsecs.Cluster
	// Trunking opts Role in; the group waits for that opt-in. Required.
	Trunking *EniTrunking
	// Role is the instance role; it must be one of Trunking's roles.
	// Default: Trunking's only role.
	Role awsiam.IRole
	// InstanceType (default c5.large) is checked against ECS's published
	// trunking table at synth: unsupported types are an error, types missing
	// from the table a warning.
	InstanceType string
	// Image (default ImageECSOptimized).
	Image Image
	// MachineImage overrides the AMI that Image implies (same OS family).
	MachineImage awsec2.IMachineImage
	// HostBootstrap is the binary for ImageAL2023HostBootstrap (linux, the
	// instance's architecture). Default: ./hostbootstrap of this module, built
	// with the local Go toolchain at synth and uploaded as an asset.
	HostBootstrap *S3Object
	// HostBootstrapArgs are added after `--cluster NAME --require-trunking`.
	HostBootstrapArgs []string
	// VpcSubnets for the instances (default: private subnets with egress).
	VpcSubnets *awsec2.SubnetSelection
	// SecurityGroup of the instances' primary ENI (default: a new one, all
	// outbound, no inbound). Tasks have their own ENIs and groups.
	SecurityGroup awsec2.ISecurityGroup
	// MinCapacity and MaxCapacity of the group (default 1 and 2).
	MinCapacity, MaxCapacity int
	// RootVolumeGiB is the encrypted gp3 root volume size (default 30).
	RootVolumeGiB int
	// TargetCapacityPercent for managed scaling (default 100).
	TargetCapacityPercent int
}

// TrunkCapacity is EC2 capacity for an ECS cluster whose instances get trunk
// ENIs: a launch template (IMDSv2 only with hop limit 1, no resource-name DNS
// A records, encrypted root volume, the opted-in role's instance profile),
// an Auto Scaling group that depends on the opt-in so no instance registers
// before it, and a capacity provider with managed scaling and managed
// termination protection.
type TrunkCapacity struct {
	constructs.Construct
	LaunchTemplate   awsec2.LaunchTemplate
	AutoScalingGroup awsautoscaling.AutoScalingGroup
	CapacityProvider awsecs.AsgCapacityProvider
	SecurityGroup    awsec2.ISecurityGroup
	// InstanceType is what the catalog knows of the chosen type.
	InstanceType catalog.InstanceType
	// HostBootstrapSha256 is the SHA-256 user data requires of hostbootstrap
	// (ImageAL2023HostBootstrap only; "" otherwise).
	HostBootstrapSha256 string
}

// NewTrunkCapacity creates the launch template, group and capacity provider.
func NewTrunkCapacity(scope constructs.Construct, id string, props *TrunkCapacityProps) *TrunkCapacity {
	if props == nil || props.Cluster == nil || props.Trunking == nil {
		panic(fmt.Sprintf("TrunkCapacity %s: Cluster and Trunking are required", id))
	}
	p := *props
	role := p.Role
	if role == nil {
		optIns := p.Trunking.OptIns()
		if len(optIns) != 1 {
			panic(fmt.Sprintf("TrunkCapacity %s: Trunking opts in %d roles; say which is the instance role", id, len(optIns)))
		}
		role = optIns[0].Role
	}
	optIn := p.Trunking.OptInFor(role)
	if optIn == nil {
		panic(fmt.Sprintf("TrunkCapacity %s: role %s is not opted in by %s; instances would launch without trunking",
			id, *role.Node().Path(), *p.Trunking.Node().Path()))
	}
	if p.Trunking.Setting() != DefaultSetting {
		panic(fmt.Sprintf("TrunkCapacity %s: Trunking puts %s, not %s", id, p.Trunking.Setting(), DefaultSetting))
	}
	p.InstanceType = strings.ToLower(strings.TrimSpace(orDefault(p.InstanceType, DefaultInstanceType)))
	p.Image = Image(orDefault(string(p.Image), string(ImageECSOptimized)))
	if p.Image != ImageECSOptimized && p.Image != ImageAL2023HostBootstrap {
		panic(fmt.Sprintf("TrunkCapacity %s: unknown Image %q", id, p.Image))
	}
	p.MinCapacity = orDefaultInt(p.MinCapacity, 1)
	p.MaxCapacity = orDefaultInt(p.MaxCapacity, 2)
	p.RootVolumeGiB = orDefaultInt(p.RootVolumeGiB, 30)
	p.TargetCapacityPercent = orDefaultInt(p.TargetCapacityPercent, 100)
	if p.VpcSubnets == nil {
		p.VpcSubnets = &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}
	}

	c := &TrunkCapacity{}
	constructs.NewConstruct_Override(c, scope, &id)
	c.InstanceType = checkInstanceType(c, p.InstanceType)

	instanceType := awsec2.NewInstanceType(jsii.String(p.InstanceType))
	arm := instanceType.Architecture() == awsec2.InstanceArchitecture_ARM_64
	vpc := p.Cluster.Vpc()

	c.SecurityGroup = p.SecurityGroup
	if c.SecurityGroup == nil {
		c.SecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
			Vpc:              vpc,
			Description:      jsii.String("ECS container instances (primary ENI); tasks use their own groups"),
			AllowAllOutbound: jsii.Bool(true),
		})
	}

	userData := awsec2.UserData_ForLinux(nil)
	image := p.MachineImage
	switch p.Image {
	case ImageECSOptimized:
		if image == nil {
			hw := awsecs.AmiHardwareType_STANDARD
			if arm {
				hw = awsecs.AmiHardwareType_ARM
			}
			image = awsecs.EcsOptimizedImage_AmazonLinux2023(hw, nil)
		}
		// ECS_CLUSTER is appended by Cluster.AddAsgCapacityProvider below.
		userData.AddCommands(jsii.String(ecsConfigCommand()))
	case ImageAL2023HostBootstrap:
		if image == nil {
			cpu := awsec2.AmazonLinuxCpuType_X86_64
			if arm {
				cpu = awsec2.AmazonLinuxCpuType_ARM_64
			}
			image = awsec2.MachineImage_LatestAmazonLinux2023(&awsec2.AmazonLinux2023ImageSsmParameterProps{CpuType: cpu})
		}
		obj := p.HostBootstrap
		if obj == nil {
			obj = hostBootstrapAsset(c, arm)
		}
		if obj.Sha256 == "" {
			panic(fmt.Sprintf("TrunkCapacity %s: HostBootstrap.Sha256 is required: user data checks the binary against it before running it as root (make package prints it)", id))
		}
		c.HostBootstrapSha256 = obj.Sha256
		args := append([]string{"--cluster", *p.Cluster.ClusterName(), "--require-trunking"}, p.HostBootstrapArgs...)
		s3URL := "s3://" + *obj.Bucket.BucketName() + "/" + obj.Key
		for _, line := range fetchAndRunHostBootstrap(s3URL, *awscdk.Aws_REGION(), HostBootstrapPath, obj.Sha256, args, FetchRetrySeconds) {
			userData.AddCommands(jsii.String(line))
		}
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadHostBootstrap"),
			Actions:   jsii.Strings("s3:GetObject"),
			Resources: jsii.Strings(*obj.Bucket.ArnForObjects(jsii.String(obj.Key))),
		}))
	}

	c.LaunchTemplate = awsec2.NewLaunchTemplate(c, jsii.String("LaunchTemplate"), &awsec2.LaunchTemplateProps{
		InstanceType:  instanceType,
		MachineImage:  image,
		UserData:      userData,
		Role:          role,
		SecurityGroup: c.SecurityGroup,
		// IMDSv2 only, and one hop: containers behind a bridge cannot reach
		// the instance's credentials.
		HttpEndpoint:            jsii.Bool(true),
		HttpTokens:              awsec2.LaunchTemplateHttpTokens_REQUIRED,
		HttpPutResponseHopLimit: jsii.Number(1),
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(float64(p.RootVolumeGiB)), &awsec2.EbsDeviceOptions{
				Encrypted:  jsii.Bool(true),
				VolumeType: awsec2.EbsDeviceVolumeType_GP3,
			}),
		}},
	})
	// ENI trunking requires resource-based IPv4 DNS A records off; the L2
	// launch template has no property for it.
	cfnTemplate := c.LaunchTemplate.Node().DefaultChild().(awsec2.CfnLaunchTemplate)
	cfnTemplate.AddPropertyOverride(jsii.String("LaunchTemplateData.PrivateDnsNameOptions.EnableResourceNameDnsARecord"), false)

	c.AutoScalingGroup = awsautoscaling.NewAutoScalingGroup(c, jsii.String("AutoScalingGroup"), &awsautoscaling.AutoScalingGroupProps{
		Vpc:            vpc,
		VpcSubnets:     p.VpcSubnets,
		LaunchTemplate: c.LaunchTemplate,
		MinCapacity:    jsii.Number(float64(p.MinCapacity)),
		MaxCapacity:    jsii.Number(float64(p.MaxCapacity)),
		// Managed termination protection needs scale-in protection.
		NewInstancesProtectedFromScaleIn: jsii.Bool(true),
	})
	// The point of this construct: no instance registers before its role is
	// opted in, because only instances registered afterwards get a trunk; and
	// a new or changed opt-in replaces the instances (instance refresh).
	p.Trunking.ApplyToAutoScalingGroup(c.AutoScalingGroup, &ApplyOptions{Role: role, UserData: userData})
	c.AutoScalingGroup.Node().AddDependency(role)

	c.CapacityProvider = awsecs.NewAsgCapacityProvider(c, jsii.String("CapacityProvider"), &awsecs.AsgCapacityProviderProps{
		AutoScalingGroup:                   c.AutoScalingGroup,
		EnableManagedScaling:               jsii.Bool(true),
		EnableManagedTerminationProtection: jsii.Bool(true),
		TargetCapacityPercent:              jsii.Number(float64(p.TargetCapacityPercent)),
		// Drains an instance's tasks before any termination, including the
		// instance refresh of a new opt-in.
		EnableManagedDraining: jsii.Bool(true),
	})
	p.Cluster.AddAsgCapacityProvider(c.CapacityProvider, nil)
	c.suppressNagFindings(role)
	return c
}

// ecsConfigCommand turns on task ENIs and trunking (high-density ENIs) and
// keeps awsvpc tasks away from the instance's metadata and credentials: the
// same variables hostbootstrap writes.
func ecsConfigCommand() string {
	var b strings.Builder
	b.WriteString("mkdir -p /etc/ecs\ncat >> /etc/ecs/ecs.config <<'EOF'\n")
	for _, v := range contract.TrunkingAgentConfig(true) {
		b.WriteString(v.Key + "=" + v.Value + "\n")
	}
	b.WriteString("EOF")
	return b.String()
}

// checkInstanceType fails synth for a type ECS documents as unsupported and
// warns for one its published table does not list (trunk-capable per EC2
// with an unpublished limit, or unknown).
func checkInstanceType(scope constructs.Construct, name string) catalog.InstanceType {
	it := catalog.Default().Lookup(name)
	switch it.Support {
	case catalog.Unsupported:
		panic(fmt.Sprintf("%s: instance type %s cannot use ENI trunking: %s", *scope.Node().Path(), name, it.Reason))
	case catalog.LimitUnpublished:
		awscdk.Annotations_Of(scope).AddWarningV2(jsii.String("trunkctl:instanceTypeLimitUnpublished"), jsii.String(fmt.Sprintf(
			"instance type %s: trunking supported, but ECS publishes no task limit for it (%s); size services by the tasks seen (trunkctl instances)",
			name, it.Reason)), nil)
	case catalog.Unknown:
		awscdk.Annotations_Of(scope).AddWarningV2(jsii.String("trunkctl:instanceTypeUnknown"), jsii.String(fmt.Sprintf(
			"instance type %s: trunking support is unknown (%s); check the ECS developer guide before relying on it",
			name, it.Reason)), nil)
	}
	return it
}

func hostBootstrapAsset(scope constructs.Construct, arm bool) *S3Object {
	dir, err := FindModuleDir()
	if err != nil {
		panic(err)
	}
	goarch := "amd64"
	if arm {
		goarch = "arm64"
	}
	sum := new(string)
	opts := goAssetOptions(dir, GoBuild{Package: "./hostbootstrap", Output: "hostbootstrap", GOARCH: goarch, Sha256: sum},
		awscdk.BundlingOutput_SINGLE_FILE)
	asset := awss3assets.NewAsset(scope, jsii.String("HostBootstrapAsset"), &awss3assets.AssetProps{
		Path:          jsii.String(dir),
		AssetHashType: opts.AssetHashType,
		Bundling:      opts.Bundling,
	})
	if *sum == "" {
		// Bundling skipped (unit tests, or stacks not selected): no binary,
		// so nothing an instance could run would match.
		*sum = strings.Repeat("0", 64)
		awscdk.Annotations_Of(scope).AddWarningV2(jsii.String("trunkctl:hostBootstrapNotBundled"), jsii.String(
			"hostbootstrap was not built (asset bundling skipped), so its SHA-256 is unknown and instances would refuse to run it"), nil)
	}
	return &S3Object{Bucket: asset.Bucket(), Key: *asset.S3ObjectKey(), Sha256: *sum}
}

func (c *TrunkCapacity) suppressNagFindings(role awsiam.IRole) {
	cdknag.NagSuppressions_AddResourceSuppressions(c.AutoScalingGroup, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-AS3"),
		Reason: jsii.String("the ECS capacity provider drives this group; scaling events are visible in ECS " +
			"and Auto Scaling activity history, and no SNS topic is wanted by default"),
	}}, jsii.Bool(false))
	// Cluster.AddAsgCapacityProvider grants the instance role what the ECS
	// agent calls, in the role's default policy; some of those calls support
	// no resource ARNs. Only that policy is exempted.
	policy := role.Node().TryFindChild(jsii.String("DefaultPolicy"))
	if policy == nil {
		policy = role.Node().TryFindChild(jsii.String("Policy")) // an imported role's
	}
	if policy == nil {
		return
	}
	cdknag.NagSuppressions_AddResourceSuppressions(policy, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("permissions added by the CDK's Cluster.addAsgCapacityProvider for the ECS agent: " +
			"ecs:Submit* on the cluster, and calls with no resource-level permissions (ecs:DiscoverPollEndpoint, " +
			"ecr:GetAuthorizationToken, logs:CreateLogStream, logs:PutLogEvents)"),
		AppliesTo: &[]interface{}{jsii.String("Action::ecs:Submit*"), jsii.String("Resource::*")},
	}}, jsii.Bool(false))
}

func orDefaultInt(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// TasksPerInstance is how many awsvpc tasks ECS publishes for one instance
// of the type with trunking (0 when not published).
func (c *TrunkCapacity) TasksPerInstance() int { return c.InstanceType.TasksWithTrunking }
