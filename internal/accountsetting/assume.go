package accountsetting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
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
	// IAM, when set, is asked (iam:GetRole) whether a role that cannot be
	// assumed exists: a mistyped name is the commonest cause.
	IAM RoleGetter
	// Policy, when set, is the inline session policy passed with every
	// AssumeRole: the session may do only what both it and the role allow
	// (see SessionPolicy).
	Policy string
}

// SessionPolicy is the inline session policy for acting as a role on one
// account setting: ecs:PutAccountSetting for that setting only (the
// ecs:account-setting condition key) and ecs:ListAccountSettings (which
// supports no condition key). A session assumed with it cannot use the
// rest of an instance role's permissions (image pulls, registering into
// clusters, artifact reads).
func SessionPolicy(setting string) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{"Sid": "PutOneAccountSetting", "Effect": "Allow", "Action": "ecs:PutAccountSetting", "Resource": "*",
				"Condition": map[string]any{"StringEquals": map[string]string{"ecs:account-setting": setting}}},
			{"Sid": "ReadAccountSettings", "Effect": "Allow", "Action": "ecs:ListAccountSettings", "Resource": "*"},
		},
	}
	b, err := json.Marshal(doc)
	if err != nil { // maps of strings always marshal
		panic(err)
	}
	return string(b)
}

// RoleGetter is the IAM call that says whether a role exists.
type RoleGetter interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
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
	if a.Policy != "" {
		in.Policy = aws.String(a.Policy)
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
			return Principal{}, &AssumeDeniedError{Role: role, Attempts: attempt, Waited: spent(), Err: err, RoleExists: a.roleExists(ctx, role)}
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

// roleExists asks IAM whether role exists; nil means IAM did not say
// (no client, or iam:GetRole is not allowed).
func (a Assumer) roleExists(ctx context.Context, role awsarn.Role) *bool {
	if a.IAM == nil {
		return nil
	}
	ok, err := RoleExists(ctx, a.IAM, role)
	if err != nil {
		return nil
	}
	return &ok
}

// RoleExists asks IAM (iam:GetRole) whether role exists: a role of that
// name under another path is not the role named. The error is IAM's, for
// the caller to word (a denied GetRole, a throttle).
func RoleExists(ctx context.Context, c RoleGetter, role awsarn.Role) (bool, error) {
	out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role.Name)})
	switch {
	case err != nil && awserr.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return out.Role == nil || out.Role.Arn == nil || aws.ToString(out.Role.Arn) == role.String(), nil
}

// AssumeDeniedError is AssumeRole refused for longer than IAM takes to propagate.
type AssumeDeniedError struct {
	Role     awsarn.Role
	Attempts int
	Waited   time.Duration
	Err      error
	// RoleExists is what iam:GetRole said, nil when it could not be asked.
	RoleExists *bool
}

func (e *AssumeDeniedError) Error() string {
	head := fmt.Sprintf("assume role %s: access denied after %d attempt(s) over %s: %s",
		e.Role, e.Attempts, e.Waited.Round(time.Millisecond), awserr.Message(e.Err))
	switch {
	case e.RoleExists == nil:
		return head + "; check that the role exists (a mistyped name is the commonest cause), that its trust policy allows this caller, and that the caller may call sts:AssumeRole on it"
	case !*e.RoleExists:
		return head + fmt.Sprintf("; the role %s does not exist in account %s: check the name (aws iam list-roles --query 'Roles[].RoleName')", e.Role.Name, e.Role.AccountID)
	default:
		return head + "; the role exists, so its trust policy must allow this caller, and the caller must be allowed sts:AssumeRole on it"
	}
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
// with principalArn, as the role itself, with principalArn where ECS lets the
// caller name the role, or by assuming it.
type Resolver struct {
	STS     STSAPI
	ECS     ECSAPI // the caller's own ECS client
	Assumer Assumer
	// PrincipalArnFirst makes a caller that is neither root nor the role try
	// principalArn before assuming the role (the developer guide's rule lets
	// an administrator name any principal; the API reference's does not).
	PrincipalArnFirst bool
	// Setting is the setting the principalArn probe lists (awsvpcTrunking
	// when empty); IAM policies may allow the call for one setting only.
	Setting string
	// NoAssume never assumes a role: where ECS refuses principalArn the
	// role's setting is a *NotAssumedError (the read-only guard).
	NoAssume bool
}

// NotAssumedError says a role's setting was not read because ECS refused
// principalArn and the resolver does not assume roles.
type NotAssumedError struct {
	Role awsarn.Role
	Err  error
}

func (e *NotAssumedError) Error() string {
	return fmt.Sprintf("ECS refused principalArn for %s and this reader does not assume instance roles (%s); check it with: trunkctl status --role %s", e.Role, awserr.Message(e.Err), e.Role)
}

func (e *NotAssumedError) Unwrap() error { return e.Err }

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
	p, err := r.ActAs(ctx, role)
	if err != nil {
		var denied *AssumeDeniedError
		if errors.As(err, &denied) {
			return Principal{}, &NoAccessError{Role: role, CallerArn: callerArn, Err: err}
		}
		return Principal{}, err
	}
	return p, nil
}

