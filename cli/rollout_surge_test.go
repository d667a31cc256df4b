package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/rollout/rollouttest"
)

func TestRolloutMaxSurgeDryRunShowsTheLaunchesAheadAndTheRunGivesThemBack(t *testing.T) {
	w := newRolloutWorld()
	stale := w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstanceRole", Count: 4})
	w.sim.AddService("web", 8, 100, 200)
	w.watch(t, 1, stale)
	code, out, errOut := w.run(context.Background(), "rollout", "--cluster", "prod", "--dry-run", "--max-surge", "100%")
	if code != ExitOK {
		t.Fatalf("dry run exit %d; stderr:\n%s", code, errOut)
	}
	if n := w.sim.Writes(); n != 0 {
		t.Fatalf("dry run made %d writes", n)
	}
	for _, want := range []string{"would call batch 1/4: autoscaling SetDesiredCapacity web 4 -> 8 (3 ahead of the drains, for later batches)",
		"would call batch 2/4: wait for 1 instance(s) launched ahead ACTIVE with a trunk"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout does not say %q:\n%s", want, out)
		}
	}

	code, _, errOut = w.run(context.Background(), "rollout", "--cluster", "prod", "--max-surge", "100%", "--yes", "-o", "json")
	if code != ExitOK {
		t.Fatalf("run exit %d; stderr:\n%s", code, errOut)
	}
	w.noViolations(t)
	if d, tags := w.sim.Desired("web"), w.sim.Tags("web"); d != 4 || len(tags) != 0 {
		t.Fatalf("web desired %d, tags %v after the run; want 4 and none", d, tags)
	}
	for _, id := range stale {
		if st := w.sim.InstanceState(id); st != rollouttest.Terminating && st != rollouttest.Terminated {
			t.Fatalf("stale %s is %s after the run", id, st)
		}
	}
}

func TestRolloutRejectsAMaxSurgeThatIsNotACountOrAPercentage(t *testing.T) {
	w := newRolloutWorld()
	w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstanceRole", Count: 2})
	for _, bad := range []string{"150%", "-2", "all"} {
		code, _, errOut := w.run(context.Background(), "rollout", "--cluster", "prod", "--dry-run", "--max-surge", bad)
		if code != ExitUsage || !strings.Contains(errOut, "max-surge") {
			t.Fatalf("--max-surge %s: exit %d, stderr %q; want a usage error naming the flag", bad, code, errOut)
		}
	}
}
