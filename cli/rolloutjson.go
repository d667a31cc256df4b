package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"sync"

	"github.com/trunkctl/trunkctl/internal/rollout"
)

// Under -o json, rollout's stdout is one JSON object and its stderr is JSON
// lines only: one per step ({"step",...}), per warning or note
// ({"warning"} or {"message"}), and, when it fails, a last one
// ({"error","advice","exitCode"}).

// jsonStderr routes everything else written to stderr (warnings, notes)
// through a writer that turns each line into a JSON line, and keeps stderr
// itself for the steps and the error. No spinner draws on it.
func (o *rolloutOpts) jsonStderr() {
	o.jsonErr = o.io.ErrOut
	s := *o.io
	s.ErrOut = &jsonLineWriter{w: o.jsonErr}
	s.ErrIsTerminal = false
	o.io = &s
}

// jsonLine writes v as one JSON line on stderr.
func (o *rolloutOpts) jsonLine(v any) {
	enc := json.NewEncoder(o.jsonErr)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// rolloutErrorLine is the last stderr line of a rollout that failed under -o json.
type rolloutErrorLine struct {
	Error    string   `json:"error"`
	Advice   string   `json:"advice,omitempty"`
	ExitCode ExitCode `json:"exitCode"`
}

// jsonResult makes sure a failed rollout still prints its JSON object on
// stdout (result "error" when it failed before or outside the replacing),
// then says the error as a JSON line on stderr instead of the Error line,
// and keeps the exit code.
func (o *rolloutOpts) jsonResult(err error) error {
	if err == nil || silent(err) {
		return err
	}
	code := ExitCodeOf(err)
	advice := adviceOf(err)
	if code == ExitUsage && advice == "" {
		advice = "trunkctl rollout --help gives the usage"
	}
	if !o.printed {
		if o.out.Cluster == "" {
			o.out = rolloutReport{Cluster: o.cluster, Roles: []string{}, Replaced: []rollout.Replacement{}, Skipped: []rolloutSkipped{}}
		}
		if o.out.Result == "" {
			o.out.Result = resultError
		}
		if o.out.Stop == nil {
			kind := resultError
			if code == ExitUsage {
				kind = "usage"
			}
			o.out.Stop = &rolloutStop{Kind: kind, Message: err.Error(), Advice: advice}
		}
		o.printed = true
		_ = o.writeData(o.out)
	}
	o.jsonLine(rolloutErrorLine{Error: err.Error(), Advice: advice, ExitCode: code})
	return &exitError{code: code}
}

// adviceOf is the next step Run would add to err's Error line ("" if none).
func adviceOf(err error) string {
	msg, with := err.Error(), withAdvice(err).Error()
	if with == msg {
		return ""
	}
	return strings.TrimPrefix(with, msg+"; ")
}

// jsonLineWriter turns each line written to it into a JSON line:
// {"warning": "..."} for "warning: ..." lines, else {"message": "..."}.
type jsonLineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf bytes.Buffer
}

func (j *jsonLineWriter) Write(p []byte) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf.Write(p)
	for {
		line, err := j.buf.ReadString('\n')
		if err != nil { // no newline yet: keep the rest for the next write
			j.buf.Reset()
			j.buf.WriteString(line)
			return len(p), nil
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			continue
		}
		v := map[string]string{"message": line}
		if w, ok := strings.CutPrefix(line, "warning: "); ok {
			v = map[string]string{"warning": w}
		}
		enc := json.NewEncoder(j.w)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return 0, err
		}
	}
}
