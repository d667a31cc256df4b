package main

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/lambdaproc"
	"github.com/trunkctl/trunkctl/internal/testutil/lambdaruntime"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
)

// coldStart runs one fresh function process for one event queued before it
// starts (as on a real cold start) and returns the time from process start
// to its response at the Runtime API, and its peak RSS (VmHWM) in bytes.
func coldStart(b *testing.B, bin string, ev []byte, env []string) (time.Duration, int64) {
	return lambdaproc.ColdStart(b, bin, ev, 30*time.Second, env, func(inv *lambdaruntime.Invocation) (time.Time, error) {
		res, err := inv.Wait(30 * time.Second)
		if err != nil {
			return time.Time{}, fmt.Errorf("no response: %w", err)
		}
		if res.Kind != "response" {
			return time.Time{}, fmt.Errorf("no response (%s %s)", res.Kind, res.Body)
		}
		return res.At, nil
	})
}

// BenchmarkColdStart measures fresh processes of the release-flag binary
// (TRUNKCTL_BENCH_RUNS of them, default 7): a state-change event of a
// trunked instance (no AWS call: the process alone), and a scheduled sweep
// of a one-instance cluster in moto_server (which adds moto's own time).
// Run with -benchtime 1x; see docs/benchmarks.md.
func BenchmarkColdStart(b *testing.B) {
	runs := lambdaproc.BenchRuns(b)
	bin := guardBinary(b)
	measure := func(b *testing.B, label string, ev []byte, env []string) {
		c := lambdaproc.MeasureColdStarts(b, runs, func() (time.Duration, int64) { return coldStart(b, bin, ev, env) })
		fmt.Printf("guard cold start, %s: %d fresh processes, process start -> response: median %.1f ms, all [%s] ms; peak RSS %.1f MiB\n",
			label, runs, float64(c.Median().Microseconds())/1000, c.AllMS(), float64(c.PeakRSS())/(1<<20))
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
	f := lambdaproc.Start(b, []string{guardBinary(b)}, env...)
	ev := instanceEvent("i-0trunked00000001", true, false)
	invoke(b, f, ev) // warm up
	const n = 500
	times := make([]time.Duration, 0, n)
	for range b.N {
		times = times[:0]
		for range n {
			start := time.Now()
			res := invoke(b, f, ev)
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
