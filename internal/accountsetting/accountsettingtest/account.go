// Package accountsettingtest is an in-memory model of one AWS account's ECS
// account settings, STS and iam:GetRole, for tests. It enforces what moto
// does not: who may name a principalArn (under either documented Rule), and
// that a role can be assumed only once it "exists" and trusts the caller.
package accountsettingtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsarn"
)

// Call is one recorded API call.
type Call struct {
	Op     string // e.g. "ecs:PutAccountSetting"
	Caller string // the caller's ARN
	Input  any
}

// RoleState says how a role answers AssumeRole.
type RoleState struct {
	// DenyFirst answers AccessDenied to this many AssumeRole calls, as IAM
	// does while a new role or trust policy propagates.
	DenyFirst int
	// DenyAlways answers AccessDenied to every AssumeRole call.
	DenyAlways bool
}

// Rule is who ECS lets name a principalArn. The two AWS documents disagree.
type Rule int

const (
	// RuleAPIReference: only the root user or the principal itself (the ECS
	// API reference). The default.
	RuleAPIReference Rule = iota
	// RuleGuide: the root user or any caller IAM allows the call, such as an
	// administrator (the ECS developer guide).
	RuleGuide
)

// Account is one account. The zero value is not usable; call New.
type Account struct {
	ID        string
	Partition string
	// Rule decides who may pass principalArn.
	Rule Rule

	mu       sync.Mutex
	roles    map[string]*RoleState        // role name -> state
	paths    map[string]string            // role name -> path, for roles added as PATH/NAME
	explicit map[string]map[string]string // principal ARN -> name -> value
	defaults map[string]string
	sessions map[string]string // access key id -> caller ARN
	calls    []Call
	// Fail makes an operation ("ecs:PutAccountSetting", "sts:AssumeRole", ...)
	// return this error.
	Fail map[string]error
	// Hang makes an operation block until its context is done.
	Hang map[string]bool
	// HangAfter makes an operation block like Hang once it has answered
	// this many calls.
	HangAfter map[string]int
	// DenyPrincipalArn answers AccessDeniedException to this operation when
	// it names a principalArn (an IAM policy allowing the read, not the write).
	DenyPrincipalArn map[string]bool
	// Override forces ListAccountSettings to report this effective value
	// whatever was put (a setting that does not stick).
	Override map[string]string
}

// New returns an empty account 123456789012 in the aws partition.
func New() *Account {
	return &Account{
		ID: "123456789012", Partition: "aws",
		roles:            map[string]*RoleState{},
		paths:            map[string]string{},
		explicit:         map[string]map[string]string{},
		defaults:         map[string]string{},
		sessions:         map[string]string{},
		Fail:             map[string]error{},
		Hang:             map[string]bool{},
		HangAfter:        map[string]int{},
		DenyPrincipalArn: map[string]bool{},
		Override:         map[string]string{},
	}
}

// RootARN is the account root's ARN.
func (a *Account) RootARN() string { return fmt.Sprintf("arn:%s:iam::%s:root", a.Partition, a.ID) }

// RoleARN is the ARN of a role by name in this account.
func (a *Account) RoleARN(name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", a.Partition, a.ID, name)
}

// SessionARN is the STS ARN of a session of role name.
func (a *Account) SessionARN(role, session string) string {
	return fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", a.Partition, a.ID, role, session)
}

// AddRole makes a role exist with the given assume behaviour; name may be
// PATH/NAME for a role with a path.
func (a *Account) AddRole(name string, st RoleState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := st
	path := "/"
	if i := strings.LastIndex(name, "/"); i >= 0 {
		path, name = "/"+strings.Trim(name[:i], "/")+"/", name[i+1:]
	}
	a.roles[name] = &s
	a.paths[name] = path
}

// SetExplicit stores an explicit setting for a principal ARN.
func (a *Account) SetExplicit(principal, name, value string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.explicit[principal] == nil {
		a.explicit[principal] = map[string]string{}
	}
	a.explicit[principal][name] = value
}

// SetDefault stores the account default for a setting.
func (a *Account) SetDefault(name, value string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.defaults[name] = value
}

// Explicit returns the explicit value stored for a principal ("" if none).
func (a *Account) Explicit(principal, name string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.explicit[principal][name]
}

// Calls returns a copy of the recorded calls.
func (a *Account) Calls() []Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Call(nil), a.calls...)
}

