package trunking

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// The guard's contract (internal/guard): its environment and metrics.
const (
	// DefaultGuardSchedule is how often the guard sweeps every cluster.
	DefaultGuardSchedule = "rate(15 minutes)"
	// DefaultGuardStatePrefix is where it keeps each cluster's notified findings.
	DefaultGuardStatePrefix = "/trunkctl/guard/"
	// GuardMetricsNamespace and GuardUntrunkedMetric are the metric the
	// alarm watches (EMF, dimension sets [ClusterName] and []).
	GuardMetricsNamespace = "trunkctl"
	GuardUntrunkedMetric  = "UntrunkedInstances"
)

// TrunkGuardProps configures TrunkGuard.
type TrunkGuardProps struct {
	// Schedule of the sweep (default rate(15 minutes)).
	Schedule awsevents.Schedule
	// Topic is notified of changed findings and by the alarm (default: a
	// new topic, SSL enforced).
	Topic awssns.ITopic
	// Clusters limits the guard to these cluster names (default: every
	// cluster in the Region). Names known at synth also narrow the
	// state-change rule, so events of other clusters never invoke it.
	Clusters []string
	// ClustersValue sets CLUSTERS from a token (a template parameter) instead
	// of Clusters.
	ClustersValue *string
	// StatePrefix of the SSM parameters (default /trunkctl/guard/).
	StatePrefix string
	// Code is the guard (provided.al2023, arm64, handler bootstrap).
	// Default: ./guard of this module, built with the local Go toolchain.
	Code awslambda.Code
	// LogRetention of the function's log group (default one month).
	LogRetention awslogs.RetentionDays
	// LogRemovalPolicy of the log group (default DESTROY).
	LogRemovalPolicy awscdk.RemovalPolicy
	// Timeout of one invocation (default 5 minutes; a sweep of a 2,000
	// instance cluster takes seconds).
	Timeout awscdk.Duration
	// MemorySize in MB (default 256).
	MemorySize float64
	// AlarmPeriod of the alarm on UntrunkedInstances (default 15 minutes,
	// the default schedule; a period without data keeps the alarm's state).
	AlarmPeriod awscdk.Duration
}

// TrunkGuard is trunkctl's read-only watcher: a Lambda that judges every
// cluster on a schedule with the same assessment as `trunkctl doctor`,
// judges each container instance as it registers (ECS state-change
// events) and catches RESOURCE:ENI placement failures, and notifies Topic
// when a cluster's error findings change. An alarm on the account-level
// UntrunkedInstances metric notifies the same topic. Its role reads; it
// writes only to Topic and to SSM parameters under StatePrefix.
type TrunkGuard struct {
	constructs.Construct
	Function awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
	Topic    awssns.ITopic
	// Rules are the schedule, the state-change rule and the service-action rule.
	Schedule, InstanceEvents, ServiceEvents awsevents.Rule
	// Alarm fires when any cluster has an instance that should have a trunk
	// and does not.
	Alarm awscloudwatch.Alarm

	statePrefix string
}

// StatePrefix is where the guard keeps each cluster's notified findings.
func (g *TrunkGuard) StatePrefix() string { return g.statePrefix }

