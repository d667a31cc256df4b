package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/trunking"
)

// TrunkGuardStackID is the guard's stack (templates/eni-trunking-guard.yaml).
const TrunkGuardStackID = "TrunkGuardStack"

// The guard template's parameters (besides LambdaCodeBucket and LambdaCodeKey).
const (
	// ParamGuardClusters is CLUSTERS: comma-separated names, empty for all.
	ParamGuardClusters = "Clusters"
	// ParamGuardSchedule is the sweep's schedule expression.
	ParamGuardSchedule = "Schedule"
	// ParamGuardTopicArn is the topic to notify, or CreateTopicValue.
	ParamGuardTopicArn = "TopicArn"
	// CreateTopicValue (TopicArn's default) makes the stack create a topic.
	CreateTopicValue = "create"
)

// TrunkGuardStackProps configures TrunkGuardStack.
type TrunkGuardStackProps struct {
	awscdk.StackProps
	// Code is the guard's code: built from ./guard at synth by default,
	// from LambdaCodeBucket/LambdaCodeKey parameters in the template.
	Code CodeOptions
	// Guard configures the construct (its Code and Topic are set here in
	// the template variant).
	Guard trunking.TrunkGuardProps
}

// NewTrunkGuardStack deploys trunking.TrunkGuard in an account and Region.
// The template variant takes the guard's zip, the clusters, the schedule
// and the topic as parameters, and creates a topic when none is given.
func NewTrunkGuardStack(scope constructs.Construct, id string, props *TrunkGuardStackProps) awscdk.Stack {
	if props == nil {
		props = &TrunkGuardStackProps{}
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("trunkctl guard: a read-only Lambda that judges ECS clusters as trunkctl doctor does, " +
			"on a schedule and as container instances register, and notifies an SNS topic when their findings change")
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	gp := props.Guard
	var created awssns.Topic
	var createCond awscdk.CfnCondition
	if props.Code.LambdaCode != nil {
		gp.Code = props.Code.LambdaCode
	}
	if props.Code.FromParameters {
		gp.Code = guardCodeParameters(stack)
		gp.ClustersValue = awscdk.NewCfnParameter(stack, jsii.String(ParamGuardClusters), &awscdk.CfnParameterProps{
			Type:        jsii.String("String"),
			Description: jsii.String("ECS clusters to watch, comma-separated names; empty: every cluster in the Region"),
			Default:     jsii.String(""),
		}).ValueAsString()
		gp.Schedule = awsevents.Schedule_Expression(awscdk.NewCfnParameter(stack, jsii.String(ParamGuardSchedule), &awscdk.CfnParameterProps{
			Type:           jsii.String("String"),
			Description:    jsii.String("How often to sweep every cluster (an EventBridge schedule expression)"),
			Default:        jsii.String(trunking.DefaultGuardSchedule),
			AllowedPattern: jsii.String(`^(rate|cron)\(.+\)$`),
		}).ValueAsString())
		gp.Topic, created, createCond = givenOrCreatedTopic(stack)
	}
	g := trunking.NewTrunkGuard(stack, "TrunkGuard", &gp)
	awscdk.NewCfnOutput(stack, jsii.String("GuardFunctionName"), &awscdk.CfnOutputProps{
		Description: jsii.String("The guard's function (invoke it with a Scheduled Event to sweep now)"),
		Value:       g.Function.FunctionName(),
	})
	if created != nil {
		// Only under the topic's condition: an output may not refer to a
		// resource that may not exist.
		awscdk.NewCfnOutput(stack, jsii.String("CreatedTopicArn"), &awscdk.CfnOutputProps{
			Description: jsii.String("The topic the stack created, which the guard and its alarm notify: subscribe to it"),
			Value:       created.TopicArn(),
			Condition:   createCond,
		})
	} else {
		awscdk.NewCfnOutput(stack, jsii.String("GuardTopicArn"), &awscdk.CfnOutputProps{
			Description: jsii.String("The topic the guard and its alarm notify: subscribe to it"),
			Value:       g.Topic.TopicArn(),
		})
	}
	return stack
}

// guardCodeParameters are the bucket and key of dist/guard.zip.
func guardCodeParameters(stack awscdk.Stack) awslambda.Code {
	bucket := awscdk.NewCfnParameter(stack, jsii.String(ParamLambdaCodeBucket), &awscdk.CfnParameterProps{
		Type:        jsii.String("String"),
		Description: jsii.String("S3 bucket holding the trunkctl guard zip (make package-guard BUCKET=...)"),
		MinLength:   jsii.Number(3),
	})
	key := awscdk.NewCfnParameter(stack, jsii.String(ParamLambdaCodeKey), &awscdk.CfnParameterProps{
		Type:        jsii.String("String"),
		Description: jsii.String("S3 key of the guard zip (dist/guard.zip: bootstrap for provided.al2023, arm64)"),
		MinLength:   jsii.Number(1),
	})
	b := awss3.Bucket_FromBucketName(stack, jsii.String("LambdaCodeBucketRef"), bucket.ValueAsString())
	return awslambda.Code_FromBucket(b, key.ValueAsString(), nil)
}

// givenOrCreatedTopic is the topic TopicArn names, or one the stack creates
// when TopicArn is "create" (a sentinel, not "": a Ref to an empty default
// in the alarm's actions is a lint warning even under Fn::If).
func givenOrCreatedTopic(stack awscdk.Stack) (awssns.ITopic, awssns.Topic, awscdk.CfnCondition) {
	given := awscdk.NewCfnParameter(stack, jsii.String(ParamGuardTopicArn), &awscdk.CfnParameterProps{
		Type:           jsii.String("String"),
		Description:    jsii.String("SNS topic to notify (its ARN), or " + CreateTopicValue + " for a topic the stack creates"),
		Default:        jsii.String(CreateTopicValue),
		AllowedPattern: jsii.String("^(" + CreateTopicValue + "|arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+)$"),
	})
	create := awscdk.NewCfnCondition(stack, jsii.String("CreateTopic"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(given.ValueAsString(), jsii.String(CreateTopicValue)),
	})
	topic := awssns.NewTopic(stack, jsii.String("Topic"), &awssns.TopicProps{
		DisplayName: jsii.String("trunkctl guard"),
		EnforceSSL:  jsii.Bool(true),
	})
	for _, c := range *topic.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if r, ok := c.(awscdk.CfnResource); ok {
			r.CfnOptions().SetCondition(create)
		}
	}
	arn := awscdk.Fn_ConditionIf(create.LogicalId(), topic.TopicArn(), given.ValueAsString()).ToString()
	return awssns.Topic_FromTopicArn(stack, jsii.String("NotifiedTopic"), arn), topic, create
}
