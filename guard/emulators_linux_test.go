package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/peer"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

// RIEBinaryEnv points the tests at an aws-lambda-rie binary; by default
// they use bin/aws-lambda-rie (`make tools`), then PATH.
const RIEBinaryEnv = "TRUNKCTL_AWS_LAMBDA_RIE"

// rieFunction is the function run by AWS's Lambda Runtime Interface
// Emulator, which plays the Lambda service: it starts the bootstrap, serves
// it the Runtime API and enforces AWS_LAMBDA_FUNCTION_TIMEOUT.
type rieFunction struct {
	invokeURL string
	out       *syncbuf.Buffer
}

// startRIE runs rie with argv (the bootstrap, or a runner and it), the
// timeout in whole seconds and env, on loopback ports of its own, and stops
// both when the test ends.
func startRIE(t *testing.T, rie string, argv []string, timeoutSec int, env ...string) *rieFunction {
	t.Helper()
	emuAddr, apiAddr := freeLoopbackAddr(t), freeLoopbackAddr(t)
	cmd := exec.Command(rie, append([]string{"--log-level", "error",
		"--runtime-interface-emulator-address", emuAddr, "--runtime-api-address", apiAddr}, argv...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(timeoutSec), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128"}, env...)
	cmd.Dir = t.TempDir()
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that stopping it stops the bootstrap it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start aws-lambda-rie: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
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
			t.Fatalf("aws-lambda-rie did not listen on %s within 10s:\n%s", emuAddr, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &rieFunction{invokeURL: "http://" + emuAddr + "/2015-03-31/functions/function/invocations", out: out}
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// invoke sends ev as the emulator's caller would; the function failed it
// when the emulator answers an object with errorMessage.
func (f *rieFunction) invoke(t *testing.T, ev []byte) (bool, string) {
	t.Helper()
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Post(f.invokeURL, "application/json", bytes.NewReader(ev))
	if err != nil {
		t.Fatalf("invoke through aws-lambda-rie: %v\noutput:\n%s", err, f.out)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("aws-lambda-rie answered HTTP %d: %s\noutput:\n%s", resp.StatusCode, b, f.out)
	}
	var e struct {
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(b, &e)
	return e.ErrorMessage != "", string(b)
}

func (f *rieFunction) output() string { return f.out.String() }

func TestUnderTheRuntimeInterfaceEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("the emulator tests run the built guard against moto_server")
	}
	rie := peer.BuiltTool(t, "aws-lambda-rie", RIEBinaryEnv)
	bin := guardBinary(t)
	eventKinds(t, func(t *testing.T, env []string) invoker {
		return startRIE(t, rie, []string{bin}, 60, env...)
	})
}

func TestTheArm64BootstrapSweepsUnderQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dist/guard.zip's arm64 bootstrap against moto_server")
	}
	runner := peer.Arm64Runner(t)
	bootstrap := unzipBootstrap(t, peer.Artifact(t, "dist/guard.zip", "guard"))
	eventKinds(t, func(t *testing.T, env []string) invoker {
		return localInvoker{f: startFunction(t, append(runner, bootstrap), env...)}
	})
}

// unzipBootstrap extracts "bootstrap" from the release zip, executable, as
// Lambda unpacks it.
func unzipBootstrap(t *testing.T, zipPath string) string {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.Name != "bootstrap" {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, io.LimitReader(rc, 64<<20)); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "bootstrap")
		if err := os.WriteFile(out, buf.Bytes(), 0o755); err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Fatalf("%s has no bootstrap", zipPath)
	return ""
}
