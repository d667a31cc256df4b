// Package releasebuild builds a command the way .goreleaser.yaml does (its
// env, flags and ldflags, templates filled in), so tests run what a release
// ships without running goreleaser.
package releasebuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

// Stamp holds the values goreleaser's templates would expand to.
type Stamp struct {
	Version    string
	FullCommit string
	CommitDate string
}

type config struct {
	Builds []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Env     []string `yaml:"env"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
	} `yaml:"builds"`
}

var templateRe = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// Build compiles the build with the given id of .goreleaser.yaml (found in
// the first directory above the working directory holding go.mod) for this
// machine and returns the binary's path. It skips under -short.
func Build(t testing.TB, id string, s Stamp) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs go build")
	}
	goBin := peer.LookPath(t, "go", "install Go (see README.md)")
	root, err := peer.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg config
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	values := map[string]string{"Version": s.Version, "FullCommit": s.FullCommit, "CommitDate": s.CommitDate}
	for _, b := range cfg.Builds {
		if b.ID != id {
			continue
		}
		var ldflags []string
		for _, l := range b.Ldflags {
			ldflags = append(ldflags, templateRe.ReplaceAllStringFunc(l, func(m string) string {
				v, ok := values[templateRe.FindStringSubmatch(m)[1]]
				if !ok {
					t.Fatalf(".goreleaser.yaml build %s: ldflags template %s has no test value", id, m)
				}
				return v
			}))
		}
		bin := filepath.Join(t.TempDir(), id)
		args := append(append([]string{"build"}, b.Flags...), "-ldflags="+strings.Join(ldflags, " "), "-o", bin, b.Main)
		cmd := exec.Command(goBin, args...)
		cmd.Dir, cmd.Env = root, append(os.Environ(), b.Env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return bin
	}
	t.Fatalf(".goreleaser.yaml has no build %q", id)
	return ""
}
