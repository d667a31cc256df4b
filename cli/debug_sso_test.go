package cli

import (
	"context"
	"crypto/sha1" //nolint:gosec // the SDK names its SSO token cache by SHA-1; this is not security
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The secrets an IAM Identity Center sign-in moves around. None may appear
// in trunkctl's output, even with --debug.
const (
	canaryOldAccess    = "CANARY-OLD-ACCESS-TOKEN-0001"
	canaryOldRefresh   = "CANARY-OLD-REFRESH-TOKEN-0002"
	canaryClientSecret = "CANARY-CLIENT-SECRET-0003"
	canaryNewAccess    = "CANARY-NEW-ACCESS-TOKEN-0004"
	canaryNewRefresh   = "CANARY-NEW-REFRESH-TOKEN-0005"
	canaryIDToken      = "CANARY-ID-TOKEN-0006"
	canarySecretKey    = "CANARY-ROLE-SECRET-KEY-0007"
	canarySessionToken = "CANARY-ROLE-SESSION-TOKEN-0008"
)

// ssoPeer is a loopback SSO OIDC (CreateToken), SSO portal
// (GetRoleCredentials) and STS (GetCallerIdentity); every other AWS call is
// refused, which is enough for a command to log a request as a service client.
type ssoPeer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []string
}

func newSSOPeer(t *testing.T) *ssoPeer {
	p := &ssoPeer{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/token":
			p.record("CreateToken")
			var in map[string]string
			_ = json.Unmarshal(body, &in)
			if in["refreshToken"] != canaryOldRefresh || in["clientSecret"] != canaryClientSecret || in["grantType"] != "refresh_token" {
				http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"accessToken":%q,"expiresIn":3600,"idToken":%q,"refreshToken":%q,"tokenType":"Bearer"}`, canaryNewAccess, canaryIDToken, canaryNewRefresh)
		case r.Method == http.MethodGet && r.URL.Path == "/federation/credentials":
			p.record("GetRoleCredentials")
			if r.Header.Get("X-Amz-Sso_bearer_token") != canaryNewAccess {
				http.Error(w, `{"message":"Session token not found or invalid"}`, http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"roleCredentials":{"accessKeyId":"ASIACANARYKEYID0009","secretAccessKey":%q,"sessionToken":%q,"expiration":%d}}`,
				canarySecretKey, canarySessionToken, time.Now().Add(time.Hour).UnixMilli())
		case strings.Contains(string(body), "Action=GetCallerIdentity"):
			p.record("GetCallerIdentity")
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
				`<Arn>arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/jane</Arn><UserId>AROACANARY:jane</UserId>`+
				`<Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
		default:
			p.record(r.Header.Get("X-Amz-Target"))
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"AccessDeniedException","message":"not in this test"}`)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *ssoPeer) record(op string) {
	p.mu.Lock()
	p.calls = append(p.calls, op)
	p.mu.Unlock()
}

func (p *ssoPeer) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// A real SSO profile whose cached access token has expired: the SDK refreshes
// it through SSO OIDC and gets role credentials from the portal, and none of
// the secrets involved reaches stdout or stderr, though --debug logs every
// service request and response.
func TestDebugNeverPrintsIdentityCenterSecrets(t *testing.T) {
	peer := newSSOPeer(t)
	home := t.TempDir()
	cfgFile := filepath.Join(home, ".aws", "config")
	cacheDir := filepath.Join(home, ".aws", "sso", "cache")
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		t.Fatal(err)
	}
	const config = `[profile corp-admin]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Admin
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
`
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte("corp")) //nolint:gosec // the SDK's cache file name
	cache := map[string]string{
		"startUrl": "https://corp.awsapps.com/start", "region": "us-east-1",
		"accessToken": canaryOldAccess, "expiresAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
		"refreshToken": canaryOldRefresh, "clientId": "CANARYCLIENTID", "clientSecret": canaryClientSecret,
		"registrationExpiresAt": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339),
	}
	b, _ := json.Marshal(cache)
	if err := os.WriteFile(filepath.Join(cacheDir, hex.EncodeToString(sum[:])+".json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"HOME": home, "AWS_CONFIG_FILE": cfgFile, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "none"),
		"AWS_PROFILE": "corp-admin", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_ENDPOINT_URL":          peer.srv.URL,
		"AWS_ENDPOINT_URL_SSO_OIDC": peer.srv.URL, "AWS_ENDPOINT_URL_SSO": peer.srv.URL,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(k, v)
	}

	s, out, errOut := streams(false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := Run(ctx, []string{"status", "--role", "EcsInstanceRole", "--debug"}, Deps{IO: s, AWS: RealAWS})

	calls := strings.Join(peer.Calls(), ",")
	if !strings.HasPrefix(calls, "CreateToken,GetRoleCredentials,GetCallerIdentity") {
		t.Fatalf("calls %s, want the token refresh, the portal and then the command's own calls (exit %d)\nstderr:\n%s", calls, code, errOut)
	}
	all := out.String() + errOut.String()
	if !strings.Contains(all, "GetCallerIdentity") || !strings.Contains(all, "X-Amz-Security-Token: [redacted]") {
		t.Errorf("--debug did not log the service request (exit %d):\n%.3000s", code, all)
	}
	for _, credentialCall := range []string{"POST /token", "/federation/credentials"} {
		if strings.Contains(all, credentialCall) {
			t.Errorf("--debug logged the credential client's request %q: logging belongs to the service clients only", credentialCall)
		}
	}
	for _, c := range []string{canaryOldAccess, canaryOldRefresh, canaryClientSecret, canaryNewAccess, canaryNewRefresh, canaryIDToken, canarySecretKey, canarySessionToken} {
		if strings.Contains(all, c) {
			t.Errorf("output contains the secret %s", c)
		}
	}
	if t.Failed() {
		t.Logf("exit %d, output:\n%s", code, all)
	}
}
