package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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

// The process tests and the benchmark run the real binary, built once per
// test process with the flags of the release build (dist/guard.zip), for
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
			return "", fmt.Errorf("go build ./guard: %w\n%s", err, b)
		}
		return out, nil
	})
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trunkctl-guard-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func guardBinary(tb testing.TB) string {
	tb.Helper()
	bin, err := build()
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

func TestTheBinaryLinksNeitherCobraNorTheCDK(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go toolchain not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-tags", "lambda.norpc", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/spf13/cobra", "github.com/aws/aws-cdk-go", "github.com/aws/jsii-runtime-go", "github.com/aws/constructs-go", "github.com/trunkctl/trunkctl/cli"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("the guard depends on %s", dep)
			}
		}
	}
}

// function is the guard binary running under a local Runtime API; stdout
// (the EMF lines) and stderr (the log) are kept apart.
type function struct {
	rt             *lambdaruntime.Server
	cmd            *exec.Cmd
	stdout, stderr *syncbuf.Buffer
	done           chan struct{}
}

// startFunction runs argv (the binary, or a runner and the binary) with env
// on top of a minimal environment, and stops it when the test ends.
func startFunction(tb testing.TB, argv []string, env ...string) *function {
	tb.Helper()
	rt := lambdaruntime.Start(tb)
	f := &function{rt: rt, stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	f.cmd = exec.Command(argv[0], argv[1:]...)
	f.cmd.Env = append(append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + tb.TempDir()}, rt.Env()...), env...)
	f.cmd.Stdout, f.cmd.Stderr = f.stdout, f.stderr
	if err := f.cmd.Start(); err != nil {
		tb.Fatalf("start guard: %v", err)
	}
	go func() { _ = f.cmd.Wait(); close(f.done) }()
	tb.Cleanup(func() {
		rt.Close()
		select {
		case <-f.done:
		case <-time.After(5 * time.Second):
			_ = f.cmd.Process.Kill()
			<-f.done
		}
	})
	return f
}

// invoke sends one event and waits for the function's answer.
func (f *function) invoke(tb testing.TB, ev []byte) lambdaruntime.Result {
	tb.Helper()
	inv := f.rt.Invoke(ev, 30*time.Second)
	res, err := inv.Wait(35 * time.Second)
	if err != nil {
		tb.Fatalf("%v\nfunction log:\n%s", err, f.stderr)
	}
	return res
}

// recorder sits between the function and AWS (moto): it records each
// operation and the SNS messages, and refuses, as AccessDenied, the ECS
// calls that name a denied cluster.
type recorder struct {
	srv *httptest.Server

	mu     sync.Mutex
	ops    []string
	denied map[string]bool
	// messages are the Subject and Message of each Publish.
	messages []published
}

type published struct{ Subject, Message string }

func newRecorder(tb testing.TB, target string) *recorder {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	r := &recorder{denied: map[string]bool{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		op, form := operation(req, body)
		r.mu.Lock()
		r.ops = append(r.ops, op)
		if op == "Publish" {
			r.messages = append(r.messages, published{Subject: form.Get("Subject"), Message: form.Get("Message")})
		}
		deny := false
		if strings.HasPrefix(req.Header.Get("X-Amz-Target"), "AmazonEC2ContainerServiceV") {
			for c := range r.denied {
				deny = deny || bytes.Contains(body, []byte(`"`+c+`"`)) || bytes.Contains(body, []byte(`cluster/`+c+`"`))
			}
		}
		r.mu.Unlock()
		if deny {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/trunkctl-guard/fn is not authorized to perform this action"}`)
			return
		}
		rp.ServeHTTP(w, req)
	}))
	tb.Cleanup(r.srv.Close)
	return r
}

// operation names a request: X-Amz-Target for JSON protocols, the Action
// form field for query protocols (whose form it also returns).
func operation(r *http.Request, body []byte) (string, url.Values) {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndex(t, ".")+1:], nil
	}
	v, err := url.ParseQuery(string(body))
	if err == nil && v.Get("Action") != "" {
		return v.Get("Action"), v
	}
	return r.Method + " " + r.URL.Path, nil
}

func (r *recorder) Ops() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ops...)
}

func (r *recorder) Messages() []published {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]published(nil), r.messages...)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops, r.messages, r.denied = nil, nil, map[string]bool{}
}

func count(ops []string, op string) int {
	n := 0
	for _, o := range ops {
		if o == op {
			n++
		}
	}
	return n
}
