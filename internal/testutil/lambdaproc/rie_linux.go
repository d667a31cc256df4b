package lambdaproc

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

// RIEBinaryEnv points the tests at an aws-lambda-rie binary; by default
// they use bin/aws-lambda-rie (`make tools`), then PATH (see peer.BuiltTool).
const RIEBinaryEnv = "TRUNKCTL_AWS_LAMBDA_RIE"

// RIEFunction is a function run by AWS's Lambda Runtime Interface Emulator,
// which plays the Lambda service: it starts the bootstrap, serves it the
// Runtime API and enforces the deadline of AWS_LAMBDA_FUNCTION_TIMEOUT.
type RIEFunction struct {
	invokeURL string
	// Out is what the emulator and the function wrote.
	Out *syncbuf.Buffer
}

// StartRIE runs rie with argv (the bootstrap, or a runner and it), the
// timeout in whole seconds and env, on loopback ports of its own, and stops
// both when the test ends.
func StartRIE(tb testing.TB, rie string, argv []string, timeoutSec int, env ...string) *RIEFunction {
	tb.Helper()
	emuAddr, apiAddr := freeLoopbackAddr(tb), freeLoopbackAddr(tb)
	cmd := exec.Command(rie, append([]string{"--log-level", "error",
		"--runtime-interface-emulator-address", emuAddr, "--runtime-api-address", apiAddr}, argv...)...)
	cmd.Env = append(append(baseEnv(tb),
		"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(timeoutSec), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128"), env...)
	cmd.Dir = tb.TempDir()
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that stopping it stops the bootstrap it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start aws-lambda-rie: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", emuAddr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("aws-lambda-rie did not listen on %s within 10s:\n%s", emuAddr, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &RIEFunction{invokeURL: "http://" + emuAddr + "/2015-03-31/functions/function/invocations", Out: out}
}

// freeLoopbackAddr picks a loopback port that is free now.
func freeLoopbackAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Invoke sends payload as the emulator's caller would, waiting at most wait,
// and returns the emulator's answer: the function's response (null when the
// handler returned nothing), or an object with errorMessage when it failed.
func (f *RIEFunction) Invoke(tb testing.TB, payload []byte, wait time.Duration) []byte {
	tb.Helper()
	client := &http.Client{Timeout: wait}
	resp, err := client.Post(f.invokeURL, "application/json", bytes.NewReader(payload))
	if err != nil {
		tb.Fatalf("invoke through aws-lambda-rie: %v\noutput:\n%s", err, f.Out)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("aws-lambda-rie answered HTTP %d: %s\noutput:\n%s", resp.StatusCode, b, f.Out)
	}
	return b
}
