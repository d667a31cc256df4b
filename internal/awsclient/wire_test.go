package awsclient_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/awsclient"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

func TestTheRetryerFollowsTheEnvironmentAndTheProfile(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		profile      string
		wantAttempts int
		wantAdaptive bool
	}{
		{name: "nothing set gives the adaptive retryer with the default attempts", wantAttempts: awsclient.DefaultMaxAttempts, wantAdaptive: true},
		{name: "AWS_MAX_ATTEMPTS sets the attempts", env: map[string]string{"AWS_MAX_ATTEMPTS": "2"}, wantAttempts: 2, wantAdaptive: true},
		{name: "AWS_RETRY_MODE=standard gives the standard retryer", env: map[string]string{"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "7"}, wantAttempts: 7},
		{name: "the profile's max_attempts and retry_mode apply", profile: "[profile ops]\nmax_attempts = 4\nretry_mode = standard\n", wantAttempts: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			opts := awsclient.Options{Region: "eu-west-1"}
			if tt.profile != "" {
				if err := os.WriteFile(filepath.Join(dir, "config"), []byte(tt.profile), 0o600); err != nil {
					t.Fatal(err)
				}
				opts.Profile = "ops"
			}
			cfg, err := awsclient.Load(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			r := cfg.Retryer()
			if r.MaxAttempts() != tt.wantAttempts {
				t.Fatalf("max attempts = %d, want %d", r.MaxAttempts(), tt.wantAttempts)
			}
			if _, adaptive := r.(*retry.AdaptiveMode); adaptive != tt.wantAdaptive {
				t.Fatalf("retryer = %T, want adaptive %v", r, tt.wantAdaptive)
			}
		})
	}
}

// The whole --debug output of an assumed-role run against moto: the caller's
// secret key and session token, the assumed role's, the signatures and the
// full access key ids never appear.
func TestDebugOutputOfAnAssumedRoleRunHoldsNoSecret(t *testing.T) {
	m := moto.Start(t)
	m.Env(t)
	const envSecret, envToken = "ENVsecretKEY0123456789abcdef", "ENVsessionTOKEN0123456789abcdefXYZ"
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEYID01234567")
	t.Setenv("AWS_SECRET_ACCESS_KEY", envSecret)
	t.Setenv("AWS_SESSION_TOKEN", envToken)
	ctx := context.Background()
	var debug syncbuf.Buffer
	cfg, err := awsclient.Load(ctx, awsclient.Options{Debug: true, DebugOut: &debug})
	if err != nil {
		t.Fatal(err)
	}
	c := awsclient.New(cfg)
	// The raw STS answer, to know which secrets to look for.
	out, err := c.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/EcsInstanceRole"), RoleSessionName: aws.String("probe")})
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{envSecret, envToken, "AKIAENVKEYID01234567",
		aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken), aws.ToString(out.Credentials.AccessKeyId)}
	role, _ := awsarn.ParseRole("arn:aws:iam::123456789012:role/EcsInstanceRole")
	as := accountsetting.Assumer{STS: c.STS, NewECS: accountsetting.NewECSFactory(cfg), SessionName: "debug-test"}
	p, err := as.Assume(ctx, role)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ensure(ctx, accountsetting.AWSVPCTrunking, accountsetting.Enabled); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ECS.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{}); err != nil {
		t.Fatal(err)
	}
	log := debug.String()
	for _, want := range []string{"X-Amz-Security-Token: [redacted]", "Signature=[redacted]", "Credential=AKIA[redacted]", "Credential=ASIA[redacted]", "<SessionToken>[redacted]</SessionToken>", "<SecretAccessKey>[redacted]</SecretAccessKey>"} {
		if !strings.Contains(log, want) {
			t.Errorf("debug output lacks %q, so the test did not see what it checks", want)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(log, s) {
			t.Errorf("debug output holds the secret %q", s)
		}
	}
	if sig := regexp.MustCompile(`Signature=[0-9a-f]{16,}`).FindString(log); sig != "" {
		t.Errorf("debug output holds a signature: %s", sig)
	}
	if t.Failed() {
		t.Logf("debug output:\n%s", log)
	}
}

