// Package awsclient loads the AWS configuration trunkctl's commands use: the
// standard chain (AWS_* variables, shared config and credentials files,
// AWS_ENDPOINT_URL and per-service endpoint variables), an optional profile
// and Region, the SDK's adaptive retryer, and request logging on demand.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
)

// MaxAttempts bounds how often one call is tried; the adaptive retryer also
// slows the whole client down when AWS throttles.
const MaxAttempts = 8

// Options select the profile and Region and whether to log requests.
type Options struct {
	Profile string
	Region  string
	// Debug logs every request and response (headers, not bodies) to DebugOut.
	Debug    bool
	DebugOut io.Writer
}

// ErrNoRegion means no Region came from the flags, environment or profile.
var ErrNoRegion = errors.New("no AWS Region: pass --region, set AWS_REGION, or set region in your profile")

// Load builds an aws.Config from the standard sources plus opts.
func Load(ctx context.Context, opts Options) (aws.Config, error) {
	fns := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
				o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
					so.MaxAttempts = MaxAttempts
					so.MaxBackoff = 10 * time.Second
				})
			})
		}),
	}
	if opts.Profile != "" {
		fns = append(fns, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		fns = append(fns, config.WithRegion(opts.Region))
	}
	if opts.Debug && opts.DebugOut != nil {
		fns = append(fns,
			config.WithLogger(logging.NewStandardLogger(opts.DebugOut)),
			config.WithClientLogMode(aws.LogRequest|aws.LogResponse|aws.LogRetries))
	}
	cfg, err := config.LoadDefaultConfig(ctx, fns...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, ErrNoRegion
	}
	return cfg, nil
}

// Clients are the service clients trunkctl calls, built from one config.
type Clients struct {
	Config aws.Config
	ECS    *ecs.Client
	EC2    *ec2.Client
	IAM    *iam.Client
	STS    *sts.Client
	// AutoScaling serves trunkctl rollout.
	AutoScaling *autoscaling.Client
}

// New builds the service clients from cfg. Endpoints come from cfg
// (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_ECS, ...), so tests can point them at
// a local server.
func New(cfg aws.Config) *Clients {
	return &Clients{
		Config: cfg,
		ECS:    ecs.NewFromConfig(cfg),
		EC2:    ec2.NewFromConfig(cfg),
		IAM:    iam.NewFromConfig(cfg),
		STS:    sts.NewFromConfig(cfg),
		// AutoScaling serves trunkctl rollout.
		AutoScaling: autoscaling.NewFromConfig(cfg),
	}
}
