package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
)

func enableOptsFor(w *world, s *IOStreams, value string, roles ...string) *enableOpts {
	return &enableOpts{value: value, roles: roles, env: w.env(s, outputJSON)}
}

func TestEnableWritesAsTheRoleAndReportsTheValueReadBack(t *testing.T) {
	w := newWorld(t)
	s, out, errOut := streams(false)
	if err := run(context.Background(), enableOptsFor(w, s, accountsetting.Enabled, "EcsInstanceRole")); err != nil {
		t.Fatalf("%v; stderr %s", err, errOut)
	}
	if got := w.acct.Explicit(roleArn, accountsetting.AWSVPCTrunking); got != accountsetting.Enabled {
		t.Fatalf("explicit setting = %q, want enabled", got)
	}
	golden(t, "enable.golden.json", out.Bytes())
	if !strings.Contains(errOut.String(), "Only container instances registered from now on get a trunk ENI") {
		t.Fatalf("stderr = %s", errOut)
	}
}

func TestDisableWritesAnExplicitDisabledThatBeatsAnEnabledDefault(t *testing.T) {
	w := newWorld(t)
	w.acct.SetDefault(accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	s, out, _ := streams(false)
	if err := run(context.Background(), enableOptsFor(w, s, accountsetting.Disabled, roleArn)); err != nil {
		t.Fatal(err)
	}
	if got := w.acct.Explicit(roleArn, accountsetting.AWSVPCTrunking); got != accountsetting.Disabled {
		t.Fatalf("explicit setting = %q, want disabled", got)
	}
	if !strings.Contains(out.String(), `"effectiveValue": "disabled"`) || !strings.Contains(out.String(), `"source": "principal"`) {
		t.Fatalf("stdout = %s", out)
	}
}

func TestEnableThatDoesNotStickExitsThree(t *testing.T) {
	w := newWorld(t)
	w.acct.Override[accountsetting.AWSVPCTrunking] = accountsetting.Disabled
	s, _, errOut := streams(false)
	err := run(context.Background(), enableOptsFor(w, s, accountsetting.Enabled, "EcsInstanceRole"))
	if ExitCodeOf(err) != ExitUnhealthy || !strings.Contains(errOut.String(), "reads back") {
		t.Fatalf("exit %d (%v), stderr %s", ExitCodeOf(err), err, errOut)
	}
}

func TestEnableForARoleNobodyCanActAsExitsOne(t *testing.T) {
	w := newWorld(t)
	w.acct.AddRole("EcsInstanceRole", accountsettingtest.RoleState{DenyAlways: true})
	s, _, errOut := streams(false)
	err := run(context.Background(), enableOptsFor(w, s, accountsetting.Enabled, "EcsInstanceRole"))
	if ExitCodeOf(err) != ExitError || !strings.Contains(errOut.String(), "root user or the role itself") {
		t.Fatalf("exit %d (%v), stderr %s", ExitCodeOf(err), err, errOut)
	}
	if w.acct.HasOp("ecs:PutAccountSetting") {
		t.Fatal("PutAccountSetting was called without access")
	}
}

func TestDryRunSaysWhatWouldBeCalledAsWhomAndCallsNothingElse(t *testing.T) {
	tests := []struct {
		name   string
		caller func(a *accountsettingtest.Account) string
		want   string
	}{
		{"as root it names the role", func(a *accountsettingtest.Account) string { return a.RootARN() },
			"would call ecs:PutAccountSetting name=awsvpcTrunking value=enabled principalArn=" + roleArn + " as arn:aws:iam::123456789012:root (root)"},
		{"as the role it writes its own", func(a *accountsettingtest.Account) string { return a.SessionARN("EcsInstanceRole", "s") },
			"value=enabled as arn:aws:sts::123456789012:assumed-role/EcsInstanceRole/s (self)"},
		{"anyone else assumes first", func(*accountsettingtest.Account) string { return adminCaller },
			"(assume): sts:AssumeRole " + roleArn + " first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.caller = tt.caller(w.acct)
			s, out, _ := streams(false)
			o := enableOptsFor(w, s, accountsetting.Enabled, "EcsInstanceRole")
			o.dryRun, o.output = true, outputTable
			if err := run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Fatalf("stdout = %s\nwant %s", out, tt.want)
			}
			if ops := w.acct.Ops(); len(ops) != 1 || ops[0] != "sts:GetCallerIdentity" {
				t.Fatalf("calls = %v, want only sts:GetCallerIdentity", ops)
			}
		})
	}
}

func TestDefaultAsksForConfirmationUnlessYes(t *testing.T) {
	t.Run("yes sets the default and reports it", func(t *testing.T) {
		w := newWorld(t)
		s, out, _ := streams(false)
		o := enableOptsFor(w, s, accountsetting.Enabled)
		o.allDefault, o.yes = true, true
		if err := run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		golden(t, "enable-default.golden.json", out.Bytes())
		in := w.acct.Calls()[1].Input.(*ecs.PutAccountSettingDefaultInput)
		if aws.ToString(in.Value) != "enabled" {
			t.Fatalf("input = %+v", in)
		}
	})
	t.Run("answering no changes nothing", func(t *testing.T) {
		w := newWorld(t)
		s, _, errOut := streams(true)
		s.In = strings.NewReader("n\n")
		o := enableOptsFor(w, s, accountsetting.Enabled)
		o.allDefault = true
		err := run(context.Background(), o)
		if ExitCodeOf(err) != ExitError || w.acct.HasOp("ecs:PutAccountSettingDefault") || !strings.Contains(errOut.String(), "[y/N]") {
			t.Fatalf("err %v, ops %v, stderr %s", err, w.acct.Ops(), errOut)
		}
	})
	t.Run("answering yes on a terminal sets it", func(t *testing.T) {
		w := newWorld(t)
		s, _, _ := streams(true)
		s.In = strings.NewReader("yes\n")
		o := enableOptsFor(w, s, accountsetting.Enabled)
		o.allDefault = true
		if err := run(context.Background(), o); err != nil || !w.acct.HasOp("ecs:PutAccountSettingDefault") {
			t.Fatalf("err %v, ops %v", err, w.acct.Ops())
		}
	})
	t.Run("without a terminal to ask on it is a usage error", func(t *testing.T) {
		w := newWorld(t)
		s, _, _ := streams(false)
		o := enableOptsFor(w, s, accountsetting.Enabled)
		o.allDefault = true
		if err := run(context.Background(), o); !isUsage(err) || len(w.acct.Ops()) != 0 {
			t.Fatalf("err %v, ops %v", err, w.acct.Ops())
		}
	})
}

func TestEnableRefusesRolesWithDefault(t *testing.T) {
	w := newWorld(t)
	s, _, _ := streams(false)
	o := enableOptsFor(w, s, accountsetting.Enabled, "EcsInstanceRole")
	o.allDefault, o.yes = true, true
	if err := run(context.Background(), o); !isUsage(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestDryRunJSONListsThePlannedCalls(t *testing.T) {
	w := newWorld(t)
	w.caller = w.acct.RootARN()
	code, out, _ := runCmd(t, w, false, "enable", "--role", "EcsInstanceRole", "--role", "Other", "--dry-run", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	golden(t, "enable-dry-run.golden.json", []byte(out))
	code, out, _ = runCmd(t, w, false, "disable", "--default", "--dry-run", "-o", "json")
	if code != ExitOK || !strings.Contains(out, `"operation": "ecs:PutAccountSettingDefault"`) || !strings.Contains(out, `"value": "disabled"`) {
		t.Fatalf("exit %d, %s", code, out)
	}
}
