package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// assumedRoles lists the roles the fleet assumed, with session names.
func assumedRoles(fw *fleetWorld) []string {
	var got []string
	for _, in := range fw.org.AssumeInputs() {
		arn := aws.ToString(in.RoleArn)
		got = append(got, arn[strings.LastIndex(arn, "/")+1:]+" as "+aws.ToString(in.RoleSessionName)+" ("+aws.ToString(in.SourceIdentity)+")")
	}
	return got
}

func TestFanOutReadsAndWritesAsTheirRolesNamingTheCaller(t *testing.T) {
	t.Run("enable writes as --write-role-name, in sessions named after the caller", func(t *testing.T) {
		fw, members, _ := enableWorld()
		s, out, errOut := streams(false)
		code := runFleetCmd(t, fw, s, "enable", "--role-name", "EcsInstanceRole", "--accounts", strings.Join(members, ","), "--regions", "us-east-1",
			"--assume-role-name", "TrunkctlReadOnly", "--write-role-name", "OrganizationAccountAccessRole", "--yes")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		// fleet.Run checks each account with the read role first; the
		// target's work (reads and the write) runs as the write role.
		got := assumedRoles(fw)
		want := []string{}
		for range members {
			want = append(want, "TrunkctlReadOnly as trunkctl.operator (operator)")
		}
		for range members {
			want = append(want, "OrganizationAccountAccessRole as trunkctl.operator (operator)")
		}
		slices.Sort(got)
		slices.Sort(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("assumed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("doctor reads as --assume-role-name", func(t *testing.T) {
		fw, members, _ := enableWorld()
		s, out, errOut := streams(false)
		runFleetCmd(t, fw, s, "doctor", "--cluster", "prod", "--accounts", strings.Join(members, ","), "--regions", "us-east-1",
			"--assume-role-name", "TrunkctlReadOnly", "--write-role-name", "OrganizationAccountAccessRole")
		got := assumedRoles(fw)
		if len(got) != len(members) {
			t.Fatalf("assumed %v, want one role per member account\n%s\n%s", got, out, errOut)
		}
		for _, g := range got {
			if g != "TrunkctlReadOnly as trunkctl.operator (operator)" {
				t.Errorf("assumed %s, want the read role", g)
			}
		}
	})
	t.Run("--write-role-name takes a name, not an ARN", func(t *testing.T) {
		fw, members, _ := enableWorld()
		s, _, errOut := streams(false)
		code := runFleetCmd(t, fw, s, "enable", "--role-name", "EcsInstanceRole", "--accounts", members[0], "--yes",
			"--write-role-name", "arn:aws:iam::123456789012:role/Admin")
		if code != ExitUsage || !strings.Contains(errOut.String(), "--write-role-name takes a role name") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
}
