package hostsetup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/ecsconfig"
	"github.com/trunkctl/trunkctl/internal/pkgverify"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, o Options)
	}{
		{
			name: "a cluster alone is enough, with defaults for the rest",
			args: []string{"--cluster", "prod"},
			check: func(t *testing.T, o Options) {
				if o.Cluster != "prod" || o.Root != "/" || o.DryRun || o.Wait != 0 || o.DownloadTimeout != DefaultDownloadTimeout || o.RetryFor != DefaultRetryFor {
					t.Errorf("options %+v", o)
				}
			},
		},
		{
			name: "every flag is read",
			args: []string{"--cluster=arn:aws-cn:ecs:cn-north-1:123456789012:cluster/prod", "--set", "ECS_LOGLEVEL=debug",
				"--set", "ECS_INSTANCE_ATTRIBUTES={\"a\":\"b=c\"}", "--allow-task-imds", "--require-trunking", "--root", "/tmp",
				"--dry-run", "--wait", "5m", "--agent-base-url", "https://mirror.example.com/ecs/", "--download-timeout", "1m", "--retry-for", "2m"},
			check: func(t *testing.T, o Options) {
				want := []ecsconfig.Setting{{Key: "ECS_LOGLEVEL", Value: "debug"}, {Key: "ECS_INSTANCE_ATTRIBUTES", Value: `{"a":"b=c"}`}}
				if fmt.Sprint(o.Settings) != fmt.Sprint(want) || !o.AllowTaskIMDS || !o.RequireTrunking || o.Root != "/tmp" ||
					!o.DryRun || o.Wait != 5*time.Minute || o.AgentBaseURL != "https://mirror.example.com/ecs/" || o.DownloadTimeout != time.Minute || o.RetryFor != 2*time.Minute {
					t.Errorf("options %+v", o)
				}
			},
		},
		{name: "no cluster is a usage error", args: nil, wantErr: "--cluster is required"},
		{name: "a cluster name with a slash is refused", args: []string{"--cluster", "a/b"}, wantErr: "not a cluster name"},
		{name: "--set needs KEY=VALUE", args: []string{"--cluster", "c", "--set", "ECS_X"}, wantErr: "not KEY=VALUE"},
		{name: "--set refuses a key that is not ECS_", args: []string{"--cluster", "c", "--set", "HTTP_PROXY=http://p"}, wantErr: ecsconfig.KeyPattern},
		{name: "--set refuses a value with a newline", args: []string{"--cluster", "c", "--set", "ECS_X=a\nECS_Y=b"}, wantErr: "one line"},
		{name: "--set refuses a key hostbootstrap manages", args: []string{"--cluster", "c", "--set", "ECS_CLUSTER=x"}, wantErr: "set by --cluster"},
		{name: "--set refuses turning task ENIs off", args: []string{"--cluster", "c", "--set", "ECS_ENABLE_TASK_ENI=false"}, wantErr: "trunking needs it"},
		{name: "--set refuses a key given twice", args: []string{"--cluster", "c", "--set", "ECS_X=1", "--set", "ECS_X=2"}, wantErr: "given twice"},
		{name: "a positional argument is refused", args: []string{"--cluster", "c", "extra"}, wantErr: "unexpected argument"},
		{name: "an unknown flag is refused", args: []string{"--cluster", "c", "--colour"}, wantErr: "not defined"},
		{name: "a negative wait is refused", args: []string{"--cluster", "c", "--wait", "-1s"}, wantErr: "negative"},
		{name: "a negative retry bound is refused", args: []string{"--cluster", "c", "--retry-for", "-1s"}, wantErr: "--retry-for must not be negative"},
		{name: "a root that does not exist is refused", args: []string{"--cluster", "c", "--root", "/nonexistent/hostbootstrap-root"}, wantErr: "does not exist"},
		{name: "a root that is a file is refused", args: []string{"--cluster", "c", "--root", "/etc/hostname"}, wantErr: "is not a directory"},
		{name: "plain http to a remote host is refused", args: []string{"--cluster", "c", "--agent-base-url", "http://mirror.example.com/"}, wantErr: "only to loopback"},
		{name: "another scheme is refused", args: []string{"--cluster", "c", "--agent-base-url", "ftp://mirror.example.com/"}, wantErr: "not https"},
		{name: "a relative URL is refused", args: []string{"--cluster", "c", "--agent-base-url", "mirror/"}, wantErr: "not an absolute URL"},
		{
			name: "plain http to loopback is allowed, for tests",
			args: []string{"--cluster", "c", "--agent-base-url", "http://127.0.0.1:8080/x/"},
			check: func(t *testing.T, o Options) {
				if o.AgentBaseURL != "http://127.0.0.1:8080/x/" {
					t.Errorf("base URL %q", o.AgentBaseURL)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			o, err := ParseFlags(tt.args, &stderr)
			if tt.wantErr != "" {
				var u *UsageError
				if !errors.As(err, &u) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want a usage error containing %q", err, tt.wantErr)
				}
				if ExitCode(err) != ExitUsage {
					t.Errorf("exit code %d", ExitCode(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFlags: %v", err)
			}
			tt.check(t, o)
		})
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := ParseFlags([]string{"--help"}, &stderr); !errors.Is(err, ErrHelp) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{"--cluster NAME", "Exit codes: 0 done, 1 failed, 2 usage, 3", "-require-trunking", "-wait duration\n"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestExitCodesAreOnePerKindOfFailure(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{&WaitTimeoutError{}, 1},
		{&UsageError{Msg: "x"}, 2},
		{fmt.Errorf("wrapped: %w", &NotTrunkCapableError{InstanceType: "t3.micro"}), 3},
		{fmt.Errorf("wrapped: %w", &pkgverify.Error{What: "p", Err: errors.New("bad")}), 4},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestTheDefaultAgentURLIsTheRegionalBucketInTheRightPartition(t *testing.T) {
	tests := map[string]string{
		"us-east-1":     "https://s3.us-east-1.amazonaws.com/amazon-ecs-agent-us-east-1/",
		"cn-north-1":    "https://s3.cn-north-1.amazonaws.com.cn/amazon-ecs-agent-cn-north-1/",
		"us-gov-west-1": "https://s3.us-gov-west-1.amazonaws.com/amazon-ecs-agent-us-gov-west-1/",
	}
	for region, want := range tests {
		if got := DefaultAgentBaseURL(region); got != want {
			t.Errorf("%s: %s, want %s", region, got, want)
		}
	}
	got, _ := packageURL("https://s3.cn-north-1.amazonaws.com.cn/amazon-ecs-agent-cn-north-1", "amazon-ecs-init-latest.aarch64.rpm")
	if got != "https://s3.cn-north-1.amazonaws.com.cn/amazon-ecs-agent-cn-north-1/amazon-ecs-init-latest.aarch64.rpm" {
		t.Errorf("package URL %s", got)
	}
}

func TestADownloadIsNotRedirectedOffHTTPS(t *testing.T) {
	srv := httptest.NewServer(http.RedirectHandler("http://mirror.example.com/pkg", http.StatusFound))
	defer srv.Close()
	_, err := download(context.Background(), NewHTTPClient(), srv.URL+"/pkg", t.TempDir()+"/pkg", 1<<20, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "only to loopback") {
		t.Fatalf("err %v", err)
	}
}

func TestADownloadThatTakesTooLongIsCutOff(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	start := time.Now()
	_, err := download(context.Background(), NewHTTPClient(), srv.URL+"/pkg", t.TempDir()+"/pkg", 1<<20, 200*time.Millisecond)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
}

// noTokenIMDS is an IMDSv1-only endpoint: it refuses session tokens and
// would answer plain GETs. The client must fail rather than fall back.
type noTokenIMDS struct {
	mu   sync.Mutex
	gets int
}

func (n *noTokenIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	n.mu.Lock()
	n.gets++
	n.mu.Unlock()
	_, _ = w.Write([]byte(`{"instanceId":"i-1","instanceType":"c5.large","region":"us-east-1","architecture":"x86_64"}`))
}

func TestTheIMDSClientNeverFallsBackToIMDSv1(t *testing.T) {
	v1 := &noTokenIMDS{}
	srv := httptest.NewServer(v1)
	defer srv.Close()
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := readIdentity(ctx, NewIMDSClient())
	if err == nil {
		t.Fatal("read the identity without a session token")
	}
	if v1.gets != 0 {
		t.Errorf("made %d IMDSv1 GET requests", v1.gets)
	}
}

func TestOSReleaseDetection(t *testing.T) {
	tests := []struct {
		osRelease string
		want      Distro
		wantErr   bool
	}{
		{osReleaseAL2023, amazonLinux2023, false},
		{osReleaseAL2, amazonLinux2, false},
		{osReleaseUbuntu, Distro{Name: "Ubuntu 24.04.1 LTS", Format: "deb", PackageManager: "apt-get"}, false},
		{"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n", Distro{Name: "Debian GNU/Linux 12 (bookworm)", Format: "deb", PackageManager: "apt-get"}, false},
		{"ID=amzn\nVERSION_ID=\"2018.03\"\n", Distro{}, true},
		{"ID=\"rhel\"\nVERSION_ID=\"9.4\"\n", Distro{}, true},
	}
	for _, tt := range tests {
		h := newHost(t)
		h.write("etc/os-release", tt.osRelease)
		got, err := detectDistro(h.root)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%q: %+v, %v", tt.osRelease, got, err)
		}
	}
	if _, err := detectDistro(t.TempDir()); err == nil {
		t.Error("a root without os-release was accepted")
	}
}

func TestPackageArchitectures(t *testing.T) {
	for _, tt := range []struct{ format, imds, want string }{
		{"rpm", "x86_64", "x86_64"}, {"rpm", "arm64", "aarch64"}, {"deb", "x86_64", "amd64"}, {"deb", "arm64", "arm64"},
	} {
		if got, err := packageArch(tt.format, tt.imds); err != nil || got != tt.want {
			t.Errorf("%s/%s: %q %v", tt.format, tt.imds, got, err)
		}
	}
	if _, err := packageArch("rpm", "i386"); err == nil {
		t.Error("i386 accepted")
	}
}

func TestTheDocumentedExitCodesMatchTheCode(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "hostbootstrap.md"))
	if err != nil {
		t.Fatal(err)
	}
	codes := map[int]string{ExitOK: "done", ExitFailed: "failed", ExitUsage: "usage", ExitNotTrunkCapable: "--require-trunking", ExitSignature: "signature"}
	for code, word := range codes {
		prefix := fmt.Sprintf("| %d | ", code)
		found := false
		for _, l := range strings.Split(string(doc), "\n") {
			if strings.HasPrefix(l, prefix) && strings.Contains(l, word) {
				found = true
			}
		}
		if !found {
			t.Errorf("docs/hostbootstrap.md has no exit code row %q mentioning %q", prefix, word)
		}
	}
}
