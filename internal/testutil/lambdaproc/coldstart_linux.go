package lambdaproc

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/lambdaruntime"
)

// ColdStart runs one fresh process of bin with env, with payload queued
// before it starts (as on a real cold start) at a local Runtime API with a
// deadline timeout from then. answered waits for the function's answer and
// returns when it arrived (at the Runtime API, or wherever the function
// sends it), or an error that fails the test with the process's output.
// ColdStart returns the time from process start to that answer and the
// process's peak RSS (VmHWM) in bytes.
func ColdStart(tb testing.TB, bin string, payload []byte, timeout time.Duration, env []string,
	answered func(inv *lambdaruntime.Invocation) (time.Time, error),
) (time.Duration, int64) {
	tb.Helper()
	rt := lambdaruntime.Start(tb)
	inv := rt.Invoke(payload, timeout)
	p := StartProcess(tb, bin, append(rt.Env(), env...))
	at, err := answered(inv)
	if err != nil {
		p.Fail(tb, "%v", err)
	}
	// The function has answered and is waiting for the next event, so its
	// high-water mark is final. VmHWM belongs to the address space exec
	// created; rusage's Maxrss would also count the test process, whose
	// memory the child shares between vfork and exec.
	hwm, err := vmHWM(p.Cmd.Process.Pid)
	if err != nil {
		tb.Fatal(err)
	}
	rt.Close() // the next poll fails and the process exits
	p.Stop(5 * time.Second)
	return at.Sub(p.Started), hwm
}

// vmHWM reads a process's peak resident set size in bytes.
func vmHWM(pid int) (int64, error) {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// BenchRuns is how many fresh processes a cold-start benchmark measures:
// TRUNKCTL_BENCH_RUNS, at least 5, default 7.
func BenchRuns(b *testing.B) int {
	runs := 7
	if s := os.Getenv("TRUNKCTL_BENCH_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 5 {
			b.Fatalf("TRUNKCTL_BENCH_RUNS=%q: want a number >= 5", s)
		}
		runs = n
	}
	return runs
}

// ColdStarts are the measurements of fresh processes, each sorted.
type ColdStarts struct {
	Times []time.Duration
	RSS   []int64
}

// MeasureColdStarts calls one runs times in each of b.N rounds and returns
// the last round's measurements, reporting their median time (ms-median)
// and highest peak RSS (MiB-peak-rss).
func MeasureColdStarts(b *testing.B, runs int, one func() (time.Duration, int64)) ColdStarts {
	var c ColdStarts
	for range b.N {
		c.Times, c.RSS = c.Times[:0], c.RSS[:0]
		for range runs {
			d, m := one()
			c.Times = append(c.Times, d)
			c.RSS = append(c.RSS, m)
		}
	}
	slices.Sort(c.Times)
	slices.Sort(c.RSS)
	b.ReportMetric(float64(c.Median().Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(c.PeakRSS())/(1<<20), "MiB-peak-rss")
	return c
}

// Median is the median time.
func (c ColdStarts) Median() time.Duration { return c.Times[len(c.Times)/2] }

// Max is the longest time.
func (c ColdStarts) Max() time.Duration { return c.Times[len(c.Times)-1] }

// PeakRSS is the highest peak RSS in bytes.
func (c ColdStarts) PeakRSS() int64 { return c.RSS[len(c.RSS)-1] }

// AllMS lists the times in milliseconds with one decimal.
func (c ColdStarts) AllMS() string {
	var all []string
	for _, t := range c.Times {
		all = append(all, fmt.Sprintf("%.1f", float64(t.Microseconds())/1000))
	}
	return strings.Join(all, " ")
}
