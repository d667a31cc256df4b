// Package stacks holds the stacks this repository deploys (EniTrunkingStack,
// TrunkClusterStack), the settings of the app that synthesizes them, and the
// variants written to templates/ for people who do not use the CDK.
package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Stack ids: also the stack names `cdk deploy` uses.
const (
	EniTrunkingStackID  = "EniTrunkingStack"
	TrunkClusterStackID = "TrunkClusterStack"
)

// Template parameters that name the Lambda zip uploaded by `make package`.
const (
	ParamLambdaCodeBucket = "LambdaCodeBucket"
	ParamLambdaCodeKey    = "LambdaCodeKey"
	// ParamOnDelete is eni-trunking.yaml's choice of trunking.OnDelete.
	ParamOnDelete = "OnDelete"
	// The hostbootstrap binary of trunk-cluster-al2023.yaml.
	ParamHostBootstrapBucket = "HostBootstrapBucket"
	ParamHostBootstrapKey    = "HostBootstrapKey"
	// ParamHostBootstrapSha256 is the binary's SHA-256, checked by user data.
	ParamHostBootstrapSha256 = "HostBootstrapSha256"
)

// FeatureFlags are the CDK feature flags the app sets. They live here, not in
// cdk.json, so that `cdk synth`, `make templates` and the tests agree. The
// flags below change the templates on purpose; every other flag the CDK
// would report as not configured is pinned to its unset behaviour
// (pinnedFeatureFlags).
func FeatureFlags() map[string]interface{} {
	flags := pinnedFeatureFlags()
	for k, v := range map[string]interface{}{
		// Instances block task access to IMDS by hop limit 1 and
		// ECS_AWSVPC_BLOCK_IMDS; the CDK's deprecated iptables lines in user
		// data are not wanted.
		"@aws-cdk/aws-ecs:disableEcsImdsBlocking": true,
		"@aws-cdk/aws-iam:minimizePolicies":       true,
		"@aws-cdk/core:enablePartitionLiterals":   true,
	} {
		flags[k] = v
	}
	return flags
}

// NewApp returns an app with the feature flags added to props' context.
func NewApp(props *awscdk.AppProps) awscdk.App {
	p := awscdk.AppProps{}
	if props != nil {
		p = *props
	}
	ctx := FeatureFlags()
	if p.Context != nil {
		for k, v := range *p.Context {
			ctx[k] = v
		}
	}
	p.Context = &ctx
	return awscdk.NewApp(&p)
}

// AddNagChecks runs cdk-nag's AwsSolutions pack on everything under scope;
// findings that are not suppressed (each suppression with its reason) are
// synth errors.
func AddNagChecks(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// CodeOptions says where a stack's Lambda code comes from.
type CodeOptions struct {
	// LambdaCode is used as is when set (tests pass a fake asset).
	LambdaCode awslambda.Code
	// FromParameters makes the stack take the code's bucket and key as
	// CloudFormation parameters (the templates/ variant, no CDK bootstrap).
	// Otherwise the code is built from ./lambda at synth.
	FromParameters bool
}

func (o CodeOptions) code(stack awscdk.Stack) awslambda.Code {
	if o.LambdaCode != nil {
		return o.LambdaCode
	}
	if !o.FromParameters {
		return nil // the construct builds ./lambda
	}
	bucket := awscdk.NewCfnParameter(stack, jsii.String(ParamLambdaCodeBucket), &awscdk.CfnParameterProps{
		Type:        jsii.String("String"),
		Description: jsii.String("S3 bucket holding the trunkctl custom-resource Lambda zip (make package BUCKET=...)"),
		MinLength:   jsii.Number(3),
	})
	key := awscdk.NewCfnParameter(stack, jsii.String(ParamLambdaCodeKey), &awscdk.CfnParameterProps{
		Type:        jsii.String("String"),
		Description: jsii.String("S3 key of the Lambda zip (dist/lambda.zip: bootstrap for provided.al2023, arm64)"),
		MinLength:   jsii.Number(1),
	})
	b := awss3.Bucket_FromBucketName(stack, jsii.String("LambdaCodeBucketRef"), bucket.ValueAsString())
	return awslambda.Code_FromBucket(b, key.ValueAsString(), nil)
}
