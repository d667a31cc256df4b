package cli

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
)

func TestStatusReadsTheRoleAsThePrincipalAllows(t *testing.T) {
	tests := []struct {
		name     string
		caller   func(a *accountsettingtest.Account) string
		deny     bool
		wantVia  string
		wantCode ExitCode
		wantErr  string
	}{
		{name: "the root user reads with principalArn", caller: func(a *accountsettingtest.Account) string { return a.RootARN() }, wantVia: "root"},
		{name: "a session of the role reads its own setting", caller: func(a *accountsettingtest.Account) string { return a.SessionARN("EcsInstanceRole", "i-1") }, wantVia: "self"},
		{name: "another principal assumes the role", caller: func(*accountsettingtest.Account) string { return adminCaller }, wantVia: "assume"},
		{name: "a principal the role does not trust is told the three ways", caller: func(*accountsettingtest.Account) string { return adminCaller }, deny: true,
			wantCode: ExitError, wantErr: "run with root credentials, with credentials of the role, or as a principal the role's trust policy allows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.acct.SetExplicit(roleArn, accountsetting.AWSVPCTrunking, accountsetting.Enabled)
			if tt.deny {
				w.acct.AddRole("EcsInstanceRole", accountsettingtest.RoleState{DenyAlways: true})
			}
			w.caller = tt.caller(w.acct)
			s, out, errOut := streams(false)
			o := &statusOpts{roles: []string{"EcsInstanceRole"}, env: w.env(s, outputJSON)}
			err := run(context.Background(), o)
			if got := ExitCodeOf(err); got != tt.wantCode {
				t.Fatalf("exit = %d (%v), want %d; stderr %s", got, err, tt.wantCode, errOut)
			}
			if tt.wantErr != "" {
				if !strings.Contains(errOut.String(), tt.wantErr) || !strings.Contains(out.String(), `"error"`) {
					t.Fatalf("stderr = %s\nstdout = %s", errOut, out)
				}
				return
			}
			want := `"roleArn": "` + roleArn + `",
      "setting": "awsvpcTrunking",
      "effectiveValue": "enabled",
      "source": "principal",
      "via": "` + tt.wantVia + `"`
			if !strings.Contains(out.String(), want) {
				t.Fatalf("stdout = %s, want %s", out, want)
			}
			checkReadsAreAboutTheRole(t, w.acct, tt.wantVia)
		})
	}
}

func TestStatusJSONIsTheDocumentedContract(t *testing.T) {
	w := healthyWorld(t)
	s, out, _ := streams(false)
	o := &statusOpts{roles: []string{roleArn}, env: w.env(s, outputJSON)}
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	golden(t, "status.golden.json", out.Bytes())
}

func TestStatusOfADisabledRoleExitsThreeAndSaysHowToEnable(t *testing.T) {
	w := newWorld(t)
	s, out, errOut := streams(false)
	o := &statusOpts{roles: []string{"EcsInstanceRole"}, env: w.env(s, outputTable)}
	err := run(context.Background(), o)
	if ExitCodeOf(err) != ExitUnhealthy {
		t.Fatalf("exit = %d (%v), want 3", ExitCodeOf(err), err)
	}
	if got := out.String(); got != roleArn+"\tawsvpcTrunking\tdefault\tassume\tdisabled\n" {
		t.Fatalf("stdout = %q", got)
	}
	if !strings.Contains(errOut.String(), "trunkctl enable --role "+roleArn) {
		t.Fatalf("stderr = %s", errOut)
	}
}

func TestStatusOfAClusterFindsTheRolesThroughInstanceProfiles(t *testing.T) {
	w := newWorld(t)
	w.acct.SetDefault(accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	s, out, _ := streams(false)
	o := &statusOpts{cluster: "prod", env: w.env(s, outputJSON)}
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	golden(t, "status-cluster.golden.json", out.Bytes())
	if n := w.cluster.Calls()["iam:GetInstanceProfile"]; n != 1 {
		t.Fatalf("GetInstanceProfile calls = %d, want 1", n)
	}
}

func TestStatusValidatesRolesBeforeCallingAnything(t *testing.T) {
	s, _, _ := streams(false)
	for _, o := range []*statusOpts{
		{env: env{io: s, output: outputTable}},
		{roles: []string{"arn:aws:iam::12:role/x"}, env: env{io: s, output: outputTable}},
		{roles: []string{"bad name!"}, env: env{io: s, output: outputTable}},
	} {
		if err := run(context.Background(), o); !isUsage(err) {
			t.Errorf("%+v: err = %v, want a usage error", o, err)
		}
	}
}

func TestAMissingClusterIsExplainedOnceWithItsAdviceOnce(t *testing.T) {
	for _, args := range [][]string{
		{"instances", "--cluster", "nope"},
		{"instances", "--cluster", "nope", "--no-roles"},
		{"enis", "--cluster", "nope"},
		{"enis", "--cluster", "nope", "--instance", "i-1"},
		{"doctor", "--cluster", "nope"},
		{"status", "--cluster", "nope"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, stderr := runCmd(t, newWorld(t), false, args...)
			if code != ExitError {
				t.Fatalf("exit %d, stderr %s", code, stderr)
			}
			if n := strings.Count(stderr, adviceClusterNotFound); n != 1 {
				t.Fatalf("advice %q appears %d times, want once:\n%s", adviceClusterNotFound, n, stderr)
			}
			if n := strings.Count(stderr, "list-clusters"); n != 1 {
				t.Fatalf("list-clusters named %d times, want once:\n%s", n, stderr)
			}
			if n := strings.Count(stderr, `cluster "nope" not found`); n != 1 {
				t.Fatalf("not-found said %d times, want once:\n%s", n, stderr)
			}
		})
	}
}

// checkReadsAreAboutTheRole: as root a read names the role with
// principalArn, otherwise it is made as the role, without it.
func checkReadsAreAboutTheRole(t *testing.T, acct *accountsettingtest.Account, via string) {
	t.Helper()
	for _, c := range acct.Calls() {
		if c.Op != "ecs:ListAccountSettings" {
			continue
		}
		in := c.Input.(*ecs.ListAccountSettingsInput)
		if via == "root" {
			if aws.ToString(in.PrincipalArn) != roleArn {
				t.Fatalf("root read without principalArn: %+v", in)
			}
			continue
		}
		if in.PrincipalArn != nil || !strings.Contains(c.Caller, "assumed-role/EcsInstanceRole/") {
			t.Fatalf("read as %s with principalArn %v, want a session of the role without it", c.Caller, aws.ToString(in.PrincipalArn))
		}
	}
}
