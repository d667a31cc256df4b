package ecsconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

var trunking = []Setting{
	{"ECS_CLUSTER", "prod"},
	{"ECS_ENABLE_TASK_ENI", "true"},
	{"ECS_ENABLE_HIGH_DENSITY_ENI", "true"},
	{"ECS_AWSVPC_BLOCK_IMDS", "true"},
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		settings []Setting
		want     string
		changed  []string
	}{
		{
			name:     "an empty file gets every setting, one per line",
			in:       "",
			settings: trunking,
			want:     "ECS_CLUSTER=prod\nECS_ENABLE_TASK_ENI=true\nECS_ENABLE_HIGH_DENSITY_ENI=true\nECS_AWSVPC_BLOCK_IMDS=true\n",
			changed:  []string{"ECS_CLUSTER", "ECS_ENABLE_TASK_ENI", "ECS_ENABLE_HIGH_DENSITY_ENI", "ECS_AWSVPC_BLOCK_IMDS"},
		},
		{
			name: "other keys, comments, blank lines and odd lines are kept in place",
			in: "# written by the AMI\nECS_CLUSTER=default\n\nECS_LOGLEVEL=debug\nHTTP_PROXY=http://proxy:3128\n" +
				"not a setting\n   # indented comment\nECS_INSTANCE_ATTRIBUTES={\"a\":\"b=c\"}\n",
			settings: trunking,
			want: "# written by the AMI\nECS_CLUSTER=prod\n\nECS_LOGLEVEL=debug\nHTTP_PROXY=http://proxy:3128\n" +
				"not a setting\n   # indented comment\nECS_INSTANCE_ATTRIBUTES={\"a\":\"b=c\"}\n" +
				"ECS_ENABLE_TASK_ENI=true\nECS_ENABLE_HIGH_DENSITY_ENI=true\nECS_AWSVPC_BLOCK_IMDS=true\n",
			changed: []string{"ECS_CLUSTER", "ECS_ENABLE_TASK_ENI", "ECS_ENABLE_HIGH_DENSITY_ENI", "ECS_AWSVPC_BLOCK_IMDS"},
		},
		{
			name:     "a file that already has the settings is left byte for byte",
			in:       "ECS_ENABLE_TASK_ENI=true\r\nECS_CLUSTER=prod\r\nECS_ENABLE_HIGH_DENSITY_ENI=true\r\nECS_AWSVPC_BLOCK_IMDS=true",
			settings: trunking,
			want:     "ECS_ENABLE_TASK_ENI=true\r\nECS_CLUSTER=prod\r\nECS_ENABLE_HIGH_DENSITY_ENI=true\r\nECS_AWSVPC_BLOCK_IMDS=true",
		},
		{
			name:     "every duplicate of a key is rewritten so no stale one wins",
			in:       "ECS_CLUSTER=a\nECS_LOGLEVEL=info\nECS_CLUSTER=b\n",
			settings: []Setting{{"ECS_CLUSTER", "prod"}},
			want:     "ECS_CLUSTER=prod\nECS_LOGLEVEL=info\nECS_CLUSTER=prod\n",
			changed:  []string{"ECS_CLUSTER"},
		},
		{
			name:     "spacing around an assignment is normalised only when the key is set",
			in:       "  ECS_CLUSTER = prod\n ECS_LOGLEVEL = info\n",
			settings: []Setting{{"ECS_CLUSTER", "prod"}},
			want:     "ECS_CLUSTER=prod\n ECS_LOGLEVEL = info\n",
			changed:  []string{"ECS_CLUSTER"},
		},
		{
			name:     "a last line without newline keeps its text and gains the newline when a key is appended",
			in:       "ECS_LOGLEVEL=info",
			settings: []Setting{{"ECS_CLUSTER", "prod"}},
			want:     "ECS_LOGLEVEL=info\nECS_CLUSTER=prod\n",
			changed:  []string{"ECS_CLUSTER"},
		},
		{
			name:     "a commented-out assignment is not a setting",
			in:       "#ECS_CLUSTER=old\n",
			settings: []Setting{{"ECS_CLUSTER", "prod"}},
			want:     "#ECS_CLUSTER=old\nECS_CLUSTER=prod\n",
			changed:  []string{"ECS_CLUSTER"},
		},
		{
			name:     "an empty value is a value",
			in:       "ECS_RESERVED_PORTS=[22]\n",
			settings: []Setting{{"ECS_RESERVED_PORTS", ""}},
			want:     "ECS_RESERVED_PORTS=\n",
			changed:  []string{"ECS_RESERVED_PORTS"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			changed, err := f.Merge(tt.settings)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(f.Bytes()); got != tt.want {
				t.Errorf("merged file:\n%q\nwant:\n%q", got, tt.want)
			}
			if !slices.Equal(changed, tt.changed) {
				t.Errorf("changed keys %v, want %v", changed, tt.changed)
			}
			again, _ := Parse(f.Bytes())
			if changed, _ := again.Merge(tt.settings); len(changed) != 0 {
				t.Errorf("second merge changed %v", changed)
			}
		})
	}
}