// ActAs returns a Principal for a role the caller is neither root of nor a
// session of: with principalArn when PrincipalArnFirst is set and ECS
// accepts it (a ListAccountSettings probe), else by assuming the role. A
// later refusal of principalArn (a write IAM does not allow) assumes the
// role then.
func (r Resolver) ActAs(ctx context.Context, role awsarn.Role) (Principal, error) {
	if r.PrincipalArnFirst && r.ECS != nil {
		setting := r.Setting
		if setting == "" {
			setting = AWSVPCTrunking
		}
		out, err := r.ECS.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{
			Name: types.SettingName(setting), PrincipalArn: aws.String(role.String()), EffectiveSettings: true,
		})
		switch {
		case err == nil:
			// The probe asked what the first read of this setting asks: that
			// read takes its answer instead of asking ECS again.
			pr := &probe{name: setting}
			for _, st := range out.Settings {
				if string(st.Name) == setting {
					pr.s, pr.found = st, true
					break
				}
			}
			return Principal{Role: role, Mode: AsPrincipalArn, ECS: r.ECS, probe: pr,
				fallback: &fallback{assume: func(ctx context.Context) (Principal, error) { return r.Assumer.Assume(ctx, role) }}}, nil
		case !IsPrincipalArnRefused(err):
			return Principal{}, fmt.Errorf("list account settings %s for %s: %w", setting, role, err)
		case r.NoAssume:
			return Principal{}, &NotAssumedError{Role: role, Err: err}
		}
	}
	if r.NoAssume {
		return Principal{}, &NotAssumedError{Role: role, Err: errors.New("principalArn not tried")}
	}
	return r.Assumer.Assume(ctx, role)
}

// NoAccessError says the caller can act as the role in none of the three ways.
type NoAccessError struct {
	Role      awsarn.Role
	CallerArn string
	Err       error
}

func (e *NoAccessError) Error() string {
	hint := " Check that the role exists: a mistyped name is the commonest cause."
	var denied *AssumeDeniedError
	if errors.As(e.Err, &denied) && denied.RoleExists != nil {
		if *denied.RoleExists {
			hint = " The role exists, so its trust policy does not allow this caller."
		} else {
			hint = fmt.Sprintf(" The role %s does not exist in account %s: check the name (aws iam list-roles --query 'Roles[].RoleName').", e.Role.Name, e.Role.AccountID)
		}
	}
	return fmt.Sprintf("cannot act as %s: caller %s is not the account root, not a session of that role, and could not assume it (%s).%s "+
		"ECS reads and writes a role's settings for the root user or the role itself (and, per the ECS developer guide, for an administrator passing principalArn): "+
		"run with root credentials, with credentials of the role, or as a principal the role's trust policy allows to sts:AssumeRole",
		e.Role, e.CallerArn, awserr.Message(e.Err), hint)
}

func (e *NoAccessError) Unwrap() error { return e.Err }

// OnceCaller is an STS client that asks sts:GetCallerIdentity once: the
// caller does not change within a run, and several reads (the judge's
// input, the roles' settings) each need it. A failed call is not kept, so
// the next caller asks again. Other calls (AssumeRole) pass through.
type OnceCaller struct {
	STSAPI
	mu  sync.Mutex
	out *sts.GetCallerIdentityOutput
}

// GetCallerIdentity answers from the first successful call.
func (c *OnceCaller) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.out != nil {
		return c.out, nil
	}
	out, err := c.STSAPI.GetCallerIdentity(ctx, in, optFns...)
	if err != nil {
		return nil, err
	}
	c.out = out
	return out, nil
}
