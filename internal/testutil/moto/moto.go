// Package moto starts a real moto_server on 127.0.0.1 for tests of the AWS
// wire protocol (STS, ECS, EC2, IAM). moto ignores IAM and principal rules;
// those are covered by accountsettingtest.
package moto

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/peer"

	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

// StartTimeout bounds how long moto_server may take to start listening.
const StartTimeout = 30 * time.Second

// Server is a running moto_server.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	cmd *exec.Cmd
	log *syncbuf.Buffer
}

var listening = regexp.MustCompile(`Running on (http://127\.0\.0\.1:[0-9]+)`)

// Start runs moto_server on an OS-chosen loopback port, waits until it
// answers, and stops it when the test ends. Without moto_server it skips,
// or fails under TRUNKCTL_REQUIRE_PEERS=1.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return StartAccount(tb, "")
}

// StartAccount is Start with another default account (MOTO_ACCOUNT_ID):
// the account of requests signed with moto's test credentials. Empty keeps
// moto's 123456789012.
func StartAccount(tb testing.TB, account string) *Server {
	tb.Helper()
	bin := peer.LookPath(tb, "moto_server", "install moto 5.x with its server extra: pip install 'moto[server]'")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-H", "127.0.0.1", "-p", "0")
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	if account != "" {
		cmd.Env = append(cmd.Env, "MOTO_ACCOUNT_ID="+account)
	}
	cmd.WaitDelay = 5 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatalf("start moto_server: %v", err)
	}
	s := &Server{cmd: cmd, log: &syncbuf.Buffer{}}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			_, _ = s.log.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
	}()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); pw.Close(); close(done) }()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case s.URL = <-urlc:
	case <-done:
		tb.Fatalf("moto_server exited before listening:\n%s", s.log.String())
	case <-time.After(StartTimeout):
		tb.Fatalf("moto_server did not listen within %s:\n%s", StartTimeout, s.log.String())
	}
	deadline := time.Now().Add(StartTimeout)
	for {
		resp, err := http.Get(s.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("moto_server at %s does not answer: %v", s.URL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// Reset forgets every resource moto holds, so tests do not see each other's.
func (s *Server) Reset(tb testing.TB) {
	tb.Helper()
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", strings.NewReader(""))
	if err != nil {
		tb.Fatalf("reset moto: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("reset moto: HTTP %d", resp.StatusCode)
	}
}

// Env sets the environment for an AWS SDK or CLI to use this server with
// dummy credentials, for the rest of the test.
func (s *Server) Env(tb testing.TB) {
	tb.Helper()
	for k, v := range s.EnvVars() {
		tb.Setenv(k, v)
	}
}

// EnvVars returns the variables Env sets, for a child process.
func (s *Server) EnvVars() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":            s.URL,
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_SESSION_TOKEN":           "testing",
		"AWS_REGION":                  "us-east-1",
		"AWS_DEFAULT_REGION":          "us-east-1",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	}
}

// Log returns what moto_server printed so far, for failure messages.
func (s *Server) Log() string { return s.log.String() }

func (s *Server) String() string { return fmt.Sprintf("moto_server at %s", s.URL) }