// NewTrunkGuard creates the guard, its role, log group, rules, topic and alarm.
func NewTrunkGuard(scope constructs.Construct, id string, props *TrunkGuardProps) *TrunkGuard {
	p := TrunkGuardProps{}
	if props != nil {
		p = *props
	}
	if p.Schedule == nil {
		p.Schedule = awsevents.Schedule_Expression(jsii.String(DefaultGuardSchedule))
	}
	p.StatePrefix = orDefault(p.StatePrefix, DefaultGuardStatePrefix)
	if !strings.HasSuffix(p.StatePrefix, "/") {
		p.StatePrefix += "/"
	}
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_ONE_MONTH
	}
	if p.LogRemovalPolicy == "" {
		p.LogRemovalPolicy = awscdk.RemovalPolicy_DESTROY
	}
	if p.Timeout == nil {
		p.Timeout = awscdk.Duration_Minutes(jsii.Number(5))
	}
	if p.MemorySize == 0 {
		p.MemorySize = 256
	}
	if p.AlarmPeriod == nil {
		p.AlarmPeriod = awscdk.Duration_Minutes(jsii.Number(15))
	}

	g := &TrunkGuard{statePrefix: p.StatePrefix}
	constructs.NewConstruct_Override(g, scope, &id)
	stack := awscdk.Stack_Of(g)

	g.Topic = p.Topic
	if g.Topic == nil {
		g.Topic = awssns.NewTopic(g, jsii.String("Topic"), &awssns.TopicProps{
			DisplayName: jsii.String("trunkctl guard"),
			EnforceSSL:  jsii.Bool(true),
		})
	}

	g.Role = awsiam.NewRole(g, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("trunkctl guard: reads ECS, EC2, IAM, Auto Scaling and CloudTrail; publishes to its topic; keeps its state in SSM"),
	})
	g.LogGroup = awslogs.NewLogGroup(g, jsii.String("LogGroup"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: p.LogRemovalPolicy,
	})
	g.LogGroup.GrantWrite(g.Role)
	g.grantReads(stack)
	g.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("NotifyItsTopic"),
		Actions:   jsii.Strings("sns:Publish"),
		Resources: jsii.Strings(*g.Topic.TopicArn()),
	}))
	g.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String("KeepStateUnderItsPrefix"),
		Actions: jsii.Strings("ssm:GetParameter", "ssm:PutParameter"),
		Resources: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("ssm"), Resource: jsii.String("parameter"),
			ResourceName: jsii.String(strings.TrimPrefix(p.StatePrefix, "/") + "*"),
		})),
	}))

	code := p.Code
	if code == nil {
		code = GuardCode()
	}
	clusters := p.ClustersValue
	if clusters == nil {
		clusters = jsii.String(strings.Join(p.Clusters, ","))
	}
	g.Function = awslambda.NewFunction(g, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String("trunkctl guard: judges ECS clusters as trunkctl doctor does and notifies changed findings"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         code,
		Role:         g.Role,
		Timeout:      p.Timeout,
		MemorySize:   jsii.Number(p.MemorySize),
		LogGroup:     g.LogGroup,
		Environment: &map[string]*string{
			"TOPIC_ARN":    g.Topic.TopicArn(),
			"CLUSTERS":     clusters,
			"STATE_PREFIX": jsii.String(p.StatePrefix),
		},
		// EventBridge retries asynchronous invocations itself (below).
		RetryAttempts: jsii.Number(0),
	})
	dependOnPolicyOnly(g.Role, g.Function)

	target := func() awsevents.IRuleTarget {
		return awseventstargets.NewLambdaFunction(g.Function, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(2),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
		})
	}
	g.Schedule = awsevents.NewRule(g, jsii.String("Schedule"), &awsevents.RuleProps{
		Description: jsii.String("trunkctl guard: sweep every cluster"),
		Schedule:    p.Schedule,
		Targets:     &[]awsevents.IRuleTarget{target()},
	})
	instanceDetail := map[string]interface{}{}
	if len(p.Clusters) > 0 && p.ClustersValue == nil {
		var arns []*string
		for _, c := range p.Clusters {
			arns = append(arns, stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ecs"), Resource: jsii.String("cluster"), ResourceName: jsii.String(c)}))
		}
		instanceDetail["clusterArn"] = arns
	}
	instancePattern := &awsevents.EventPattern{
		Source:     jsii.Strings("aws.ecs"),
		DetailType: jsii.Strings("ECS Container Instance State Change"),
	}
	if len(instanceDetail) > 0 {
		instancePattern.Detail = &instanceDetail
	}
	g.InstanceEvents = awsevents.NewRule(g, jsii.String("InstanceEvents"), &awsevents.RuleProps{
		Description:  jsii.String("trunkctl guard: judge each container instance as it changes"),
		EventPattern: instancePattern,
		Targets:      &[]awsevents.IRuleTarget{target()},
	})
	g.ServiceEvents = awsevents.NewRule(g, jsii.String("ServiceEvents"), &awsevents.RuleProps{
		Description: jsii.String("trunkctl guard: services that could not place tasks"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.ecs"),
			DetailType: jsii.Strings("ECS Service Action"),
			Detail:     &map[string]interface{}{"eventName": []string{"SERVICE_TASK_PLACEMENT_FAILURE"}},
		},
		Targets: &[]awsevents.IRuleTarget{target()},
	})

	g.Alarm = awscloudwatch.NewAlarm(g, jsii.String("UntrunkedInstancesAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("trunkctl guard: some ECS container instance in this account and Region should have a trunk ENI and does not; see the guard's notification or run trunkctl doctor"),
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(GuardMetricsNamespace), MetricName: jsii.String(GuardUntrunkedMetric),
			Statistic: jsii.String("Maximum"), Period: p.AlarmPeriod,
		}),
		Threshold:          jsii.Number(0),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_IGNORE,
	})
	g.Alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(g.Topic))
	g.Alarm.AddOkAction(awscloudwatchactions.NewSnsAction(g.Topic))
	return g
}

