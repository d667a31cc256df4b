package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/catalog"
)

func instancesOptsFor(w *world, s *IOStreams, output string) *instancesOpts {
	return &instancesOpts{cluster: "prod", output: output, io: s, lister: w.loader(), catalog: catalog.Default()}
}

func TestInstancesGivesEveryContainerInstanceAVerdictAndExitsThreeWhenAnyNeedsAction(t *testing.T) {
	w := newWorld(t)
	s, out, errOut := streams(false)
	err := run(context.Background(), instancesOptsFor(w, s, outputJSON))
	if ExitCodeOf(err) != ExitUnhealthy {
		t.Fatalf("exit = %d (%v), want 3", ExitCodeOf(err), err)
	}
	golden(t, "instances.golden.json", out.Bytes())
	if !strings.Contains(errOut.String(), "drain and replace") || !strings.Contains(errOut.String(), "trunkctl doctor --cluster prod") {
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
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "i-00000000000000001\t") || !strings.HasSuffix(lines[0], "\t1/10\ttrunk eni-0a000000000000001") {
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
	if strings.Index(lines[0], "VERDICT") != strings.Index(lines[1], "trunk eni-") {
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
	if !strings.Contains(out.String(), "\033[32mtrunk") {
		t.Fatalf("no colour on a terminal: %q", out)
	}
}

func TestInstancesOfAMissingClusterSaysToCheckTheRegion(t *testing.T) {
	w := newWorld(t)
	s, _, _ := streams(false)
	o := instancesOptsFor(w, s, outputJSON)
	o.cluster = "nope"
	err := run(context.Background(), o)
	if ExitCodeOf(err) != ExitError || !strings.Contains(err.Error(), "check --region") {
		t.Fatalf("err = %v", err)
	}
}
