// Package buildinfo says which build of trunkctl is running: the release
// version, commit and commit date stamped in at link time, and the Go version.
//
// Release builds set the three variables with the linker:
//
//	go build -ldflags "-X github.com/trunkctl/trunkctl/internal/buildinfo.version=v1.2.3 \
//	  -X github.com/trunkctl/trunkctl/internal/buildinfo.commit=abc123 \
//	  -X github.com/trunkctl/trunkctl/internal/buildinfo.date=2026-03-01T14:00:00Z" ./cli/trunkctl
//
// Without them (`go install ...@vX.Y.Z`, `go build` in a checkout) Read falls
// back to what the Go toolchain recorded: the module version and the VCS
// revision and time.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Set only by the linker (-X); they are variables because -X cannot set
// constants, and nothing in the program writes them.
var (
	version = Dev
	commit  = ""
	date    = ""
)

// Dev is the version of a build nobody stamped.
const Dev = "dev"

// Unknown stands for a commit or date neither the linker nor the toolchain recorded.
const Unknown = "unknown"

// Info is one build's identity.
type Info struct {
	// Version is the release (v1.2.3, or a snapshot's v1.2.4-SNAPSHOT-abc123), else "dev".
	Version string `json:"version"`
	// Commit is the full git commit hash, else "unknown".
	Commit string `json:"commit"`
	// Date is the commit's time in RFC 3339 (not the build's, so builds are reproducible), else "unknown".
	Date string `json:"date"`
	// GoVersion is the toolchain that built the binary (runtime.Version()).
	GoVersion string `json:"goVersion"`
}

// Read returns this binary's build information.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(version, commit, date, runtime.Version(), bi)
}

// resolve prefers the linker-stamped values and fills the gaps from the
// toolchain's build information (bi may be nil).
func resolve(version, commit, date, goVersion string, bi *debug.BuildInfo) Info {
	i := Info{Version: version, Commit: commit, Date: date, GoVersion: goVersion}
	if bi != nil {
		if (i.Version == "" || i.Version == Dev) && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && i.Commit == "":
				i.Commit = s.Value
			case s.Key == "vcs.time" && i.Date == "":
				i.Date = s.Value
			}
		}
	}
	if i.Version == "" {
		i.Version = Dev
	}
	if i.Commit == "" {
		i.Commit = Unknown
	}
	if i.Date == "" {
		i.Date = Unknown
	}
	return i
}

// Field is one labelled line of the text form.
type Field struct{ Label, Value string }

// Text is the multi-line text form, version first so that it reads well
// after "NAME version " (cobra's --version prefix), then the labelled
// fields, commit, date and go, then extra, values aligned:
//
//	v1.2.3
//	commit: 0123abc...
//	date:   2026-03-01T14:00:00Z
//	go:     go1.24.1
func (i Info) Text(extra ...Field) string {
	fields := append([]Field{{"commit", i.Commit}, {"date", i.Date}, {"go", i.GoVersion}}, extra...)
	width := 0
	for _, f := range fields {
		width = max(width, len(f.Label))
	}
	var b strings.Builder
	b.WriteString(i.Version + "\n")
	for _, f := range fields {
		b.WriteString(f.Label + ":" + strings.Repeat(" ", width-len(f.Label)+1) + f.Value + "\n")
	}
	return b.String()
}
