package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

func instancesOptsFor(w *world, s *IOStreams, output string) *instancesOpts {
	return &instancesOpts{cluster: "prod", env: w.env(s, output)}
}

func TestInstancesSayWhetherTheRoleOfAnInstanceWithoutATrunkIsEnabledNow(t *testing.T) {
	w := newWorld(t)
	w.acct.SetExplicit(roleArn, "awsvpcTrunking", "enabled")
	s, out, _ := streams(false)
	_ = run(context.Background(), instancesOptsFor(w, s, outputJSON))
	if !strings.Contains(out.String(), "role EcsInstanceRole is enabled now (its own setting), and no record says when") ||
		!strings.Contains(out.String(), `"roleEffectiveValue": "enabled"`) {
		t.Fatalf("stdout = %s", out)
	}
}

func TestInstancesWithoutRolesMakesNoIAMOrSTSCalls(t *testing.T) {
	w := newWorld(t)
	code, out, _ := runCmd(t, w, false, "instances", "--cluster", "prod", "--no-roles", "-o", "json")
	if code != ExitUnhealthy || strings.Contains(out, `"roleArn"`) {
		t.Fatalf("exit %d, stdout %s", code, out)
	}
	if n := w.cluster.Calls()["iam:GetInstanceProfile"] + w.cluster.Calls()["ec2:DescribeInstances"]; n != 0 || len(w.acct.Ops()) != 0 {
		t.Fatalf("calls: %s; %v", w.cluster.SortedOps(), w.acct.Ops())
	}
}

func TestInstancesStillJudgeWhenTheRolesCannotBeFound(t *testing.T) {
	w := newWorld(t)
	w.cluster.Fail["ec2:DescribeInstances"] = inventorytest.APIError("UnauthorizedOperation", "no")
	s, out, errOut := streams(false)
	err := run(context.Background(), instancesOptsFor(w, s, outputJSON))
	if ExitCodeOf(err) != ExitUnhealthy || !strings.Contains(errOut.String(), "could not find the instance roles") || !strings.Contains(out.String(), "the instance's role could not be found") {
		t.Fatalf("err %v\nstderr %s\nstdout %s", err, errOut, out)
	}
}

func TestInstancesGivesEveryContainerInstanceAVerdictAndExitsThreeWhenAnyNeedsAction(t *testing.T) {
	w := newWorld(t)
	s, out, errOut := streams(false)
	err := run(context.Background(), instancesOptsFor(w, s, outputJSON))
	if ExitCodeOf(err) != ExitUnhealthy {
		t.Fatalf("exit = %d (%v), want 3", ExitCodeOf(err), err)
	}
	golden(t, "instances.golden.json", out.Bytes())
	if !strings.Contains(errOut.String(), "--status DRAINING --container-instances "+inventory.ResourceID(w.cluster.ContainerInstanceArn(2))) ||
		!strings.Contains(errOut.String(), "trunkctl enable --role "+roleArn) || !strings.Contains(errOut.String(), "trunkctl doctor --cluster prod") {
		t.Fatalf("stderr = %s", errOut)
	}
}

func TestInstancesOfAHealthyClusterExitZero(t *testing.T) {
	w := healthyWorld(t)
	s, out, _ := streams(false)
	if err := run(context.Background(), instancesOptsFor(w, s, outputTable)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "i-00000000000000001\t") || !strings.HasSuffix(lines[0], "\teni-0a000000000000001\t1/10\tok") {
		t.Fatalf("piped output = %q", out)
	}
}

func TestInstancesOnATerminalIsAnAlignedTableWithAHeader(t *testing.T) {
	w := healthyWorld(t)
	s, out, _ := streams(true)
	if err := run(context.Background(), instancesOptsFor(w, s, outputTable)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.HasPrefix(lines[0], "INSTANCE  ") || strings.Contains(out.String(), "\t") {
		t.Fatalf("terminal output = %q", out)
	}
	if strings.Index(lines[0], "VERDICT") != strings.LastIndex(lines[1], "ok") {
		t.Fatalf("columns not aligned:\n%s", out)
	}
}

func TestInstancesColoursTheVerdictOnlyWhenAllowed(t *testing.T) {
	w := healthyWorld(t)
	s, out, _ := streams(true)
	s.NoColor = false
	if err := run(context.Background(), instancesOptsFor(w, s, outputTable)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\033[32mok") {
		t.Fatalf("no colour on a terminal: %q", out)
	}
}

func TestInstancesOfAMissingClusterSaysToCheckTheRegion(t *testing.T) {
	code, _, stderr := runCmd(t, newWorld(t), false, "instances", "--cluster", "nope")
	if code != ExitError || !strings.Contains(stderr, "check --region") {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
}

func TestTheDefaultInstancesTableFits120ColumnsAndWideShowsTheRest(t *testing.T) {
	w := newWorld(t)
	s, out, _ := streams(true)
	_ = run(context.Background(), instancesOptsFor(w, s, outputTable))
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		if n := len([]rune(l)); n > 120 {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	if !strings.Contains(out.String(), " ROLE ") || !strings.Contains(out.String(), "  EcsInstanceRole  ") {
		t.Fatalf("no ROLE column:\n%s", out)
	}
	s, out, _ = streams(true)
	o := instancesOptsFor(w, s, outputTable)
	o.wide = true
	_ = run(context.Background(), o)
	for _, col := range []string{"CONTAINER INSTANCE", "AGENT", "REGISTERED", "REMEDY", "MESSAGE", "enable-then-replace", "EcsInstanceRole (off)"} {
		if !strings.Contains(out.String(), col) {
			t.Errorf("--wide lacks %s:\n%s", col, out)
		}
	}
	code, wideOut, _ := runCmd(t, w, true, "instances", "--cluster", "prod", "-o", "wide")
	if code != ExitUnhealthy || !strings.Contains(wideOut, "REMEDY") {
		t.Fatalf("-o wide: exit %d\n%s", code, wideOut)
	}
}
