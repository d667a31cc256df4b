package cfntemplates_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/cdk/cfntemplates"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

// repoRoot is where the Makefile is.
var repoRoot = filepath.Join("..", "..")

func TestPackageOrg(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make, the aws CLI and moto_server")
	}
	awsCLI := peer.LookPath(t, "aws", "install the AWS CLI")
	makeBin := peer.LookPath(t, "make", "install make")
	srv := moto.Start(t)
	tmp := t.TempDir()
	var env []string
	for _, kv := range os.Environ() { // no profile or credentials from the machine
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(tmp, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(tmp, "none"))
	run := func(name string, args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return out.String(), errOut.String(), err
	}
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
	}
	zip := filepath.Join(tmp, "lambda.zip")
	content := []byte("a stand-in for dist/lambda.zip")
	if err := os.WriteFile(zip, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	key := "trunkctl/lambda-" + hex.EncodeToString(sum[:])[:16] + ".zip"

	// WHEN make package-org runs (-o: use the zip as it is, do not build it)
	stdout, stderr, err := run(makeBin, "-s", "-C", repoRoot, "-o", zip, "package-org", "LAMBDA_ZIP="+zip,
		"BUCKET_PREFIX=org-artifacts", "REGIONS="+strings.Join(regions, " "), "S3CP_FLAGS=--endpoint-url "+srv.URL,
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
			"--capabilities CAPABILITY_IAM",
			"ParameterKey=BucketPrefix,ParameterValue=org-artifacts ParameterKey=LambdaCodeKey,ParameterValue=" + key,
			`'ParameterKey=InstanceRoleNames,ParameterValue=ecsInstanceRole\,ops/legacy-ecs'`,
			"aws cloudformation create-stack-instances --stack-set-name trunkctl-eni-trunking",
			"--deployment-targets OrganizationalUnitIds=ou-abcd-11111111,ou-abcd-22222222 --regions us-east-1 eu-west-1",
			"RegionConcurrencyType=PARALLEL,ConcurrencyMode=SOFT_FAILURE_TOLERANCE,MaxConcurrentPercentage=25,FailureTolerancePercentage=10",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("output lacks %s\n%s", want, stdout)
			}
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
