// Package ecsconfig reads, merges and atomically writes /etc/ecs/ecs.config,
// the KEY=VALUE file that ecs-init hands to the ECS agent and that the ecs
// systemd unit loads as an EnvironmentFile.
//
// A merge sets some keys and keeps everything else the file had, byte for
// byte: other keys, comments, blank lines, lines it does not understand and
// whether the file ended with a newline. Merging the same settings twice
// gives the same bytes, so a second run writes nothing.
package ecsconfig

import (
	"bytes"
	"fmt"
	"strings"
)

// MaxSize bounds the file Parse accepts; a real ecs.config is a few hundred bytes.
const MaxSize = 1 << 20

// KeyPattern is what Validate accepts as a key to set: an ECS agent
// variable name, "ECS_" followed by upper-case letters, digits and
// underscores.
const KeyPattern = `^ECS_[A-Z0-9_]+$`

// validKey reports whether key matches KeyPattern (without compiling it at
// start-up).
func validKey(key string) bool {
	rest, ok := strings.CutPrefix(key, "ECS_")
	if !ok || rest == "" {
		return false
	}
	for _, c := range []byte(rest) {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// Setting is one KEY=VALUE to put in the file.
type Setting struct {
	Key, Value string
}

func (s Setting) String() string { return s.Key + "=" + s.Value }

// Validate checks a setting before it is merged: the key must match
// KeyPattern, and the value must fit on one line without surrounding
// blanks (ecs-init trims lines, so "v " would not read back as written) and
// hold no control characters.
func Validate(s Setting) error {
	if !validKey(s.Key) {
		return fmt.Errorf("key %q is not an ECS agent variable (must match %s)", s.Key, KeyPattern)
	}
	if strings.TrimSpace(s.Value) != s.Value {
		return fmt.Errorf("value of %s has leading or trailing blanks", s.Key)
	}
	for _, r := range s.Value {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("value of %s contains a control character (%U); values must be one line", s.Key, r)
		}
	}
	return nil
}

// line is one line of the file as read. key is empty for comments, blank
// lines and lines without "=".
type line struct {
	raw   string
	key   string
	value string
}

// File is a parsed ecs.config.
type File struct {
	lines        []line
	finalNewline bool
}

// Parse reads ecs.config as ecs-init and systemd's EnvironmentFile do: each
// line is trimmed, lines starting with "#" are comments, and the rest split at
// the first "=" into key and value. Lines without "=" are kept as they are,
// never dropped. Parse fails only on a file larger than MaxSize.
func Parse(data []byte) (*File, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("ecs.config is %d bytes, more than the %d accepted", len(data), MaxSize)
	}
	f := &File{}
	if len(data) == 0 {
		return f, nil
	}
	text := string(data)
	f.finalNewline = strings.HasSuffix(text, "\n")
	text = strings.TrimSuffix(text, "\n")
	for _, raw := range strings.Split(text, "\n") {
		f.lines = append(f.lines, parseLine(raw))
	}
	return f, nil
}

func parseLine(raw string) line {
	l := line{raw: raw}
	t := strings.TrimSpace(raw)
	if t == "" || strings.HasPrefix(t, "#") {
		return l
	}
	k, v, ok := strings.Cut(t, "=")
	if !ok {
		return l
	}
	l.key, l.value = strings.TrimSpace(k), v
	return l
}

// Set makes key take value and reports whether anything changed. Every
// existing assignment of the key is rewritten in place (so no stale
// duplicate can win); a missing key is appended.
func (f *File) Set(s Setting) bool {
	want := s.Key + "=" + s.Value
	found, changed := false, false
	for i, l := range f.lines {
		if l.key != s.Key {
			continue
		}
		found = true
		if l.value != s.Value || strings.TrimSpace(l.raw) != want {
			f.lines[i] = line{raw: want, key: s.Key, value: s.Value}
			changed = true
		}
	}
	if !found {
		// An old last line without a newline keeps its content and gains the
		// newline it lacked; either way the file changes.
		f.lines = append(f.lines, line{raw: want, key: s.Key, value: s.Value})
		f.finalNewline = true
		changed = true
	}
	return changed
}

// Merge validates and sets every setting, in order, and returns the keys
// whose lines changed. Nothing is set when any setting is invalid or a key
// is given twice.
func (f *File) Merge(settings []Setting) ([]string, error) {
	seen := map[string]bool{}
	for _, s := range settings {
		if err := Validate(s); err != nil {
			return nil, err
		}
		if seen[s.Key] {
			return nil, fmt.Errorf("%s is given more than once", s.Key)
		}
		seen[s.Key] = true
	}
	var changed []string
	for _, s := range settings {
		if f.Set(s) {
			changed = append(changed, s.Key)
		}
	}
	return changed, nil
}

// Bytes renders the file.
func (f *File) Bytes() []byte {
	var b bytes.Buffer
	for i, l := range f.lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.raw)
	}
	if f.finalNewline && len(f.lines) > 0 {
		b.WriteByte('\n')
	}
	return b.Bytes()
}