func TestRedactHidesSecretsByTheirShape(t *testing.T) {
	tests := []struct{ name, in, secret string }{
		{"an Authorization header keeps only the key id's prefix", "Authorization: AWS4-HMAC-SHA256 Credential=ASIAXYZ1234567890ABC/20261201/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=0123456789abcdef0123456789abcdef", "ASIAXYZ1234567890ABC"},
		{"a pre-signed query string loses its signature", "GET https://bucket.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAABCDEFGHIJKLMNOP%2F20261201&X-Amz-Signature=deadbeefdeadbeef&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE", "deadbeefdeadbeef"},
		{"a pre-signed query string loses its token", "?X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE&x=1", "IQoJb3JpZ2luX2VjEXAMPLE"},
		{"a pre-signed query string loses its key id", "?X-Amz-Credential=AKIAABCDEFGHIJKLMNOP%2F20261201", "ABCDEFGHIJKLMNOP"},
		{"a security token header", "X-Amz-Security-Token: FwoGZXIvYXdzEXAMPLETOKEN\r\nHost: x", "FwoGZXIvYXdzEXAMPLETOKEN"},
		{"an STS XML body", "<Credentials><SecretAccessKey>wJalrXUtnFEMI/K7MDENG</SecretAccessKey><SessionToken>FQoGZXIvYXdz\nEXAMPLE</SessionToken></Credentials>", "wJalrXUtnFEMI"},
		{"a JSON credentials body", `{"AccessKeyId":"ASIAEXAMPLE12345","SecretAccessKey":"wJalrXUtnFEMI","Token":"IQoJb3JpZ2lu"}`, "IQoJb3JpZ2lu"},
		{"an SSO OIDC CreateToken request loses its refresh token", `{"clientId":"cid","clientSecret":"eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0","grantType":"refresh_token","refreshToken":"aorvJYubGpU6i91YnH7Mfo-AT2fIVa1zCfA_Rvq9yjVKIP3onFmmykuQ7E93y2I-9Nyj-A_sVvMufaLNL0bqnDRtgAkc0:MGUCMFrRsktMRVlWaOR70XGMFGLL0SlcCw4DiYveIiOVx1uK9BbD0gvAddsW3UTLozXKMgIxAJ3qxUvjpnlLIOaaKOoa/FuNgqJVvr9GMwDtnAtlh9iZzAkEXAMPLE"}`, "aorvJYubGpU6i91YnH7Mfo"},
		{"an SSO OIDC CreateToken request loses its client secret", `{"clientSecret":"eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0","refreshToken":"x"}`, "eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0"},
		{"an SSO OIDC CreateToken response loses its id token", `{"accessToken":"aoal-EXAMPLE","expiresIn":28800,"idToken":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig","refreshToken":"aorr-EXAMPLE","tokenType":"Bearer"}`, "eyJhbGciOiJIUzI1NiJ9"},
		{"an IMDSv2 token response loses the token", "HTTP/1.1 200 OK\r\nContent-Length: 56\r\nX-Aws-Ec2-Metadata-Token-Ttl-Seconds: 21600\r\n\r\nAQAEAFVtYl9IMDSv2TOKENexample-c5Pn9cxqZUz8Q==", "AQAEAFVtYl9IMDSv2TOKEN"},
		{"an IMDSv2 token header", "GET /latest/meta-data/ HTTP/1.1\r\nX-Aws-Ec2-Metadata-Token: AQAEAFVtYl9IMDSv2TOKEN\r\n", "AQAEAFVtYl9IMDSv2TOKEN"},
		{"a bearer Authorization header is hidden whole", "Authorization: Bearer aoal-SSOACCESSTOKENexample\r\nHost: x", "aoal-SSOACCESSTOKENexample"},
		{"the SSO portal's bearer header", "X-Amz-Sso_bearer_token: aoal-SSOACCESSTOKENexample\r\n", "aoal-SSOACCESSTOKENexample"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := awsclient.Redact(tt.in)
			if strings.Contains(got, tt.secret) || !strings.Contains(got, "[redacted]") {
				t.Fatalf("Redact(%q) = %q", tt.in, got)
			}
		})
	}
}

func TestARedactorHidesTheLiteralSecretsItWasGiven(t *testing.T) {
	var r awsclient.Redactor
	r.Add("s3cr3t-value-in-odd-format", "short")
	got := r.Redact("token=s3cr3t-value-in-odd-format; short stays")
	if got != "token=[redacted]; short stays" {
		t.Fatalf("got %q", got)
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// hangingListener accepts connections and never answers; it counts them.
func hangingListener(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String(), &n
}

type recordedProgress struct {
	mu     sync.Mutex
	events []awsclient.RetryEvent
}

func (p *recordedProgress) Retrying(ev awsclient.RetryEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, ev)
}

func (p *recordedProgress) all() []awsclient.RetryEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]awsclient.RetryEvent(nil), p.events...)
}

func TestADeadEndpointEndsInSecondsWithAnErrorNamingIt(t *testing.T) {
	isolate(t)
	addr := closedPort(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://"+addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	progress := &recordedProgress{}
	cfg, err := awsclient.Load(ctx, awsclient.Options{Region: "us-east-1", Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = awsclient.New(cfg).ECS.ListClusters(ctx, &ecs.ListClustersInput{})
	took := time.Since(start)
	var ee *awsclient.EndpointError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v (%T), want an EndpointError", err, err)
	}
	if took > 15*time.Second {
		t.Fatalf("took %s against a closed port", took)
	}
	msg := err.Error()
	for _, want := range []string{"ECS: ListClusters", "http://" + addr, "connection refused", "AWS_ENDPOINT_URL_ECS", "after 5 attempt(s)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if evs := progress.all(); len(evs) != awsclient.DefaultMaxAttempts-1 || evs[0].Attempt != 2 || !strings.Contains(evs[0].String(), "retrying ECS ListClusters (attempt 2 of 5)") {
		t.Errorf("retry events = %+v", evs)
	}
	t.Logf("closed port: %s after %s", msg, took)
}

func TestAHungConnectionIsAbandonedAndRetriedPerAttempt(t *testing.T) {
	isolate(t)
	addr, accepted := hangingListener(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://"+addr)
	t.Setenv("AWS_MAX_ATTEMPTS", "3")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := awsclient.Load(ctx, awsclient.Options{Region: "us-east-1", AttemptTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = awsclient.New(cfg).STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	took := time.Since(start)
	var ee *awsclient.EndpointError
	if !errors.As(err, &ee) || ee.Attempts != 3 {
		t.Fatalf("err = %v, want an EndpointError after 3 attempts", err)
	}
	if n := accepted.Load(); n != 3 {
		t.Fatalf("the listener saw %d connections, want 3 (one per attempt)", n)
	}
	if took > 20*time.Second || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("after %s: %v", took, err)
	}
	t.Logf("hanging listener: %v after %s", err, took)
}

func TestACancelledCallIsNotBlamedOnTheEndpoint(t *testing.T) {
	isolate(t)
	addr, _ := hangingListener(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://"+addr)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = awsclient.New(cfg).STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	var ee *awsclient.EndpointError
	if errors.As(err, &ee) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline and no EndpointError", err)
	}
}
