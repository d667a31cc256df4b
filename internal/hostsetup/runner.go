package hostsetup

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Command is one program run on the host.
type Command struct {
	Name string
	Args []string
	// Env is added to the process environment.
	Env []string
}

func (c Command) String() string {
	parts := append([]string{}, c.Env...)
	parts = append(parts, c.Name)
	parts = append(parts, c.Args...)
	return strings.Join(parts, " ")
}

// Runner runs host commands. Everything hostbootstrap does outside its own
// files goes through it, so tests record the exact commands.
type Runner interface {
	// LookPath reports where a command is on PATH.
	LookPath(name string) (string, error)
	// Run runs c to completion; a non-zero exit is an error.
	Run(ctx context.Context, c Command) error
}

// ExecRunner runs commands found on PATH.
type ExecRunner struct {
	Log *slog.Logger
}

// LookPath implements Runner.
func (ExecRunner) LookPath(name string) (string, error) { return exec.LookPath(name) }

// outputTail keeps the last bytes of a command's output for error messages.
const outputTail = 4 << 10

// Run implements Runner: the command's output is logged when it fails and
// its last lines are part of the error.
func (r ExecRunner) Run(ctx context.Context, c Command) error {
	path, err := exec.LookPath(c.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	cmd := exec.CommandContext(ctx, path, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.WaitDelay = 10 * time.Second
	out := &tailBuffer{max: outputTail}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err = cmd.Run()
	if r.Log != nil {
		r.Log.Info("ran command", "command", c.String(), "duration_ms", time.Since(start).Milliseconds(), "ok", err == nil)
	}
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", c, err, strings.TrimSpace(out.String()))
	}
	return nil
}

type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = bytes.Clone(t.b[len(t.b)-t.max:])
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
