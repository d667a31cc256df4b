package cfntemplates_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/cdk/cfntemplates"
)

func TestPackageGuard(t *testing.T) {
	awsCLI, makeBin, srv, tmp, run := packagingPeers(t, 2*time.Minute)
	for _, b := range []string{"artifacts", "org-artifacts-us-east-1", "org-artifacts-eu-west-1"} {
		args := []string{"s3api", "create-bucket", "--endpoint-url", srv.URL, "--bucket", b}
		if strings.HasSuffix(b, "eu-west-1") {
			args = append(args, "--region", "eu-west-1", "--create-bucket-configuration", "LocationConstraint=eu-west-1")
		}
		if _, stderr, err := run(awsCLI, args...); err != nil {
			t.Fatalf("create bucket %s: %v\n%s", b, err, stderr)
		}
	}
	zip, content, key := standInZip(t, tmp, "guard")

	t.Run("package-guard uploads the zip and prints a deploy command the template accepts", func(t *testing.T) {
		stdout, stderr, err := run(makeBin, "-s", "-C", repoRoot, "-o", zip, "package-guard", "GUARD_ZIP="+zip,
			"BUCKET=artifacts", "S3CP_FLAGS=--endpoint-url "+srv.URL)
		if err != nil {
			t.Fatalf("make package-guard: %v\n%s\n%s", err, stdout, stderr)
		}
		if got, _, err := run(awsCLI, "s3", "cp", "--endpoint-url", srv.URL, "s3://artifacts/"+key, "-"); err != nil || got != string(content) {
			t.Errorf("s3://artifacts/%s: %q %v", key, got, err)
		}
		if !strings.Contains(stdout, "--template-file templates/eni-trunking-guard.yaml") || !strings.Contains(stdout, "LambdaCodeKey="+key) {
			t.Errorf("output:\n%s", stdout)
		}
		tpl := readOrg(t, cfntemplates.GuardFile)
		for _, m := range regexp.MustCompile(`(\w+)=`).FindAllStringSubmatch(stdout[strings.Index(stdout, "--parameter-overrides"):], -1) {
			if _, ok := tpl.Parameters[m[1]]; !ok {
				t.Errorf("%s= is not a parameter of %s", m[1], cfntemplates.GuardFile)
			}
		}
	})

	t.Run("package-guard-org uploads to every Region's bucket and prints the member template's parameters", func(t *testing.T) {
		stdout, stderr, err := run(makeBin, "-s", "-C", repoRoot, "-o", zip, "package-guard-org", "GUARD_ZIP="+zip,
			"BUCKET_PREFIX=org-artifacts", "REGIONS=us-east-1 eu-west-1", "S3CP_FLAGS=--endpoint-url "+srv.URL)
		if err != nil {
			t.Fatalf("make package-guard-org: %v\n%s\n%s", err, stdout, stderr)
		}
		for _, r := range []string{"us-east-1", "eu-west-1"} {
			if got, _, err := run(awsCLI, "s3", "cp", "--endpoint-url", srv.URL, "--region", r, "s3://org-artifacts-"+r+"/"+key, "-"); err != nil || got != string(content) {
				t.Errorf("s3://org-artifacts-%s/%s: %q %v", r, key, got, err)
			}
		}
		want := "ParameterKey=EnableGuard,ParameterValue=true ParameterKey=GuardCodeKey,ParameterValue=" + key
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %s:\n%s", want, stdout)
		}
		for _, r := range []string{"us-east-1", "eu-west-1"} {
			if !strings.Contains(stdout, r+": ParameterKey=GuardCodeVersion,ParameterValue=") || !strings.Contains(stderr, "org-artifacts-"+r+"/"+key+" (bucket owner ") {
				t.Errorf("no pinned version for %s (or no owner check):\n%s\n%s", r, stdout, stderr)
			}
		}
		tpl := readOrg(t, cfntemplates.OrgMemberFile)
		for _, m := range regexp.MustCompile(`ParameterKey=(\w+)`).FindAllStringSubmatch(stdout, -1) {
			if _, ok := tpl.Parameters[m[1]]; !ok {
				t.Errorf("ParameterKey=%s is not a parameter of %s", m[1], cfntemplates.OrgMemberFile)
			}
		}
	})
}
