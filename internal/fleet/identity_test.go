package fleet_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trunkctl/trunkctl/internal/fleet"
	"github.com/trunkctl/trunkctl/internal/fleet/fleettest"
)

func TestSessionNamesCarryTheCaller(t *testing.T) {
	tests := []struct{ name, arn, who, session, source string }{
		{"an IAM Identity Center user is named by the session's e-mail",
			"arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/jane.doe@example.com",
			"jane.doe@example.com", "trunkctl.jane.doe@example.com", "jane.doe@example.com"},
		{"an IAM user is named by the user name", "arn:aws:iam::123456789012:user/ops/jane", "jane", "trunkctl.jane", "jane"},
		{"the root user is root", "arn:aws:iam::123456789012:root", "root", "trunkctl.root", "root"},
		{"characters STS refuses become hyphens", "arn:aws:sts::123456789012:assumed-role/ci/build #42 (main)", "build #42 (main)", "trunkctl.build-42-main-", "build-42-main-"},
		{"a long name is cut to STS's 64 characters", "arn:aws:sts::123456789012:assumed-role/r/" + strings.Repeat("a", 70),
			strings.Repeat("a", 70), "trunkctl." + strings.Repeat("a", 55), strings.Repeat("a", 64)},
		{"a SourceIdentity may not begin with aws:", "arn:aws:sts::123456789012:assumed-role/r/aws:x", "aws:x", "trunkctl.aws-x", "aws-x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			who := fleet.CallerName(tt.arn)
			if who != tt.who {
				t.Fatalf("CallerName = %q, want %q", who, tt.who)
			}
			if got := fleet.SessionNameFor(who); got != tt.session || len(got) > 64 {
				t.Errorf("SessionNameFor = %q, want %q", got, tt.session)
			}
			if got := fleet.SourceIdentityFor(who); got != tt.source || len(got) > 64 {
				t.Errorf("SourceIdentityFor = %q, want %q", got, tt.source)
			}
		})
	}
}

func TestReadsAndWritesAssumeTheirOwnRolesAsTheCaller(t *testing.T) {
	ctx := context.Background()
	w := fleettest.New()
	a := w.AddAccounts(2, fleettest.Root)
	w.Accounts[1].DenySourceIdentity = true // OrganizationAccountAccessRole's trust allows sts:AssumeRole only
	f := newFleet(t, w, fleet.Options{RoleName: "TrunkctlReadOnly", WriteRoleName: "OrganizationAccountAccessRole"})

	for _, cfg := range []aws.Config{f.Config(a[0], "us-east-1"), f.WriteConfig(a[0], "us-east-1"), f.Config(a[1], "us-east-1")} {
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			t.Fatalf("credentials: %v", err)
		}
	}
	in := w.AssumeInputs()
	var got []string
	for _, i := range in {
		got = append(got, aws.ToString(i.RoleArn)+" "+aws.ToString(i.RoleSessionName)+" "+aws.ToString(i.SourceIdentity))
	}
	want := []string{
		"arn:aws:iam::" + a[0] + ":role/TrunkctlReadOnly trunkctl.operator operator",
		"arn:aws:iam::" + a[0] + ":role/OrganizationAccountAccessRole trunkctl.operator operator",
		// The role refuses sts:SetSourceIdentity: asked again without it.
		"arn:aws:iam::" + a[1] + ":role/TrunkctlReadOnly trunkctl.operator operator",
		"arn:aws:iam::" + a[1] + ":role/TrunkctlReadOnly trunkctl.operator ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("AssumeRole calls\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if f.WriteRoleARN(a[0]) != "arn:aws:iam::"+a[0]+":role/OrganizationAccountAccessRole" {
		t.Errorf("write role %s", f.WriteRoleARN(a[0]))
	}
}

func TestWritesUseTheReadRoleUnlessToldOtherwise(t *testing.T) {
	w := fleettest.New()
	a := w.AddAccounts(1, fleettest.Root)
	f := newFleet(t, w, fleet.Options{RoleName: "Ops"})
	if _, err := f.WriteConfig(a[0], "us-east-1").Credentials.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Config(a[0], "us-east-1").Credentials.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if in := w.AssumeInputs(); len(in) != 1 || aws.ToString(in[0].RoleArn) != "arn:aws:iam::"+a[0]+":role/Ops" {
		t.Errorf("AssumeRole calls %+v, want one, of Ops, shared by reads and writes", in)
	}
}
