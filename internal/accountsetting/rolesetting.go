package accountsetting

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/awsarn"
)

// Caller is who a session's credentials belong to, asked once per session.
type Caller struct {
	Principal awsarn.Principal
	// Arn is the ARN STS returned (an assumed-role session's ARN, for one).
	Arn string
}

// RoleSetting is one role's effective setting as trunkctl read (or wrote)
// it: the one type for "a role's setting" that status, enable, the judge,
// rollout and the fleet rows share. Its JSON is a contract:
// {"roleArn","setting","effectiveValue","source","via","error"}.
type RoleSetting struct {
	RoleArn        string `json:"roleArn"`
	Setting        string `json:"setting"`
	EffectiveValue string `json:"effectiveValue"`
	Source         Source `json:"source"`
	// Via says how trunkctl reached it: root, self, principal-arn or assume-role.
	Via Mode `json:"via,omitempty"`
	// Error is Err's text; Err is kept for the judge and for errors.As.
	Error string `json:"error,omitempty"`
	Err   error  `json:"-"`
	// Mismatch is set when a write read back another value than it wrote.
	Mismatch *MismatchError `json:"-"`
}

// Is reports whether the setting was read and has the value.
func (s RoleSetting) Is(value string) bool { return s.Err == nil && s.EffectiveValue == value }

func (s *RoleSetting) fail(err error) {
	s.Err, s.Error = err, err.Error()
}

// IdentityAPI is the STS call that says who the caller is.
type IdentityAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// WhoAmI asks STS who the caller is: the one place that does, for a
// session's role settings and for a fan-out alike.
func WhoAmI(ctx context.Context, api IdentityAPI) (Caller, error) {
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Caller{}, fmt.Errorf("get caller identity: %w", err)
	}
	arn := aws.ToString(out.Arn)
	p, err := awsarn.ParsePrincipal(arn)
	if err != nil {
		return Caller{Arn: arn}, fmt.Errorf("get caller identity: %w", err)
	}
	return Caller{Principal: p, Arn: arn}, nil
}

// Account is the caller's account id.
func (c Caller) Account() string { return c.Principal.AccountID }

// Who returns the caller of the resolver's credentials.
func (r Resolver) Who(ctx context.Context) (Caller, error) { return WhoAmI(ctx, r.STS) }

// Read reads the effective value of setting for role, as the caller may.
func (r Resolver) Read(ctx context.Context, c Caller, role awsarn.Role, setting string) RoleSetting {
	st := RoleSetting{RoleArn: role.String(), Setting: setting}
	p, err := r.Resolve(ctx, c.Principal, c.Arn, role)
	if err == nil {
		var s Setting
		s, err = p.Effective(ctx, setting)
		st.EffectiveValue, st.Source, st.Via = s.Value, s.Source, p.Via()
	}
	if err != nil {
		st.fail(err)
	}
	return st
}

// ReadAll reads setting for every role, one after another (clusters have
// few instance roles).
func (r Resolver) ReadAll(ctx context.Context, c Caller, roles []awsarn.Role, setting string) []RoleSetting {
	out := make([]RoleSetting, 0, len(roles))
	for _, role := range roles {
		out = append(out, r.Read(ctx, c, role, setting))
	}
	return out
}

// OptIn is the one opt-in: it puts setting=value as the role and reads it
// back. `trunkctl enable`, `disable` and `rollout` all call it. A value that
// reads back different is reported in Mismatch (the exit code says it did
// not stick); any other failure is in Err.
func (r Resolver) OptIn(ctx context.Context, c Caller, role awsarn.Role, setting, value string) RoleSetting {
	st := RoleSetting{RoleArn: role.String(), Setting: setting}
	p, err := r.Resolve(ctx, c.Principal, c.Arn, role)
	if err != nil {
		st.fail(err)
		return st
	}
	got, err := p.Ensure(ctx, setting, value)
	st.Via = p.Via()
	var mm *MismatchError
	switch {
	case errors.As(err, &mm):
		st.EffectiveValue, st.Source, st.Mismatch = got.Value, got.Source, mm
	case err != nil:
		st.fail(err)
	default:
		st.EffectiveValue, st.Source = got.Value, got.Source
	}
	return st
}
