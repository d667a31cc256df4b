package accountsetting_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/awsarn"
)

func TestActingAsARoleUnderBothDocumentedRules(t *testing.T) {
	tests := []struct {
		name       string
		rule       accountsettingtest.Rule
		wantVia    accountsetting.Mode
		wantAssume bool
	}{
		{name: "under the guide's rule an administrator names the role with principalArn and assumes nothing",
			rule: accountsettingtest.RuleGuide, wantVia: accountsetting.AsPrincipalArn},
		{name: "under the API reference's rule ECS refuses principalArn and the role is assumed",
			rule: accountsettingtest.RuleAPIReference, wantVia: accountsetting.AsAssumedRole, wantAssume: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := accountsettingtest.New()
			a.Rule = tt.rule
			a.AddRole("EcsInstance", accountsettingtest.RoleState{})
			r := resolver(a, caller)
			r.PrincipalArnFirst = true
			ctx := context.Background()
			c, err := r.Who(ctx)
			if err != nil {
				t.Fatal(err)
			}
			who, callerArn := c.Principal, c.Arn
			p, err := r.Resolve(ctx, who, callerArn, role(t, a, "EcsInstance"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Ensure(ctx, accountsetting.AWSVPCTrunking, accountsetting.Enabled)
			if err != nil {
				t.Fatal(err)
			}
			if got.Value != accountsetting.Enabled || a.Explicit(a.RoleARN("EcsInstance"), accountsetting.AWSVPCTrunking) != accountsetting.Enabled {
				t.Fatalf("the setting did not land on the role: %+v (calls %s)", got, a)
			}
			if a.Explicit(caller, accountsetting.AWSVPCTrunking) != "" {
				t.Fatalf("the setting landed on the caller (calls %s)", a)
			}
			if p.Via() != tt.wantVia || a.HasOp("sts:AssumeRole") != tt.wantAssume {
				t.Fatalf("via %s, assumed %v; want via %s, assumed %v (calls %s)", p.Via(), a.HasOp("sts:AssumeRole"), tt.wantVia, tt.wantAssume, a)
			}
		})
	}
}

func TestWithoutPrincipalArnFirstTheRoleIsAssumedAsBefore(t *testing.T) {
	a := accountsettingtest.New()
	a.Rule = accountsettingtest.RuleGuide
	a.AddRole("EcsInstance", accountsettingtest.RoleState{})
	p, err := resolver(a, caller).ActAs(context.Background(), role(t, a, "EcsInstance"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Via() != accountsetting.AsAssumedRole || a.HasOp("ecs:ListAccountSettings") {
		t.Fatalf("via %s, calls %s", p.Via(), a)
	}
}

// refusePut is an ECS client whose IAM policy allows reading with
// principalArn but not writing with it.
type refusePut struct{ *accountsettingtest.ECS }

func (r refusePut) PutAccountSetting(ctx context.Context, in *ecs.PutAccountSettingInput, optFns ...func(*ecs.Options)) (*ecs.PutAccountSettingOutput, error) {
	if in.PrincipalArn != nil {
		return nil, apiErr("AccessDeniedException", "not authorized to perform ecs:PutAccountSetting")
	}
	return r.ECS.PutAccountSetting(ctx, in, optFns...)
}

func TestAWriteRefusedAfterAnAcceptedProbeAssumesTheRole(t *testing.T) {
	a := accountsettingtest.New()
	a.Rule = accountsettingtest.RuleGuide
	a.AddRole("EcsInstance", accountsettingtest.RoleState{})
	r := resolver(a, caller)
	r.ECS = refusePut{a.ECSAs(caller)}
	r.PrincipalArnFirst = true
	ctx := context.Background()
	p, err := r.ActAs(ctx, role(t, a, "EcsInstance"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Via() != accountsetting.AsPrincipalArn {
		t.Fatalf("before the write via = %s", p.Via())
	}
	if _, err := p.Ensure(ctx, accountsetting.AWSVPCTrunking, accountsetting.Enabled); err != nil {
		t.Fatal(err)
	}
	if p.Via() != accountsetting.AsAssumedRole || a.Explicit(a.RoleARN("EcsInstance"), accountsetting.AWSVPCTrunking) != accountsetting.Enabled {
		t.Fatalf("via %s, calls %s", p.Via(), a)
	}
}

func TestAProbeThatFailsForAnotherReasonIsNotTakenForARefusal(t *testing.T) {
	a := accountsettingtest.New()
	a.AddRole("EcsInstance", accountsettingtest.RoleState{})
	a.Fail["ecs:ListAccountSettings"] = apiErr("ServerException", "internal error")
	r := resolver(a, caller)
	r.PrincipalArnFirst = true
	_, err := r.ActAs(context.Background(), role(t, a, "EcsInstance"))
	if err == nil || !strings.Contains(err.Error(), "internal error") || a.HasOp("sts:AssumeRole") {
		t.Fatalf("err = %v, calls %s", err, a)
	}
}

func TestAFailedAssumeSaysWhetherTheRoleExists(t *testing.T) {
	tests := []struct {
		name     string
		addRole  bool
		iamFails bool
		want     string
	}{
		{name: "a mistyped role name is reported as missing", want: "the role EcsInstance does not exist in account 123456789012"},
		{name: "an existing role points at its trust policy", addRole: true, want: "The role exists, so its trust policy does not allow this caller"},
		{name: "without iam:GetRole the message names both causes", iamFails: true, want: "a mistyped name is the commonest cause"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := accountsettingtest.New()
			if tt.addRole {
				a.AddRole("EcsInstance", accountsettingtest.RoleState{DenyAlways: true})
			}
			if tt.iamFails {
				a.Fail["iam:GetRole"] = apiErr("AccessDenied", "not authorized to perform iam:GetRole")
			}
			r := resolver(a, caller)
			r.Assumer.PropagationWait = 0
			r.Assumer.IAM = a.IAMAs(caller)
			ctx := context.Background()
			c, _ := r.Who(ctx)
			who, callerArn := c.Principal, c.Arn
			_, err := r.Resolve(ctx, who, callerArn, role(t, a, "EcsInstance"))
			var na *accountsetting.NoAccessError
			if !errors.As(err, &na) || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.want)) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func apiErr(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg, Fault: smithy.FaultClient}
}

// Under the guide's rule the principalArn probe asks ECS exactly what the
// first read of the setting asks, so that read takes the probe's answer: a
// role's setting is read with one ListAccountSettings, not two. A write
// spends the answer, so the read-back after it asks ECS again.
func TestThePrincipalArnProbeIsTheFirstRead(t *testing.T) {
	a := accountsettingtest.New()
	a.Rule = accountsettingtest.RuleGuide
	a.AddRole("EcsInstance", accountsettingtest.RoleState{})
	a.SetExplicit(a.RoleARN("EcsInstance"), accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	r := resolver(a, caller)
	r.PrincipalArnFirst = true
	ctx := context.Background()
	lists := func() int {
		n := 0
		for _, op := range a.Ops() {
			if op == "ecs:ListAccountSettings" {
				n++
			}
		}
		return n
	}

	p, err := r.ActAs(ctx, role(t, a, "EcsInstance"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Effective(ctx, accountsetting.AWSVPCTrunking)
	if err != nil {
		t.Fatal(err)
	}
	if got.Value != accountsetting.Enabled || got.Source != accountsetting.SourcePrincipal {
		t.Fatalf("read %+v, want the role's own enabled", got)
	}
	if n := lists(); n != 1 {
		t.Fatalf("probe and read made %d ListAccountSettings, want 1 (calls %s)", n, a)
	}
	// The answer is taken once: a second read asks ECS.
	if _, err := p.Effective(ctx, accountsetting.AWSVPCTrunking); err != nil {
		t.Fatal(err)
	}
	if n := lists(); n != 2 {
		t.Fatalf("a second read made %d ListAccountSettings in all, want 2 (calls %s)", n, a)
	}

	// A write spends the answer: what is read after it is ECS's, not the probe's.
	a.Reset()
	p, err = r.ActAs(ctx, role(t, a, "EcsInstance"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Put(ctx, accountsetting.AWSVPCTrunking, accountsetting.Disabled); err != nil {
		t.Fatal(err)
	}
	got, err = p.Effective(ctx, accountsetting.AWSVPCTrunking)
	if err != nil {
		t.Fatal(err)
	}
	if got.Value != accountsetting.Disabled || lists() != 2 {
		t.Fatalf("after a write read %+v with %d ListAccountSettings in all, want disabled from a second list (calls %s)", got, lists(), a)
	}
}

// When AssumeRole is refused, the hint says whether the role exists; a
// role of that name under another path is not the role named.
func TestAssumeDeniedSaysARoleUnderAnotherPathDoesNotExist(t *testing.T) {
	a := accountsettingtest.New()
	a.AddRole("EcsInstance", accountsettingtest.RoleState{DenyAlways: true})
	r := resolver(a, caller)
	r.Assumer.IAM = a.IAMAs(caller)
	r.Assumer.PropagationWait = 0
	other, err := awsarn.ParseRole("arn:aws:iam::" + role(t, a, "EcsInstance").AccountID + ":role/ops/EcsInstance")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Assumer.Assume(context.Background(), other)
	var denied *accountsetting.AssumeDeniedError
	if !errors.As(err, &denied) || denied.RoleExists == nil || *denied.RoleExists {
		t.Fatalf("err = %v, want AccessDenied saying the role does not exist", err)
	}
}
