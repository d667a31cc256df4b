package cli

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"
)

// A signal that lands while status reads a role's setting (after the caller
// was read) used to print the role's row with "context canceled", or under -o
// json a whole object whose error is "context canceled".
func TestASignalDuringAReadPrintsNothingOnStdoutAndOneLineOnStderr(t *testing.T) {
	for _, tt := range []struct {
		name string
		sig  syscall.Signal
		want ExitCode
		args []string
	}{
		{"status as a table, SIGINT", syscall.SIGINT, ExitInterrupted, []string{"status", "--role", "EcsInstanceRole"}},
		{"status as JSON, SIGTERM", syscall.SIGTERM, ExitTerminated, []string{"status", "--role", "EcsInstanceRole", "-o", "json"}},
		{"status of a cluster as YAML, SIGINT", syscall.SIGINT, ExitInterrupted, []string{"status", "--cluster", "prod", "-o", "yaml"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.acct.Hang["ecs:ListAccountSettings"] = true
			ctx, stop := SignalContext(context.Background())
			defer stop()
			go func() {
				time.Sleep(300 * time.Millisecond)
				_ = syscall.Kill(os.Getpid(), tt.sig)
			}()
			s, out, errOut := streams(false)
			start := time.Now()
			code := Run(ctx, tt.args, w.deps(s))
			if code != tt.want || time.Since(start) > 10*time.Second {
				t.Fatalf("exit %d after %s, want %d; stderr:\n%s", code, time.Since(start), tt.want, errOut)
			}
			name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[tt.sig]
			want := "trunkctl: interrupted by " + name + "; cancelled the AWS calls in flight (changes already made stay; re-running is safe)\n"
			if out.Len() != 0 || errOut.String() != want {
				t.Fatalf("stdout %q, stderr %q; want no output and exactly %q", out.String(), errOut.String(), want)
			}
			if calls := w.acct.Calls(); len(calls) == 0 || calls[len(calls)-1].Op != "ecs:ListAccountSettings" {
				t.Fatalf("the run was not interrupted in the settings read: calls %v", calls)
			}
		})
	}
}
