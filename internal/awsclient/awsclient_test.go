package awsclient_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/trunkctl/trunkctl/internal/awsclient"
)

// isolate clears the AWS variables a developer's shell may carry.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	return dir
}

func TestLoadUsesTheAdaptiveRetryerAndTheFlagRegion(t *testing.T) {
	isolate(t)
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Fatalf("region = %q", cfg.Region)
	}
	r := cfg.Retryer()
	if _, ok := r.(*retry.AdaptiveMode); !ok {
		t.Fatalf("retryer = %T, want *retry.AdaptiveMode", r)
	}
	if r.MaxAttempts() != awsclient.DefaultMaxAttempts {
		t.Fatalf("max attempts = %d", r.MaxAttempts())
	}
}

func TestLoadWithoutARegionSaysWhereToSetOne(t *testing.T) {
	isolate(t)
	_, err := awsclient.Load(context.Background(), awsclient.Options{})
	if !errors.Is(err, awsclient.ErrNoRegion) {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadReadsTheProfileAndTheEndpointVariable(t *testing.T) {
	dir := isolate(t)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte("[profile ops]\nregion = ap-southeast-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Profile: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "ap-southeast-2" || cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:1" {
		t.Fatalf("region %q endpoint %v", cfg.Region, cfg.BaseEndpoint)
	}
	if _, err := awsclient.Load(context.Background(), awsclient.Options{Profile: "missing"}); err == nil {
		t.Fatal("want an error for a profile that does not exist")
	}
}

func TestDebugLogsRequestsToTheGivenWriter(t *testing.T) {
	isolate(t)
	var buf bytes.Buffer
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Region: "us-east-1", Debug: true, DebugOut: &buf})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientLogMode == 0 || cfg.Logger == nil {
		t.Fatalf("log mode %v logger %v", cfg.ClientLogMode, cfg.Logger)
	}
	c := awsclient.New(cfg)
	if c.ECS == nil || c.EC2 == nil || c.IAM == nil || c.STS == nil {
		t.Fatal("a client is missing")
	}
}
