package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// IOStreams are where a command reads and writes. Data goes to Out,
// progress, warnings and errors to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InIsTerminal, OutIsTerminal and ErrIsTerminal say whether each stream
	// is a terminal: tables and colour on a terminal, tab-separated when piped.
	InIsTerminal  bool
	OutIsTerminal bool
	ErrIsTerminal bool
	// NoColor turns colour off (--no-color, or NO_COLOR in the environment).
	NoColor bool
	// SpinnerDelay is how long a wait lasts before the spinner shows (default 1s).
	SpinnerDelay time.Duration

	// progress is the spinner's retry note, shared by the copies of a run.
	progress *progressState
}

// SystemStreams returns the process's streams.
func SystemStreams() *IOStreams {
	_, noColor := os.LookupEnv("NO_COLOR")
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InIsTerminal:  term.IsTerminal(int(os.Stdin.Fd())),
		OutIsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
		ErrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		NoColor:       noColor || os.Getenv("TERM") == "dumb",
	}
}

// colorEnabled reports whether stdout gets ANSI colour.
func (s *IOStreams) colorEnabled() bool { return s.OutIsTerminal && !s.NoColor }

// Warnf prints a warning line to ErrOut.
func (s *IOStreams) Warnf(format string, args ...any) {
	fmt.Fprintf(s.ErrOut, "warning: "+format+"\n", args...)
}

// Infof prints a progress or hint line to ErrOut.
func (s *IOStreams) Infof(format string, args ...any) {
	fmt.Fprintf(s.ErrOut, format+"\n", args...)
}

// StartProgress shows a spinner with label on ErrOut when the wait lasts
// longer than SpinnerDelay, only on a terminal. The returned stop clears it.
func (s *IOStreams) StartProgress(label string) (stop func()) {
	if !s.ErrIsTerminal {
		return func() {}
	}
	s.setProgressActive(true)
	delay := s.SpinnerDelay
	if delay <= 0 {
		delay = time.Second
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-done:
			return
		case <-t.C:
		}
		frames := []rune("|/-\\")
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			line := label
			if note := s.progressNote(); note != "" {
				line += ": " + note
			}
			fmt.Fprintf(s.ErrOut, "\r\033[K%c %s", frames[i%len(frames)], line)
			select {
			case <-done:
				fmt.Fprint(s.ErrOut, "\r\033[K")
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait(); s.setProgressActive(false) }) }
}
