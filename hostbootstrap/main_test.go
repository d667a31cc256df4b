package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/hostsetup"
	"github.com/trunkctl/trunkctl/internal/pkgverify/pkgverifytest"
	"github.com/trunkctl/trunkctl/internal/testutil/imdsmock"
	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

// fakeSystemctl puts a systemctl on PATH that records its arguments and
// says the ecs unit is inactive.
func fakeSystemctl(t *testing.T) (log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "systemctl.log")
	script := "#!/bin/sh\necho \"$*\" >> " + log + "\n[ \"$1\" = is-active ] && exit 3\nexit 0\n"
	if err := os.WriteFile(filepath.Join(dir, "systemctl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return log
}

func agentHost(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	unit := filepath.Join(root, "usr/lib/systemd/system/ecs.service")
	if err := os.MkdirAll(filepath.Dir(unit), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(unit, []byte("[Unit]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestTheCommandConfiguresAnAgentHostAndExitsZero(t *testing.T) {
	m := imdsmock.Start(t, imdsmock.Instance{InstanceType: "c5.2xlarge", Region: "eu-west-1"})
	m.Env(t)
	systemctlLog := fakeSystemctl(t)
	root := agentHost(t)
	var stdout, stderr bytes.Buffer

	code := run([]string{"--cluster", "prod", "--root", root, "--set", "ECS_LOGLEVEL=debug"}, &stdout, &stderr, time.Now())
	if code != hostsetup.ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	cfg, _ := os.ReadFile(filepath.Join(root, "etc/ecs/ecs.config"))
	if string(cfg) != "ECS_CLUSTER=prod\nECS_ENABLE_TASK_ENI=true\nECS_ENABLE_HIGH_DENSITY_ENI=true\nECS_AWSVPC_BLOCK_IMDS=true\nECS_LOGLEVEL=debug\n" {
		t.Errorf("ecs.config %q", cfg)
	}
	calls, _ := os.ReadFile(systemctlLog)
	if string(calls) != "is-active --quiet ecs\nenable --now --no-block ecs\n" {
		t.Errorf("systemctl calls %q", calls)
	}
	for _, want := range []string{"c5.2xlarge", "supported: 40 awsvpc tasks with trunking", "already installed", "result        done"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if !json.Valid([]byte(l)) {
			t.Errorf("stderr line is not JSON: %q", l)
		}
	}
}

func TestTheCommandExitsWithTheDocumentedCodes(t *testing.T) {
	m := imdsmock.Start(t, imdsmock.Instance{InstanceType: "t3.large"})
	m.Env(t)
	fakeSystemctl(t)
	root := agentHost(t)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"help is success", []string{"--help"}, 0},
		{"a missing cluster is a usage error", []string{"--root", root}, 2},
		{"a bad --set is a usage error", []string{"--cluster", "c", "--root", root, "--set", "PATH=/tmp"}, 2},
		{"a root that does not exist is a usage error", []string{"--cluster", "c", "--root", filepath.Join(root, "missing")}, 2},
		{"a negative --retry-for is a usage error", []string{"--cluster", "c", "--root", root, "--retry-for", "-1m"}, 2},
		{"an unsupported type under --require-trunking exits 3", []string{"--cluster", "c", "--root", root, "--require-trunking"}, 3},
		{"an unsupported type without it only warns", []string{"--cluster", "c", "--root", root}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(tt.args, &stdout, &stderr, time.Now()); got != tt.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got, tt.want, stdout.String(), stderr.String())
			}
		})
	}
}

func TestAPackageNotSignedByAmazonExits4AndRunsNothing(t *testing.T) {
	m := imdsmock.Start(t, imdsmock.Instance{})
	m.Env(t)
	systemctlLog := fakeSystemctl(t)
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=\"amzn\"\nVERSION_ID=\"2023\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	key := pkgverifytest.NewKey(t, "Not Amazon")
	pkg := []byte("an rpm")
	files := map[string][]byte{
		"/ecs/amazon-ecs-init-latest.x86_64.rpm":     pkg,
		"/ecs/amazon-ecs-init-latest.x86_64.rpm.asc": key.Sign(t, pkg),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := files[r.URL.Path]; ok {
			_, _ = w.Write(b)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	t.Setenv("TMPDIR", t.TempDir())

	var stdout, stderr bytes.Buffer
	code := run([]string{"--cluster", "c", "--root", root, "--agent-base-url", srv.URL + "/ecs/"}, &stdout, &stderr, time.Now())
	if code != hostsetup.ExitSignature {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, hostsetup.ExitSignature, stdout.String(), stderr.String())
	}
	if calls, _ := os.ReadFile(systemctlLog); len(calls) != 0 {
		t.Errorf("systemctl ran: %q", calls)
	}
	if !strings.Contains(stdout.String(), "failed (exit 4)") || !strings.Contains(stdout.String(), srv.URL) {
		t.Errorf("summary:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "installing nothing") {
		t.Errorf("log:\n%s", stderr.String())
	}
}

func TestTheCommandFailsWithExit1WhenIMDSIsUnreachable(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1")
	var stdout, stderr bytes.Buffer
	if got := run([]string{"--cluster", "c", "--root", t.TempDir()}, &stdout, &stderr, time.Now()); got != hostsetup.ExitFailed {
		t.Fatalf("exit %d\n%s", got, stderr.String())
	}
	if !strings.Contains(stdout.String(), "failed (exit 1)") || !strings.Contains(stderr.String(), "IMDSv2") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}

func TestTheBinaryLinksNeitherCobraNorTheCDK(t *testing.T) {
	peer.NotLinked(t, "", "github.com/spf13/cobra", "github.com/aws/aws-cdk-go", "github.com/aws/jsii-runtime-go", "github.com/aws/constructs-go")
}
