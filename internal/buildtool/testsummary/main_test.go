package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runGoTestJSON runs `go test -json` on a module of the given test files.
func runGoTestJSON(t *testing.T, files map[string]string) []byte {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module example.test/m\n\ngo 1.22\n"
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-json", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local")
	out, _ := cmd.Output() // a failing test exits 1; the stream says so
	return out
}

func TestARealRunEndsWithOneLineNamingEachSkippedTestAndWhy(t *testing.T) {
	stream := runGoTestJSON(t, map[string]string{
		"a/a_test.go": `package a
import "testing"
func TestPasses(t *testing.T) {}
func TestNeedsMoto(t *testing.T) { t.Skipf("moto_server not available, skipping (pip install moto)") }
func TestTable(t *testing.T) {
	t.Run("uses cfn-lint", func(t *testing.T) { t.Skip("cfn-lint not available") })
	t.Run("passes", func(t *testing.T) {})
}
`,
		"b/b_test.go": `package b
import "testing"
func TestPasses(t *testing.T) { t.Log("quiet when it passes") }
`,
	})
	var out bytes.Buffer
	failed, err := summarize(bytes.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	if failed {
		t.Errorf("a passing run was reported as failed:\n%s", out.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	want := "skipped: 2 test(s): a.TestTable/uses_cfn-lint (cfn-lint not available); a.TestNeedsMoto (moto_server not available, skipping (pip install moto))"
	if last := lines[len(lines)-1]; last != want {
		t.Errorf("last line:\n got %q\nwant %q", last, want)
	}
	for _, pkg := range []string{"example.test/m/a", "example.test/m/b"} {
		if !strings.Contains(out.String(), "ok  \t"+pkg) {
			t.Errorf("go test's result line for %s is missing:\n%s", pkg, out.String())
		}
	}
	for _, noise := range []string{"=== RUN", "--- PASS", "quiet when it passes", "--- SKIP"} {
		if strings.Contains(out.String(), noise) {
			t.Errorf("output has %q, which go test prints only with -v:\n%s", noise, out.String())
		}
	}
}

func TestAFailingRunShowsTheFailureAndIsReportedAsFailed(t *testing.T) {
	stream := runGoTestJSON(t, map[string]string{
		"a/a_test.go": `package a
import "testing"
func TestBreaks(t *testing.T) { t.Error("the table drifted") }
func TestPasses(t *testing.T) {}
`,
		"c/c_test.go": `package c
import "testing"
func TestDoesNotCompile(t *testing.T) { undefined() }
`,
	})
	var out bytes.Buffer
	failed, err := summarize(bytes.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	if !failed {
		t.Errorf("a failing run was not reported as failed:\n%s", out.String())
	}
	for _, want := range []string{"--- FAIL: TestBreaks", "the table drifted", "FAIL\texample.test/m/a", "undefined", "FAIL\texample.test/m/c", "skipped: none"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
