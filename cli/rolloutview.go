package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trunkctl/trunkctl/internal/rollout"
)

// rolloutView renders a rollout's progress events on stderr. On a terminal
// it is a live view redrawn in place (batch k of n, each instance's step,
// elapsed, estimate), as the spinner of StartProgress draws; otherwise it
// prints one plain line per step, for logs.
type rolloutView struct {
	mu  sync.Mutex
	w   io.Writer
	tty bool
	// now is the wall clock the elapsed time ticks on between events.
	now func() time.Time

	batch, batches int
	// batchesDone, and the elapsed time when the last of them ended, feed
	// the estimate.
	batchesDone int
	doneAt      time.Duration
	elapsed     time.Duration
	eventAt     time.Time
	// steps is each instance of the current batch's step, in order.
	order []string
	steps map[string]string
	// groups is each group's launch state in the current batch.
	groups map[string]string
	last   string
	// drawn is how many lines the last frame took (to redraw over).
	drawn  int
	closed bool
}

func newRolloutView(w io.Writer, tty bool, now func() time.Time) *rolloutView {
	return &rolloutView{w: w, tty: tty, now: now, steps: map[string]string{}, groups: map[string]string{}}
}

// instanceStep is what the view shows for an instance after a step.
var instanceStep = map[rollout.Step]string{
	rollout.StepBatch:     "waiting for replacements",
	rollout.StepDrain:     "draining",
	rollout.StepDrained:   "drained",
	rollout.StepStopTasks: "stopping standalone tasks",
	rollout.StepUnprotect: "scale-in protection lifted",
	rollout.StepTerminate: "terminating",
}

// event takes one progress event.
func (v *rolloutView) event(e rollout.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	switch e.Step {
	case rollout.StepPlan, rollout.StepStopped, rollout.StepInterrupted, rollout.StepDone:
		return // the plan's table, the summary and the error line say it
	}
	if e.Step == rollout.StepBatch && e.Batch-1 > v.batchesDone {
		v.batchesDone, v.doneAt = e.Batch-1, e.Elapsed
	}
	if !v.tty {
		fmt.Fprintln(v.w, plainLine(e, v.batchesDone, v.doneAt))
		return
	}
	v.elapsed, v.eventAt = e.Elapsed, v.now()
	if e.Batch > 0 {
		v.batch, v.batches = e.Batch, e.Batches
	}
	switch e.Step {
	case rollout.StepBatch:
		v.order, v.steps, v.groups = append([]string(nil), e.Instances...), map[string]string{}, map[string]string{}
		for _, id := range e.Instances {
			v.steps[id] = instanceStep[e.Step]
		}
	case rollout.StepLaunch:
		v.groups[e.Group] = "launching: " + e.Message
	case rollout.StepRegistered:
		v.groups[e.Group] = e.Message
	case rollout.StepReplaced:
		switch {
		case len(e.Instances) == 2 && v.steps[e.Instances[0]] != "":
			v.steps[e.Instances[0]] = "replaced by " + e.Instances[1]
		case len(e.Instances) == 1 && v.steps[e.Instances[0]] != "":
			v.steps[e.Instances[0]] = "replaced (by an earlier run's launch)"
		}
	case rollout.StepNote, rollout.StepRefresh, rollout.StepRefreshState, "opt-in":
		// Lines worth keeping go above the live region.
		v.erase()
		fmt.Fprintln(v.w, plainLine(e, v.batchesDone, v.doneAt))
	default:
		if s, ok := instanceStep[e.Step]; ok {
			for _, id := range e.Instances {
				if _, in := v.steps[id]; in {
					v.steps[id] = s
				}
			}
		}
	}
	v.last = fmt.Sprintf("%s: %s", e.Step, e.Message)
	v.draw()
}

// tick redraws with the elapsed time moved on (the spinner's pace).
func (v *rolloutView) tick() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tty && !v.closed && v.drawn > 0 {
		v.draw()
	}
}

// run ticks every interval until stop is called; off a terminal it does nothing.
func (v *rolloutView) run(interval time.Duration) (stop func()) {
	if !v.tty {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				v.tick()
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// close erases the live region so the summary follows on a clean screen.
func (v *rolloutView) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.erase()
	v.closed = true
}

// frame is the live region's lines.
func (v *rolloutView) frame() []string {
	elapsed := v.elapsed
	if !v.eventAt.IsZero() {
		elapsed += v.now().Sub(v.eventAt)
	}
	head := fmt.Sprintf("rollout: %s elapsed", elapsed.Round(time.Second))
	if v.batches > 0 {
		head = fmt.Sprintf("batch %d of %d · %s elapsed%s", v.batch, v.batches, elapsed.Round(time.Second),
			estimate(elapsed, v.batches, v.batchesDone, v.doneAt))
	}
	lines := []string{head}
	groups := make([]string, 0, len(v.groups))
	for g := range v.groups {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		lines = append(lines, fmt.Sprintf("  %s: %s", g, v.groups[g]))
	}
	for _, id := range v.order {
		lines = append(lines, fmt.Sprintf("  %-20s %s", id, v.steps[id]))
	}
	if v.last != "" {
		lines = append(lines, "  "+v.last)
	}
	return lines
}

// draw replaces the last frame with the current one.
func (v *rolloutView) draw() {
	v.erase()
	lines := v.frame()
	fmt.Fprint(v.w, strings.Join(lines, "\n")+"\n")
	v.drawn = len(lines)
}

// erase moves up over the last frame and clears to the end of the screen.
func (v *rolloutView) erase() {
	if v.drawn > 0 {
		fmt.Fprintf(v.w, "\033[%dA\r\033[J", v.drawn)
		v.drawn = 0
	}
}

// plainLine is one step as a log line.
func plainLine(e rollout.Event, done int, doneAt time.Duration) string {
	prefix := fmt.Sprintf("[%s]", e.Elapsed.Round(time.Second))
	if e.Batches > 0 && e.Batch > 0 {
		prefix = fmt.Sprintf("[%s batch %d/%d%s]", e.Elapsed.Round(time.Second), e.Batch, e.Batches, estimate(e.Elapsed, e.Batches, done, doneAt))
	}
	subject := ""
	if len(e.Instances) > 0 && len(e.Instances) <= 3 {
		subject = " " + strings.Join(e.Instances, " ")
	} else if len(e.Instances) > 3 {
		subject = fmt.Sprintf(" %s .. %s (%d)", e.Instances[0], e.Instances[len(e.Instances)-1], len(e.Instances))
	}
	return fmt.Sprintf("%s %s%s: %s", prefix, e.Step, subject, e.Message)
}

// estimate is the time left at the pace of the batches done so far (the
// last of them ended doneAt into the rollout).
func estimate(elapsed time.Duration, batches, done int, doneAt time.Duration) string {
	if done == 0 {
		return ""
	}
	left := doneAt/time.Duration(done)*time.Duration(batches-done) - (elapsed - doneAt)
	return fmt.Sprintf(", about %s left", max(left, 0).Round(time.Minute))
}
