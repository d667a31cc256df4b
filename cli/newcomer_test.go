package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/fleet/fleettest"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

func TestCapacityMistakesAreUsageErrorsThatSuggestOnce(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"a mistyped size of a known family", []string{"capacity", "c5.lrage"}, "c5.lrage is not a c5 instance type in ECS's or EC2's data (did you mean c5.large?)"},
		{"a family cut short suggests its variants", []string{"capacity", "--family", "m6"}, `no instance types of family "m6" in ECS's or EC2's data (did you mean m6a, m6g or m6i?)`},
		{"an unknown family", []string{"capacity", "--family", "zz9"}, `no instance types of family "zz9"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, newWorld(t), false, tt.args...)
			if code != ExitUsage || out != "" || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "did you mean") > 1 {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q (did you mean at most once)", code, out, errOut, tt.want)
			}
		})
	}
	t.Run("a type of a family newer than the data is shown as unknown, did you mean once", func(t *testing.T) {
		code, out, errOut := runCmd(t, newWorld(t), false, "capacity", "c5.large", "c9.large")
		if code != ExitOK || !strings.Contains(out, "c9.large\t") || strings.Count(out+errOut, "did you mean") > 1 {
			t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
	})
}

func TestInstancesWithoutAProfileAreListedWithoutGoSyntax(t *testing.T) {
	w := newWorld(t)
	for _, n := range []int{2, 3} {
		id := inventorytest.InstanceID(n)
		inst := w.cluster.Instances[id]
		inst.IamInstanceProfile = nil
		w.cluster.Instances[id] = inst
	}
	_, _, errOut := runCmd(t, w, false, "status", "--cluster", "prod")
	want := "warning: 2 EC2 instance(s) have no instance profile: " + inventorytest.InstanceID(2) + ", " + inventorytest.InstanceID(3) + "\n"
	if !strings.Contains(errOut, want) {
		t.Fatalf("stderr lacks %q:\n%s", want, errOut)
	}
}

func TestAnOrganizationUnitWithoutAccountsSaysSoCleanly(t *testing.T) {
	fw := newFleetWorld()
	fw.org.OUs = map[string]string{"ou-empt-aaaaaaaa": fleettest.Root}
	s, out, errOut := streams(false)
	code := Run(context.Background(), []string{"instances", "--cluster", "prod", "--org", "--ou", "ou-empt-aaaaaaaa"}, fw.deps(s))
	want := "Error: the organization has no ACTIVE accounts in ou-empt-aaaaaaaa or the organizational units below; check the --ou ids\n"
	if code != ExitError || out.Len() != 0 || errOut.String() != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, out, errOut, want)
	}
}
