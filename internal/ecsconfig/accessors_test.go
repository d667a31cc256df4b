package ecsconfig

import (
	"regexp"
	"testing"
)

// The readers below serve the tests only: hostbootstrap merges, it never
// reads a value back.

// Get returns the value a key takes effect with: the last assignment wins,
// as in ecs-init and systemd.
func (f *File) Get(key string) (string, bool) {
	for i := len(f.lines) - 1; i >= 0; i-- {
		if f.lines[i].key == key {
			return f.lines[i].value, true
		}
	}
	return "", false
}

// Keys returns every key assigned in the file, in order of first appearance.
func (f *File) Keys() []string {
	seen := map[string]bool{}
	var keys []string
	for _, l := range f.lines {
		if l.key != "" && !seen[l.key] {
			seen[l.key] = true
			keys = append(keys, l.key)
		}
	}
	return keys
}

func TestValidKeyIsKeyPattern(t *testing.T) {
	re := regexp.MustCompile(KeyPattern)
	for _, k := range []string{"ECS_CLUSTER", "ECS_", "ECS", "", "ecs_cluster", "ECS_a", "ECS_1_2", "XECS_A", "ECS_A B", "ECS_A\n", "ECS_\u00c9"} {
		if got, want := validKey(k), re.MatchString(k); got != want {
			t.Errorf("validKey(%q) = %v, KeyPattern says %v", k, got, want)
		}
	}
}
