package hostsetup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/pkgverify"
	"github.com/trunkctl/trunkctl/internal/testutil/imdsmock"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

// fakeIMDS answers like IMDS, with the interface list changing over time:
// macs[i] is the answer to the i-th listing (the last one repeats).
type fakeIMDS struct {
	IMDSAPI // unexpected calls panic
	mu      sync.Mutex
	primary string
	macs    [][]string
	listed  int
}

func (f *fakeIMDS) GetInstanceIdentityDocument(context.Context, *imds.GetInstanceIdentityDocumentInput, ...func(*imds.Options)) (*imds.GetInstanceIdentityDocumentOutput, error) {
	return &imds.GetInstanceIdentityDocumentOutput{InstanceIdentityDocument: imds.InstanceIdentityDocument{
		InstanceID: "i-0fa4e0000000000aa", InstanceType: "c5.xlarge", Region: "eu-west-1", Architecture: "x86_64",
	}}, nil
}

func (f *fakeIMDS) GetMetadata(_ context.Context, in *imds.GetMetadataInput, _ ...func(*imds.Options)) (*imds.GetMetadataOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body string
	switch {
	case in.Path == "mac":
		body = f.primary
	case in.Path == "network/interfaces/macs/":
		i := min(f.listed, len(f.macs)-1)
		f.listed++
		for _, m := range f.macs[i] {
			body += m + "/\n"
		}
	case strings.HasSuffix(in.Path, "/interface-id"):
		body = "eni-" + strings.ReplaceAll(strings.Split(in.Path, "/")[3], ":", "")
	default:
		return nil, fmt.Errorf("no %s", in.Path)
	}
	return &imds.GetMetadataOutput{Content: io.NopCloser(strings.NewReader(body))}, nil
}

// agent is a fake introspection endpoint that reports an ARN from the
// registerAt-th request on (never when registerAt < 0).
type agent struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
}

func newAgent(t *testing.T, registerAt int) *agent {
	a := &agent{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.requests++
		n := a.requests
		a.mu.Unlock()
		if r.URL.Path != "/v1/metadata" {
			http.NotFound(w, r)
			return
		}
		if registerAt < 0 || n < registerAt {
			fmt.Fprint(w, `{"Cluster":"prod","Version":"Amazon ECS Agent - v1.89.0 (abc)"}`)
			return
		}
		fmt.Fprint(w, `{"Cluster":"prod","ContainerInstanceArn":"arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/0abc","Version":"Amazon ECS Agent - v1.89.0 (abc)"}`)
	}))
	t.Cleanup(a.Close)
	return a
}

const (
	primary = "0e:00:00:00:00:01"
	trunk   = "0e:00:00:00:00:02"
	eth1    = "0e:00:00:00:00:03"
)

func runWait(t *testing.T, fake IMDSAPI, introspection string, wait time.Duration) (*Report, string, error) {
	t.Helper()
	h := ecsOptimized(t)
	var log syncbuf.Buffer
	v, _ := pkgverify.AmazonECS()
	runner := newRunner("docker")
	runner.fail["systemctl is-active --quiet ecs"] = true
	o := Options{Cluster: "prod", Root: h.root, Wait: wait, IntrospectionURL: introspection, PollInterval: 5 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Run(ctx, o, Deps{IMDS: fake, Runner: runner, HTTP: NewHTTPClient(), Verifier: v, Catalog: catalog.Default(),
		Log: slog.New(slog.NewJSONHandler(&log, nil))})
	return r, log.String(), err
}

func TestWaitReportsRegistrationAndTheTrunkOnceBothAppear(t *testing.T) {
	fake := &fakeIMDS{primary: primary, macs: [][]string{{primary}, {primary}, {primary}, {primary, trunk}}}
	a := newAgent(t, 3)
	r, log, err := runWait(t, fake, a.URL+"/v1/metadata", 10*time.Second)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log)
	}
	w := r.Wait
	if w == nil || w.ContainerInstanceArn != "arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/0abc" ||
		w.TrunkMAC != trunk || w.TrunkInterfaceID != "eni-0e0000000002" || !strings.Contains(w.AgentVersion, "v1.89.0") {
		t.Errorf("wait report %+v", w)
	}
	if !strings.Contains(log, "ecs.service starts only after cloud-final.service") {
		t.Errorf("no warning about cloud-final ordering:\n%s", log)
	}
}

