package accountsetting

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/awserr"
	"github.com/trunkctl/trunkctl/internal/retry"
)

// ECSFactory returns an ECS client that signs with the given credentials.
type ECSFactory func(aws.CredentialsProvider) ECSAPI

// NewECSFactory builds ECS clients from cfg (Region, endpoint, retryer, HTTP
// client) with other credentials, as needed after AssumeRole.
func NewECSFactory(cfg aws.Config, optFns ...func(*ecs.Options)) ECSFactory {
	return func(creds aws.CredentialsProvider) ECSAPI {
		fns := append([]func(*ecs.Options){func(o *ecs.Options) { o.Credentials = aws.NewCredentialsCache(creds) }}, optFns...)
		return ecs.NewFromConfig(cfg, fns...)
	}
}

// Assumer assumes a role and returns a Principal that acts as it.
type Assumer struct {
	STS    STSAPI
	NewECS ECSFactory
	// SessionName identifies the caller in the role's CloudTrail entries.
	SessionName string
	// PropagationWait bounds how long AccessDenied from AssumeRole is retried:
	// a role or trust policy created seconds ago is often not assumable yet.
	// Zero means no retry.
	PropagationWait time.Duration
	// MaxBackoff caps one wait between attempts (default 5s).
	MaxBackoff time.Duration
	// Sleep waits d or until ctx is done; tests replace it. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry, when set, hears each AccessDenied that will be retried.
	OnRetry func(attempt int, wait time.Duration, err error)
}

// Assume calls sts:AssumeRole for role, retrying AccessDenied for up to
// PropagationWait, and returns a Principal whose calls are made as the role.
func (a Assumer) Assume(ctx context.Context, role awsarn.Role) (Principal, error) {
	name := a.SessionName
	if name == "" {
		name = "trunkctl"
	}
	maxBackoff := a.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = 5 * time.Second
	}
	sleep := a.Sleep
	if sleep == nil {
		sleep = retry.Sleep
	}
	backoff := retry.Backoff{Base: time.Second, Max: maxBackoff}
	start := time.Now()
	var waited time.Duration // the sum of backoffs, which bounds the loop even when Sleep is faked
	spent := func() time.Duration { return max(waited, time.Since(start)) }
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(role.String()),
		RoleSessionName: aws.String(SessionName(name)),
		DurationSeconds: aws.Int32(900),
	}
	for attempt := 1; ; attempt++ {
		out, err := a.STS.AssumeRole(ctx, in)
		if err == nil {
			if out.Credentials == nil {
				return Principal{}, fmt.Errorf("assume role %s: STS returned no credentials", role)
			}
			c := out.Credentials
			creds := credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
			return Principal{Role: role, Mode: AsAssumedRole, ECS: a.NewECS(creds)}, nil
		}
		if !awserr.IsAccessDenied(err) {
			return Principal{}, fmt.Errorf("assume role %s: %w", role, err)
		}
		wait := backoff.Delay(attempt)
		if spent()+wait > a.PropagationWait {
			return Principal{}, &AssumeDeniedError{Role: role, Attempts: attempt, Waited: spent(), Err: err}
		}
		if a.OnRetry != nil {
			a.OnRetry(attempt, wait, err)
		}
		waited += wait
		if err := sleep(ctx, wait); err != nil {
			return Principal{}, fmt.Errorf("assume role %s: gave up waiting for IAM after %d attempts: %w", role, attempt, err)
		}
	}
}

// AssumeDeniedError is AssumeRole refused for longer than IAM takes to propagate.
type AssumeDeniedError struct {
	Role     awsarn.Role
	Attempts int
	Waited   time.Duration
	Err      error
}

func (e *AssumeDeniedError) Error() string {
	return fmt.Sprintf("assume role %s: access denied after %d attempt(s) over %s: %s; check that the role exists and its trust policy allows this caller, and that the caller may call sts:AssumeRole on it",
		e.Role, e.Attempts, e.Waited.Round(time.Millisecond), awserr.Message(e.Err))
}

func (e *AssumeDeniedError) Unwrap() error { return e.Err }

// SessionName turns s into a valid STS role session name (2-64 characters of
// letters, digits and _+=,.@-), replacing each run of other characters (or
// bytes of other runes) with one "-".
func SessionName(s string) string {
	b := make([]byte, 0, len(s))
	inRun := false
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_+=,.@-", c) >= 0
		switch {
		case ok:
			b = append(b, c)
		case !inRun:
			b = append(b, '-')
		}
		inRun = !ok
	}
	if len(b) > 64 {
		b = b[:64]
	}
	for len(b) < 2 {
		b = append(b, '-')
	}
	return string(b)
}

// Resolver finds the way to act as a role for the current caller: as root
// with principalArn, as the role itself, or by assuming it.
type Resolver struct {
	STS     STSAPI
	ECS     ECSAPI // the caller's own ECS client
	Assumer Assumer
}

// Caller returns who the current credentials belong to.
func (r Resolver) Caller(ctx context.Context) (awsarn.Principal, string, error) {
	out, err := r.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return awsarn.Principal{}, "", fmt.Errorf("get caller identity: %w", err)
	}
	arn := aws.ToString(out.Arn)
	p, err := awsarn.ParsePrincipal(arn)
	if err != nil {
		return awsarn.Principal{}, arn, fmt.Errorf("get caller identity: %w", err)
	}
	return p, arn, nil
}

// ModeFor says how caller would act as role, without calling anything:
// as root, as itself, or (for everyone else) by assuming the role.
func ModeFor(caller awsarn.Principal, role awsarn.Role) Mode {
	switch {
	case caller.Kind == awsarn.KindRoot && caller.AccountID == role.AccountID:
		return AsRoot
	case caller.IsRole(role):
		return AsSelf
	default:
		return AsAssumedRole
	}
}

// Resolve returns a Principal for role given the caller from Caller.
func (r Resolver) Resolve(ctx context.Context, caller awsarn.Principal, callerArn string, role awsarn.Role) (Principal, error) {
	if m := ModeFor(caller, role); m != AsAssumedRole {
		return Principal{Role: role, Mode: m, ECS: r.ECS}, nil
	}
	p, err := r.Assumer.Assume(ctx, role)
	if err != nil {
		var denied *AssumeDeniedError
		if errors.As(err, &denied) {
			return Principal{}, &NoAccessError{Role: role, CallerArn: callerArn, Err: err}
		}
		return Principal{}, err
	}
	return p, nil
}

// NoAccessError says the caller can act as the role in none of the three ways.
type NoAccessError struct {
	Role      awsarn.Role
	CallerArn string
	Err       error
}

func (e *NoAccessError) Error() string {
	return fmt.Sprintf("cannot act as %s: caller %s is not the account root, not a session of that role, and could not assume it (%s). "+
		"ECS reads and writes a role's settings only for the root user or the role itself: run with root credentials, "+
		"with credentials of the role, or as a principal the role's trust policy allows to sts:AssumeRole",
		e.Role, e.CallerArn, awserr.Message(e.Err))
}

func (e *NoAccessError) Unwrap() error { return e.Err }
