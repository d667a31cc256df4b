package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/trunkctl/trunkctl/internal/testutil/lambdaproc"
	"github.com/trunkctl/trunkctl/internal/testutil/lambdaruntime"
	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

// The end-to-end tests and the benchmark run the real binary, built once per
// test process with the flags of the release build (dist/lambda.zip), for
// the host's architecture.
var lambdaBinary = lambdaproc.Binary("./lambda", ".", "bootstrap", "lambda.norpc")

// clientBinary builds the benchmark's no-SDK client (./benchclient) with the
// same flags, once.
var clientBinary = lambdaproc.Binary("./lambda/benchclient", "./benchclient", "benchclient")

func TestMain(m *testing.M) { lambdaproc.Main(m, "trunkctl-lambda-test-") }

func TestTheBinaryLinksNeitherCobraNorTheCDK(t *testing.T) {
	peer.NotLinked(t, "lambda.norpc", "github.com/spf13/cobra", "github.com/aws/aws-cdk-go", "github.com/aws/jsii-runtime-go", "github.com/aws/constructs-go", "github.com/trunkctl/trunkctl/cli")
}

// function is the lambda binary running under a local Runtime API, its
// stdout and stderr in one buffer (Stderr).
type function struct{ *lambdaproc.Function }

// startFunction runs the binary with env (KEY=VALUE) on top of a minimal
// environment, and stops it when the test ends.
func startFunction(tb testing.TB, env ...string) *function {
	tb.Helper()
	return &function{lambdaproc.StartCombined(tb, []string{lambdaBinary(tb)}, env...)}
}

// logSettled returns the function's output once ok accepts it, or after a
// few seconds: stderr reaches the buffer through a pipe copied by another
// goroutine, so a line written before the runtime response may land after it.
func (f *function) logSettled(ok func(string) bool) string {
	deadline := time.Now().Add(3 * time.Second)
	for {
		out := f.Stderr.String()
		if ok(out) || time.Now().After(deadline) {
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logQuiet returns the function's output once nothing has been added to it
// for 200 ms (at most a few seconds), for checks of what it must not contain.
func (f *function) logQuiet() string {
	deadline := time.Now().Add(3 * time.Second)
	last := f.Stderr.String()
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		out := f.Stderr.String()
		if out == last {
			return out
		}
		last = out
	}
	return last
}

// invoke sends ev with a deadline timeout from now and waits for the Runtime
// API to hear back.
func (f *function) invoke(tb testing.TB, ev cfn.Event, timeout time.Duration) (*lambdaruntime.Invocation, lambdaruntime.Result) {
	tb.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		tb.Fatal(err)
	}
	return f.Invoke(tb, payload, timeout)
}
