package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/testutil/lambdaproc"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

// rieFunction is the built function run by AWS's Lambda Runtime Interface
// Emulator.
type rieFunction struct{ *lambdaproc.RIEFunction }

// startRIE runs rie with the function binary, the timeout in whole seconds
// and env, and stops both when the test ends.
func startRIE(t *testing.T, rie, bin string, timeoutSec int, env ...string) rieFunction {
	t.Helper()
	return rieFunction{lambdaproc.StartRIE(t, rie, []string{bin}, timeoutSec, env...)}
}

// invoke sends ev as the emulator's caller would and returns the function's
// answer to the emulator (null when the handler returned no error).
func (f rieFunction) invoke(t *testing.T, ev cfn.Event, wait time.Duration) []byte {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return f.Invoke(t, payload, wait)
}

// The emulator invokes the function as
// arn:aws:lambda:us-east-1:012345678912:function:NAME, so the function's own
// account there is 012345678912 and the opted-in role must be in it.
const (
	rieRoleARN = "arn:aws:iam::012345678912:role/EcsInstance"
	rieOurID   = "trunkctl/awsvpcTrunking/" + rieRoleARN
)

func TestUnderTheRuntimeInterfaceEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("the emulator tests run the built function against moto_server")
	}
	rie := peer.BuiltTool(t, "aws-lambda-rie", lambdaproc.RIEBinaryEnv)
	m := moto.Start(t)
	motoEffective(t, m)
	bin := lambdaBinary(t)

	t.Run("a Create opts the role in and answers SUCCESS", func(t *testing.T) {
		m.Reset(t)
		p := newFaultProxy(t, m.URL)
		b := newBucket(t)
		f := startRIE(t, rie, bin, 10, p.env(m, "2s")...)
		ev := event(cfn.RequestCreate, b.URL(), props("RoleArn", rieRoleARN))
		if got := f.invoke(t, ev, 15*time.Second); strings.TrimSpace(string(got)) != "null" {
			t.Errorf("the function answered the emulator %s, want null (the response went to the bucket)", got)
		}
		select {
		case pt := <-b.got:
			if d := decode(t, pt.Body); d.Status != "SUCCESS" || d.PhysicalResourceID != rieOurID || d.Data["EffectiveValue"] != "enabled" {
				t.Fatalf("response %s %q %v %s", d.Status, d.PhysicalResourceID, d.Data, d.Reason)
			}
		case <-time.After(time.Second):
			t.Fatalf("the bucket got no response\noutput:\n%s", f.Out)
		}
		if v := motoCalls(t, m, rieRoleARN, false); v != "enabled" {
			t.Errorf("moto has awsvpcTrunking=%q for the role, want enabled", v)
		}
		pols := p.Policies()
		if len(pols) == 0 {
			t.Errorf("no AssumeRole reached STS (calls %v)", p.Ops())
		}
		for _, pol := range pols {
			if pol != accountsetting.SessionPolicy("awsvpcTrunking") {
				t.Errorf("AssumeRole carried session policy %q, want the account-setting-only policy", pol)
			}
		}
	})

	t.Run("a Create for a role of another account answers FAILED naming both accounts and calls nothing", func(t *testing.T) {
		m.Reset(t)
		p := newFaultProxy(t, m.URL)
		b := newBucket(t)
		f := startRIE(t, rie, bin, 10, p.env(m, "2s")...)
		f.invoke(t, event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN)), 15*time.Second)
		select {
		case pt := <-b.got:
			d := decode(t, pt.Body)
			if d.Status != "FAILED" || !strings.Contains(d.Reason, "account 123456789012") || !strings.Contains(d.Reason, "account 012345678912") {
				t.Fatalf("response %s %q, want FAILED naming both accounts", d.Status, d.Reason)
			}
		case <-time.After(time.Second):
			t.Fatalf("the bucket got no response\noutput:\n%s", f.Out)
		}
		if ops := p.Ops(); len(ops) != 0 {
			t.Errorf("STS/ECS saw %v, want no call", ops)
		}
	})

	t.Run("a hung ECS call is answered FAILED before the emulator's deadline", func(t *testing.T) {
		m.Reset(t)
		p := newFaultProxy(t, m.URL)
		p.hang = "PutAccountSetting"
		b := newBucket(t)
		const timeout = 3 * time.Second
		f := startRIE(t, rie, bin, int(timeout/time.Second), p.env(m, "2s")...)
		start := time.Now()
		f.invoke(t, event(cfn.RequestCreate, b.URL(), props("RoleArn", rieRoleARN)), timeout+5*time.Second)
		select {
		case pt := <-b.got:
			d := decode(t, pt.Body)
			if d.Status != "FAILED" || !strings.Contains(d.Reason, "timed out after") || !strings.Contains(d.Reason, "while putting awsvpcTrunking=enabled as "+rieRoleARN) {
				t.Fatalf("response %s %q", d.Status, d.Reason)
			}
			if took := pt.At.Sub(start); took >= timeout {
				t.Errorf("answered %s after the invoke, at or past the %s timeout", took, timeout)
			}
		case <-time.After(time.Second):
			t.Fatalf("the bucket got no response\noutput:\n%s", f.Out)
		}
	})
}

func TestTheArm64BootstrapAnswersACreateUnderQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dist/lambda.zip's arm64 bootstrap against moto_server")
	}
	runner := peer.Arm64Runner(t)
	zipPath := peer.Artifact(t, "dist/lambda.zip", "lambda")
	bootstrap := lambdaproc.UnzipBootstrap(t, zipPath)
	m := moto.Start(t)
	motoEffective(t, m)
	p := newFaultProxy(t, m.URL)
	b := newBucket(t)
	f := &function{lambdaproc.StartCombined(t, append(runner, bootstrap), p.env(m, "2s")...)}
	// Emulated, the Go runtime and the SDK start a few times slower.
	_, res := f.invoke(t, event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN)), 20*time.Second)
	if res.Kind != "response" {
		t.Fatalf("runtime got %s %s\noutput:\n%s", res.Kind, res.Body, f.Stderr)
	}
	select {
	case pt := <-b.got:
		if d := decode(t, pt.Body); d.Status != "SUCCESS" || d.PhysicalResourceID != ourID {
			t.Fatalf("response %s %q %s", d.Status, d.PhysicalResourceID, d.Reason)
		}
	case <-time.After(time.Second):
		t.Fatalf("the bucket got no response\noutput:\n%s", f.Stderr)
	}
}

// The member template's list resource, replayed as CloudFormation drives it
// (create, a reorder, a swap, then a removal from the middle, with
// OnDelete=disable), through the real function under AWS's emulator against
// moto: no role that stays listed is ever written disabled. moto keeps one
// setting per account whatever the principal, so the writes are read at the
// proxy, where each names its role (principalArn, the member template's path).
func TestTheListResourceUnderTheEmulatorDisablesOnlyRolesThatLeftTheList(t *testing.T) {
	if testing.Short() {
		t.Skip("the emulator tests run the built function against moto_server")
	}
	rie := peer.BuiltTool(t, "aws-lambda-rie", lambdaproc.RIEBinaryEnv)
	// The emulator says the function runs in 012345678912: moto's roles are there.
	m := moto.StartAccount(t, "012345678912")
	bin := lambdaBinary(t)
	const acct = "arn:aws:iam::012345678912:role/"
	names := map[string]string{"a": "ecsInstanceRole", "b": "ops/legacy-ecs", "c": "thirdRole"}
	for _, n := range names {
		path, name := "/", n
		if i := strings.LastIndex(n, "/"); i >= 0 {
			path, name = "/"+n[:i+1], n[i+1:]
		}
		motoCreateRoleAt(t, m, path, name)
	}
	p := newFaultProxy(t, m.URL)
	p.allowPrincipalArn = true
	b := newBucket(t)
	f := startRIE(t, rie, bin, 10, p.env(m, "2s")...)

	var id string
	var old map[string]any
	send := func(reqType cfn.RequestType, keys ...string) []string {
		t.Helper()
		ns := make([]any, len(keys))
		for i, k := range keys {
			ns[i] = names[k]
		}
		pr := map[string]any{"ServiceToken": propToken, "RoleNames": ns, "OnDelete": "disable"}
		ev := event(reqType, b.URL(), pr)
		ev.ResourceType, ev.PhysicalResourceID, ev.OldResourceProperties = "Custom::EniTrunkingRoles", id, old
		f.invoke(t, ev, 15*time.Second)
		select {
		case pt := <-b.got:
			d := decode(t, pt.Body)
			if d.Status != "SUCCESS" {
				t.Fatalf("%s %v: %s %s\noutput:\n%s", reqType, keys, d.Status, d.Reason, f.Out)
			}
			if id != "" && d.PhysicalResourceID != id {
				t.Errorf("%s changed the physical id from %s to %s", reqType, id, d.PhysicalResourceID)
			}
			id, old = d.PhysicalResourceID, pr
		case <-time.After(time.Second):
			t.Fatalf("the bucket got no response\noutput:\n%s", f.Out)
		}
		puts := p.Puts()
		slices.Sort(puts)
		return puts
	}
	w := func(keys string, value string) []string {
		var out []string
		for _, k := range keys {
			out = append(out, acct+names[string(k)]+"="+value)
		}
		slices.Sort(out)
		return out
	}
	for _, step := range []struct {
		name    string
		reqType cfn.RequestType
		list    []string
		want    []string
	}{
		{"create", cfn.RequestCreate, []string{"a", "b", "c"}, w("abc", "enabled")},
		{"a reorder", cfn.RequestUpdate, []string{"c", "b", "a"}, w("abc", "enabled")},
		{"a swap", cfn.RequestUpdate, []string{"c", "a", "b"}, w("abc", "enabled")},
		{"removing ops/legacy-ecs from the middle", cfn.RequestUpdate, []string{"c", "a"}, append(w("ac", "enabled"), w("b", "disabled")...)},
	} {
		got := send(step.reqType, step.list...)
		slices.Sort(step.want)
		if !slices.Equal(got, step.want) {
			t.Errorf("%s wrote\n%s\nwant\n%s", step.name, strings.Join(got, "\n"), strings.Join(step.want, "\n"))
		}
	}
	// Each write is the principalArn write with an AssumeRole started
	// beside it (dropped once ECS takes the write): never more AssumeRoles
	// than writes, and no write made twice (as the role after a refusal).
	if calls := p.Ops(); lambdaproc.Count(calls, "AssumeRole") > lambdaproc.Count(calls, "PutAccountSetting") {
		t.Errorf("more AssumeRole than writes on the principalArn path: %v", calls)
	}
}

// motoCreateRoleAt creates a role with a path in moto's default account.
func motoCreateRoleAt(t testing.TB, m *moto.Server, path, name string) {
	t.Helper()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "testing"), BaseEndpoint: aws.String(m.URL)}
	_, err := iam.NewFromConfig(cfg).CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String(path),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatalf("create role %s%s in moto: %v", path, name, err)
	}
}
