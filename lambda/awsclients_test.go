package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// lambdaEnv sets the environment Lambda gives the function (and nothing
// from the machine's own AWS configuration).
func lambdaEnv(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_PROFILE": "", "AWS_CA_BUNDLE": "", "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
	} {
		t.Setenv(k, v)
	}
}

// Every client of an event shares one HTTP client, so the write as the
// assumed role reuses the connection the principalArn write opened to the
// same ECS endpoint: without a shared client each SDK client builds its own
// transport and pool.
func TestClientsShareOneConnectionPool(t *testing.T) {
	lambdaEnv(t)
	c := &awsClients{}
	rc, err := c.forRegion(context.Background(), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	own := rc.ECS.(*ecs.Client).Options().HTTPClient
	asRole := rc.NewECS(aws.AnonymousCredentials{}).(*ecs.Client).Options().HTTPClient
	if own == nil || own != asRole || own != rc.STS.(*sts.Client).Options().HTTPClient || own != rc.IAM.(*iam.Client).Options().HTTPClient {
		t.Errorf("the ECS (own and as the role), STS and IAM clients have different HTTP clients, so different connection pools")
	}
	if got := rc.ECS.(*ecs.Client).Options().Region; got != "eu-west-1" {
		t.Errorf("ECS client Region = %q, want eu-west-1", got)
	}
	again, err := c.forRegion(context.Background(), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	if again.ECS != rc.ECS {
		t.Errorf("a later event in the same Region made new clients (and a new pool)")
	}
}

// Preload makes the function's Region's clients before the first event;
// a configuration that fails to load is not kept, so the event loads again
// and says why.
func TestPreloadKeepsClientsButNotAFailure(t *testing.T) {
	lambdaEnv(t)
	cfg := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_PROFILE", "missing")
	c := &awsClients{}
	c.Preload("us-east-1")
	if _, err := c.forRegion(context.Background(), "us-east-1"); err == nil {
		t.Fatal("forRegion with a missing profile succeeded, want the load error")
	}
	t.Setenv("AWS_PROFILE", "")
	rc, err := c.forRegion(context.Background(), "us-east-1")
	if err != nil {
		t.Fatalf("forRegion after the profile was fixed: %v (a failed load was kept)", err)
	}

	c = &awsClients{}
	c.Preload("us-east-1")
	first, err := c.forRegion(context.Background(), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	second, _ := c.forRegion(context.Background(), "us-east-1")
	if first.ECS != second.ECS || rc.ECS == first.ECS {
		t.Errorf("clients are not kept per process")
	}
}
