package cli

import (
	"encoding/json"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/testutil/releasebuild"
)

const catalogLine = "catalog: ECS task limits 2023-04-18, EC2 network limits 2026-03-20\n"

func TestVersionPrintsVersionCommitGoAndTheCatalogDates(t *testing.T) {
	code, out, errOut := runCmd(t, newWorld(t), false, "version")
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"trunkctl version ", "\ncommit: ", "\ndate:   ", "\ngo:      " + runtime.Version() + "\n", "\n" + catalogLine} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestVersionFlagPrintsWhatTheVersionCommandPrints(t *testing.T) {
	_, cmdOut, _ := runCmd(t, newWorld(t), false, "version")
	code, flagOut, errOut := runCmd(t, newWorld(t), false, "--version")
	if code != ExitOK || errOut != "" || flagOut != cmdOut {
		t.Errorf("--version: exit %d, stderr %q, output\n%s\nwant\n%s", code, errOut, flagOut, cmdOut)
	}
}

func TestVersionJSONIsOneObjectWithEveryField(t *testing.T) {
	code, out, _ := runCmd(t, newWorld(t), false, "version", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	for _, k := range []string{"version", "commit", "date", "goVersion"} {
		if s, _ := v[k].(string); s == "" {
			t.Errorf("%q is missing or empty in %s", k, out)
		}
	}
	want := map[string]any{"ecsTaskLimits": "2023-04-18", "ec2NetworkLimits": "2026-03-20"}
	if got, _ := v["catalogData"].(map[string]any); len(got) != 2 || got["ecsTaskLimits"] != want["ecsTaskLimits"] || got["ec2NetworkLimits"] != want["ec2NetworkLimits"] {
		t.Errorf("catalogData = %v, want %v", v["catalogData"], want)
	}
}

func TestVersionWithAnArgumentIsAUsageError(t *testing.T) {
	if code, _, errOut := runCmd(t, newWorld(t), false, "version", "extra"); code != ExitUsage {
		t.Errorf("exit %d, want %d; stderr %q", code, ExitUsage, errOut)
	}
}

// The release's ldflags (.goreleaser.yaml) reach `trunkctl version`.
func TestVersionReportsWhatTheReleaseBuildStampedIn(t *testing.T) {
	stamp := releasebuild.Stamp{Version: "9.8.7", FullCommit: "0123456789abcdef0123456789abcdef01234567", CommitDate: "2026-03-01T14:00:00Z"}
	bin := releasebuild.Build(t, "trunkctl", stamp)
	out, err := exec.Command(bin, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("trunkctl version -o json: %v", err)
	}
	var v struct{ Version, Commit, Date string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if v.Version != "v"+stamp.Version || v.Commit != stamp.FullCommit || v.Date != stamp.CommitDate {
		t.Errorf("version -o json = %s, want version v%s, commit %s, date %s", out, stamp.Version, stamp.FullCommit, stamp.CommitDate)
	}
	out, err = exec.Command(bin, "--version").Output()
	want := "trunkctl version v9.8.7\ncommit:  0123456789abcdef0123456789abcdef01234567\ndate:    2026-03-01T14:00:00Z\n"
	if err != nil || !strings.HasPrefix(string(out), want) || !strings.HasSuffix(string(out), catalogLine) {
		t.Errorf("--version: %v, output\n%s\nwant it to start with\n%s", err, out, want)
	}
}
