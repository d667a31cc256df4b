package cfntemplates_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/moto"
	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

// isolatedRun runs commands (make, the aws CLI) with test credentials and
// no profile, config or credentials file from the machine (dir holds the
// files that do not exist), each bounded to timeout; it returns stdout,
// stderr and the error.
func isolatedRun(dir string, timeout time.Duration) func(name string, args ...string) (string, string, error) {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"))
	return func(name string, args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return out.String(), errOut.String(), err
	}
}

// standInZip writes a stand-in for dist/NAME.zip into dir and returns its
// path, its content and the content-addressed key `make package*` uploads
// it under (trunkctl/NAME-<first 16 hex of its SHA-256>.zip).
func standInZip(t *testing.T, dir, name string) (path string, content []byte, key string) {
	t.Helper()
	path = filepath.Join(dir, name+".zip")
	content = []byte("a stand-in for dist/" + name + ".zip")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	return path, content, "trunkctl/" + name + "-" + hex.EncodeToString(sum[:])[:16] + ".zip"
}

// packagingPeers is the set-up of the tests that drive `make package*` or the
// aws CLI against moto_server: both commands found (or the test skipped or
// failed as peers are), moto started, a directory, and isolatedRun in it.
func packagingPeers(t *testing.T, timeout time.Duration) (awsCLI, makeBin string, srv *moto.Server, dir string, run func(name string, args ...string) (string, string, error)) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs make, the aws CLI and moto_server")
	}
	awsCLI = peer.LookPath(t, "aws", "install the AWS CLI")
	makeBin = peer.LookPath(t, "make", "install make")
	srv = moto.Start(t)
	dir = t.TempDir()
	return awsCLI, makeBin, srv, dir, isolatedRun(dir, timeout)
}
