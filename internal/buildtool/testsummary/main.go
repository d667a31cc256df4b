// Command testsummary reads `go test -json` on stdin and prints what `go
// test` prints without -v (package result lines, the output of failing
// tests, build errors), then one line naming every skipped test and why:
//
//	go test -json ./... | go run ./internal/buildtool/testsummary
//
// It exits 1 when a test, a package or a build failed, so the pipeline fails
// even without pipefail.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	failed, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string
}

// skip is one skipped test and the last line it logged.
type skip struct {
	pkg, test, reason string
}

// summarize copies the quiet form of a `go test -json` stream from r to w and
// ends with the skipped-tests line; failed reports any failure.
func summarize(r io.Reader, w io.Writer) (failed bool, err error) {
	out := map[string][]string{} // package + "\x00" + test -> its output lines
	var skips []skip
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if json.Unmarshal(line, &e) != nil || e.Action == "" {
			// Not an event (e.g. `go vet` or a build error printed
			// before the JSON): pass it through.
			fmt.Fprintln(w, string(line))
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "build-output":
			fmt.Fprint(w, e.Output)
		case "build-fail":
			failed = true
		case "output":
			if e.Test != "" {
				out[key] = append(out[key], e.Output)
				continue
			}
			// The package's own lines: its result ("ok", "FAIL",
			// "?"), a panic or a TestMain's output; test2json's
			// framing lines are noise without -v.
			if o := strings.TrimSpace(e.Output); o == "PASS" || strings.HasPrefix(o, "=== ") || strings.HasPrefix(o, "--- PASS") || strings.HasPrefix(o, "--- SKIP") {
				continue
			}
			fmt.Fprint(w, e.Output)
		case "fail":
			failed = true
			if e.Test != "" {
				for _, o := range out[key] {
					if !strings.HasPrefix(strings.TrimSpace(o), "=== ") {
						fmt.Fprint(w, o)
					}
				}
			}
			delete(out, key)
		case "skip":
			if e.Test != "" {
				skips = append(skips, skip{pkg: e.Package, test: e.Test, reason: skipReason(out[key])})
			}
			delete(out, key)
		case "pass":
			delete(out, key)
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	fmt.Fprintln(w, skipLine(skips))
	return failed, nil
}

// skipReason is the message a test gave t.Skip: its last logged line, without
// the file:line prefix.
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "--- ") || strings.HasPrefix(l, "=== ") {
			continue
		}
		if file, msg, ok := strings.Cut(l, ": "); ok && strings.Contains(file, ".go:") && !strings.Contains(file, " ") {
			l = msg
		}
		return l
	}
	return "no reason given"
}

// skipLine is the one line naming the skipped tests, grouped by reason.
func skipLine(skips []skip) string {
	if len(skips) == 0 {
		return "skipped: none"
	}
	byReason := map[string][]string{}
	for _, s := range skips {
		name := s.pkg[strings.LastIndex(s.pkg, "/")+1:] + "." + s.test
		byReason[s.reason] = append(byReason[s.reason], name)
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	parts := make([]string, 0, len(reasons))
	for _, r := range reasons {
		names := byReason[r]
		sort.Strings(names)
		parts = append(parts, fmt.Sprintf("%s (%s)", strings.Join(names, ", "), r))
	}
	return fmt.Sprintf("skipped: %d test(s): %s", len(skips), strings.Join(parts, "; "))
}