// grantReads gives the role the reads of `trunkctl doctor`, no more.
func (g *TrunkGuard) grantReads(stack awscdk.Stack) {
	read := func(sid string, resources []*string, actions ...string) {
		g.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: &resources,
		}))
	}
	all := jsii.Strings("*")
	read("ReadClusters", *all, "ecs:ListClusters", "ecs:DescribeClusters", "ecs:ListContainerInstances", "ecs:DescribeContainerInstances",
		"ecs:ListTasks", "ecs:DescribeTasks", "ecs:ListServices", "ecs:DescribeServices", "ecs:DescribeCapacityProviders", "ecs:ListAccountSettings")
	read("ReadInstances", *all, "ec2:DescribeInstances", "ec2:DescribeSubnets", "ec2:DescribeImages", "ec2:DescribeNetworkInterfaces",
		"ec2:DescribeLaunchTemplateVersions", "autoscaling:DescribeAutoScalingGroups", "cloudtrail:LookupEvents")
	read("ReadInstanceRoles", []*string{
		stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("iam"), Region: jsii.String(""), Resource: jsii.String("instance-profile"), ResourceName: jsii.String("*")}),
		stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("iam"), Region: jsii.String(""), Resource: jsii.String("role"), ResourceName: jsii.String("*")}),
	}, "iam:GetInstanceProfile", "iam:GetRole")
	// On the one policy that grants the wildcards, for exactly these
	// findings: a wildcard added to the role later is not hidden.
	policy, ok := g.Role.Node().TryFindChild(jsii.String("DefaultPolicy")).(awsiam.Policy)
	if !ok {
		panic("TrunkGuard: the role has no default policy to scope the IAM5 suppression to")
	}
	cdknag.NagSuppressions_AddResourceSuppressions(policy, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("read-only calls that support no resource ARNs (ECS List*/Describe* across every cluster, " +
			"ec2:Describe*, autoscaling:DescribeAutoScalingGroups, cloudtrail:LookupEvents, ecs:ListAccountSettings), " +
			"instance profiles and roles of this account whose names the guard learns from the instances, and the " +
			"guard's own SSM parameter prefix"),
		AppliesTo: &[]interface{}{
			jsii.String("Resource::*"),
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:.+:iam::.+:(instance-profile|role)\/\*$/g`)},
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:.+:ssm:.+:parameter\/.*\*$/g`)},
		},
	}}, jsii.Bool(false))
}

// dependOnPolicyOnly trims the function's DependsOn to its role's policy:
// the L2 also lists the role, which the Role property already references
// (cfn-lint W3005).
func dependOnPolicyOnly(role awsiam.IRole, fn awslambda.Function) {
	policy, ok := role.Node().TryFindChild(jsii.String("DefaultPolicy")).(awsiam.Policy)
	if !ok {
		return
	}
	stack := awscdk.Stack_Of(fn)
	cfnPolicy := policy.Node().DefaultChild().(awscdk.CfnElement)
	cfnFn := fn.Node().DefaultChild().(awscdk.CfnResource)
	cfnFn.AddOverride(jsii.String("DependsOn"), []*string{stack.GetLogicalId(cfnPolicy)})
}

// GuardCode is the guard built from ./guard of this module for
// provided.al2023 on arm64, with the local Go toolchain.
func GuardCode() awslambda.Code {
	dir, err := FindModuleDir()
	if err != nil {
		panic(err)
	}
	return awslambda.Code_FromAsset(jsii.String(dir), goAssetOptions(dir, GoBuild{
		Package: "./guard",
		Output:  "bootstrap",
		GOARCH:  "arm64",
		Tags:    []string{"lambda.norpc"},
	}, awscdk.BundlingOutput_NOT_ARCHIVED))
}
