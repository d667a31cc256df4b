package cli

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/rollout"
	"github.com/trunkctl/trunkctl/internal/rollout/rollouttest"
)

// fakeTerminal keeps the screen a writer's bytes leave on a terminal that
// understands what the live view and the spinner write: \r, \n, ESC[nA
// (cursor up), ESC[J (clear to the end of the screen) and ESC[K (clear to
// the end of the line).
type fakeTerminal struct {
	screen   []string
	row, col int
	// writes counts the bytes written, to tell a redraw from a log.
	writes int
}

func (f *fakeTerminal) Write(p []byte) (int, error) {
	f.writes += len(p)
	s := string(p)
	for len(s) > 0 {
		for f.row >= len(f.screen) {
			f.screen = append(f.screen, "")
		}
		switch {
		case strings.HasPrefix(s, "\033["):
			end := strings.IndexAny(s, "AJK")
			n, _ := strconv.Atoi(s[2:end])
			switch s[end] {
			case 'A':
				f.row = max(0, f.row-max(n, 1))
			case 'J':
				f.screen[f.row] = f.screen[f.row][:min(f.col, len(f.screen[f.row]))]
				f.screen = f.screen[:f.row+1]
			case 'K':
				f.screen[f.row] = f.screen[f.row][:min(f.col, len(f.screen[f.row]))]
			}
			s = s[end+1:]
			continue
		case s[0] == '\r':
			f.col = 0
		case s[0] == '\n':
			f.row, f.col = f.row+1, 0
		default:
			line := f.screen[f.row]
			for len(line) < f.col {
				line += " "
			}
			f.screen[f.row] = line[:f.col] + s[:1] + line[min(f.col+1, len(line)):]
			f.col++
		}
		s = s[1:]
	}
	return len(p), nil
}

// text is the screen's non-empty lines.
func (f *fakeTerminal) text() []string {
	var out []string
	for _, l := range f.screen {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func rolloutEvents() []rollout.Event {
	m := time.Minute
	return []rollout.Event{
		{Step: rollout.StepPlan, Message: "0 trunked, 4 to replace in 2 batch(es)"},
		{Step: rollout.StepBatch, Batch: 1, Batches: 2, Instances: []string{"i-a", "i-b"}},
		{Step: rollout.StepLaunch, Batch: 1, Batches: 2, Group: "web", Message: "desired capacity 4 -> 6", Elapsed: time.Second},
		{Step: rollout.StepRegistered, Batch: 1, Batches: 2, Group: "web", Instances: []string{"i-n1", "i-n2"}, Message: "2 new instance(s) ACTIVE with a trunk", Elapsed: 2 * m},
		{Step: rollout.StepDrain, Batch: 1, Batches: 2, Instances: []string{"i-a", "i-b"}, Message: "2 instance(s) DRAINING", Elapsed: 2 * m},
		{Step: rollout.StepTerminate, Batch: 1, Batches: 2, Group: "web", Instances: []string{"i-a"}, Message: "terminating: desired capacity decremented", Elapsed: 3 * m},
		{Step: rollout.StepReplaced, Batch: 1, Batches: 2, Group: "web", Instances: []string{"i-a", "i-n1"}, Message: "i-a -> i-n1", Elapsed: 3 * m},
		{Step: rollout.StepNote, Batch: 2, Batches: 2, Group: "web", Message: "group web: desired 6, max 6", Elapsed: 4 * m},
		{Step: rollout.StepBatch, Batch: 2, Batches: 2, Instances: []string{"i-c", "i-d"}, Elapsed: 4 * m},
		{Step: rollout.StepDrain, Batch: 2, Batches: 2, Instances: []string{"i-c"}, Message: "1 instance(s) DRAINING", Elapsed: 5 * m},
	}
}

func TestTheLiveViewRedrawsInPlaceOnATerminal(t *testing.T) {
	term := &fakeTerminal{}
	wall := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := newRolloutView(term, true, func() time.Time { return wall })
	for _, e := range rolloutEvents() {
		v.event(e)
	}
	got := term.text()
	want := []string{
		"[4m0s batch 2/2] note: group web: desired 6, max 6",
		"batch 2 of 2 · 5m0s elapsed, about 3m0s left",
		"  i-c                  draining",
		"  i-d                  waiting for replacements",
		"  drain: 1 instance(s) DRAINING",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("screen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Between events the elapsed time moves on with the wall clock.
	wall = wall.Add(70 * time.Second)
	v.tick()
	if got := term.text(); got[1] != "batch 2 of 2 · 6m10s elapsed, about 2m0s left" || len(got) != len(want) {
		t.Fatalf("after a tick:\n%s", strings.Join(got, "\n"))
	}
	v.close()
	if got := term.text(); len(got) != 1 || !strings.Contains(got[0], "note: group web") {
		t.Fatalf("after close the live region is still there:\n%s", strings.Join(got, "\n"))
	}
}

func TestTheLiveViewShowsEachInstancesStepInTheCurrentBatch(t *testing.T) {
	term := &fakeTerminal{}
	v := newRolloutView(term, true, time.Now)
	for _, e := range rolloutEvents()[:7] {
		v.event(e)
	}
	got := strings.Join(term.text(), "\n")
	for _, want := range []string{"batch 1 of 2 · 3m0s elapsed", "  web: 2 new instance(s) ACTIVE with a trunk", "  i-a                  replaced by i-n1", "  i-b                  draining"} {
		if !strings.Contains(got, want) {
			t.Errorf("screen lacks %q:\n%s", want, got)
		}
	}
}

func TestTheViewOffATerminalPrintsPlainLines(t *testing.T) {
	var b strings.Builder
	v := newRolloutView(&b, false, time.Now)
	for _, e := range rolloutEvents() {
		v.event(e)
	}
	v.close()
	out := b.String()
	if strings.Contains(out, "\033") || strings.Contains(out, "\r") {
		t.Fatalf("escape sequences off a terminal:\n%q", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 9 || lines[1] != "[1s batch 1/2] launch: desired capacity 4 -> 6" || lines[8] != "[5m0s batch 2/2, about 3m0s left] drain i-c: 1 instance(s) DRAINING" {
		t.Fatalf("plain lines:\n%s", out)
	}
}

func TestRolloutOnATerminalLeavesTheSummaryNotALogOfSteps(t *testing.T) {
	w := newRolloutWorld()
	stale := w.sim.AddGroup(rollouttest.GroupSpec{Name: "web", Role: "ecsInstanceRole", Count: 4})
	w.sim.AddService("web", 8, 100, 200)
	w.sim.EnableRole("ecsInstanceRole")
	w.watch(t, 2, stale)
	s, _, _ := streams(false)
	term := &fakeTerminal{}
	s.ErrOut, s.ErrIsTerminal = term, true
	if code := Run(context.Background(), []string{"rollout", "--cluster", "prod", "--max-unavailable", "2", "--yes"}, w.deps(s)); code != ExitOK {
		t.Fatalf("exit %d; screen:\n%s", code, strings.Join(term.text(), "\n"))
	}
	screen := strings.Join(term.text(), "\n")
	if strings.Contains(screen, "] drain") || strings.Contains(screen, "batch 2 of 2") {
		t.Fatalf("the steps were left on the screen:\n%s", screen)
	}
	if !strings.Contains(screen, "done: 4 replaced, 0 skipped; awsvpc task slots 8 -> 40") {
		t.Fatalf("screen lacks the summary:\n%s", screen)
	}
	w.noViolations(t)
}
