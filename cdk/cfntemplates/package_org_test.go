package cfntemplates_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/cdk/cfntemplates"
)

// repoRoot is where the Makefile is.
var repoRoot = filepath.Join("..", "..")

func TestPackageOrg(t *testing.T) {
	awsCLI, makeBin, srv, tmp, run := packagingPeers(t, 2*time.Minute)
	// S3's rule moto does not apply: a request whose expected bucket owner
	// is not the bucket's (moto's account) is refused with 403.
	owners := &ownerCheck{}
	s3 := owners.proxy(t, srv.URL)
	regions := []string{"us-east-1", "eu-west-1"}
	// GIVEN one artifact bucket per Region and a built zip
	for _, r := range regions {
		args := []string{"s3api", "create-bucket", "--endpoint-url", srv.URL, "--region", r, "--bucket", "org-artifacts-" + r}
		if r != "us-east-1" {
			args = append(args, "--create-bucket-configuration", "LocationConstraint="+r)
		}
		if _, stderr, err := run(awsCLI, args...); err != nil {
			t.Fatalf("create bucket in %s: %v\n%s", r, err, stderr)
		}
		// Versioned, as templates/org/artifact-bucket.yaml makes it.
		if _, stderr, err := run(awsCLI, "s3api", "put-bucket-versioning", "--endpoint-url", srv.URL, "--region", r, "--bucket", "org-artifacts-"+r,
			"--versioning-configuration", "Status=Enabled"); err != nil {
			t.Fatalf("version bucket in %s: %v\n%s", r, err, stderr)
		}
	}
	zip, content, key := standInZip(t, tmp, "lambda")

	// WHEN make package-org runs (-o: use the zip as it is, do not build it)
	stdout, stderr, err := run(makeBin, "-s", "-C", repoRoot, "-o", zip, "package-org", "LAMBDA_ZIP="+zip,
		"BUCKET_PREFIX=org-artifacts", "REGIONS="+strings.Join(regions, " "), "S3CP_FLAGS=--endpoint-url "+s3,
		"ORG_UNITS=ou-abcd-11111111,ou-abcd-22222222", "ROLE_NAMES=ecsInstanceRole,ops/legacy-ecs")
	if err != nil {
		t.Fatalf("make package-org: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}

	t.Run("the zip is in every Region's bucket under its content-addressed key", func(t *testing.T) {
		for _, r := range regions {
			got, stderr, err := run(awsCLI, "s3", "cp", "--endpoint-url", srv.URL, "--region", r, "s3://org-artifacts-"+r+"/"+key, "-")
			if err != nil || got != string(content) {
				t.Errorf("s3://org-artifacts-%s/%s: %q, %v %s", r, key, got, err, stderr)
			}
		}
	})

	t.Run("it prints a service-managed StackSet with auto-deployment and instances for the OUs and Regions", func(t *testing.T) {
		for _, want := range []string{
			"aws cloudformation create-stack-set --stack-set-name trunkctl-eni-trunking",
			"--template-body file://templates/org/eni-trunking-member.yaml",
			"--permission-model SERVICE_MANAGED --auto-deployment Enabled=true,RetainStacksOnAccountRemoval=true",
			"--capabilities CAPABILITY_NAMED_IAM",
			"ParameterKey=BucketPrefix,ParameterValue=org-artifacts ParameterKey=LambdaCodeKey,ParameterValue=" + key,
			`'ParameterKey=InstanceRoleNames,ParameterValue=ecsInstanceRole\,ops/legacy-ecs'`,
			"aws cloudformation create-stack-instances --stack-set-name trunkctl-eni-trunking",
			"--deployment-targets OrganizationalUnitIds=ou-abcd-11111111,ou-abcd-22222222 --regions us-east-1 \\\n  --parameter-overrides ParameterKey=LambdaCodeVersion,ParameterValue=",
			"--deployment-targets OrganizationalUnitIds=ou-abcd-11111111,ou-abcd-22222222 --regions eu-west-1 \\\n  --parameter-overrides ParameterKey=LambdaCodeVersion,ParameterValue=",
			"RegionConcurrencyType=PARALLEL,ConcurrencyMode=SOFT_FAILURE_TOLERANCE,MaxConcurrentPercentage=25,FailureTolerancePercentage=10",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("output lacks %s\n%s", want, stdout)
			}
		}
	})

	t.Run("it uploads for the expected bucket owner and prints each Region's object version to pin", func(t *testing.T) {
		if !strings.Contains(stderr, "(bucket owner 123456789012)") {
			t.Errorf("stderr does not name the expected bucket owner:\n%s", stderr)
		}
		if got := owners.Puts(); len(got) != len(regions) || got[0] != "123456789012" || got[1] != "123456789012" {
			t.Errorf("uploads carried expected bucket owners %q, want 123456789012 on each of %d", got, len(regions))
		}
		for _, r := range regions {
			v, errOut, err := run(awsCLI, "s3api", "head-object", "--endpoint-url", srv.URL, "--region", r, "--bucket", "org-artifacts-"+r, "--key", key,
				"--query", "VersionId", "--output", "text")
			v = strings.TrimSpace(v)
			if err != nil || v == "" || v == "None" {
				t.Fatalf("head-object in %s: %q %v %s", r, v, err, errOut)
			}
			if want := "--regions " + r + " \\\n  --parameter-overrides ParameterKey=LambdaCodeVersion,ParameterValue=" + v + " "; !strings.Contains(stdout, want) {
				t.Errorf("output does not pin %s to version %s:\n%s", r, v, stdout)
			}
		}
	})

	t.Run("a bucket owned by another account is refused", func(t *testing.T) {
		_, stderr, err := run(makeBin, "-s", "-C", repoRoot, "-o", zip, "package-org", "LAMBDA_ZIP="+zip, "BUCKET_PREFIX=org-artifacts",
			"REGIONS=us-east-1", "BUCKET_OWNER=210987654321", "S3CP_FLAGS=--endpoint-url "+s3)
		if err == nil || !strings.Contains(stderr, "AccessDenied") {
			t.Errorf("upload to a bucket of 123456789012 with BUCKET_OWNER=210987654321: err %v\n%s", err, stderr)
		}
	})

	t.Run("a bucket owner that is not 12 digits is a usage error before any upload", func(t *testing.T) {
		_, stderr, err := run(makeBin, "-s", "-C", repoRoot, "-o", zip, "package-org", "LAMBDA_ZIP="+zip, "BUCKET_PREFIX=org-artifacts",
			"REGIONS=us-east-1", "BUCKET_OWNER=me", "S3CP_FLAGS=--endpoint-url "+srv.URL)
		if err == nil || !strings.Contains(stderr, "BUCKET_OWNER must be the 12-digit account") {
			t.Errorf("err %v, stderr %s", err, stderr)
		}
	})

	t.Run("every parameter it passes is one the member template declares", func(t *testing.T) {
		tpl := readOrg(t, cfntemplates.OrgMemberFile)
		for _, m := range regexp.MustCompile(`ParameterKey=(\w+)`).FindAllStringSubmatch(stdout, -1) {
			if _, ok := tpl.Parameters[m[1]]; !ok {
				t.Errorf("ParameterKey=%s is not a parameter of %s", m[1], cfntemplates.OrgMemberFile)
			}
		}
	})

	t.Run("without a bucket prefix it is a usage error", func(t *testing.T) {
		_, stderr, err := run(makeBin, "-s", "-C", repoRoot, "-o", zip, "package-org", "LAMBDA_ZIP="+zip, "REGIONS=us-east-1")
		if err == nil || !strings.Contains(stderr, "usage: make package-org BUCKET_PREFIX=") {
			t.Errorf("err %v, stderr %s", err, stderr)
		}
	})
}

// ownerCheck is a proxy in front of moto's S3 that applies
// x-amz-expected-bucket-owner as S3 does, and records it on every PUT.
type ownerCheck struct {
	mu   sync.Mutex
	puts []string
}

func (o *ownerCheck) proxy(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner := r.Header.Get("X-Amz-Expected-Bucket-Owner")
		if r.Method == http.MethodPut {
			o.mu.Lock()
			o.puts = append(o.puts, owner)
			o.mu.Unlock()
		}
		if owner != "" && owner != "123456789012" {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (o *ownerCheck) Puts() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.puts...)
}

func TestPackagePrintsTheHostBootstrapChecksumUserDataRequires(t *testing.T) {
	awsCLI, makeBin, srv, dist, run := packagingPeers(t, 2*time.Minute)
	if _, stderr, err := run(awsCLI, "s3api", "create-bucket", "--endpoint-url", srv.URL, "--bucket", "artifacts"); err != nil {
		t.Fatalf("create bucket: %v\n%s", err, stderr)
	}
	hb := []byte("a stand-in for hostbootstrap")
	for name, content := range map[string][]byte{"lambda.zip": []byte("a stand-in for lambda.zip"), "hostbootstrap-linux-amd64": hb} {
		if err := os.WriteFile(filepath.Join(dist, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256(hb)
	stdout, stderr, err := run(makeBin, "-s", "-C", repoRoot, "-o", filepath.Join(dist, "lambda.zip"), "-o", filepath.Join(dist, "hostbootstrap-linux-amd64"),
		"package", "DIST="+dist, "BUCKET=artifacts", "S3CP_FLAGS=--endpoint-url "+srv.URL)
	if err != nil {
		t.Fatalf("make package: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	if want := "HostBootstrapSha256=" + hex.EncodeToString(sum[:]); !strings.Contains(stdout, want) {
		t.Errorf("the AL2023 deploy command lacks %s:\n%s", want, stdout)
	}
	if tpl := readOrg(t, cfntemplates.TrunkClusterAL2023File); tpl.Parameters["HostBootstrapSha256"]["AllowedPattern"] != "^[0-9a-f]{64}$" {
		t.Errorf("%s: HostBootstrapSha256 %v", cfntemplates.TrunkClusterAL2023File, tpl.Parameters["HostBootstrapSha256"])
	}
}
