package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

func TestTheArm64BinaryPrintsItsHelpUnderQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dist/hostbootstrap-linux-arm64 under an emulator")
	}
	runner := peer.Arm64Runner(t)
	bin := peer.Artifact(t, "dist/hostbootstrap-linux-arm64", "hostbootstrap")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := append(runner, bin, "--help")
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	for _, want := range []string{"Usage: hostbootstrap --cluster NAME", "Exit codes: 0 done", "-require-trunking"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}
