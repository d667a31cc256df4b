package cli

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

func TestExitCodesThroughTheCommandLine(t *testing.T) {
	tests := []struct {
		name    string
		world   func(*testing.T) *world
		args    []string
		want    ExitCode
		errWant string
	}{
		{"an enabled role exits 0", healthyWorld, []string{"status", "--role", "EcsInstanceRole"}, ExitOK, ""},
		{"a disabled role exits 3", newWorld, []string{"status", "--role", "EcsInstanceRole"}, ExitUnhealthy, "trunkctl enable"},
		{"a cluster with instances to replace exits 3", newWorld, []string{"instances", "--cluster", "prod"}, ExitUnhealthy, ""},
		{"doctor with errors exits 3", newWorld, []string{"doctor", "--cluster", "prod"}, ExitUnhealthy, ""},
		{"doctor of a healthy cluster exits 0", healthyWorld, []string{"doctor", "--cluster", "prod", "-o", "json"}, ExitOK, ""},
		{"enis exits 0", newWorld, []string{"enis", "--cluster", "prod"}, ExitOK, ""},
		{"capacity needs no credentials", newWorld, []string{"capacity", "c5.large"}, ExitOK, ""},
		{"enable then reads back enabled", newWorld, []string{"enable", "--role", roleArn}, ExitOK, ""},
		{"disable reads back disabled", healthyWorld, []string{"disable", "--role", roleArn, "-o", "json"}, ExitOK, ""},
		{"a missing cluster is an error", newWorld, []string{"instances", "--cluster", "nope"}, ExitError, "not found"},
		{"an unknown command is a usage error", newWorld, []string{"bogus"}, ExitUsage, `unknown command "bogus"`},
		{"an unknown flag is a usage error", newWorld, []string{"status", "--nope"}, ExitUsage, "unknown flag: --nope"},
		{"a bad output format is a usage error", newWorld, []string{"status", "--role", "r", "--output", "xml"}, ExitUsage, `--output must be "table", "wide", "json" or "yaml"`},
		{"a missing required flag is a usage error", newWorld, []string{"instances"}, ExitUsage, "--cluster is required"},
		{"stray arguments are a usage error", newWorld, []string{"status", "--role", "r", "extra"}, ExitUsage, "takes no arguments"},
		{"--default with --role is a usage error", newWorld, []string{"enable", "--default", "--yes", "--role", "r"}, ExitUsage, "do not go together"},
		{"a bad duration is a usage error", newWorld, []string{"doctor", "--cluster", "prod", "--stuck-after", "soon"}, ExitUsage, "invalid argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.world(t), false, tt.args...)
			if code != tt.want || !strings.Contains(stderr, tt.errWant) {
				t.Fatalf("exit = %d, want %d; stderr:\n%s", code, tt.want, stderr)
			}
			if code == ExitUsage && !strings.Contains(stderr, "--help' for usage") {
				t.Fatalf("usage error without a hint: %s", stderr)
			}
		})
	}
}

func TestAnAWSConfigurationErrorExitsOne(t *testing.T) {
	s, _, errOut := streams(false)
	deps := Deps{IO: s, AWS: func(context.Context, GlobalOptions, io.Writer) (*AWS, error) {
		return nil, errors.New("no AWS Region: pass --region")
	}}
	if code := Run(context.Background(), []string{"status", "--role", "r"}, deps); code != ExitError || !strings.Contains(errOut.String(), "no AWS Region") {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
}

func TestGlobalFlagsReachTheAWSConfiguration(t *testing.T) {
	s, _, _ := streams(false)
	var got GlobalOptions
	deps := Deps{IO: s, AWS: func(_ context.Context, g GlobalOptions, _ io.Writer) (*AWS, error) {
		got = g
		return nil, errors.New("stop here")
	}}
	Run(context.Background(), []string{"instances", "--cluster", "c", "--profile", "ops", "--region", "eu-west-1", "--debug", "--no-color", "-o", "json"}, deps)
	want := GlobalOptions{Profile: "ops", Region: "eu-west-1", Output: "json", NoColor: true, Debug: true}
	if got.progress == nil || got.redactor == nil {
		t.Fatalf("the AWS configuration gets no progress sink or redactor: %+v", got)
	}
	got.progress, got.redactor = nil, nil
	if got != want {
		t.Fatalf("global options = %+v, want %+v", got, want)
	}
}

func TestUsageErrorsNeedNoAWSConfiguration(t *testing.T) {
	s, _, _ := streams(false)
	deps := Deps{IO: s, AWS: func(context.Context, GlobalOptions, io.Writer) (*AWS, error) {
		t.Fatal("AWS configuration loaded for a usage error")
		return nil, nil
	}}
	if code := Run(context.Background(), []string{"status"}, deps); code != ExitUsage {
		t.Fatalf("exit = %d", code)
	}
}

func TestCompletionScriptsAreGeneratedForEveryShell(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, stderr := runCmd(t, newWorld(t), false, "completion", shell)
		if code != ExitOK || !strings.Contains(out, "trunkctl") || len(out) < 500 {
			t.Fatalf("%s: exit %d, %d bytes, stderr %s", shell, code, len(out), stderr)
		}
	}
}

func TestCompletionOffersInstanceTypesAndOutputFormats(t *testing.T) {
	_, out, _ := runCmd(t, newWorld(t), false, "__complete", "capacity", "c5.l")
	if !strings.Contains(out, "c5.large\n") {
		t.Fatalf("completion = %q", out)
	}
	_, out, _ = runCmd(t, newWorld(t), false, "__complete", "status", "--output", "")
	if !strings.Contains(out, "table\nwide\njson\n") {
		t.Fatalf("completion = %q", out)
	}
}

func TestJSONOutputIsTheSameObjectThroughTheCommandLine(t *testing.T) {
	w := healthyWorld(t)
	code, out, _ := runCmd(t, w, false, "status", "--role", roleArn, "-o", "json")
	if code != ExitOK || !strings.HasPrefix(out, `{
  "roles": [`) || !strings.Contains(out, `"effectiveValue": "`+accountsetting.Enabled+`"`) {
		t.Fatalf("exit %d, stdout %s", code, out)
	}
}

func TestTheSpinnerStaysOffWhenStderrIsNotATerminal(t *testing.T) {
	s, _, errOut := streams(false)
	s.SpinnerDelay = 1
	stop := s.StartProgress("waiting")
	stop()
	if errOut.Len() != 0 {
		t.Fatalf("stderr = %q", errOut)
	}
}

func TestTheSpinnerShowsOnATerminalAfterTheDelayAndClearsItsLine(t *testing.T) {
	s, _, _ := streams(false)
	errOut := &syncbuf.Buffer{}
	s.ErrOut, s.ErrIsTerminal, s.SpinnerDelay = errOut, true, 1
	stop := s.StartProgress("waiting")
	for i := 0; i < 200 && !strings.Contains(errOut.String(), "waiting"); i++ {
		sleepMillis(5)
	}
	stop()
	if got := errOut.String(); !strings.Contains(got, "waiting") || !strings.HasSuffix(got, "\r\033[K") {
		t.Fatalf("stderr = %q", got)
	}
}
