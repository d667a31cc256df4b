package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Progress hears what the clients are waiting for; the CLI's spinner
// implements it. Calls come from the goroutine making the AWS call.
type Progress interface {
	Retrying(RetryEvent)
}

// RetryEvent is one retry about to be sent.
type RetryEvent struct {
	Service   string // e.g. "ECS"
	Operation string // e.g. "DescribeContainerInstances"
	Endpoint  string // scheme://host[:port] of the previous attempt
	// Attempt is the attempt about to start (2 for the first retry).
	Attempt     int
	MaxAttempts int
	// Err is why the previous attempt failed, with secrets redacted.
	Err string
}

// String is the line a spinner shows.
func (e RetryEvent) String() string {
	return fmt.Sprintf("retrying %s %s (attempt %d of %d): %s", e.Service, e.Operation, e.Attempt, e.MaxAttempts, e.Err)
}

// EndpointError is a call that never got an answer from its endpoint: the
// connection was refused or reset, the name did not resolve, or no response
// came within the per-attempt timeout, on every attempt.
type EndpointError struct {
	Service   string
	Operation string
	Endpoint  string
	Attempts  int
	Err       error
}

func (e *EndpointError) Error() string {
	endpoint := e.Endpoint
	if endpoint == "" {
		endpoint = "its endpoint"
	}
	return fmt.Sprintf("no answer from %s after %d attempt(s): %s. "+
		"Check the network and any proxy (HTTPS_PROXY), the Region, and AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_%s if set; "+
		"AWS_MAX_ATTEMPTS sets how often a call is tried",
		endpoint, e.Attempts, rootCause(e.Err), envSuffix(e.Service))
}

func (e *EndpointError) Unwrap() error { return e.Err }

// rootCause is the innermost error's text, which for a network failure is
// the useful part ("connect: connection refused").
func rootCause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out waiting for a response (" + ne.Error() + ")"
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

func envSuffix(service string) string {
	return strings.ToUpper(strings.ReplaceAll(service, " ", "_"))
}

// isUnreachable reports whether err means the endpoint never answered.
func isUnreachable(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	if (retry.NoRetryCanceledError{}).IsErrorRetryable(err) == aws.FalseTernary {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return (retry.RetryableConnectionError{}).IsErrorRetryable(err) == aws.TrueTernary
}

// wiring is the middleware every client of one configuration shares.
type wiring struct {
	red         *Redactor
	progress    Progress
	maxAttempts int
}

// call is what the per-attempt middleware learns about one operation call.
type call struct {
	mu       sync.Mutex
	attempts int
	endpoint string
	lastErr  error
}

type callKey struct{}

func (w *wiring) addTo(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("trunkctl.Call", w.handleCall), middleware.Before); err != nil {
		return err
	}
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("trunkctl.Attempt", w.handleAttempt), middleware.After)
}

// handleCall wraps one operation: it records STS credentials for redaction,
// names the endpoint of a call that never got an answer, and redacts errors.
func (w *wiring) handleCall(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	c := &call{}
	ctx = middleware.WithStackValue(ctx, callKey{}, c)
	out, md, err := next.HandleInitialize(ctx, in)
	if err == nil {
		w.capture(out.Result)
		return out, md, nil
	}
	c.mu.Lock()
	attempts, endpoint := c.attempts, c.endpoint
	c.mu.Unlock()
	if ctx.Err() == nil && attempts > 0 && isUnreachable(err) {
		err = &EndpointError{
			Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx),
			Endpoint: endpoint, Attempts: attempts, Err: err,
		}
	}
	return out, md, &redactedError{r: w.red, err: err}
}

// handleAttempt runs once per attempt, just before the request is sent.
func (w *wiring) handleAttempt(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	c, _ := middleware.GetStackValue(ctx, callKey{}).(*call)
	if c == nil {
		return next.HandleDeserialize(ctx, in)
	}
	endpoint := ""
	if req, ok := in.Request.(*smithyhttp.Request); ok && req.URL != nil {
		endpoint = req.URL.Scheme + "://" + req.URL.Host
	}
	c.mu.Lock()
	c.attempts++
	attempt, lastErr := c.attempts, c.lastErr
	c.endpoint = endpoint
	c.mu.Unlock()
	if attempt > 1 && w.progress != nil {
		ev := RetryEvent{
			Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx),
			Endpoint: endpoint, Attempt: attempt, MaxAttempts: w.maxAttempts,
		}
		if lastErr != nil {
			ev.Err = w.red.Redact(rootCause(lastErr))
		} else {
			ev.Err = "the previous attempt failed"
		}
		w.progress.Retrying(ev)
	}
	out, md, err := next.HandleDeserialize(ctx, in)
	c.mu.Lock()
	c.lastErr = err
	if err == nil {
		// An error answer (5xx, throttling) is retried without a Go error here;
		// the status says why.
		if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.StatusCode >= 400 {
			c.lastErr = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
	}
	c.mu.Unlock()
	return out, md, err
}

// capture registers the secrets of credentials STS returns.
func (w *wiring) capture(result any) {
	var creds *ststypes.Credentials
	switch r := result.(type) {
	case *sts.AssumeRoleOutput:
		creds = r.Credentials
	case *sts.AssumeRoleWithWebIdentityOutput:
		creds = r.Credentials
	case *sts.AssumeRoleWithSAMLOutput:
		creds = r.Credentials
	case *sts.GetSessionTokenOutput:
		creds = r.Credentials
	case *sts.GetFederationTokenOutput:
		creds = r.Credentials
	}
	if creds != nil {
		w.red.Add(aws.ToString(creds.SecretAccessKey), aws.ToString(creds.SessionToken))
	}
}
