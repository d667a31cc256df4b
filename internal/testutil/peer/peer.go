// Package peer decides what a test does when a real peer (moto_server,
// cfn-lint, amazon-ec2-metadata-mock, node) is missing: skip with a message
// on a developer's machine, fail in CI where TRUNKCTL_REQUIRE_PEERS=1.
package peer

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// RequireEnv is the variable that turns a missing peer into a failure.
const RequireEnv = "TRUNKCTL_REQUIRE_PEERS"

// Required reports whether missing peers must fail tests.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Missing skips the test, or fails it when peers are required, explaining
// what is missing and how to get it.
func Missing(tb testing.TB, what, howToGet string) {
	tb.Helper()
	if Required() {
		tb.Fatalf("%s is required (%s=1) but missing: %s", what, RequireEnv, howToGet)
	}
	tb.Skipf("%s not available, skipping (%s); set %s=1 to make this a failure", what, howToGet, RequireEnv)
}

// LookPath finds a peer's executable on PATH, or calls Missing.
func LookPath(tb testing.TB, name, howToGet string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(tb, name, howToGet)
	}
	return p
}

// BuiltTool finds a peer that `make tools` builds from tools/go.mod: the path
// in $envVar, then <module root>/bin/name, then name on PATH; when none
// exists it calls Missing.
func BuiltTool(tb testing.TB, name, envVar string) string {
	tb.Helper()
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("%s=%s: %v", envVar, p, err)
		}
		return p
	}
	if root, err := ModuleRoot(); err == nil {
		p := filepath.Join(root, "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return LookPath(tb, name, "run `make tools` to build it into bin/, or set "+envVar)
}

// ModuleRoot walks up from the working directory to the trunkctl go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module github.com/trunkctl/trunkctl\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("trunkctl module root not found")
		}
		dir = parent
	}
}

// Artifact finds a file `make` builds, by its path under the module root
// (e.g. dist/lambda.zip), or calls Missing naming the make target.
func Artifact(tb testing.TB, rel, target string) string {
	tb.Helper()
	if root, err := ModuleRoot(); err == nil {
		p := filepath.Join(root, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Missing(tb, rel, "run `make "+target+"` to build it")
	return ""
}

// Arm64Runner is the command prefix that runs a linux/arm64 binary here:
// none on an arm64 host, else qemu-aarch64-static (Debian's qemu-user-static).
func Arm64Runner(tb testing.TB) []string {
	tb.Helper()
	if runtime.GOARCH == "arm64" {
		return nil
	}
	return []string{LookPath(tb, "qemu-aarch64-static", "apt-get install qemu-user-static")}
}

// NotLinked fails the test for every package the package in the working
// directory links (go list -deps, with build tags) whose path starts with
// one of banned: what a small binary (a Lambda's bootstrap, hostbootstrap)
// must keep out. It skips under -short.
func NotLinked(tb testing.TB, tags string, banned ...string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("runs go list")
	}
	goBin := LookPath(tb, "go", "install Go (see README.md)")
	args := []string{"list", "-deps"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	out, err := exec.Command(goBin, append(args, ".")...).CombinedOutput()
	if err != nil {
		tb.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range banned {
			if strings.HasPrefix(dep, b) {
				tb.Errorf("the binary links %s", dep)
			}
		}
	}
}
