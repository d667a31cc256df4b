package trunking

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runUserData runs the fetch-and-run user data with a fake aws CLI that
// fails failFirst times, then "downloads" a script that prints its args.
func runUserData(t *testing.T, failFirst, retrySeconds int) (string, error) {
	return runUserDataWant(t, failFirst, retrySeconds, fakeBinarySum)
}

// fakeBinary is what the fake aws CLI "downloads"; fakeBinarySum its SHA-256.
const fakeBinary = "#!/bin/bash\necho \"hostbootstrap ran with: $*\"\n"

var fakeBinarySum = func() string { s := sha256.Sum256([]byte(fakeBinary)); return hex.EncodeToString(s[:]) }()

// runUserDataWant is runUserData with the SHA-256 user data expects.
func runUserDataWant(t *testing.T, failFirst, retrySeconds int, want string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	fakeAWS := `#!/bin/bash
n=$(cat "` + dir + `/count" 2>/dev/null || echo 0); echo $((n + 1)) > "` + dir + `/count"
if [ "$n" -lt ` + itoa(failFirst) + ` ]; then echo "Could not connect to the endpoint URL" >&2; exit 255; fi
printf '#!/bin/bash\necho "hostbootstrap ran with: $*"\n' > "$4"
`
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fakeAWS), 0o755); err != nil {
		t.Fatal(err)
	}
	// sleep is faked too, so the test does not wait out the backoff.
	if err := os.WriteFile(filepath.Join(bin, "sleep"), []byte("#!/bin/bash\necho \"slept $1\" >&2\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "usr/local/bin/hostbootstrap")
	lines := fetchAndRunHostBootstrap("s3://bucket/key", "eu-west-1", path, want, []string{"--cluster", "prod's", "--require-trunking"}, retrySeconds)
	script := strings.ReplaceAll(strings.Join(lines, "\n"), "/dev/console", filepath.Join(dir, "console"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	console, _ := os.ReadFile(filepath.Join(dir, "console"))
	return string(out) + "\nCONSOLE:\n" + string(console), err
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestUserDataRetriesTheFetchUntilTheNetworkIsUpThenRunsHostBootstrap(t *testing.T) {
	out, err := runUserData(t, 3, 600)
	if err != nil {
		t.Fatalf("user data failed: %v\n%s", err, out)
	}
	if !strings.Contains(out, "hostbootstrap ran with: --cluster prod's --require-trunking") {
		t.Errorf("hostbootstrap did not run with its arguments:\n%s", out)
	}
	if n := strings.Count(out, "retrying in"); n != 6 { // three failures, each on stderr and the console
		t.Errorf("%d retry messages, want 3 on stderr and 3 on the console:\n%s", n, out)
	}
	if !strings.Contains(out, "slept 2") || !strings.Contains(out, "slept 4") || !strings.Contains(out, "slept 8") {
		t.Errorf("no doubling backoff:\n%s", out)
	}
}

func TestUserDataFailsLoudlyWhenTheFetchNeverWorks(t *testing.T) {
	out, err := runUserData(t, 1<<20, 0)
	if err == nil {
		t.Fatalf("user data succeeded without the binary:\n%s", out)
	}
	if !strings.Contains(out, "could not fetch s3://bucket/key after 1 attempts") || !strings.Contains(out, "route to the NAT gateway") ||
		!strings.Contains(out[strings.Index(out, "CONSOLE:"):], "could not fetch") {
		t.Errorf("no console message saying what to check:\n%s", out)
	}
	if strings.Contains(out, "hostbootstrap ran") {
		t.Errorf("something ran:\n%s", out)
	}
}

func TestUserDataRefusesABinaryWhoseChecksumDiffers(t *testing.T) {
	other := strings.Repeat("ab", 32)
	out, err := runUserDataWant(t, 0, 600, other)
	if err == nil {
		t.Fatalf("user data succeeded with a binary of another checksum:\n%s", out)
	}
	if strings.Contains(out, "hostbootstrap ran") {
		t.Errorf("the binary ran although its checksum differs:\n%s", out)
	}
	console := out[strings.Index(out, "CONSOLE:"):]
	for _, want := range []string{"refusing to run hostbootstrap: s3://bucket/key has SHA-256 " + fakeBinarySum, "HostBootstrapSha256 is " + other} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q:\n%s", want, out)
		}
	}
}
