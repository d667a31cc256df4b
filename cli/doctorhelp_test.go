package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/doctor"
)

// doctor's help lists every check the judge has (it is generated from
// doctor.Checks, which a doctor test holds against the Check constants).
func TestDoctorHelpListsEveryCheckTheJudgeHas(t *testing.T) {
	var out bytes.Buffer
	code := Run(context.Background(), []string{"doctor", "--help"}, Deps{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out}})
	if code != ExitOK {
		t.Fatalf("doctor --help exit %d: %s", code, out.String())
	}
	for _, c := range doctor.Checks() {
		if !strings.Contains(out.String(), "  "+c.Name+"  ") {
			t.Errorf("doctor --help does not list check %s:\n%s", c.Name, out.String())
		}
	}
}

// Only the commands that fan out show the fan-out flags in their help.
func TestOnlyFanOutCommandsShowTheFleetFlags(t *testing.T) {
	for cmd, fans := range map[string]bool{"status": true, "enable": true, "disable": true, "instances": true, "doctor": true,
		"enis": false, "capacity": false, "rollout": false, "version": false} {
		var out bytes.Buffer
		if code := Run(context.Background(), []string{cmd, "--help"}, Deps{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out}}); code != ExitOK {
			t.Fatalf("%s --help: exit %d", cmd, code)
		}
		for _, flag := range []string{"--accounts", "--org", "--regions", "--assume-role-name"} {
			if got := strings.Contains(out.String(), flag); got != fans {
				t.Errorf("%s --help lists %s: %v, want %v", cmd, flag, got, fans)
			}
		}
	}
}
