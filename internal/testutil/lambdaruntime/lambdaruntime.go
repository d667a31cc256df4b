// Package lambdaruntime is a small local Lambda Runtime API for tests: a
// function process started with AWS_LAMBDA_RUNTIME_API=Server.Addr() polls
// /2018-06-01/runtime/invocation/next, gets the invocations queued with
// Invoke (with a deadline, request id and function ARN in the headers), and
// posts its /response or /error, which Invocation.Wait returns.
package lambdaruntime

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const prefix = "/2018-06-01/runtime/"

// FunctionARN is the ARN sent in Lambda-Runtime-Invoked-Function-Arn.
const FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:trunkctl-test"

// Result is what the function posted for one invocation.
type Result struct {
	// Kind is "response" or "error".
	Kind string
	Body []byte
	// ErrorType is the Lambda-Runtime-Function-Error-Type header of an error.
	ErrorType string
	At        time.Time
}

// Invocation is one queued event.
type Invocation struct {
	ID       string
	Deadline time.Time
	payload  []byte
	done     chan Result
}

// Wait returns the function's answer, or an error after timeout.
func (i *Invocation) Wait(timeout time.Duration) (Result, error) {
	select {
	case r := <-i.done:
		return r, nil
	case <-time.After(timeout):
		return Result{}, fmt.Errorf("invocation %s: no response or error from the function within %s", i.ID, timeout)
	}
}

// Server is a running local Runtime API.
type Server struct {
	srv     *httptest.Server
	queue   chan *Invocation
	closing chan struct{}
	once    sync.Once

	mu        sync.Mutex
	inflight  map[string]*Invocation
	n         int
	nexts     int
	initError []byte
}

// Start serves the Runtime API on 127.0.0.1 until the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{queue: make(chan *Invocation, 64), closing: make(chan struct{}), inflight: map[string]*Invocation{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Addr is the value for AWS_LAMBDA_RUNTIME_API (host:port, no scheme).
func (s *Server) Addr() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// Env returns AWS_LAMBDA_RUNTIME_API and the variables Lambda sets for a function.
func (s *Server) Env() []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + s.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=trunkctl-test",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/trunkctl-test",
		"AWS_LAMBDA_LOG_STREAM_NAME=2026/01/01/[$LATEST]test",
	}
}

// Close unblocks pending /next calls with an error, so the function process
// exits, and stops the server.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.srv.Close()
	})
}

// Invoke queues payload with a deadline timeout from now.
func (s *Server) Invoke(payload []byte, timeout time.Duration) *Invocation {
	s.mu.Lock()
	s.n++
	inv := &Invocation{ID: fmt.Sprintf("req-%04d", s.n), Deadline: time.Now().Add(timeout), payload: payload, done: make(chan Result, 1)}
	s.inflight[inv.ID] = inv
	s.mu.Unlock()
	s.queue <- inv
	return inv
}

// InitError returns the body of a posted init error, if any.
func (s *Server) InitError() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initError
}

// Polls is how many times the function asked for the next invocation.
func (s *Server) Polls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nexts
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch {
	case path == "invocation/next" && r.Method == http.MethodGet:
		s.next(w, r)
	case path == "init/error" && r.Method == http.MethodPost:
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.initError = b
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	case strings.HasPrefix(path, "invocation/") && r.Method == http.MethodPost:
		rest := strings.TrimPrefix(path, "invocation/")
		id, kind, ok := strings.Cut(rest, "/")
		if !ok || (kind != "response" && kind != "error") {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		inv := s.inflight[id]
		delete(s.inflight, id)
		s.mu.Unlock()
		if inv == nil {
			http.Error(w, "unknown or already answered request id "+id, http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(r.Body)
		inv.done <- Result{Kind: kind, Body: b, ErrorType: r.Header.Get("Lambda-Runtime-Function-Error-Type"), At: time.Now()}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.nexts++
	s.mu.Unlock()
	select {
	case inv := <-s.queue:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.ID)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.Deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", FunctionARN)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-s.closing:
		http.Error(w, "runtime shutting down", http.StatusGone)
	case <-r.Context().Done():
	}
}