// Ops returns the recorded operation names in order.
func (a *Account) Ops() []string {
	var ops []string
	for _, c := range a.Calls() {
		ops = append(ops, c.Op)
	}
	return ops
}

// Reset forgets recorded calls.
func (a *Account) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = nil
}

func (a *Account) enter(ctx context.Context, op, caller string, in any) error {
	a.mu.Lock()
	a.calls = append(a.calls, Call{Op: op, Caller: caller, Input: in})
	hang, fail := a.Hang[op], a.Fail[op]
	if n, ok := a.HangAfter[op]; ok {
		hang = hang || n <= 0
		a.HangAfter[op] = n - 1
	}
	a.mu.Unlock()
	if hang {
		<-ctx.Done()
		return fmt.Errorf("operation error %s: %w", op, ctx.Err())
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fail
}

func apiError(code, format string, args ...any) error {
	return &smithy.GenericAPIError{Code: code, Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

// ECSAs returns an ECS client acting as callerArn.
func (a *Account) ECSAs(callerArn string) *ECS { return &ECS{acct: a, caller: callerArn} }

// STSAs returns an STS client acting as callerArn.
func (a *Account) STSAs(callerArn string) *STS { return &STS{acct: a, caller: callerArn} }

// ECSFactory maps credentials from this account's AssumeRole back to a
// client acting as that session.
func (a *Account) ECSFactory() accountsetting.ECSFactory {
	return func(p aws.CredentialsProvider) accountsetting.ECSAPI {
		creds, err := p.Retrieve(context.Background())
		if err != nil {
			panic(err)
		}
		a.mu.Lock()
		caller, ok := a.sessions[creds.AccessKeyID]
		a.mu.Unlock()
		if !ok {
			panic("credentials not issued by this fake account: " + creds.AccessKeyID)
		}
		return a.ECSAs(caller)
	}
}

// ECS is a fake ECS client bound to a caller.
type ECS struct {
	acct   *Account
	caller string
}

var _ accountsetting.ECSAPI = (*ECS)(nil)

// principal resolves the principal a call is about, enforcing ECS's rule.
func (e *ECS) principal(op string, in *string) (string, error) {
	self := e.caller
	if p, err := awsarn.ParsePrincipal(e.caller); err == nil && p.Kind == awsarn.KindAssumedRole {
		self = e.acct.RoleARN(p.RoleName)
	}
	if in == nil || *in == "" {
		return self, nil
	}
	if e.acct.DenyPrincipalArn[op] {
		return "", apiError("AccessDeniedException", "User: %s is not authorized to perform: %s with principalArn", e.caller, op)
	}
	if e.caller == e.acct.RootARN() || *in == self || e.acct.Rule == RuleGuide {
		return *in, nil
	}
	return "", apiError("InvalidParameterException", "You must be the root user or the principal to use principalArn")
}

func (e *ECS) PutAccountSetting(ctx context.Context, in *ecs.PutAccountSettingInput, _ ...func(*ecs.Options)) (*ecs.PutAccountSettingOutput, error) {
	op := "ecs:PutAccountSetting"
	if err := e.acct.enter(ctx, op, e.caller, in); err != nil {
		return nil, err
	}
	p, err := e.principal(op, in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	v := aws.ToString(in.Value)
	if string(in.Name) == accountsetting.AWSVPCTrunking && v != "enabled" && v != "disabled" {
		return nil, apiError("InvalidParameterException", "invalid value %q", v)
	}
	e.acct.SetExplicit(p, string(in.Name), v)
	return &ecs.PutAccountSettingOutput{Setting: &ecstypes.Setting{Name: in.Name, Value: in.Value, PrincipalArn: aws.String(p)}}, nil
}

func (e *ECS) ListAccountSettings(ctx context.Context, in *ecs.ListAccountSettingsInput, _ ...func(*ecs.Options)) (*ecs.ListAccountSettingsOutput, error) {
	op := "ecs:ListAccountSettings"
	if err := e.acct.enter(ctx, op, e.caller, in); err != nil {
		return nil, err
	}
	p, err := e.principal(op, in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	name := string(in.Name)
	a := e.acct
	a.mu.Lock()
	defer a.mu.Unlock()
	out := &ecs.ListAccountSettingsOutput{}
	if v, ok := a.explicit[p][name]; ok {
		if o, ok := a.Override[name]; ok {
			v = o
		}
		out.Settings = append(out.Settings, ecstypes.Setting{Name: in.Name, Value: aws.String(v), PrincipalArn: aws.String(p)})
	} else if in.EffectiveSettings {
		v, ok := a.defaults[name]
		if !ok {
			v = "disabled"
		}
		if o, ok := a.Override[name]; ok {
			v = o
		}
		out.Settings = append(out.Settings, ecstypes.Setting{Name: in.Name, Value: aws.String(v), PrincipalArn: aws.String(a.RootARN())})
	}
	return out, nil
}

func (e *ECS) PutAccountSettingDefault(ctx context.Context, in *ecs.PutAccountSettingDefaultInput, _ ...func(*ecs.Options)) (*ecs.PutAccountSettingDefaultOutput, error) {
	if err := e.acct.enter(ctx, "ecs:PutAccountSettingDefault", e.caller, in); err != nil {
		return nil, err
	}
	e.acct.SetDefault(string(in.Name), aws.ToString(in.Value))
	return &ecs.PutAccountSettingDefaultOutput{Setting: &ecstypes.Setting{Name: in.Name, Value: in.Value, PrincipalArn: aws.String(e.acct.RootARN())}}, nil
}

// STS is a fake STS client bound to a caller.
type STS struct {
	acct   *Account
	caller string
}

var _ accountsetting.STSAPI = (*STS)(nil)

func (s *STS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	if err := s.acct.enter(ctx, "sts:GetCallerIdentity", s.caller, in); err != nil {
		return nil, err
	}
	return &sts.GetCallerIdentityOutput{Arn: aws.String(s.caller), Account: aws.String(s.acct.ID), UserId: aws.String("AIDAFAKE")}, nil
}

func (s *STS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	if err := s.acct.enter(ctx, "sts:AssumeRole", s.caller, in); err != nil {
		return nil, err
	}
	role, err := awsarn.ParseRole(aws.ToString(in.RoleArn))
	if err != nil {
		return nil, apiError("ValidationError", "%v", err)
	}
	a := s.acct
	a.mu.Lock()
	defer a.mu.Unlock()
	st, ok := a.roles[role.Name]
	denied := func() (*sts.AssumeRoleOutput, error) {
		return nil, apiError("AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", s.caller, role)
	}
	if !ok || role.AccountID != a.ID || st.DenyAlways {
		return denied()
	}
	if st.DenyFirst > 0 {
		st.DenyFirst--
		return denied()
	}
	session := aws.ToString(in.RoleSessionName)
	key := fmt.Sprintf("ASIAFAKE%06d", len(a.sessions)+1)
	a.sessions[key] = a.SessionARN(role.Name, session)
	exp := time.Now().Add(15 * time.Minute)
	return &sts.AssumeRoleOutput{
		Credentials: &ststypes.Credentials{AccessKeyId: aws.String(key), SecretAccessKey: aws.String("secret"), SessionToken: aws.String("token"), Expiration: &exp},
		AssumedRoleUser: &ststypes.AssumedRoleUser{
			Arn:           aws.String(a.SessionARN(role.Name, session)),
			AssumedRoleId: aws.String("AROAFAKE:" + session),
		},
	}, nil
}

// IAMAs returns an IAM client (GetRole only) acting as callerArn.
func (a *Account) IAMAs(callerArn string) *IAM { return &IAM{acct: a, caller: callerArn} }

// IAM is a fake IAM client bound to a caller; it knows the roles AddRole made.
type IAM struct {
	acct   *Account
	caller string
}

var _ accountsetting.RoleGetter = (*IAM)(nil)

func (i *IAM) GetRole(ctx context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if err := i.acct.enter(ctx, "iam:GetRole", i.caller, in); err != nil {
		return nil, err
	}
	name := aws.ToString(in.RoleName)
	i.acct.mu.Lock()
	_, ok := i.acct.roles[name]
	path := i.acct.paths[name]
	i.acct.mu.Unlock()
	if !ok {
		return nil, apiError("NoSuchEntity", "The role with name %s cannot be found.", name)
	}
	arn := fmt.Sprintf("arn:%s:iam::%s:role%s%s", i.acct.Partition, i.acct.ID, path, name)
	return &iam.GetRoleOutput{Role: &iamtypes.Role{RoleName: aws.String(name), Path: aws.String(path), Arn: aws.String(arn)}}, nil
}

// HasOp reports whether op was called.
func (a *Account) HasOp(op string) bool {
	for _, o := range a.Ops() {
		if o == op {
			return true
		}
	}
	return false
}

// String summarises the recorded ops, for failure messages.
func (a *Account) String() string { return strings.Join(a.Ops(), ", ") }