func TestValidateRejectsWhatCannotBeWrittenSafely(t *testing.T) {
	bad := []Setting{
		{"", "x"},
		{"CLUSTER", "x"},
		{"ecs_cluster", "x"},
		{"ECS_", "x"},
		{"ECS_A-B", "x"},
		{"ECS_A B", "x"},
		{"ECS_A=B", "x"},
		{"HTTP_PROXY", "http://p"},
		{"ECS_CLUSTER", "a\nECS_EVIL=1"},
		{"ECS_CLUSTER", "a\rb"},
		{"ECS_CLUSTER", "a\x00b"},
		{"ECS_CLUSTER", " padded"},
		{"ECS_CLUSTER", "padded\t"},
	}
	for _, s := range bad {
		if err := Validate(s); err == nil {
			t.Errorf("Validate(%q) accepted it", s.String())
		}
	}
	good := []Setting{{"ECS_CLUSTER", "prod"}, {"ECS_A", ""}, {"ECS_ENGINE_AUTH_DATA", `{"r":{"auth":"x=="}}`}, {"ECS_9", "a b"}}
	for _, s := range good {
		if err := Validate(s); err != nil {
			t.Errorf("Validate(%q): %v", s.String(), err)
		}
	}
}

func TestMergeWithAnInvalidSettingChangesNothing(t *testing.T) {
	f, _ := Parse([]byte("ECS_CLUSTER=a\n"))
	_, err := f.Merge([]Setting{{"ECS_CLUSTER", "b"}, {"ECS_X", "1\n2"}})
	if err == nil {
		t.Fatal("merge accepted a value with a newline")
	}
	if got := string(f.Bytes()); got != "ECS_CLUSTER=a\n" {
		t.Errorf("file changed to %q", got)
	}
}

func TestGetReturnsTheLastAssignmentLikeEcsInit(t *testing.T) {
	f, _ := Parse([]byte("ECS_CLUSTER=a\nECS_CLUSTER=b\n"))
	if v, ok := f.Get("ECS_CLUSTER"); !ok || v != "b" {
		t.Errorf("Get = %q, %v", v, ok)
	}
	if _, ok := f.Get("ECS_MISSING"); ok {
		t.Error("Get found a missing key")
	}
}

func TestParseRefusesAnOversizedFile(t *testing.T) {
	if _, err := Parse(bytes.Repeat([]byte("#"), MaxSize+1)); err == nil {
		t.Fatal("Parse accepted a file over MaxSize")
	}
}

func TestWriteFileAtomicCreatesTheDirectoryAndAPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etc", "ecs", "ecs.config")
	if err := WriteFileAtomic(path, []byte("ECS_CLUSTER=a\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != NewFileMode {
		t.Errorf("mode %v, want %v", fi.Mode().Perm(), NewFileMode)
	}
	assertOnlyFile(t, filepath.Dir(path), "ecs.config")
}

func TestWriteFileAtomicKeepsTheModeOfAnExistingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ecs.config")
	if err := os.WriteFile(path, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(data) != "new\n" || fi.Mode().Perm() != 0o640 {
		t.Errorf("got %q mode %v, want \"new\\n\" mode 0640", data, fi.Mode().Perm())
	}
	assertOnlyFile(t, dir, "ecs.config")
}

func TestWriteFileAtomicRefusesToReplaceASymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	if err := os.WriteFile(target, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ecs.config")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("new\n")); err == nil {
		t.Fatal("replaced a symlink")
	}
	if _, _, err := ReadFile(path); err == nil {
		t.Fatal("ReadFile read through a symlink")
	}
	if data, _ := os.ReadFile(target); string(data) != "x\n" {
		t.Errorf("symlink target changed to %q", data)
	}
}

func TestReadFileReportsAMissingFileAsEmpty(t *testing.T) {
	data, exists, err := ReadFile(filepath.Join(t.TempDir(), "ecs.config"))
	if err != nil || exists || len(data) != 0 {
		t.Errorf("ReadFile = %q, %v, %v", data, exists, err)
	}
}

func assertOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != name {
		t.Errorf("directory holds %s, want only %s (a temporary file was left behind?)", strings.Join(names, ", "), name)
	}
}

func TestMergeRefusesAKeyGivenTwice(t *testing.T) {
	f, _ := Parse(nil)
	if _, err := f.Merge([]Setting{{"ECS_CLUSTER", "a"}, {"ECS_CLUSTER", "b"}}); err == nil {
		t.Fatal("merge accepted ECS_CLUSTER twice")
	}
}

func TestWriteFileAtomicKeepsTheOwnerOfAnExistingFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing a file's owner needs root")
	}
	path := filepath.Join(t.TempDir(), "ecs.config")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 1234, 5678); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 1234 || st.Gid != 5678 {
		t.Errorf("owner %d:%d, want 1234:5678", st.Uid, st.Gid)
	}
}
