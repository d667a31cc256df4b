package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/trunkctl/trunkctl/internal/testutil/lambdaruntime"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

// The end-to-end tests and the benchmark run the real binary, built once per
// test process with the flags of the release build (dist/lambda.zip), for
// the host's architecture.
var (
	binDir string // set by TestMain
	build  = sync.OnceValues(func() (string, error) {
		out := filepath.Join(binDir, "bootstrap")
		goBin, err := exec.LookPath("go")
		if err != nil {
			return "", fmt.Errorf("go toolchain not on PATH: %w", err)
		}
		cmd := exec.Command(goBin, "build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false",
			"-ldflags=-s -w -buildid=", "-o", out, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build ./lambda: %w\n%s", err, b)
		}
		return out, nil
	})
)

// buildClient builds the benchmark's no-SDK client (./benchclient) with the
// same flags, once.
var buildClient = sync.OnceValues(func() (string, error) {
	out := filepath.Join(binDir, "benchclient")
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go toolchain not on PATH: %w", err)
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, "./benchclient")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./lambda/benchclient: %w\n%s", err, b)
	}
	return out, nil
})

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trunkctl-lambda-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func lambdaBinary(tb testing.TB) string {
	tb.Helper()
	bin, err := build()
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// function is the lambda binary running under a local Runtime API.
type function struct {
	rt     *lambdaruntime.Server
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	done   chan struct{}
}

// startFunction runs the binary with env (KEY=VALUE) on top of a minimal
// environment, and stops it when the test ends.
func startFunction(tb testing.TB, env ...string) *function {
	tb.Helper()
	return startFunctionCommand(tb, []string{lambdaBinary(tb)}, env...)
}

// startFunctionCommand is startFunction for a command line that runs a
// function binary (e.g. under an emulator).
func startFunctionCommand(tb testing.TB, argv []string, env ...string) *function {
	tb.Helper()
	rt := lambdaruntime.Start(tb)
	f := &function{rt: rt, stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	f.cmd = exec.Command(argv[0], argv[1:]...)
	f.cmd.Env = append(append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + tb.TempDir()}, rt.Env()...), env...)
	f.cmd.Stdout, f.cmd.Stderr = f.stderr, f.stderr
	if err := f.cmd.Start(); err != nil {
		tb.Fatalf("start lambda: %v", err)
	}
	go func() { _ = f.cmd.Wait(); close(f.done) }()
	tb.Cleanup(func() {
		rt.Close() // the pending /next fails and the runtime loop exits
		select {
		case <-f.done:
		case <-time.After(5 * time.Second):
			_ = f.cmd.Process.Kill()
			<-f.done
		}
	})
	return f
}

// logSettled returns the function's output once ok accepts it, or after a
// few seconds: stderr reaches the buffer through a pipe copied by another
// goroutine, so a line written before the runtime response may land after it.
func (f *function) logSettled(ok func(string) bool) string {
	deadline := time.Now().Add(3 * time.Second)
	for {
		out := f.stderr.String()
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
	last := f.stderr.String()
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		out := f.stderr.String()
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
	inv := f.rt.Invoke(payload, timeout)
	res, err := inv.Wait(timeout + 5*time.Second)
	if err != nil {
		tb.Fatalf("%v\nfunction output:\n%s", err, f.stderr)
	}
	return inv, res
}
