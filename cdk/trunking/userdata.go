package trunking

import (
	"fmt"
	"strings"
)

// FetchRetrySeconds bounds how long user data retries fetching hostbootstrap:
// the NAT route of a VPC created in the same stack can come up after the
// instance boots.
const FetchRetrySeconds = 600

// fetchAndRunHostBootstrap is the user data that fetches hostbootstrap from
// s3URL with a bounded retry loop (backoff 2 s doubling to 30 s), writes each
// failure to the console log, exits non-zero when the bound runs out, and
// then runs it with args. A partial download never reaches path, and a
// download whose SHA-256 is not sha256 (lower-case hex) is deleted, never
// made executable, and fails the user data loudly: the instance runs it as
// root, so the object's name is not enough.
func fetchAndRunHostBootstrap(s3URL, region, path, sha256 string, args []string, retrySeconds int) []string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = q(a)
	}
	return []string{
		"set -euo pipefail",
		`say() { echo "hostbootstrap user data: $*" | tee -a /dev/console >&2 || true; }`,
		fmt.Sprintf("mkdir -p \"$(dirname %s)\"", q(path)),
		fmt.Sprintf("deadline=$(( $(date +%%s) + %d )); delay=2; attempt=1", retrySeconds),
		fmt.Sprintf("until aws s3 cp %s %s --region %s --only-show-errors; do", q(s3URL), q(path+".part"), q(region)),
		`  if [ "$(date +%s)" -ge "$deadline" ]; then`,
		fmt.Sprintf(`    say "could not fetch %s after $attempt attempts over %d s: check the subnet's route to the NAT gateway (or an S3 gateway endpoint), the security group's egress, and the instance role's s3:GetObject on that object"`, s3URL, retrySeconds),
		"    exit 1",
		"  fi",
		fmt.Sprintf(`  say "fetching %s failed (attempt $attempt); retrying in $delay s"`, s3URL),
		`  sleep "$delay"; attempt=$((attempt + 1)); delay=$(( delay < 15 ? delay * 2 : 30 ))`,
		"done",
		fmt.Sprintf("want=%s; got=$(sha256sum %s | cut -d' ' -f1)", q(sha256), q(path+".part")),
		`if [ "$got" != "$want" ]; then`,
		fmt.Sprintf(`  say "refusing to run hostbootstrap: %s has SHA-256 $got, but HostBootstrapSha256 is $want (the object was replaced or corrupted, or the parameter is stale: make package prints the value to pass)"`, s3URL),
		fmt.Sprintf("  rm -f %s", q(path+".part")),
		"  exit 1",
		"fi",
		fmt.Sprintf("chmod 0755 %s", q(path+".part")),
		fmt.Sprintf("mv -f %s %s", q(path+".part"), q(path)),
		fmt.Sprintf("%s %s || { rc=$?; say \"hostbootstrap failed with exit $rc (see its summary above and docs/hostbootstrap.md)\"; exit $rc; }", q(path), strings.Join(quoted, " ")),
	}
}
