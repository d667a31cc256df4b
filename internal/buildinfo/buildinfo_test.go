package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	vcs := &debug.BuildInfo{Main: debug.Module{Path: "github.com/trunkctl/trunkctl", Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-03-01T14:00:00Z"},
	}}
	installed := &debug.BuildInfo{Main: debug.Module{Path: "github.com/trunkctl/trunkctl", Version: "v1.2.3"}}
	tests := []struct {
		name                  string
		version, commit, date string
		bi                    *debug.BuildInfo
		want                  Info
	}{
		{"linker-stamped values win over the toolchain's", "v1.0.0", "abc", "2026-01-01T00:00:00Z", vcs,
			Info{Version: "v1.0.0", Commit: "abc", Date: "2026-01-01T00:00:00Z", GoVersion: "go1.24.1"}},
		{"a go build in a checkout takes commit and date from the VCS stamp", Dev, "", "", vcs,
			Info{Version: Dev, Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-03-01T14:00:00Z", GoVersion: "go1.24.1"}},
		{"go install at a tag takes the module version", Dev, "", "", installed,
			Info{Version: "v1.2.3", Commit: Unknown, Date: Unknown, GoVersion: "go1.24.1"}},
		{"nothing recorded anywhere says dev and unknown", Dev, "", "", nil,
			Info{Version: Dev, Commit: Unknown, Date: Unknown, GoVersion: "go1.24.1"}},
		{"an empty stamped version counts as unstamped", "", "", "", nil,
			Info{Version: Dev, Commit: Unknown, Date: Unknown, GoVersion: "go1.24.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolve(tt.version, tt.commit, tt.date, "go1.24.1", tt.bi); got != tt.want {
				t.Errorf("resolve = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTextAlignsTheFieldsUnderTheVersion(t *testing.T) {
	i := Info{Version: "v1.2.3", Commit: "abc", Date: "2026-03-01T14:00:00Z", GoVersion: "go1.24.1"}
	want := "v1.2.3\ncommit:  abc\ndate:    2026-03-01T14:00:00Z\ngo:      go1.24.1\ncatalog: x\n"
	if got := i.Text(Field{"catalog", "x"}); got != want {
		t.Errorf("Text =\n%q\nwant\n%q", got, want)
	}
	want = "v1.2.3\ncommit: abc\ndate:   2026-03-01T14:00:00Z\ngo:     go1.24.1\n"
	if got := i.Text(); got != want {
		t.Errorf("Text() =\n%q\nwant\n%q", got, want)
	}
}
