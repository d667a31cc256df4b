package cli

import (
	"context"
	"io"
	"sync"

	"github.com/spf13/cobra"
)

// interruptGate is a stream that goes quiet once a signal interrupted the
// run: what a command prints after its reads were cancelled (a partial table,
// a JSON object whose error is "context canceled", a warning) is not its
// answer, so only Run's one interrupt line reaches the user.
type interruptGate struct {
	ctx context.Context
	mu  sync.Mutex
	w   io.Writer
}

func (g *interruptGate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, _, ok := interrupted(g.ctx); ok {
		return len(p), nil
	}
	return g.w.Write(p)
}

// gateInterrupts returns the streams a run of args writes to: deps.IO's,
// silenced after a signal, except for a command that reports the interrupt
// itself (rollout says what it left draining, on stdout under -o json).
func gateInterrupts(ctx context.Context, root *cobra.Command, args []string, s *IOStreams) *IOStreams {
	if c, _, err := root.Find(args); err == nil && c.Annotations[annotationReportsInterrupt] != "" {
		return s
	}
	g := *s
	g.Out = &interruptGate{ctx: ctx, w: s.Out}
	g.ErrOut = &interruptGate{ctx: ctx, w: s.ErrOut}
	return &g
}

// annotationReportsInterrupt marks a command whose output after a signal is
// part of its contract.
const annotationReportsInterrupt = "trunkctl/reports-interrupt"
