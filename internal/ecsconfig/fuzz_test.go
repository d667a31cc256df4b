package ecsconfig

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzMerge checks, for any existing file and any extra setting, that every
// key the file had survives, that lines the merge does not own are kept
// byte for byte and in order, that the output parses back with the merged
// values, and that merging again changes nothing.
func FuzzMerge(f *testing.F) {
	f.Add([]byte("ECS_CLUSTER=default\n# comment\n\nHTTP_PROXY=http://p:3128\n"), "ECS_LOGLEVEL", "debug")
	f.Add([]byte("ECS_CLUSTER=a\r\nECS_CLUSTER=b"), "ECS_CLUSTER", "c")
	f.Add([]byte(""), "ECS_X", "")
	f.Fuzz(func(t *testing.T, data []byte, key, value string) {
		file, err := Parse(data)
		if err != nil {
			if len(data) <= MaxSize {
				t.Fatalf("Parse failed on %d bytes: %v", len(data), err)
			}
			return
		}
		settings := append([]Setting(nil), trunking...)
		if s := (Setting{key, value}); Validate(s) == nil && !slices.ContainsFunc(trunking, func(t Setting) bool { return t.Key == key }) {
			settings = append(settings, s)
		}
		owned := map[string]bool{}
		for _, s := range settings {
			owned[s.Key] = true
		}
		before := file.Keys()
		kept := unownedLines(file, owned)

		if _, err := file.Merge(settings); err != nil {
			t.Fatalf("Merge of valid settings failed: %v", err)
		}
		out := file.Bytes()

		back, err := Parse(out)
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		after := back.Keys()
		for _, k := range before {
			if !slices.Contains(after, k) {
				t.Errorf("key %q was lost; output %q", k, out)
			}
		}
		if got := unownedLines(back, owned); !slices.Equal(got, kept) {
			t.Errorf("lines the merge does not own changed:\n%q\nwant\n%q", got, kept)
		}
		want := map[string]string{}
		for _, s := range settings {
			want[s.Key] = s.Value
		}
		for k, v := range want {
			if got, ok := back.Get(k); !ok || got != v {
				t.Errorf("%s reads back as %q (found %v), want %q", k, got, ok, v)
			}
		}
		if changed, _ := back.Merge(settings); len(changed) != 0 {
			t.Errorf("second merge changed %v", changed)
		}
		if !bytes.Equal(back.Bytes(), out) {
			t.Errorf("second merge rewrote the file:\n%q\nto\n%q", out, back.Bytes())
		}
	})
}

func unownedLines(f *File, owned map[string]bool) []string {
	var out []string
	for _, l := range f.lines {
		if !owned[l.key] {
			out = append(out, l.raw)
		}
	}
	return out
}
