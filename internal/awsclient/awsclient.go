// Package awsclient loads the AWS configuration trunkctl's commands use: the
// standard chain (AWS_* variables, shared config and credentials files,
// AWS_ENDPOINT_URL and per-service endpoint variables), an optional profile
// and Region, the SDK's retryer as AWS_MAX_ATTEMPTS / AWS_RETRY_MODE or the
// profile set it, a per-attempt timeout, retry reports, and request logging
// with every secret redacted.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
)

const (
	// DefaultMaxAttempts bounds how often one call is tried when neither
	// AWS_MAX_ATTEMPTS nor the profile's max_attempts says otherwise.
	DefaultMaxAttempts = 5
	// MaxBackoff caps one wait between attempts, so a dead endpoint fails in
	// seconds; adaptive mode still slows the client down when AWS throttles.
	MaxBackoff = 2 * time.Second
	// DefaultAttemptTimeout bounds one attempt's wait for response headers: a
	// hung connection is abandoned and retried instead of using the whole run.
	DefaultAttemptTimeout = 20 * time.Second
	// dialTimeout bounds connecting (TCP and TLS) to an endpoint.
	dialTimeout = 5 * time.Second
)

// Options select the profile and Region, logging, and how calls wait.
type Options struct {
	Profile string
	Region  string
	// Debug logs every request and response, headers and bodies, to
	// DebugOut, with secrets redacted.
	Debug    bool
	DebugOut io.Writer
	// AttemptTimeout bounds one attempt (DefaultAttemptTimeout when zero).
	AttemptTimeout time.Duration
	// Progress, when set, hears each retry as it starts.
	Progress Progress
	// Redactor collects the secrets this configuration signs with and that
	// STS returns; pass one to redact errors at the edge with the same set.
	// Load makes its own when nil.
	Redactor *Redactor
}

// ErrNoRegion means no Region came from the flags, environment or profile.
var ErrNoRegion = errors.New("no AWS Region: pass --region, set AWS_REGION, or set region in your profile")

// Load builds an aws.Config from the standard sources plus opts.
func Load(ctx context.Context, opts Options) (aws.Config, error) {
	red := opts.Redactor
	if red == nil {
		red = &Redactor{}
	}
	attempt := opts.AttemptTimeout
	if attempt <= 0 {
		attempt = DefaultAttemptTimeout
	}
	// No config.WithRetryer: that would make the SDK skip AWS_MAX_ATTEMPTS,
	// AWS_RETRY_MODE and the profile's max_attempts and retry_mode; the
	// retryer is built below from what the SDK loaded.
	fns := []func(*config.LoadOptions) error{
		config.WithHTTPClient(HTTPClient(attempt)),
	}
	if opts.Profile != "" {
		fns = append(fns, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		fns = append(fns, config.WithRegion(opts.Region))
	}
	// Nothing logs while the configuration and credentials load: the SDK's
	// default logger writes its warnings to stderr (e.g. "WARN falling back
	// to IMDSv1" off EC2), and with --debug the credential clients (SSO
	// OIDC, the SSO portal, IMDS, STS) would log tokens. --debug is attached
	// to the service clients below, once the credentials are resolved.
	fns = append(fns, config.WithLogger(logging.Nop{}))
	cfg, err := config.LoadDefaultConfig(ctx, fns...)
	if err != nil {
		return aws.Config{}, &redactedError{r: red, err: fmt.Errorf("load AWS configuration: %w", err)}
	}
	if cfg.Region == "" {
		return aws.Config{}, ErrNoRegion
	}
	maxAttempts := cfg.RetryMaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	cfg.Retryer = newRetryer(cfg.RetryMode, maxAttempts)
	if cfg.Credentials != nil {
		cfg.Credentials = capturingProvider{red: red, next: cfg.Credentials}
	}
	w := &wiring{red: red, progress: opts.Progress, maxAttempts: maxAttempts}
	cfg.APIOptions = append(cfg.APIOptions, w.addTo)
	if opts.Debug && opts.DebugOut != nil {
		// Only now: the clients that obtain credentials (SSO OIDC and the
		// portal, IMDS, STS for web identity or a profile's role) were built
		// while loading, from the configuration without logging, so they never
		// log; only the service clients made from cfg do.
		cfg.Logger = redactingLogger{red: red, next: logging.NewStandardLogger(opts.DebugOut)}
		cfg.ClientLogMode = aws.LogRequestWithBody | aws.LogResponseWithBody | aws.LogRetries
	}
	return cfg, nil
}

// newRetryer returns the retryer for mode (adaptive unless the environment or
// profile chose standard), with maxAttempts and MaxBackoff.
func newRetryer(mode aws.RetryMode, maxAttempts int) func() aws.Retryer {
	std := func(so *retry.StandardOptions) {
		so.MaxAttempts = maxAttempts
		so.MaxBackoff = MaxBackoff
	}
	if mode == aws.RetryModeStandard {
		return func() aws.Retryer { return retry.NewStandard(std) }
	}
	return func() aws.Retryer {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, std)
		})
	}
}

// HTTPClient is the SDK's HTTP client with bounded connects and a bounded
// wait for response headers per attempt; a timed-out attempt is a retryable
// error to the SDK's retryer.
func HTTPClient(attempt time.Duration) *awshttp.BuildableClient {
	dial := min(dialTimeout, attempt)
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dial }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = dial
			t.ResponseHeaderTimeout = attempt
		})
}

// capturingProvider registers every credential it hands out with the
// redactor, so the secret key and session token can never be printed.
type capturingProvider struct {
	red  *Redactor
	next aws.CredentialsProvider
}

func (p capturingProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.next.Retrieve(ctx)
	if err != nil {
		return c, &CredentialsError{Err: &redactedError{r: p.red, err: err}}
	}
	p.red.Add(c.SecretAccessKey, c.SessionToken)
	return c, nil
}

// CredentialsError is no usable credentials: none found, or a source
// (an SSO session, a role chain) that could not give them.
type CredentialsError struct{ Err error }

func (e *CredentialsError) Error() string { return "get AWS credentials: " + e.Err.Error() }
func (e *CredentialsError) Unwrap() error { return e.Err }

// redactingLogger is the SDK logger with secrets removed from every entry.
type redactingLogger struct {
	red  *Redactor
	next logging.Logger
}

func (l redactingLogger) Logf(c logging.Classification, format string, v ...any) {
	l.next.Logf(c, "%s", l.red.Redact(fmt.Sprintf(format, v...)))
}

// Clients are the service clients trunkctl calls, built from one config.
type Clients struct {
	Config aws.Config
	ECS    *ecs.Client
	EC2    *ec2.Client
	IAM    *iam.Client
	STS    *sts.Client
	// AutoScaling serves trunkctl rollout and the doctor's capacity checks.
	AutoScaling *autoscaling.Client
	// CloudTrail tells the doctor when roles were opted in.
	CloudTrail *cloudtrail.Client
}

// New builds the service clients from cfg. Endpoints come from cfg
// (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_ECS, ...), so tests can point them at
// a local server.
func New(cfg aws.Config) *Clients {
	return &Clients{
		Config:      cfg,
		ECS:         ecs.NewFromConfig(cfg),
		EC2:         ec2.NewFromConfig(cfg),
		IAM:         iam.NewFromConfig(cfg),
		STS:         sts.NewFromConfig(cfg),
		AutoScaling: autoscaling.NewFromConfig(cfg),
		CloudTrail:  cloudtrail.NewFromConfig(cfg),
	}
}
