// Package lambdaproc runs a built Lambda function as Lambda would, for the
// tests of the functions (lambda/, guard/): it builds the binary once per
// test process with the release build's flags, starts it as a process
// against a local Runtime API (internal/testutil/lambdaruntime), under AWS's
// Runtime Interface Emulator (rie_linux.go), or from a release zip's
// bootstrap (e.g. the arm64 one under QEMU), and measures a cold start and
// its peak RSS (coldstart_linux.go).
package lambdaproc

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/lambdaruntime"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

// binDir holds the binaries Binary builds; Main creates and removes it.
var binDir string

// Main runs the package's tests with a temporary directory (named after
// prefix) for the binaries Binary builds, removes it, and exits with the
// tests' code. Call it from TestMain.
func Main(m *testing.M, prefix string) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Binary returns a function that builds pkg (a path relative to the test's
// directory, e.g. ".") into name in Main's directory with the release
// build's flags (static, trimmed, stripped, no build id) and the given build
// tags, once per test process, and returns the binary's path. label names
// the package in a build failure.
func Binary(label, pkg, name string, tags ...string) func(tb testing.TB) string {
	build := sync.OnceValues(func() (string, error) {
		if binDir == "" {
			return "", fmt.Errorf("go build %s: no directory for binaries: call lambdaproc.Main from TestMain", label)
		}
		out := filepath.Join(binDir, name)
		goBin, err := exec.LookPath("go")
		if err != nil {
			return "", fmt.Errorf("go toolchain not on PATH: %w", err)
		}
		args := []string{"build"}
		if len(tags) > 0 {
			args = append(args, "-tags", strings.Join(tags, ","))
		}
		args = append(args, "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, pkg)
		cmd := exec.Command(goBin, args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %w\n%s", label, err, b)
		}
		return out, nil
	})
	return func(tb testing.TB) string {
		tb.Helper()
		bin, err := build()
		if err != nil {
			tb.Fatal(err)
		}
		return bin
	}
}

// baseEnv is the minimal environment a function process starts with.
func baseEnv(tb testing.TB) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tb.TempDir()}
}

// Function is a function process running under a local Runtime API.
type Function struct {
	// Stdout and Stderr are what the process wrote; they are one buffer
	// for a function started by StartCombined.
	Stdout, Stderr *syncbuf.Buffer

	rt   *lambdaruntime.Server
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs argv (the binary, or a runner and the binary) with env
// (KEY=VALUE) on top of a minimal environment and the variables of a local
// Runtime API it starts, with stdout and stderr kept apart, and stops both
// when the test ends.
func Start(tb testing.TB, argv []string, env ...string) *Function {
	tb.Helper()
	return start(tb, argv, &syncbuf.Buffer{}, &syncbuf.Buffer{}, env)
}

// StartCombined is Start with stdout and stderr in one buffer, in the order
// written.
func StartCombined(tb testing.TB, argv []string, env ...string) *Function {
	tb.Helper()
	out := &syncbuf.Buffer{}
	return start(tb, argv, out, out, env)
}

func start(tb testing.TB, argv []string, stdout, stderr *syncbuf.Buffer, env []string) *Function {
	tb.Helper()
	rt := lambdaruntime.Start(tb)
	f := &Function{rt: rt, Stdout: stdout, Stderr: stderr, done: make(chan struct{})}
	f.cmd = exec.Command(argv[0], argv[1:]...)
	f.cmd.Env = append(append(baseEnv(tb), rt.Env()...), env...)
	f.cmd.Stdout, f.cmd.Stderr = stdout, stderr
	if err := f.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", strings.Join(argv, " "), err)
	}
	go func() { _ = f.cmd.Wait(); close(f.done) }()
	tb.Cleanup(func() {
		rt.Close() // the pending /next fails and the runtime loop exits
		waitOrKill(f.cmd, f.done, 5*time.Second)
	})
	return f
}

// waitOrKill waits up to d for done (closed when cmd's Wait returned), then
// kills the process and waits for it.
func waitOrKill(cmd *exec.Cmd, done <-chan struct{}, d time.Duration) {
	select {
	case <-done:
	case <-time.After(d):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Invoke queues payload with a deadline timeout from now and waits (the
// timeout and 5s more) for the function's answer at the Runtime API.
func (f *Function) Invoke(tb testing.TB, payload []byte, timeout time.Duration) (*lambdaruntime.Invocation, lambdaruntime.Result) {
	tb.Helper()
	inv := f.rt.Invoke(payload, timeout)
	res, err := inv.Wait(timeout + 5*time.Second)
	if err != nil {
		tb.Fatalf("%v\nfunction output:\n%s", err, f.Stderr)
	}
	return inv, res
}

// Process is one fresh process started by StartProcess, its stdout and
// stderr in Out.
type Process struct {
	Cmd *exec.Cmd
	Out *syncbuf.Buffer
	// Started is taken just before the process started.
	Started time.Time
}

// StartProcess runs bin with env on top of a minimal environment, for a
// measurement that starts at Started. The caller ends it (Wait, Stop, Fail).
func StartProcess(tb testing.TB, bin string, env []string) *Process {
	tb.Helper()
	p := &Process{Cmd: exec.Command(bin), Out: &syncbuf.Buffer{}}
	p.Cmd.Env = append(baseEnv(tb), env...)
	p.Cmd.Stdout, p.Cmd.Stderr = p.Out, p.Out
	p.Started = time.Now()
	if err := p.Cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	return p
}

// Fail kills the process, waits for it, and fails the test with the message
// and the process's output.
func (p *Process) Fail(tb testing.TB, format string, args ...any) {
	tb.Helper()
	_ = p.Cmd.Process.Kill()
	_ = p.Cmd.Wait()
	tb.Fatalf("%s:\n%s", fmt.Sprintf(format, args...), p.Out)
}

// Stop waits up to d for the process to exit, then kills it.
func (p *Process) Stop(d time.Duration) {
	done := make(chan struct{})
	go func() { _ = p.Cmd.Wait(); close(done) }()
	waitOrKill(p.Cmd, done, d)
}

// UnzipBootstrap extracts "bootstrap" from a release zip into a temporary
// directory, executable, as Lambda unpacks it.
func UnzipBootstrap(tb testing.TB, zipPath string) string {
	tb.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.Name != "bootstrap" {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			tb.Fatal(err)
		}
		defer rc.Close()
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, io.LimitReader(rc, 64<<20)); err != nil {
			tb.Fatal(err)
		}
		out := filepath.Join(tb.TempDir(), "bootstrap")
		if err := os.WriteFile(out, buf.Bytes(), 0o755); err != nil {
			tb.Fatal(err)
		}
		return out
	}
	tb.Fatalf("%s has no bootstrap", zipPath)
	return ""
}

// Count is how many of ops are op.
func Count(ops []string, op string) int {
	n := 0
	for _, o := range ops {
		if o == op {
			n++
		}
	}
	return n
}
