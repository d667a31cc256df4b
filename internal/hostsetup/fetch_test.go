package hostsetup

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/imdsmock"
)

// flakyFront answers the first n requests as a network that is not up yet
// would (the connection is dropped, or 503), then passes them to next.
func flakyFront(t *testing.T, n int, drop bool, next http.Handler) *httptest.Server {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fail := n > 0
		n--
		mu.Unlock()
		switch {
		case fail && drop:
			if hj, ok := w.(http.Hijacker); ok {
				c, _, _ := hj.Hijack()
				c.Close()
				return
			}
			fallthrough
		case fail:
			http.Error(w, "slow down", http.StatusServiceUnavailable)
		default:
			next.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDownloadsAreRetriedWhileTheNetworkComesUp(t *testing.T) {
	for _, drop := range []bool{true, false} {
		name := map[bool]string{true: "dropped connections", false: "503 answers"}[drop]
		t.Run(name+" are retried and the agent is installed", func(t *testing.T) {
			h := newHost(t)
			h.write("etc/os-release", osReleaseAL2023)
			runner := newRunner("docker")
			e := newEnv(t, h, imdsmock.Instance{}, runner)
			o, srv, _ := e.servePackage("amazon-ecs-init-latest.x86_64.rpm", nil)
			front := flakyFront(t, 3, drop, srv.Config.Handler)
			o.AgentBaseURL = front.URL + "/agent/"
			o.RetryFor, o.RetryMaxBackoff = time.Minute, 10*time.Millisecond
			r, err := e.run(o)
			if err != nil || !r.Agent.Installed {
				t.Fatalf("Run: %v\n%s", err, e.log.String())
			}
			if got := strings.Count(e.log.String(), "retrying (the network may not be up yet)"); got != 3 {
				t.Errorf("%d retry log lines, want 3:\n%s", got, e.log.String())
			}
		})
	}
}

func TestADownloadThatNeverWorksFailsWhenTheRetryBoundRunsOut(t *testing.T) {
	h := newHost(t)
	h.write("etc/os-release", osReleaseAL2023)
	runner := newRunner("docker")
	e := newEnv(t, h, imdsmock.Instance{}, runner)
	o, srv, _ := e.servePackage("amazon-ecs-init-latest.x86_64.rpm", nil)
	front := flakyFront(t, 1<<30, false, srv.Config.Handler)
	o.AgentBaseURL = front.URL + "/agent/"
	o.RetryFor, o.RetryMaxBackoff = 300*time.Millisecond, 20*time.Millisecond
	start := time.Now()
	_, err := e.run(o)
	var re *RetryError
	if !errors.As(err, &re) || ExitCode(err) != ExitFailed || re.Attempts < 2 {
		t.Fatalf("err = %v, want a RetryError after several attempts (exit 1)", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("took %s with --retry-for 300ms", took)
	}
	for _, want := range []string{"NAT gateway", "--retry-for", "503"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if len(runner.commands) != 0 {
		t.Errorf("ran %v without a package", runner.ran())
	}
}

func TestAMissingPackageIsNotRetried(t *testing.T) {
	h := newHost(t)
	h.write("etc/os-release", osReleaseAL2023)
	runner := newRunner("docker")
	e := newEnv(t, h, imdsmock.Instance{}, runner)
	o, srv, _ := e.servePackage("amazon-ecs-init-latest.x86_64.rpm", nil)
	o.AgentBaseURL = srv.URL + "/elsewhere/"
	srv.files = map[string][]byte{}
	o.RetryFor, o.RetryMaxBackoff = time.Minute, 10*time.Millisecond
	_, err := e.run(o)
	var st *HTTPStatusError
	if !errors.As(err, &st) || st.Code != http.StatusNotFound || len(srv.requested()) != 1 {
		t.Fatalf("err = %v after %v requests, want one 404", err, srv.requested())
	}
}

func TestAnInstallCommandThatFailsWhileTheNetworkComesUpIsRetried(t *testing.T) {
	h := newHost(t)
	h.write("etc/os-release", osReleaseAL2023)
	runner := newRunner()
	failures := 2
	runner.onRun = func(c Command) {
		runner.mu.Lock()
		defer runner.mu.Unlock()
		if c.String() == "dnf install -y docker" {
			runner.fail[c.String()] = failures > 0
			failures--
		}
	}
	e := newEnv(t, h, imdsmock.Instance{}, runner)
	o, _, _ := e.servePackage("amazon-ecs-init-latest.x86_64.rpm", nil)
	o.RetryFor, o.RetryMaxBackoff = time.Minute, 10*time.Millisecond
	r, err := e.run(o)
	if err != nil || !r.Agent.Installed {
		t.Fatalf("Run: %v\n%s", err, e.log.String())
	}
	equalLines(t, "commands", runner.ran(), []string{
		"dnf install -y docker", "dnf install -y docker", "dnf install -y docker",
		"dnf install -y <dl>/amazon-ecs-init-latest.x86_64.rpm",
		"dnf install -y amazon-ec2-net-utils",
		"systemctl enable --now --no-block ecs",
	})
}
