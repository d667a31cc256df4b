package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/lambdaruntime"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

// coldStart runs one fresh function process for one event queued before it
// starts (as on a real cold start) and returns the time from process start
// to its response at the Runtime API, and its peak RSS (VmHWM) in bytes.
func coldStart(b *testing.B, bin string, ev []byte, env []string) (time.Duration, int64) {
	rt := lambdaruntime.Start(b)
	inv := rt.Invoke(ev, 30*time.Second)
	cmd := exec.Command(bin)
	cmd.Env = append(append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir()}, rt.Env()...), env...)
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	res, err := inv.Wait(30 * time.Second)
	if err != nil || res.Kind != "response" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		b.Fatalf("no response (%v %s %s):\n%s", err, res.Kind, res.Body, out)
	}
	elapsed := res.At.Sub(start)
	// The function answered and waits for the next event: its high-water
	// mark is final.
	hwm, err := vmHWM(cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	rt.Close()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	return elapsed, hwm
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

// BenchmarkColdStart measures fresh processes of the release-flag binary
// (TRUNKCTL_BENCH_RUNS of them, default 7): a state-change event of a
// trunked instance (no AWS call: the process alone), and a scheduled sweep
// of a one-instance cluster in moto_server (which adds moto's own time).
// Run with -benchtime 1x; see docs/benchmarks.md.
func BenchmarkColdStart(b *testing.B) {
	runs := 7
	if s := os.Getenv("TRUNKCTL_BENCH_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 5 {
			b.Fatalf("TRUNKCTL_BENCH_RUNS=%q: want a number >= 5", s)
		}
		runs = n
	}
	bin := guardBinary(b)
	measure := func(b *testing.B, label string, ev []byte, env []string) {
		var times []time.Duration
		var rss []int64
		for range b.N {
			times, rss = times[:0], rss[:0]
			for range runs {
				d, m := coldStart(b, bin, ev, env)
				times = append(times, d)
				rss = append(rss, m)
			}
		}
		slices.Sort(times)
		slices.Sort(rss)
		med, peak := times[len(times)/2], rss[len(rss)-1]
		b.ReportMetric(float64(med.Microseconds())/1000, "ms-median")
		b.ReportMetric(float64(peak)/(1<<20), "MiB-peak-rss")
		var all []string
		for _, t := range times {
			all = append(all, fmt.Sprintf("%.1f", float64(t.Microseconds())/1000))
		}
		fmt.Printf("guard cold start, %s: %d fresh processes, process start -> response: median %.1f ms, all [%s] ms; peak RSS %.1f MiB\n",
			label, runs, float64(med.Microseconds())/1000, strings.Join(all, " "), float64(peak)/(1<<20))
	}
	b.Run("trunked-state-change", func(b *testing.B) {
		env := []string{"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
			"AWS_ENDPOINT_URL=http://127.0.0.1:9", "TOPIC_ARN=arn:aws:sns:us-east-1:123456789012:trunkctl-guard"}
		measure(b, "a trunked instance's state change (no AWS call)", instanceEvent("i-0trunked00000001", true, false), env)
	})
	b.Run("moto-sweep", func(b *testing.B) {
		m := moto.Start(b)
		w := setUpMoto(b, m)
		var env []string
		for k, v := range m.EnvVars() {
			env = append(env, k+"="+v)
		}
		env = append(env, "TOPIC_ARN="+w.topicArn, "CLUSTERS=prod", "AWS_ENDPOINT_URL="+moto.Proxy(b, m.URL, moto.ContainerNumbersAsStrings, moto.AgentVersion("1.90.0")))
		measure(b, "a scheduled sweep of a one-instance cluster in moto_server (includes moto's time)", scheduledEvent(), env)
	})
}

// BenchmarkWarmStateChange measures, in one warm process under the local
// Runtime API, the round trip of a trunked instance's state-change event
// (queue -> /next -> handler -> /response): an upper bound of what Lambda
// bills for the guard's most frequent invocation.
func BenchmarkWarmStateChange(b *testing.B) {
	env := []string{"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_ENDPOINT_URL=http://127.0.0.1:9", "TOPIC_ARN=arn:aws:sns:us-east-1:123456789012:trunkctl-guard"}
	f := startFunction(b, []string{guardBinary(b)}, env...)
	ev := instanceEvent("i-0trunked00000001", true, false)
	f.invoke(b, ev) // warm up
	const n = 500
	times := make([]time.Duration, 0, n)
	for range b.N {
		times = times[:0]
		for range n {
			start := time.Now()
			res := f.invoke(b, ev)
			if res.Kind != "response" {
				b.Fatalf("%s %s", res.Kind, res.Body)
			}
			times = append(times, time.Since(start))
		}
	}
	slices.Sort(times)
	med, p99 := times[n/2], times[n*99/100]
	b.ReportMetric(float64(med.Microseconds())/1000, "ms-median")
	fmt.Printf("guard warm state change (trunked, no AWS call), %d events through the local Runtime API: median %.2f ms, p99 %.2f ms\n",
		n, float64(med.Microseconds())/1000, float64(p99.Microseconds())/1000)
}
