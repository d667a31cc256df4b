package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/lambdaproc"
	"github.com/trunkctl/trunkctl/internal/testutil/lambdaruntime"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

// The process tests and the benchmark run the real binary, built once per
// test process with the flags of the release build (dist/guard.zip), for
// the host's architecture.
var guardBinary = lambdaproc.Binary("./guard", ".", "bootstrap", "lambda.norpc")

func TestMain(m *testing.M) { lambdaproc.Main(m, "trunkctl-guard-test-") }

func TestTheBinaryLinksNeitherCobraNorTheCDK(t *testing.T) {
	peer.NotLinked(t, "lambda.norpc", "github.com/spf13/cobra", "github.com/aws/aws-cdk-go", "github.com/aws/jsii-runtime-go", "github.com/aws/constructs-go", "github.com/trunkctl/trunkctl/cli")
}

// invoke sends one event to f (the guard under a local Runtime API, with
// stdout, the EMF lines, and stderr, the log, kept apart) and waits for
// the function's answer.
func invoke(tb testing.TB, f *lambdaproc.Function, ev []byte) lambdaruntime.Result {
	tb.Helper()
	_, res := f.Invoke(tb, ev, 30*time.Second)
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
		op, body, form := moto.Operation(req)
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
