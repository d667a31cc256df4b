// Package accountsetting reads and changes an ECS account setting *as* a
// principal. ECS accepts principalArn only from the account root or from the
// principal itself, so everyone else must assume the role and call without it.
package accountsetting

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/awsarn"
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
	// AsAssumedRole: the caller assumed the role and calls without principalArn.
	AsAssumedRole Mode = "assume"
)

// Principal binds an ECS client to the role whose settings it reads and writes.
type Principal struct {
	Role awsarn.Role
	Mode Mode
	ECS  ECSAPI
}

// principalArn is passed only by the root user: ECS rejects it from anyone
// but root and the principal itself, and the principal does not need it.
func (p Principal) principalArn() *string {
	if p.Mode == AsRoot {
		return aws.String(p.Role.String())
	}
	return nil
}

// Put sets name=value for the principal.
func (p Principal) Put(ctx context.Context, name, value string) error {
	_, err := p.ECS.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{
		Name:         types.SettingName(name),
		Value:        aws.String(value),
		PrincipalArn: p.principalArn(),
	})
	if err != nil {
		return fmt.Errorf("put account setting %s=%s as %s: %w", name, value, p.Role, err)
	}
	return nil
}

// Effective reads the value that applies to the principal: its own setting
// or else the account default (ListAccountSettings with effectiveSettings=true).
func (p Principal) Effective(ctx context.Context, name string) (Setting, error) {
	s, found, err := p.list(ctx, name, true)
	if err != nil {
		return Setting{}, err
	}
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
	out, err := p.ECS.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{
		Name:              types.SettingName(name),
		EffectiveSettings: effective,
		PrincipalArn:      p.principalArn(),
	})
	if err != nil {
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
