package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/trunkctl/trunkctl/internal/awsclient"
)

// sharedFiles points the SDK at a config file with body and an empty
// credentials file, with no credentials in the environment.
func sharedFiles(t *testing.T, body string) {
	t.Helper()
	dir := t.TempDir()
	cfg, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	for path, b := range map[string]string{cfg: body, creds: ""} {
		if err := os.WriteFile(path, []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

func TestCredentialProblemsGetOneSentenceWithTheStepThatFixesThem(t *testing.T) {
	noCreds := func(context.Context, GlobalOptions, io.Writer) (*AWS, error) {
		return nil, fmt.Errorf("operation error STS: GetCallerIdentity, get identity: %w", &awsclient.CredentialsError{Err: errors.New("failed to refresh cached credentials")})
	}
	for _, tt := range []struct {
		name     string
		config   string
		args     []string
		expired  bool // STS answers ExpiredToken instead
		want     []string
		wantNone []string
	}{
		{name: "an SSO profile whose session expired is told to log in",
			config: "[profile ops]\nsso_session = corp\nregion = us-east-1\n", args: []string{"--profile", "ops"}, expired: true,
			want: []string{"no valid AWS credentials for profile ops (its SSO session is missing or expired); run aws sso login --profile ops"}},
		{name: "an SSO profile with no cached token is told to log in",
			config: "[profile ops]\nsso_start_url = https://example.awsapps.com/start\n", args: []string{"--profile", "ops"},
			want: []string{"run aws sso login --profile ops"}},
		{name: "a profile of access keys is not told to log in to SSO",
			config: "[profile ops]\nregion = us-east-1\n", args: []string{"--profile", "ops"},
			want: []string{"no valid AWS credentials for profile ops (missing or expired); check its keys or role with aws configure --profile ops"}, wantNone: []string{"sso login"}},
		{name: "no credentials and no default profile: set them up, and the profiles that exist",
			config:   "[profile dev]\nregion = us-east-1\n[profile prod]\nsso_session = corp\n",
			want:     []string{"no AWS credentials found (no AWS_ACCESS_KEY_ID, no profile default, no instance or container role); set them up with aws configure sso (IAM Identity Center) or aws configure (access keys), or pass one of your profiles with --profile (dev, prod)"},
			wantNone: []string{"sso login", "--profile default"}},
		{name: "no credentials and no profiles at all",
			want:     []string{"no AWS credentials found (no AWS_ACCESS_KEY_ID, no profile default, no instance or container role); set them up with aws configure sso (IAM Identity Center) or aws configure (access keys)\n"},
			wantNone: []string{"sso login", "--profile default"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sharedFiles(t, tt.config)
			w := newWorld(t)
			s, out, errOut := streams(false)
			deps := w.deps(s)
			if tt.expired {
				w.acct.Fail["sts:GetCallerIdentity"] = &smithy.GenericAPIError{Code: "ExpiredToken", Message: "The security token included in the request is expired"}
			} else {
				deps.AWS = noCreds
			}
			code := Run(context.Background(), append([]string{"status", "--role", "EcsInstanceRole"}, tt.args...), deps)
			got := errOut.String()
			if code != ExitError || strings.Count(got, "\n") != 1 || out.Len() != 0 {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 1 and one line", code, out, got)
			}
			for _, s := range tt.want {
				if !strings.Contains(got, s) {
					t.Errorf("stderr lacks %q:\n%s", s, got)
				}
			}
			for _, s := range tt.wantNone {
				if strings.Contains(got, s) {
					t.Errorf("stderr has %q:\n%s", s, got)
				}
			}
		})
	}
}

// Through the SDK's own configuration loading: a --profile that does not
// exist, and no credentials anywhere off EC2 (the instance metadata service
// refuses the IMDSv2 token, where the SDK logs "falling back to IMDSv1").
func TestTheRealConfigurationSaysWhichProfilesExistAndPrintsNoSDKWarning(t *testing.T) {
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }))
	defer imds.Close()
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"a missing profile is named with the profiles that exist", []string{"--profile", "ops"},
			`AWS profile "ops" is in neither `},
		{"no credentials anywhere says how to set them up", nil,
			"no AWS credentials found (no AWS_ACCESS_KEY_ID, no profile default, no instance or container role); set them up with aws configure sso (IAM Identity Center) or aws configure (access keys), or pass one of your profiles with --profile (dev, staging)\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sharedFiles(t, "[profile dev]\nregion = us-east-1\n[profile staging]\nregion = eu-west-1\n")
			t.Setenv("AWS_REGION", "us-east-1")
			t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
			t.Setenv("AWS_EC2_METADATA_DISABLED", "")
			// The SDK's default logger writes to the process's stderr.
			procErr, err := os.CreateTemp(t.TempDir(), "stderr")
			if err != nil {
				t.Fatal(err)
			}
			saved := os.Stderr
			os.Stderr = procErr
			s, out, errOut := streams(false)
			code := Run(context.Background(), append([]string{"status", "--role", "EcsInstanceRole"}, tt.args...), Deps{IO: s, AWS: RealAWS})
			os.Stderr = saved
			leaked, _ := os.ReadFile(procErr.Name())
			got := errOut.String() + string(leaked)
			if code != ExitError || strings.Count(got, "\n") != 1 || out.Len() != 0 || !strings.Contains(got, tt.want) {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 1 and one line with %q", code, out, got, tt.want)
			}
			if strings.Contains(got, "WARN") || strings.Contains(got, "IMDSv1") {
				t.Fatalf("an SDK log line reached stderr:\n%s", got)
			}
			if strings.Contains(tt.want, "neither") && !strings.Contains(got, "(profiles there: dev, staging); pass one that exists with --profile, or create it with aws configure sso --profile ops (IAM Identity Center) or aws configure --profile ops (access keys)") {
				t.Fatalf("the sentence does not name the profiles and the fix:\n%s", got)
			}
		})
	}
}
