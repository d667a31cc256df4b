// Package accountsetting reads and changes an ECS account setting *as* a
// principal. The two documented rules differ: the ECS API reference says only
// the account root or the principal itself may pass principalArn, the ECS
// developer guide says root or an administrator may. So a caller that is
// neither root nor the role tries principalArn first and, when ECS refuses,
// assumes the role and calls without it.
package accountsetting

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/awserr"
)

// Setting names and values trunkctl cares about most.
const (
	AWSVPCTrunking = string(types.SettingNameAwsvpcTrunking)
	Enabled        = "enabled"
	Disabled       = "disabled"
)

// ECSAPI is the subset of the ECS client this package calls, with the SDK's
// exact signatures so the real client and hand-written fakes both fit.
type ECSAPI interface {
	PutAccountSetting(ctx context.Context, in *ecs.PutAccountSettingInput, optFns ...func(*ecs.Options)) (*ecs.PutAccountSettingOutput, error)
	ListAccountSettings(ctx context.Context, in *ecs.ListAccountSettingsInput, optFns ...func(*ecs.Options)) (*ecs.ListAccountSettingsOutput, error)
}

// STSAPI is the subset of the STS client this package calls.
type STSAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Source says where an effective value comes from.
type Source string

const (
	// SourcePrincipal: an explicit setting for the principal.
	SourcePrincipal Source = "principal"
	// SourceDefault: the account default (or AWS's own default when none is set).
	SourceDefault Source = "default"
)

// Setting is the effective value of one setting for one principal.
type Setting struct {
	PrincipalArn string
	Name         string
	Value        string
	Source       Source
}

// Mode is how calls reach the principal's setting.
type Mode string

const (
	// AsRoot: the caller is the account root and passes principalArn.
	AsRoot Mode = "root"
	// AsSelf: the caller already is a session of the role.
	AsSelf Mode = "self"
	// AsPrincipalArn: another caller passes principalArn, which ECS accepted
	// (the developer guide's rule: an administrator may).
	AsPrincipalArn Mode = "principal-arn"
	// AsAssumedRole: the caller assumed the role and calls without principalArn.
	AsAssumedRole Mode = "assume-role"
)

// Principal binds an ECS client to the role whose settings it reads and writes.
type Principal struct {
	Role awsarn.Role
	Mode Mode
	ECS  ECSAPI
	// fallback, for AsPrincipalArn, assumes the role when ECS refuses
	// principalArn for a later call (IAM may allow the read but not the write).
	fallback *fallback
	// probe, for AsPrincipalArn, is the answer of the ListAccountSettings
	// that tried principalArn (ActAs), for the first read to take.
	probe *probe
}

// probe is ECS's answer to the principalArn probe: ListAccountSettings of
// one setting, effectiveSettings=true, with principalArn, which is what
// the first read of that setting asks. That read takes it instead of
// asking again; it is taken once, and a write spends it unread.
type probe struct {
	mu    sync.Mutex
	name  string
	s     types.Setting
	found bool
	spent bool
}

// take returns the probe's answer for name, once.
func (p *probe) take(name string) (s types.Setting, found, ok bool) {
	if p == nil {
		return types.Setting{}, false, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.spent || p.name != name {
		return types.Setting{}, false, false
	}
	p.spent = true
	return p.s, p.found, true
}

// spend makes the probe's answer stale (a write is on its way).
func (p *probe) spend() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.spent = true
	p.mu.Unlock()
}

// fallback assumes the role once, on the first refusal, and remembers it.
type fallback struct {
	mu      sync.Mutex
	assume  func(ctx context.Context) (Principal, error)
	assumed *Principal
}

func (f *fallback) get(ctx context.Context) (Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.assumed != nil {
		return *f.assumed, nil
	}
	p, err := f.assume(ctx)
	if err != nil {
		return Principal{}, err
	}
	f.assumed = &p
	return p, nil
}

// current is the principal calls go through: the assumed one once a
// principalArn call was refused.
func (p Principal) current() Principal {
	if p.fallback == nil {
		return p
	}
	p.fallback.mu.Lock()
	defer p.fallback.mu.Unlock()
	if p.fallback.assumed != nil {
		return *p.fallback.assumed
	}
	return p
}

// Via says how the calls reached the principal's setting: the Mode, or
// AsAssumedRole once ECS refused principalArn and the role was assumed.
func (p Principal) Via() Mode { return p.current().Mode }

// principalArn is passed by the root user and by callers ECS lets name the
// principal; the principal itself and its assumed sessions do not need it.
func (p Principal) principalArn() *string {
	if p.Mode == AsRoot || p.Mode == AsPrincipalArn {
		return aws.String(p.Role.String())
	}
	return nil
}

// IsPrincipalArnRefused reports ECS (or IAM) refusing a call that names a
// principalArn: AccessDenied, or InvalidParameter/ClientException, which is
// how ECS answers a caller the API reference's rule excludes.
func IsPrincipalArnRefused(err error) bool {
	return awserr.IsAccessDenied(err) || awserr.IsInvalidParameter(err)
}

// retry runs call again as the assumed role when p named a principalArn
// and ECS refused it, and reports whether it did; when it did not, it
// returns err unchanged.
func (p Principal) retry(ctx context.Context, err error, call func(Principal) error) (bool, error) {
	if p.Mode != AsPrincipalArn || p.fallback == nil || !IsPrincipalArnRefused(err) {
		return false, err
	}
	q, aerr := p.fallback.get(ctx)
	if aerr != nil {
		return true, fmt.Errorf("ECS refused principalArn (%s), and then: %w", awserr.Message(err), aerr)
	}
	return true, call(q)
}

// Put sets name=value for the principal.
func (p Principal) Put(ctx context.Context, name, value string) error {
	p.probe.spend()
	if q := p.current(); q.Mode != p.Mode {
		return q.Put(ctx, name, value)
	}
	_, err := p.ECS.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{
		Name:         types.SettingName(name),
		Value:        aws.String(value),
		PrincipalArn: p.principalArn(),
	})
	if err != nil {
		if retried, rerr := p.retry(ctx, err, func(q Principal) error { return q.Put(ctx, name, value) }); retried {
			return rerr
		}
		return fmt.Errorf("put account setting %s=%s as %s: %w", name, value, p.Role, err)
	}
	return nil
}

// Effective reads the value that applies to the principal: its own setting
// or else the account default (ListAccountSettings with effectiveSettings=true).
func (p Principal) Effective(ctx context.Context, name string) (Setting, error) {
	if q := p.current(); q.Mode != p.Mode {
		return q.Effective(ctx, name)
	}
	s, found, err := p.list(ctx, name, true)
	if err != nil {
		return Setting{}, err
	}
	return p.effectiveOf(ctx, name, s, found)
}

// effectiveOf is Effective from its ListAccountSettings answer (s, found).
func (p Principal) effectiveOf(ctx context.Context, name string, s types.Setting, found bool) (Setting, error) {
	out := Setting{PrincipalArn: p.Role.String(), Name: name, Value: Disabled, Source: SourceDefault}
	if !found {
		// Nothing stored anywhere: AWS's own default, which is disabled for awsvpcTrunking.
		return out, nil
	}
	out.Value = aws.ToString(s.Value)
	switch arn := aws.ToString(s.PrincipalArn); {
	case arn == "":
		// Some endpoints (moto) omit principalArn; ask for the explicit setting alone.
		_, explicit, err := p.list(ctx, name, false)
		if err != nil {
			return Setting{}, err
		}
		if explicit {
			out.Source = SourcePrincipal
		}
	case strings.HasSuffix(arn, ":root"):
		out.Source = SourceDefault
	default:
		out.Source = SourcePrincipal
	}
	return out, nil
}

func (p Principal) list(ctx context.Context, name string, effective bool) (types.Setting, bool, error) {
	if q := p.current(); q.Mode != p.Mode {
		return q.list(ctx, name, effective)
	}
	if effective {
		if s, found, ok := p.probe.take(name); ok {
			return s, found, nil
		}
	}
	out, err := p.ECS.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{
		Name:              types.SettingName(name),
		EffectiveSettings: effective,
		PrincipalArn:      p.principalArn(),
	})
	if err != nil {
		var s types.Setting
		var found bool
		if retried, rerr := p.retry(ctx, err, func(q Principal) error {
			var qerr error
			s, found, qerr = q.list(ctx, name, effective)
			return qerr
		}); retried {
			return s, found, rerr
		}
		return types.Setting{}, false, fmt.Errorf("list account settings %s as %s: %w", name, p.Role, err)
	}
	for _, s := range out.Settings {
		if string(s.Name) == name {
			return s, true, nil
		}
	}
	return types.Setting{}, false, nil
}

// MismatchError reports a setting that did not read back as written.
type MismatchError struct {
	Want    string
	Got     Setting
	Comment string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s for %s reads back %q (from the %s), want %q%s",
		e.Got.Name, e.Got.PrincipalArn, e.Got.Value, sourceNoun(e.Got.Source), e.Want, e.Comment)
}

func sourceNoun(s Source) string {
	if s == SourcePrincipal {
		return "principal's own setting"
	}
	return "account default"
}

// Ensure puts name=value for the principal and reads it back, failing with a
// *MismatchError when the effective value differs.
func (p Principal) Ensure(ctx context.Context, name, value string) (Setting, error) {
	if err := p.Put(ctx, name, value); err != nil {
		return Setting{}, err
	}
	got, err := p.Effective(ctx, name)
	if err != nil {
		return Setting{}, err
	}
	if got.Value != value {
		return got, &MismatchError{Want: value, Got: got}
	}
	return got, nil
}

// ValidateName checks that name is an ECS account setting ECS knows.
func ValidateName(name string) error {
	known := types.SettingName("").Values()
	if slices.Contains(known, types.SettingName(name)) {
		return nil
	}
	names := make([]string, len(known))
	for i, k := range known {
		names[i] = string(k)
	}
	return fmt.Errorf("unknown setting %q (want one of %s)", name, strings.Join(names, ", "))
}

// ValidateValue checks value for setting name. awsvpcTrunking takes only
// enabled or disabled; other settings are passed through for ECS to judge.
func ValidateValue(name, value string) error {
	if value == "" {
		return fmt.Errorf("value for %s is empty", name)
	}
	if name == AWSVPCTrunking && value != Enabled && value != Disabled {
		return fmt.Errorf("value %q for %s must be %q or %q", value, name, Enabled, Disabled)
	}
	return nil
}
