package awsclient

import (
	"regexp"
	"strings"
	"sync"
)

// redacted replaces a secret in logs and errors.
const redacted = "[redacted]"

// secretPatterns match secrets by their shape wherever they appear in SDK
// request and response logs and in error text: signing headers, pre-signed
// query strings, and credentials in STS (XML), IMDS/ECS (JSON) and SSO bodies.
var secretPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	// Authorization: AWS4-HMAC-SHA256 Credential=AKID/scope, SignedHeaders=..., Signature=hex
	{regexp.MustCompile(`(Credential=)([A-Z0-9]{4})[A-Z0-9]*`), "${1}${2}" + redacted},
	{regexp.MustCompile(`(?i)(Signature=)[0-9a-f]+`), "${1}" + redacted},
	// Headers, as the SDK logs them ("Name: value").
	{regexp.MustCompile(`(?im)^((?:X-Amz-Security-Token|X-Amz-Session-Token|X-Aws-Ec2-Metadata-Token|X-Amz-Sso_bearer_token|Cookie|Set-Cookie)\s*:\s*).*$`), "${1}" + redacted},
	// Pre-signed query strings: X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token.
	{regexp.MustCompile(`(?i)(X-Amz-(?:Signature|Security-Token)=)[^&\s"'<>]*`), "${1}" + redacted},
	{regexp.MustCompile(`(?i)(X-Amz-Credential=)([A-Z0-9]{4})[^&\s"'<>]*`), "${1}${2}" + redacted},
	// XML bodies (STS AssumeRole, GetSessionToken, ...).
	{regexp.MustCompile(`(?is)(<(SessionToken|SecretAccessKey|Token)>).*?(</(SessionToken|SecretAccessKey|Token)>)`), "${1}" + redacted + "${3}"},
	{regexp.MustCompile(`(?i)(<AccessKeyId>)([A-Z0-9]{4})[A-Z0-9]*(</AccessKeyId>)`), "${1}${2}" + redacted + "${3}"},
	// JSON bodies (IMDS, container credentials, the SSO portal, SSO OIDC's
	// CreateToken and its token cache, query-JSON STS).
	{regexp.MustCompile(`(?i)("(?:SessionToken|SecretAccessKey|Token|accessToken|refreshToken|clientSecret|idToken|deviceCode|registrationAccessToken|authorizationCode|codeVerifier)"\s*:\s*")[^"]*(")`), "${1}" + redacted + "${2}"},
	// IMDSv2's token is the whole body of the response that carries its
	// TTL header (PUT /latest/api/token); logged, it is the only secret in it.
	{regexp.MustCompile(`(?is)(X-Aws-Ec2-Metadata-Token-Ttl-Seconds\s*:[^\n]*\n(?:[^\n]*\S[^\n]*\n)*?\r?\n)([^\s]+)`), "${1}" + redacted},
	{regexp.MustCompile(`(?i)("AccessKeyId"\s*:\s*")([A-Z0-9]{4})[A-Z0-9]*(")`), "${1}${2}" + redacted + "${3}"},
}

// Redact removes secrets recognisable by their shape from s: session tokens,
// secret keys, Authorization signatures and pre-signed query strings. Access
// key ids keep their four-character prefix (ASIA, AKIA), which says what kind
// of credential was used without naming it.
func Redact(s string) string {
	for _, p := range secretPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return authorizationHeader.ReplaceAllStringFunc(s, redactAuthorization)
}

// authorizationHeader is an Authorization header as the SDK logs it.
var authorizationHeader = regexp.MustCompile(`(?im)^(authorization\s*:\s*)(.*?)(\r?)$`)

// redactAuthorization hides every Authorization value but SigV4's, whose
// signature and key id the patterns above already cut down (its
// credential scope says which key signed, usefully): a bearer token or any
// other scheme is hidden whole.
func redactAuthorization(line string) string {
	m := authorizationHeader.FindStringSubmatch(line)
	if strings.HasPrefix(m[2], "AWS4-") {
		return line
	}
	return m[1] + redacted + m[3]
}

// Redactor redacts secrets by shape and, in addition, every literal secret
// value this process has seen (the credentials it signed with and those STS
// returned), so a secret is hidden even in a format no pattern knows.
type Redactor struct {
	mu      sync.RWMutex
	secrets map[string]bool
}

// minSecretLen keeps short, common strings (a test's "secret") from being
// treated as secrets and blanking unrelated text.
const minSecretLen = 8

// Add registers secret values to hide.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secrets == nil {
		r.secrets = map[string]bool{}
	}
	for _, v := range values {
		if len(v) >= minSecretLen {
			r.secrets[v] = true
		}
	}
}

// Redact hides the registered secrets and everything Redact recognises.
func (r *Redactor) Redact(s string) string {
	if r != nil {
		r.mu.RLock()
		for v := range r.secrets {
			if strings.Contains(s, v) {
				s = strings.ReplaceAll(s, v, redacted)
			}
		}
		r.mu.RUnlock()
	}
	return Redact(s)
}

// redactedError hides secrets in an error's text but keeps its chain, so
// errors.As still finds the SDK's typed errors.
type redactedError struct {
	r   *Redactor
	err error
}

func (e *redactedError) Error() string { return e.r.Redact(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }
