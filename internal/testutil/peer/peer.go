// Package peer decides what a test does when a real peer (moto_server,
// cfn-lint, amazon-ec2-metadata-mock, node) is missing: skip with a message
// on a developer's machine, fail in CI where TRUNKCTL_REQUIRE_PEERS=1.
package peer

import (
	"os"
	"os/exec"
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
