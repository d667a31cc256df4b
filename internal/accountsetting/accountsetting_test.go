package accountsetting_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/awsarn"
)

const caller = "arn:aws:sts::123456789012:assumed-role/Admin/alice"

func role(t *testing.T, a *accountsettingtest.Account, name string) awsarn.Role {
	t.Helper()
	r, err := awsarn.ParseRole(a.RoleARN(name))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func noSleep(context.Context, time.Duration) error { return nil }

func resolver(a *accountsettingtest.Account, callerArn string) accountsetting.Resolver {
	return accountsetting.Resolver{
		STS: a.STSAs(callerArn), ECS: a.ECSAs(callerArn),
		Assumer: accountsetting.Assumer{STS: a.STSAs(callerArn), NewECS: a.ECSFactory(), SessionName: "test", PropagationWait: time.Minute, Sleep: noSleep},
	}
}

func TestResolveChoosesHowToActAsTheRole(t *testing.T) {
	tests := []struct {
		name      string
		caller    func(a *accountsettingtest.Account) string
		roleState *accountsettingtest.RoleState
		wantMode  accountsetting.Mode
		wantErr   string
	}{
		{name: "the root user acts with principalArn", caller: func(a *accountsettingtest.Account) string { return a.RootARN() }, wantMode: accountsetting.AsRoot},
		{name: "a session of the role acts as itself", caller: func(a *accountsettingtest.Account) string { return a.SessionARN("EcsInstance", "i-1") }, wantMode: accountsetting.AsSelf},
		{name: "another principal assumes the role", caller: func(*accountsettingtest.Account) string { return caller }, roleState: &accountsettingtest.RoleState{}, wantMode: accountsetting.AsAssumedRole},
		{name: "a principal the role does not trust gets a message naming all three ways", caller: func(*accountsettingtest.Account) string { return caller },
			roleState: &accountsettingtest.RoleState{DenyAlways: true}, wantErr: "root user or the role itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := accountsettingtest.New()
			if tt.roleState != nil {
				a.AddRole("EcsInstance", *tt.roleState)
			}
			r := resolver(a, tt.caller(a))
			r.Assumer.PropagationWait = 0
			ctx := context.Background()
			c, err := r.Who(ctx)
			if err != nil {
				t.Fatal(err)
			}
			who, callerArn := c.Principal, c.Arn
			p, err := r.Resolve(ctx, who, callerArn, role(t, a, "EcsInstance"))
			if tt.wantErr != "" {
				var na *accountsetting.NoAccessError
				if !errors.As(err, &na) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a NoAccessError mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Mode != tt.wantMode {
				t.Fatalf("mode = %s, want %s", p.Mode, tt.wantMode)
			}
			// Whatever the mode, the write lands on the role, not on the caller.
			if _, err := p.Ensure(ctx, accountsetting.AWSVPCTrunking, "enabled"); err != nil {
				t.Fatal(err)
			}
			if got := a.Explicit(a.RoleARN("EcsInstance"), "awsvpcTrunking"); got != "enabled" {
				t.Fatalf("role's explicit setting = %q after Ensure; calls: %s", got, a)
			}
		})
	}
}

func TestEffectiveReportsTheSource(t *testing.T) {
	ctx := context.Background()
	a := accountsettingtest.New()
	p := accountsetting.Principal{Role: role(t, a, "R"), Mode: accountsetting.AsRoot, ECS: a.ECSAs(a.RootARN())}

	got, err := p.Effective(ctx, "awsvpcTrunking")
	if err != nil || got.Value != "disabled" || got.Source != accountsetting.SourceDefault {
		t.Fatalf("nothing set: got %+v, %v; want disabled from the default", got, err)
	}
	a.SetDefault("awsvpcTrunking", "enabled")
	got, _ = p.Effective(ctx, "awsvpcTrunking")
	if got.Value != "enabled" || got.Source != accountsetting.SourceDefault {
		t.Fatalf("default enabled: got %+v", got)
	}
	a.SetExplicit(a.RoleARN("R"), "awsvpcTrunking", "disabled")
	got, _ = p.Effective(ctx, "awsvpcTrunking")
	if got.Value != "disabled" || got.Source != accountsetting.SourcePrincipal || got.PrincipalArn != a.RoleARN("R") {
		t.Fatalf("explicit disabled over default: got %+v", got)
	}
}

// stripECS drops principalArn from ListAccountSettings answers, as moto does.
type stripECS struct{ accountsetting.ECSAPI }

func (s *stripECS) ListAccountSettings(ctx context.Context, in *ecs.ListAccountSettingsInput, o ...func(*ecs.Options)) (*ecs.ListAccountSettingsOutput, error) {
	out, err := s.ECSAPI.ListAccountSettings(ctx, in, o...)
	if out != nil {
		for i := range out.Settings {
			out.Settings[i].PrincipalArn = nil
		}
	}
	return out, err
}

func TestEffectiveAsksForTheExplicitSettingWhenTheAnswerHasNoPrincipal(t *testing.T) {
	ctx := context.Background()
	a := accountsettingtest.New()
	stripped := &stripECS{ECSAPI: a.ECSAs(a.RootARN())}
	p := accountsetting.Principal{Role: role(t, a, "R"), Mode: accountsetting.AsRoot, ECS: stripped}
	a.SetDefault("awsvpcTrunking", "enabled")
	got, err := p.Effective(ctx, "awsvpcTrunking")
	if err != nil || got.Source != accountsetting.SourceDefault {
		t.Fatalf("got %+v, %v", got, err)
	}
	a.SetExplicit(a.RoleARN("R"), "awsvpcTrunking", "enabled")
	got, _ = p.Effective(ctx, "awsvpcTrunking")
	if got.Source != accountsetting.SourcePrincipal {
		t.Fatalf("got %+v", got)
	}
}

func TestEnsureFailsWhenTheSettingDoesNotReadBack(t *testing.T) {
	a := accountsettingtest.New()
	a.Override["awsvpcTrunking"] = "disabled"
	p := accountsetting.Principal{Role: role(t, a, "R"), Mode: accountsetting.AsRoot, ECS: a.ECSAs(a.RootARN())}
	_, err := p.Ensure(context.Background(), "awsvpcTrunking", "enabled")
	var mm *accountsetting.MismatchError
	if !errors.As(err, &mm) || mm.Got.Value != "disabled" {
		t.Fatalf("err = %v, want a MismatchError", err)
	}
}

func TestAssumeRetriesAccessDeniedWhileIAMPropagates(t *testing.T) {
	a := accountsettingtest.New()
	a.AddRole("New", accountsettingtest.RoleState{DenyFirst: 3})
	var retries int
	as := accountsetting.Assumer{STS: a.STSAs(caller), NewECS: a.ECSFactory(), SessionName: "stack/Res", PropagationWait: time.Minute, Sleep: noSleep,
		OnRetry: func(int, time.Duration, error) { retries++ }}
	p, err := as.Assume(context.Background(), role(t, a, "New"))
	if err != nil {
		t.Fatal(err)
	}
	if retries != 3 || p.Mode != accountsetting.AsAssumedRole {
		t.Fatalf("retries = %d, mode = %s", retries, p.Mode)
	}
	if n := strings.Count(a.String(), "sts:AssumeRole"); n != 4 {
		t.Fatalf("AssumeRole called %d times, want 4", n)
	}
}

func TestAssumeGivesUpAfterThePropagationWait(t *testing.T) {
	a := accountsettingtest.New()
	a.AddRole("Denied", accountsettingtest.RoleState{DenyAlways: true})
	var slept time.Duration
	as := accountsetting.Assumer{STS: a.STSAs(caller), NewECS: a.ECSFactory(), PropagationWait: 20 * time.Second, MaxBackoff: 2 * time.Second,
		Sleep: func(_ context.Context, d time.Duration) error { slept += d; time.Sleep(time.Millisecond); return nil }}
	_, err := as.Assume(context.Background(), role(t, a, "Denied"))
	var denied *accountsetting.AssumeDeniedError
	if !errors.As(err, &denied) || denied.Attempts < 1 {
		t.Fatalf("err = %v, want AssumeDeniedError", err)
	}
	if slept > 20*time.Second {
		t.Fatalf("slept %s in total, more than the propagation wait", slept)
	}
}

func TestAssumeDoesNotRetryOtherErrors(t *testing.T) {
	a := accountsettingtest.New()
	a.AddRole("R", accountsettingtest.RoleState{})
	a.Fail["sts:AssumeRole"] = &smithy.GenericAPIError{Code: "RegionDisabledException", Message: "STS is not activated"}
	as := accountsetting.Assumer{STS: a.STSAs(caller), NewECS: a.ECSFactory(), PropagationWait: time.Minute, Sleep: noSleep}
	_, err := as.Assume(context.Background(), role(t, a, "R"))
	if err == nil || !strings.Contains(err.Error(), "STS is not activated") || len(a.Ops()) != 1 {
		t.Fatalf("err = %v after %v", err, a.Ops())
	}
}

func TestAssumeStopsWhenTheContextEnds(t *testing.T) {
	a := accountsettingtest.New()
	a.AddRole("R", accountsettingtest.RoleState{DenyAlways: true})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	as := accountsetting.Assumer{STS: a.STSAs(caller), NewECS: a.ECSFactory(), PropagationWait: time.Hour, MaxBackoff: 10 * time.Millisecond}
	start := time.Now()
	_, err := as.Assume(ctx, role(t, a, "R"))
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
}

func TestSessionName(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:cloudformation:us-east-1:1:stack/my stack/abc": "arn-aws-cloudformation-us-east-1-1-stack-my-stack-abc",
		"x":                     "x-",
		"":                      "--",
		"a\u00e9\u00e9 b!c":     "a-b-c",
		strings.Repeat("a", 70): strings.Repeat("a", 64),
	} {
		if got := accountsetting.SessionName(in); got != want {
			t.Errorf("SessionName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := accountsetting.ValidateName("awsvpcTrunking"); err != nil {
		t.Fatal(err)
	}
	if err := accountsetting.ValidateName("awsvpcTrunkin"); err == nil || !strings.Contains(err.Error(), "awsvpcTrunking") {
		t.Fatalf("err = %v, want it to list the known names", err)
	}
	for _, v := range []string{"enabled", "disabled"} {
		if err := accountsetting.ValidateValue("awsvpcTrunking", v); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{"", "Enabled", "true"} {
		if err := accountsetting.ValidateValue("awsvpcTrunking", v); err == nil {
			t.Fatalf("value %q accepted", v)
		}
	}
	if !slices.Contains([]string{accountsetting.AWSVPCTrunking}, "awsvpcTrunking") {
		t.Fatal("constant drifted")
	}
}
