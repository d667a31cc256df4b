package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/contract"
	"github.com/trunkctl/trunkctl/internal/testutil/lambdaproc"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
)

// faultProxy sits between the function and moto_server and injects what moto
// cannot: the ECS API reference's rule (principalArn refused from anyone but
// root and the principal, unless allowPrincipalArn), AssumeRole AccessDenied
// (IAM propagation, a role that never trusts the function) and calls that hang. It records the operations it saw and
// the credentials moto issued, to prove they never reach the log.
type faultProxy struct {
	srv *httptest.Server

	mu sync.Mutex
	// denyAssume answers AccessDenied to this many AssumeRole calls; -1: all.
	denyAssume int
	denyMsg    string
	// hang blocks this operation until the caller gives up.
	hang string
	// fail answers this operation with a 500 ServerException, failN times.
	fail  string
	failN int
	// allowPrincipalArn lets ECS calls that name a principalArn through to
	// moto (the ECS developer guide's rule); else they are refused.
	allowPrincipalArn bool
	ops               []string
	secrets           []string
	// policies are the session policies AssumeRole calls carried ("" for none).
	policies []string
	// puts are the PutAccountSetting calls that named a principal, as
	// "PRINCIPAL=VALUE" (moto keeps one setting per account, so the proxy
	// is where a write to one role can be seen).
	puts []string
}

var credRe = regexp.MustCompile(`<(AccessKeyId|SecretAccessKey|SessionToken)>([^<]+)</`)

