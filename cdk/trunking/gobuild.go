package trunking

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"
)

// ModulePath is the Go module that holds the Lambda and hostbootstrap sources.
const ModulePath = "github.com/trunkctl/trunkctl"

// GoBuild bundles an asset by running the local Go toolchain, so `cdk synth`
// and `cdk deploy` need neither Docker nor a prebuilt binary. It implements
// awscdk.ILocalBundling.
type GoBuild struct {
	// ModuleDir is the directory of the module that contains Package
	// (default: found with `go list -m`, which works in this repository and
	// in the module cache of an app that imports it).
	ModuleDir string
	// Package is the main package to build, relative to ModuleDir ("./lambda").
	Package string
	// Output is the file name written in the bundle ("bootstrap").
	Output string
	// GOARCH is the target architecture ("arm64", "amd64"); GOOS is linux.
	GOARCH string
	// Tags are extra build tags ("lambda.norpc").
	Tags []string
	// Sha256, when set, receives the built file's SHA-256 (lower-case hex),
	// e.g. for user data to check the download against.
	Sha256 *string
}

// TryBundle builds the binary into outputDir. A failed build panics with the
// compiler's output: falling back to Docker (the CDK's next step) would only
// hide the real error behind "docker: not found".
func (b GoBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	dir := b.ModuleDir
	if dir == "" {
		d, err := FindModuleDir()
		if err != nil {
			panic(err)
		}
		dir = d
	}
	// -mod=readonly: a build must never rewrite the module's go.mod.
	args := []string{"build", "-mod=readonly", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", filepath.Join(*outputDir, b.Output)}
	if len(b.Tags) > 0 {
		args = append(args, "-tags", strings.Join(b.Tags, ","))
	}
	args = append(args, b.Package)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+b.GOARCH, "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		panic(fmt.Sprintf("bundling %s for linux/%s: go %s (in %s): %v\n%s", b.Package, b.GOARCH, strings.Join(args, " "), dir, err, out.String()))
	}
	if b.Sha256 != nil {
		data, err := os.ReadFile(filepath.Join(*outputDir, b.Output))
		if err != nil {
			panic(fmt.Sprintf("bundling %s: read the built file: %v", b.Package, err))
		}
		sum := sha256.Sum256(data)
		*b.Sha256 = hex.EncodeToString(sum[:])
	}
	return jsii.Bool(true)
}

var moduleDir struct {
	once sync.Once
	dir  string
	err  error
}

// FindModuleDir returns the directory holding the trunkctl module's sources:
// the repository itself when run inside it, or the module cache copy when an
// app imports these constructs.
func FindModuleDir() (string, error) {
	moduleDir.once.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", ModulePath).Output()
		if err != nil {
			var stderr string
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				stderr = string(ee.Stderr)
			}
			moduleDir.err = fmt.Errorf("find the %s sources with `go list -m`: %w %s", ModulePath, err, stderr)
			return
		}
		moduleDir.dir = strings.TrimSpace(string(out))
		if moduleDir.dir == "" {
			moduleDir.err = fmt.Errorf("find the %s sources: `go list -m` printed no directory", ModulePath)
		}
	})
	return moduleDir.dir, moduleDir.err
}

// goAssetOptions are the asset options that build pkg with GoBuild. The asset
// is hashed by its output, so an unchanged binary keeps its S3 key, and the
// source directory (the whole module) is not fingerprinted.
// A Lambda bundle is zipped (bootstrap at its root); a single binary for
// user data (output SINGLE_FILE) is uploaded as is.
func goAssetOptions(dir string, b GoBuild, output awscdk.BundlingOutput) *awss3assets.AssetOptions {
	b.ModuleDir = dir
	return &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_OUTPUT,
		Bundling: &awscdk.BundlingOptions{
			// Never used: local bundling always succeeds or panics.
			Image:      awscdk.DockerImage_FromRegistry(jsii.String("none")),
			Local:      &b,
			OutputType: output,
		},
	}
}