func TestWaitTimesOutWhenTheAgentNeverRegisters(t *testing.T) {
	t.Parallel() // waits out its deadline; touches no environment
	fake := &fakeIMDS{primary: primary, macs: [][]string{{primary}}}
	a := newAgent(t, -1)
	start := time.Now()
	r, _, err := runWait(t, fake, a.URL+"/v1/metadata", time.Second)
	var te *WaitTimeoutError
	if !errors.As(err, &te) || ExitCode(err) != ExitFailed {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(err.Error(), "did not report a container instance ARN") || !strings.Contains(err.Error(), "without a container instance ARN") {
		t.Errorf("message %q", err)
	}
	if r.Wait == nil || r.Wait.ContainerInstanceArn != "" || time.Since(start) > 10*time.Second {
		t.Errorf("report %+v after %s", r.Wait, time.Since(start))
	}
}

func TestWaitTimesOutWhenTheAgentIsUnreachable(t *testing.T) {
	t.Parallel() // waits out its deadline; touches no environment
	fake := &fakeIMDS{primary: primary, macs: [][]string{{primary}}}
	_, _, err := runWait(t, fake, "http://127.0.0.1:1/v1/metadata", 100*time.Millisecond)
	if !strings.Contains(fmt.Sprint(err), "did not report a container instance ARN") {
		t.Fatalf("err %v", err)
	}
}

func TestWaitSaysWhenTheInstanceRegisteredWithoutATrunk(t *testing.T) {
	t.Parallel() // waits out its deadline; touches no environment
	fake := &fakeIMDS{primary: primary, macs: [][]string{{primary}}}
	a := newAgent(t, 1)
	r, _, err := runWait(t, fake, a.URL+"/v1/metadata", time.Second)
	var te *WaitTimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{"registered as arn:aws:ecs:", "no trunk ENI appeared", primary, "awsvpcTrunking"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %s", want, err)
		}
	}
	if r.Wait.ContainerInstanceArn == "" || r.Wait.TrunkMAC != "" {
		t.Errorf("report %+v", r.Wait)
	}
}

func TestAnInterfaceThatWasThereAtStartIsNotTakenForTheTrunkOnAFreshRegistration(t *testing.T) {
	t.Parallel() // waits out its deadline; touches no environment
	fake := &fakeIMDS{primary: primary, macs: [][]string{{primary, eth1}}}
	a := newAgent(t, 2) // registers during this run
	_, _, err := runWait(t, fake, a.URL+"/v1/metadata", time.Second)
	var te *WaitTimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("took a launch-time interface for the trunk: err %v", err)
	}
}

func TestOnARerunAnAlreadyAttachedTrunkIsReported(t *testing.T) {
	m := imdsmock.Start(t, imdsmock.Instance{ExtraInterface: true})
	m.Env(t)
	a := newAgent(t, 1) // registered before this run
	r, log, err := runWait(t, NewIMDSClient(), a.URL+"/v1/metadata", 5*time.Second)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log)
	}
	if r.Wait.TrunkMAC != imdsmock.ExtraMAC {
		t.Errorf("trunk %q, want %s (interfaces %v)", r.Wait.TrunkMAC, imdsmock.ExtraMAC, r.Wait.Interfaces)
	}
}

func TestADryRunDoesNotWait(t *testing.T) {
	fake := &fakeIMDS{primary: primary, macs: [][]string{{primary}}}
	h := ecsOptimized(t)
	v, _ := pkgverify.AmazonECS()
	runner := newRunner("docker")
	o := Options{Cluster: "prod", Root: h.root, Wait: time.Hour, DryRun: true, IntrospectionURL: "http://127.0.0.1:1/v1/metadata"}
	r, err := Run(context.Background(), o, Deps{IMDS: fake, Runner: runner, HTTP: NewHTTPClient(), Verifier: v, Catalog: catalog.Default()})
	if err != nil || r.Wait != nil || len(runner.commands) != 0 {
		t.Fatalf("err %v wait %+v commands %v", err, r.Wait, runner.ran())
	}
}