func newFaultProxy(t testing.TB, target string) *faultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(r *http.Response) error {
		if r.Request.Header.Get("X-Trunkctl-Op") != "AssumeRole" {
			return nil
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		p.mu.Lock()
		for _, m := range credRe.FindAllSubmatch(b, -1) {
			p.secrets = append(p.secrets, string(m[2]))
		}
		p.mu.Unlock()
		return nil
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, b, _ := moto.Operation(r)
		r.Header.Set("X-Trunkctl-Op", op)
		namesPrincipal := false
		var put string
		if r.Header.Get("X-Amz-Target") != "" {
			namesPrincipal = bytes.Contains(b, []byte(`"principalArn"`))
			var in struct{ PrincipalArn, Value string }
			if op == "PutAccountSetting" && json.Unmarshal(b, &in) == nil && in.PrincipalArn != "" {
				put = in.PrincipalArn + "=" + in.Value
			}
		}
		var policy string
		if op == "AssumeRole" {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			v, _ := url.ParseQuery(string(b))
			policy = v.Get("Policy")
		}
		p.mu.Lock()
		refuse := namesPrincipal && !p.allowPrincipalArn
		p.ops = append(p.ops, op)
		if op == "AssumeRole" {
			p.policies = append(p.policies, policy)
		}
		if put != "" && (!namesPrincipal || p.allowPrincipalArn) {
			p.puts = append(p.puts, put)
		}
		deny := op == "AssumeRole" && p.denyAssume != 0
		if deny && p.denyAssume > 0 {
			p.denyAssume--
		}
		msg, hang := p.denyMsg, op == p.hang
		fail := op == p.fail && p.failN > 0
		if fail {
			p.failN--
		}
		p.mu.Unlock()
		switch {
		case refuse:
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"InvalidParameterException","message":"You must be the root user or the principal to use principalArn"}`)
		case fail:
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"__type":"ServerException","message":"Service unavailable"}`)
		case hang:
			// Drain the body so the server notices when the caller hangs up.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		case deny:
			if msg == "" {
				msg = "User: arn:aws:sts::123456789012:assumed-role/trunkctl-fn/fn is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/EcsInstance"
			}
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>%s</Message></Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>`, msg)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *faultProxy) Ops() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.ops...)
}

// Puts returns the principal-naming PutAccountSetting calls since the last call.
func (p *faultProxy) Puts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.puts
	p.puts = nil
	return out
}

func (p *faultProxy) Policies() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.policies...)
}

func (p *faultProxy) Secrets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.secrets...)
}

// env points the function's STS and ECS at the proxy and everything else at moto.
func (p *faultProxy) env(m *moto.Server, propagationWait string) []string {
	var env []string
	for k, v := range m.EnvVars() {
		env = append(env, k+"="+v)
	}
	return append(env, "AWS_ENDPOINT_URL_STS="+p.srv.URL, "AWS_ENDPOINT_URL_ECS="+p.srv.URL, contract.PropagationWaitEnv+"="+propagationWait)
}

// motoEffective reads roleARN's effective setting from moto, as the role.
func motoEffective(t testing.TB, m *moto.Server) string {
	return motoCalls(t, m, roleARN, false)
}

// motoPutAndList makes the calls the function makes: assume, put, list twice.
func motoPutAndList(t testing.TB, m *moto.Server, role string) {
	motoCalls(t, m, role, true)
}

// motoCreateRole creates a role in moto's IAM (default account).
func motoCreateRole(t testing.TB, m *moto.Server, name string) {
	t.Helper()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "testing"), BaseEndpoint: aws.String(m.URL)}
	_, err := iam.NewFromConfig(cfg).CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatalf("create role %s in moto: %v", name, err)
	}
}

func motoCalls(t testing.TB, m *moto.Server, role string, put bool) string {
	t.Helper()
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "testing"), BaseEndpoint: aws.String(m.URL)}
	out, err := sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("e2e-check")})
	if err != nil {
		t.Fatalf("assume role in moto: %v", err)
	}
	c := out.Credentials
	cfg.Credentials = credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	client := ecs.NewFromConfig(cfg)
	if put {
		if _, err := client.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{Name: "awsvpcTrunking", Value: aws.String("enabled")}); err != nil {
			t.Fatalf("put account setting in moto: %v", err)
		}
		if _, err := client.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{Name: "awsvpcTrunking"}); err != nil {
			t.Fatalf("list account settings in moto: %v", err)
		}
	}
	list, err := client.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{Name: "awsvpcTrunking", EffectiveSettings: true})
	if err != nil {
		t.Fatalf("list account settings in moto: %v", err)
	}
	for _, s := range list.Settings {
		return aws.ToString(s.Value)
	}
	return ""
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end tests run the built function against moto_server")
	}
	m := moto.Start(t)
	// moto loads each service on first use (about a second); do it now so the
	// deadline-bound cases measure the function, not moto's start-up.
	motoEffective(t, m)
	lambdaBinary(t)

	// answer runs one event through a fresh function process and returns the
	// response the bucket got, checking the invariants every response keeps.
	type answer struct {
		decoded
		body     []byte
		inv      time.Time // deadline
		arrived  time.Time
		function *function
	}
	run := func(t *testing.T, f *function, b *bucket, ev cfn.Event, timeout time.Duration) answer {
		t.Helper()
		inv, res := f.invoke(t, ev, timeout)
		if res.Kind != "response" {
			t.Errorf("runtime got %s %s, want a response (the handler must not fail the invocation)", res.Kind, res.Body)
		}
		var p put
		select {
		case p = <-b.got:
		case <-time.After(time.Second):
			t.Fatalf("the bucket got no response\nfunction output:\n%s", f.Stderr)
		}
		if len(p.Body) > maxBody {
			t.Errorf("response body is %d bytes, want <= %d", len(p.Body), maxBody)
		}
		if !p.At.Before(inv.Deadline) {
			t.Errorf("response arrived %s after the invocation deadline", p.At.Sub(inv.Deadline))
		}
		if p.HasContentType && p.ContentType != "" {
			t.Errorf("response Content-Type = %q, want none", p.ContentType)
		}
		d := decode(t, p.Body)
		if d.PhysicalResourceID == "" {
			t.Errorf("empty PhysicalResourceId")
		}
		return answer{decoded: d, body: p.Body, inv: inv.Deadline, arrived: p.At, function: f}
	}
	noSecretsLogged := func(t *testing.T, f *function, p *faultProxy) {
		t.Helper()
		out := f.logQuiet()
		for _, s := range append(p.Secrets(), "SECRETSIGNATURE", "SECRETPRESIGNTOKEN", "X-Amz-") {
			if strings.Contains(out, s) {
				t.Errorf("function output contains a secret %q:\n%s", s, out)
			}
		}
	}

	t.Run("create, update and delete with OnDelete disable change the role's setting in moto", func(t *testing.T) {
		m.Reset(t)
		p := newFaultProxy(t, m.URL)
		b := newBucket(t)
		f := startFunction(t, p.env(m, "2s")...)
		pr := props("RoleArn", roleARN, "OnDelete", "disable")

		a := run(t, f, b, event(cfn.RequestCreate, b.URL(), pr), 10*time.Second)
		if a.Status != "SUCCESS" || a.PhysicalResourceID != ourID || a.Data["EffectiveValue"] != "enabled" || a.Data["PrincipalArn"] != roleARN || a.Data["Via"] != "assume-role" {
			t.Fatalf("create: %s %q %v %s", a.Status, a.PhysicalResourceID, a.Data, a.Reason)
		}
		if v := motoEffective(t, m); v != "enabled" {
			t.Errorf("moto has awsvpcTrunking=%q for the role after create, want enabled", v)
		}

		up := event(cfn.RequestUpdate, b.URL(), props("RoleArn", roleARN, "OnDelete", "disable", "Region", "us-east-1"))
		up.PhysicalResourceID, up.OldResourceProperties = ourID, pr
		if a := run(t, f, b, up, 10*time.Second); a.Status != "SUCCESS" || a.PhysicalResourceID != ourID {
			t.Fatalf("update: %s %q %s", a.Status, a.PhysicalResourceID, a.Reason)
		}

		del := event(cfn.RequestDelete, b.URL(), pr)
		del.PhysicalResourceID = ourID
		if a := run(t, f, b, del, 10*time.Second); a.Status != "SUCCESS" {
			t.Fatalf("delete: %s %s", a.Status, a.Reason)
		}
		if v := motoEffective(t, m); v != "disabled" {
			t.Errorf("moto has awsvpcTrunking=%q for the role after delete, want disabled", v)
		}
		if n := lambdaproc.Count(p.Ops(), "AssumeRole"); n != 3 {
			t.Errorf("AssumeRole calls = %d, want one per event: %v", n, p.Ops())
		}
		if len(p.Secrets()) == 0 {
			t.Fatal("the proxy saw no credentials; the secret check would prove nothing")
		}
		noSecretsLogged(t, f, p)
		outcomes := func(s string) int { return strings.Count(s, `"msg":"custom resource event"`) }
		if n := outcomes(f.logSettled(func(s string) bool { return outcomes(s) >= 3 })); n != 3 {
			t.Errorf("%d outcome log lines for 3 events:\n%s", n, f.Stderr)
		}
	})

	t.Run("where ECS accepts principalArn (the guide's rule) the function names the role and drops the session it assumed beside the write", func(t *testing.T) {
		m.Reset(t)
		p := newFaultProxy(t, m.URL)
		p.allowPrincipalArn = true
		b := newBucket(t)
		f := startFunction(t, p.env(m, "2s")...)
		// ECS takes a principalArn for any name: the function asks IAM first.
		a := run(t, f, b, event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN)), 10*time.Second)
		if a.Status != "FAILED" || !strings.Contains(a.Reason, "role "+roleARN+" does not exist") {
			t.Fatalf("create of a role IAM does not know: %s %s, want FAILED saying it does not exist", a.Status, a.Reason)
		}
		motoCreateRole(t, m, "EcsInstance")
		before := len(p.Ops())
		a = run(t, f, b, event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN)), 10*time.Second)
		if a.Status != "SUCCESS" || a.Data["EffectiveValue"] != "enabled" || a.Data["Via"] != "principal-arn" {
			t.Fatalf("create: %s %v %s", a.Status, a.Data, a.Reason)
		}
		if v := motoEffective(t, m); v != "enabled" {
			t.Errorf("moto has awsvpcTrunking=%q for the role, want enabled", v)
		}
		// The AssumeRole runs beside the principalArn write in place of the
		// ListAccountSettings probe (cancelled once the write is in, it may
		// not have been sent): at most three calls, two of them in turn.
		ops := p.Ops()[before:]
		if lambdaproc.Count(ops, "AssumeRole") > 1 || lambdaproc.Count(ops, "PutAccountSetting") != 1 || lambdaproc.Count(ops, "ListAccountSettings") != 1 || len(ops) > 3 {
			t.Errorf("calls = %v, want one PutAccountSetting, at most one AssumeRole beside it and one ListAccountSettings", ops)
		}
	})

	t.Run("AccessDenied while IAM propagates is retried until the role is assumable", func(t *testing.T) {
		m.Reset(t)
		p := newFaultProxy(t, m.URL)
		p.denyAssume = 2
		b := newBucket(t)
		f := startFunction(t, p.env(m, "3s")...)
		a := run(t, f, b, event(cfn.RequestCreate, b.URL(), props("EC2Role", roleARN, "Region", "us-east-1")), 10*time.Second)
		if a.Status != "SUCCESS" || a.Data["EffectiveValue"] != "enabled" {
			t.Fatalf("got %s %s\n%s", a.Status, a.Reason, f.Stderr)
		}
		if n := lambdaproc.Count(p.Ops(), "AssumeRole"); n != 3 {
			t.Errorf("AssumeRole calls = %d, want 3 (two denied): %v", n, p.Ops())
		}
		retries := func(s string) int { return strings.Count(s, "role not assumable yet") }
		if n := retries(f.logSettled(func(s string) bool { return retries(s) >= 2 })); n != 2 {
			t.Errorf("%d retry log lines, want 2:\n%s", n, f.Stderr)
		}
		noSecretsLogged(t, f, p)
	})

	t.Run("ECS 5xx answers are retried by the SDK and a failing bucket by the function", func(t *testing.T) {
		m.Reset(t)
		p := newFaultProxy(t, m.URL)
		p.fail, p.failN = "PutAccountSetting", 2
		b := newBucket(t)
		b.fail = 2
		f := startFunction(t, p.env(m, "2s")...)
		a := run(t, f, b, event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN)), 10*time.Second)
		if a.Status != "SUCCESS" {
			t.Fatalf("got %s %s", a.Status, a.Reason)
		}
		if n := lambdaproc.Count(p.Ops(), "PutAccountSetting"); n != 3 {
			t.Errorf("PutAccountSetting calls = %d, want 3 (two 500s, then success)", n)
		}
		attempts := func(s string) bool { return strings.Contains(s, `"response_attempts":3`) }
		if !attempts(f.logSettled(attempts)) {
			t.Errorf("the log does not show three response attempts:\n%s", f.Stderr)
		}
	})

	t.Run("a role that never becomes assumable is answered FAILED before the deadline", func(t *testing.T) {
		m.Reset(t)
		p := newFaultProxy(t, m.URL)
		p.denyAssume = -1
		b := newBucket(t)
		f := startFunction(t, p.env(m, "90s")...) // the deadline, not this, must bound the wait
		a := run(t, f, b, event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN)), 4*time.Second)
		if a.Status != "FAILED" || !strings.Contains(a.Reason, "access denied after") || !isCreateFailedID(a.PhysicalResourceID) {
			t.Fatalf("got %s %q %q", a.Status, a.PhysicalResourceID, a.Reason)
		}
		if ops := p.Ops(); lambdaproc.Count(ops, "AssumeRole") < 2 || lambdaproc.Count(ops, "PutAccountSetting") != 1 {
			t.Errorf("calls = %v, want repeated AssumeRole and only the refused principalArn put", ops)
		}
		if v := motoEffective(t, m); v == "enabled" {
			t.Errorf("moto has awsvpcTrunking=%q for the role, want it unchanged", v)
		}
	})

	t.Run("a hung ECS call is answered FAILED before the deadline saying what it was doing", func(t *testing.T) {
		m.Reset(t)
		p := newFaultProxy(t, m.URL)
		p.hang = "PutAccountSetting"
		b := newBucket(t)
		f := startFunction(t, p.env(m, "2s")...)
		a := run(t, f, b, event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN)), 3*time.Second)
		if a.Status != "FAILED" || !strings.Contains(a.Reason, "timed out after") || !strings.Contains(a.Reason, "while putting awsvpcTrunking=enabled as "+roleARN) {
			t.Fatalf("got %s %q", a.Status, a.Reason)
		}
		if left := a.inv.Sub(a.arrived); left > time.Second {
			t.Errorf("answered %s before the deadline; the guard gave up too early", left)
		}
	})

	t.Run("the delete after a failed create answers SUCCESS without calls", func(t *testing.T) {
		m.Reset(t)
		p := newFaultProxy(t, m.URL)
		b := newBucket(t)
		f := startFunction(t, p.env(m, "2s")...)
		bad := props("RoleArn", "arn:aws:iam::123456789012:user/EcsInstance", "OnDelete", "disable")
		a := run(t, f, b, event(cfn.RequestCreate, b.URL(), bad), 5*time.Second)
		if a.Status != "FAILED" || !strings.Contains(a.Reason, "invalid property RoleArn") || !isCreateFailedID(a.PhysicalResourceID) {
			t.Fatalf("create: %s %q %q", a.Status, a.PhysicalResourceID, a.Reason)
		}
		del := event(cfn.RequestDelete, b.URL(), bad)
		del.PhysicalResourceID = a.PhysicalResourceID
		if d := run(t, f, b, del, 5*time.Second); d.Status != "SUCCESS" || d.PhysicalResourceID != a.PhysicalResourceID {
			t.Fatalf("delete: %s %q %q", d.Status, d.PhysicalResourceID, d.Reason)
		}
		if ops := p.Ops(); len(ops) != 0 {
			t.Errorf("calls = %v, want none", ops)
		}
	})

	t.Run("an error message longer than 4096 bytes still gives a valid response under 4096 bytes", func(t *testing.T) {
		m.Reset(t)
		p := newFaultProxy(t, m.URL)
		p.denyAssume, p.denyMsg = -1, "denied: "+strings.Repeat("the trust policy of this role does not allow it &amp; ", 150)
		b := newBucket(t)
		f := startFunction(t, p.env(m, "0s")...)
		a := run(t, f, b, event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN)), 5*time.Second)
		if a.Status != "FAILED" || !strings.HasSuffix(a.Reason, truncatedSuffix) || !strings.Contains(a.Reason, "access denied after 1 attempt") {
			t.Fatalf("got %s, Reason of %d bytes ending %q", a.Status, len(a.Reason), a.Reason[max(0, len(a.Reason)-100):])
		}
		if len(a.body) < maxBody-200 {
			t.Errorf("body is %d bytes: truncated far more than needed", len(a.body))
		}
	})
}
