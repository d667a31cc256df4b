package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// OrgArtifactBucketStackID is the stack of templates/org/artifact-bucket.yaml.
const OrgArtifactBucketStackID = "OrgArtifactBucketStack"

// ParamOrganizationID is the artifact bucket template's organization id
// (o-...), whose accounts may read the bucket.
const ParamOrganizationID = "OrganizationId"

// OrgArtifactBucketStackProps configures OrgArtifactBucketStack.
type OrgArtifactBucketStackProps struct {
	awscdk.StackProps
}

// NewOrgArtifactBucketStack is one Region's artifact bucket, in the
// management or delegated administrator account: BucketPrefix-REGION, from
// which the member stacks of that Region read the Lambda zip (a function's
// code must come from a bucket in its own Region). Every principal of the
// organization may read objects (aws:PrincipalOrgID), nobody outside it; the
// bucket is versioned, encrypted (SSE-S3, which readers in other accounts
// need no key grant for), TLS-only and blocks public access. Deploy it once
// per Region.
func NewOrgArtifactBucketStack(scope constructs.Construct, id string, props *OrgArtifactBucketStackProps) awscdk.Stack {
	if props == nil {
		props = &OrgArtifactBucketStackProps{}
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("trunkctl: this Region's artifact bucket (BUCKET_PREFIX-REGION) holding the opt-in Lambda zip " +
			"for the organization's StackSet; readable by the organization only")
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	prefix := bucketPrefixParameter(stack, "Bucket name prefix; the bucket is BUCKET_PREFIX-REGION (the member template's BucketPrefix)")
	org := awscdk.NewCfnParameter(stack, jsii.String(ParamOrganizationID), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Description:           jsii.String("AWS Organizations id (o-...): its accounts may read the bucket's objects"),
		AllowedPattern:        jsii.String("^o-[a-z0-9]{10,32}$"),
		ConstraintDescription: jsii.String("an organization id, o- then 10 to 32 lower-case letters or digits"),
	})
	bucket := awss3.NewBucket(stack, jsii.String("ArtifactBucket"), &awss3.BucketProps{
		BucketName:        awscdk.Fn_Join(jsii.String("-"), jsii.Strings(*prefix.ValueAsString(), *awscdk.Aws_REGION())),
		Versioned:         jsii.Bool(true),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		// Stacks in member accounts read these objects on every update:
		// deleting this stack must not delete them.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                          jsii.String("ExpireOldVersions"),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(90)),
		}},
	})
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OrganizationReadsArtifacts"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
		Resources:  jsii.Strings(*bucket.ArnForObjects(jsii.String("*"))),
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:PrincipalOrgID": org.ValueAsString()}},
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(bucket, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("holds only the opt-in Lambda's zip, which member stacks pin by object version (LambdaCodeVersion); " +
			"the policy admits only the organization's principals, over TLS, to read. Access logs would need a second bucket " +
			"per Region; reads are not logged unless S3 data events are enabled in CloudTrail, which this template does not do"),
	}}, jsii.Bool(false))
	awscdk.NewCfnOutput(stack, jsii.String("BucketName"), &awscdk.CfnOutputProps{
		Description: jsii.String("This Region's artifact bucket (make package-org uploads to it)"),
		Value:       bucket.BucketName(),
	})
	return stack
}
