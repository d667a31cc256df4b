package main

import (
	"bytes"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/releasebuild"
)

func TestVersionFlagPrintsTheBuildAndChangesNothing(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-version"}, {"--cluster", "prod", "--version"}} {
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr, time.Now())
		if code != 0 || stderr.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
		out := stdout.String()
		if !strings.HasPrefix(out, "hostbootstrap version ") || !strings.HasSuffix(out, "\ngo:     "+runtime.Version()+"\n") {
			t.Errorf("%v printed\n%s", args, out)
		}
	}
}

// The release's ldflags (.goreleaser.yaml) reach `hostbootstrap --version`.
func TestVersionReportsWhatTheReleaseBuildStampedIn(t *testing.T) {
	stamp := releasebuild.Stamp{Version: "9.8.7", FullCommit: "0123456789abcdef0123456789abcdef01234567", CommitDate: "2026-03-01T14:00:00Z"}
	bin := releasebuild.Build(t, "hostbootstrap", stamp)
	out, err := exec.Command(bin, "--version").Output()
	want := "hostbootstrap version v9.8.7\ncommit: 0123456789abcdef0123456789abcdef01234567\ndate:   2026-03-01T14:00:00Z\ngo:     " + runtime.Version() + "\n"
	if err != nil || string(out) != want {
		t.Errorf("--version: %v, output\n%s\nwant\n%s", err, out, want)
	}
}
