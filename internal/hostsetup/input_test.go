package hostsetup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

// slowIMDS is a loopback IMDSv2 that can be slow or answer garbage.
type slowIMDS struct {
	mu sync.Mutex
	// slowFirst delays this many identity requests by delay.
	slowFirst int
	delay     time.Duration
	document  string
	requests  int
}

func (f *slowIMDS) start(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
			fmt.Fprint(w, "token")
		case r.URL.Path == "/latest/dynamic/instance-identity/document":
			f.mu.Lock()
			f.requests++
			slow := f.slowFirst > 0
			f.slowFirst--
			f.mu.Unlock()
			if slow {
				select {
				case <-time.After(f.delay):
				case <-r.Context().Done():
					return
				}
			}
			fmt.Fprint(w, f.document)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
}

const goodDocument = `{"instanceId":"i-0123456789abcdef0","instanceType":"c5.large","region":"us-east-1","architecture":"x86_64"}`

// runAgainst runs hostbootstrap's logic on an ECS-optimized host against f.
func runAgainst(t *testing.T, f *slowIMDS) (*host, string, error) {
	t.Helper()
	f.start(t)
	h := ecsOptimized(t)
	before := snapshot(t, h.root)
	var log syncbuf.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	_, err := Run(ctx, Options{Cluster: "prod", Root: h.root, TempDir: t.TempDir()}, Deps{
		IMDS: NewIMDSClient(), Runner: newRunner(), HTTP: NewHTTPClient(), Catalog: catalog.Default(),
		Log: slogTo(&log),
	})
	if err != nil {
		after := snapshot(t, h.root)
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Errorf("a failed run changed the host:\nbefore %v\nafter  %v", before, after)
		}
	}
	return h, log.String(), err
}

func TestAnIMDSThatAnswersSlowlyIsWaitedFor(t *testing.T) {
	f := &slowIMDS{slowFirst: 4, delay: 2 * time.Second, document: goodDocument}
	h, log, err := runAgainst(t, f)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log)
	}
	if !strings.Contains(h.readConfig(), "ECS_CLUSTER=prod") || !strings.Contains(log, "retrying") {
		t.Fatalf("config %q\nlog:\n%s", h.readConfig(), log)
	}
}

func TestAnIMDSThatAnswersGarbageFailsClearlyAndChangesNothing(t *testing.T) {
	tests := []struct{ name, document, want string }{
		{"an HTML page", "<html>captive portal</html>", "read the instance identity document through IMDSv2"},
		{"a document without a Region", `{"instanceId":"i-0123456789abcdef0","instanceType":"c5.large","architecture":"x86_64"}`, "lacks a field"},
		{"an instance id that is not one", `{"instanceId":"i-../../etc","instanceType":"c5.large","region":"us-east-1","architecture":"x86_64"}`, "is not credible"},
		{"a Region that is not one", `{"instanceId":"i-0123456789abcdef0","instanceType":"c5.large","region":"us-east-1/../x","architecture":"x86_64"}`, "is not credible"},
		{"an instance type that is not one", `{"instanceId":"i-0123456789abcdef0","instanceType":"c5.large; reboot","region":"us-east-1","architecture":"x86_64"}`, "is not credible"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &slowIMDS{document: tt.document}
			start := time.Now()
			_, _, err := runAgainst(t, f)
			if err == nil || ExitCode(err) != ExitFailed || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v (exit %d), want exit 1 mentioning %q", err, ExitCode(err), tt.want)
			}
			if time.Since(start) > 10*time.Second || f.requests > 3 {
				t.Errorf("garbage was retried: %d requests over %s", f.requests, time.Since(start))
			}
		})
	}
}

func TestAnUnwritableConfigDirectoryFailsWithExit1AndWritesNothing(t *testing.T) {
	f := &slowIMDS{document: goodDocument}
	f.start(t)
	h := newHost(t)
	h.write("etc/ecs", "a file where the directory should be\n")
	before := snapshot(t, h.root)
	_, err := Run(context.Background(), Options{Cluster: "prod", Root: h.root, TempDir: t.TempDir()}, Deps{
		IMDS: NewIMDSClient(), Runner: newRunner(), HTTP: NewHTTPClient(), Catalog: catalog.Default(), Log: slogTo(&syncbuf.Buffer{}),
	})
	if ExitCode(err) != ExitFailed || !strings.Contains(err.Error(), filepath.Join(h.root, "etc/ecs")) {
		t.Fatalf("err = %v (exit %d)", err, ExitCode(err))
	}
	if after := snapshot(t, h.root); fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("the host changed:\nbefore %v\nafter  %v", before, after)
	}
}

func TestAReadOnlyRootFailsWithExit1AndWritesNothing(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions; the file-in-the-way test covers the write failure")
	}
	f := &slowIMDS{document: goodDocument}
	f.start(t)
	h := newHost(t)
	if err := os.Chmod(h.root, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Chmod(h.root, 0o755); err != nil {
			t.Error(err)
		}
	})
	_, err := Run(context.Background(), Options{Cluster: "prod", Root: h.root, TempDir: t.TempDir()}, Deps{
		IMDS: NewIMDSClient(), Runner: newRunner(), HTTP: NewHTTPClient(), Catalog: catalog.Default(), Log: slogTo(&syncbuf.Buffer{}),
	})
	if ExitCode(err) != ExitFailed || !errors.Is(err, os.ErrPermission) {
		t.Fatalf("err = %v (exit %d)", err, ExitCode(err))
	}
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

func TestAConfigFileThatIsNotARegularFileFailsWithExit1AndChangesNothing(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, h *host)
	}{
		{"a symlink", func(t *testing.T, h *host) {
			target := filepath.Join(t.TempDir(), "elsewhere.config")
			if err := os.WriteFile(target, []byte("ECS_CLUSTER=other\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(h.root, "etc/ecs"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(h.root, ConfigPath)); err != nil {
				t.Fatal(err)
			}
		}},
		{"a directory", func(t *testing.T, h *host) {
			if err := os.MkdirAll(filepath.Join(h.root, ConfigPath), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &slowIMDS{document: goodDocument}
			f.start(t)
			h := newHost(t)
			tt.setup(t, h)
			before := snapshot(t, h.root)
			runner := newRunner()
			_, err := Run(context.Background(), Options{Cluster: "prod", Root: h.root, TempDir: t.TempDir()}, Deps{
				IMDS: NewIMDSClient(), Runner: runner, HTTP: NewHTTPClient(), Catalog: catalog.Default(), Log: slogTo(&syncbuf.Buffer{}),
			})
			if ExitCode(err) != ExitFailed || !strings.Contains(err.Error(), "not a regular file") {
				t.Fatalf("err = %v (exit %d)", err, ExitCode(err))
			}
			if after := snapshot(t, h.root); fmt.Sprint(before) != fmt.Sprint(after) || len(runner.commands) != 0 {
				t.Errorf("the host changed or commands ran: %v", runner.ran())
			}
		})
	}
}
