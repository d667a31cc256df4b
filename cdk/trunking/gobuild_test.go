package trunking_test

import (
	"debug/elf"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/cdk/trunking"
)

func TestGoBuildBuildsTheLambdaAsAStaticLinuxArm64Bootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Lambda")
	}
	out := t.TempDir()
	b := trunking.GoBuild{Package: "./lambda", Output: "bootstrap", GOARCH: "arm64", Tags: []string{"lambda.norpc"}}
	if ok := b.TryBundle(&out, nil); ok == nil || !*ok {
		t.Fatalf("TryBundle = %v", ok)
	}
	f, err := elf.Open(filepath.Join(out, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.OSABI != elf.ELFOSABI_NONE {
		t.Errorf("bootstrap is %v/%v, want an arm64 Linux binary", f.Machine, f.OSABI)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("bootstrap is dynamically linked; provided.al2023 needs a static binary")
		}
	}
}

func TestGoBuildFailsLoudlyWithTheCompilerOutput(t *testing.T) {
	out := t.TempDir()
	defer func() {
		msg := fmt.Sprint(recover())
		if !strings.Contains(msg, "bundling ./does-not-exist for linux/amd64") || !strings.Contains(msg, "does-not-exist") {
			t.Errorf("panic %q, want the package and go's own error", msg)
		}
	}()
	trunking.GoBuild{Package: "./does-not-exist", Output: "x", GOARCH: "amd64"}.TryBundle(&out, nil)
}
