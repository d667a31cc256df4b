package guard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/guard"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

const (
	adminCaller = "arn:aws:sts::123456789012:assumed-role/Admin/guard"
	roleArn     = "arn:aws:iam::123456789012:role/EcsInstanceRole"
	topicArn    = "arn:aws:sns:us-east-1:123456789012:trunkctl-guard"
)

// fakeSSM keeps parameters in memory and counts calls.
type fakeSSM struct {
	mu           sync.Mutex
	params       map[string]string
	gets, puts   int
	getErr       error
	putErr       error
	lastPutInput *ssm.PutParameterInput
}

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	if f.getErr != nil {
		return nil, f.getErr
	}
	v, ok := f.params[aws.ToString(in.Name)]
	if !ok {
		return nil, &ssmtypes.ParameterNotFound{Message: aws.String("parameter not found")}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(v)}}, nil
}

func (f *fakeSSM) PutParameter(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	f.lastPutInput = in
	if f.putErr != nil {
		return nil, f.putErr
	}
	if f.params == nil {
		f.params = map[string]string{}
	}
	if in.Type != ssmtypes.ParameterTypeString || !aws.ToBool(in.Overwrite) {
		panic("the guard writes String parameters with Overwrite")
	}
	if len(aws.ToString(in.Value)) > 4096 {
		return nil, &ssmtypes.ParameterMaxVersionLimitExceeded{Message: aws.String("value too long for a Standard parameter")}
	}
	f.params[aws.ToString(in.Name)] = aws.ToString(in.Value)
	return &ssm.PutParameterOutput{}, nil
}

func (f *fakeSSM) counts() (gets, puts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets, f.puts
}

// fakeSNS records publishes.
type fakeSNS struct {
	mu   sync.Mutex
	msgs []*sns.PublishInput
	err  error
}

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	f.msgs = append(f.msgs, in)
	return &sns.PublishOutput{MessageId: aws.String("m-1")}, nil
}

func (f *fakeSNS) published() []*sns.PublishInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*sns.PublishInput(nil), f.msgs...)
}

// message decodes a published message.
func message(t *testing.T, in *sns.PublishInput) guard.Notification {
	t.Helper()
	var n guard.Notification
	dec := json.NewDecoder(strings.NewReader(aws.ToString(in.Message)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		t.Fatalf("message is not the contract's JSON: %v\n%s", err, aws.ToString(in.Message))
	}
	if n.Findings == nil || n.Resolved == nil {
		t.Errorf("findings and resolved must be arrays, never null: %s", aws.ToString(in.Message))
	}
	return n
}

// world is a Region of clusters (the first one readable through EC2 and
// IAM), an account, and the guard's state and topic.
type world struct {
	region   *inventorytest.Region
	acct     *accountsettingtest.Account
	ssm      *fakeSSM
	sns      *fakeSNS
	connects int
	metrics  *syncbuf.Buffer
	logs     *syncbuf.Buffer
	now      time.Time
}

// healthyWorld is cluster prod with two trunked instances whose role is
// enabled by its own setting; the account lets an administrator name a
// principalArn (the developer guide's rule).
func healthyWorld() *world {
	c := inventorytest.New()
	c.AddRole("EcsInstanceProfile", "EcsInstanceRole")
	c.AddRole("ServiceLinked", "AWSServiceRoleForECS")
	c.AddInstance(inventorytest.InstanceSpec{N: 1, Trunk: true})
	c.AddInstance(inventorytest.InstanceSpec{N: 2, Trunk: true, Type: "m5.xlarge"})
	c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 1, AWSVPC: true})
	a := accountsettingtest.New()
	a.Rule = accountsettingtest.RuleGuide
	a.AddRole("EcsInstanceRole", accountsettingtest.RoleState{})
	a.SetExplicit(roleArn, accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	return &world{region: &inventorytest.Region{Clusters: []*inventorytest.Cluster{c}}, acct: a,
		ssm: &fakeSSM{}, sns: &fakeSNS{}, metrics: &syncbuf.Buffer{}, logs: &syncbuf.Buffer{},
		now: time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC)}
}

func (w *world) prod() *inventorytest.Cluster { return w.region.Clusters[0] }

// session is the assessment the guard's main builds: principalArn first,
// never assuming a role.
func (w *world) session() *assess.Session {
	c := w.prod()
	loader := inventory.NewLoader(w.region.ECS(), c.EC2(), c.IAM(), 4)
	stsc := &accountsetting.OnceCaller{STSAPI: w.acct.STSAs(adminCaller)}
	return &assess.Session{Region: "us-east-1", Loader: loader, Signals: loader.Signals(c.AutoScaling(), c.CloudTrail()),
		Roles: accountsetting.Resolver{STS: stsc, ECS: w.acct.ECSAs(adminCaller), PrincipalArnFirst: true, NoAssume: true}}
}

func (w *world) guard(cfg guard.Config) *guard.Guard {
	if cfg.StatePrefix == "" {
		cfg.StatePrefix = guard.DefaultStatePrefix
	}
	return &guard.Guard{
		Config: cfg,
		Clients: func(context.Context) (*guard.Clients, error) {
			w.connects++
			return &guard.Clients{Session: w.session(), Clusters: w.region.ECS(), SNS: w.sns, SSM: w.ssm}, nil
		},
		Catalog: catalog.Default(),
		Now:     func() time.Time { return w.now },
		Log:     slog.New(slog.NewJSONHandler(w.logs, nil)),
		Metrics: w.metrics,
	}
}

// awsCalls counts every AWS call the guard made: reads of the clusters and
// of the account, state and topic.
func (w *world) awsCalls() int {
	n := len(w.acct.Calls())
	for _, c := range w.region.Clusters {
		n += c.TotalCalls()
	}
	gets, puts := w.ssm.counts()
	return n + gets + puts + len(w.sns.published())
}

// scheduled is the event of an EventBridge schedule.
func scheduled() json.RawMessage {
	return json.RawMessage(`{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-03-01T14:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/trunkctl-guard"],"detail":{}}`)
}

// stateChange is the ECS Container Instance State Change event of instance
// n of c, with the detail as ECS sends it (camelCase, the container
// instance's fields, clusterArn, resources and counts the guard ignores).
func stateChange(t *testing.T, c *inventorytest.Cluster, n int, edit ...func(map[string]any)) json.RawMessage {
	t.Helper()
	var ci map[string]any
	for _, x := range c.ContainerInstances {
		if aws.ToString(x.ContainerInstanceArn) != c.ContainerInstanceArn(n) {
			continue
		}
		var attrs []map[string]any
		for _, a := range x.Attributes {
			m := map[string]any{"name": aws.ToString(a.Name)}
			if a.Value != nil {
				m["value"] = *a.Value
			}
			attrs = append(attrs, m)
		}
		ci = map[string]any{
			"agentConnected": x.AgentConnected, "attributes": attrs, "clusterArn": c.ClusterArn(),
			"containerInstanceArn": aws.ToString(x.ContainerInstanceArn), "ec2InstanceId": aws.ToString(x.Ec2InstanceId),
			"registeredResources": []any{map[string]any{"name": "CPU", "type": "INTEGER", "integerValue": 2048}, map[string]any{"name": "PORTS", "type": "STRINGSET", "stringSetValue": []string{"22", "2376"}}},
			"remainingResources":  []any{map[string]any{"name": "CPU", "type": "INTEGER", "integerValue": 1024}},
			"status":              aws.ToString(x.Status), "version": 14801, "runningTasksCount": 1, "pendingTasksCount": 0,
			"updatedAt": "2026-03-01T13:59:58.123Z",
		}
		if x.RegisteredAt != nil {
			ci["registeredAt"] = x.RegisteredAt.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		if x.VersionInfo != nil {
			ci["versionInfo"] = map[string]any{"agentHash": "aebcbca", "agentVersion": aws.ToString(x.VersionInfo.AgentVersion), "dockerVersion": "DockerVersion: 25.0.8"}
		}
		if x.CapacityProviderName != nil {
			ci["capacityProviderName"] = *x.CapacityProviderName
		}
	}
	if ci == nil {
		t.Fatalf("no instance %d in %s", n, c.Name)
	}
	for _, e := range edit {
		e(ci)
	}
	ev := map[string]any{
		"version": "0", "id": "8952ba83-7be2-4ab5-9c32-6687532d15a2", "detail-type": "ECS Container Instance State Change",
		"source": "aws.ecs", "account": c.AccountID, "time": "2026-03-01T13:59:58Z", "region": c.Region,
		"resources": []string{c.ContainerInstanceArn(n)}, "detail": ci,
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// placementFailure is an ECS Service Action event of service in c.
func placementFailure(c *inventorytest.Cluster, service string, reasons ...string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": "57c9506e-9d21-294c-d2fe-e8738da7e67d", "detail-type": "ECS Service Action", "source": "aws.ecs",
		"account": c.AccountID, "time": "2026-03-01T13:59:00Z", "region": c.Region,
		"resources": []string{"arn:aws:ecs:" + c.Region + ":" + c.AccountID + ":service/" + c.Name + "/" + service},
		"detail": map[string]any{"eventType": "ERROR", "eventName": "SERVICE_TASK_PLACEMENT_FAILURE", "clusterArn": c.ClusterArn(),
			"capacityProviderArns": []string{}, "reasons": reasons, "createdAt": "2026-03-01T13:59:00.000Z"},
	})
	return b
}

func lines(b *syncbuf.Buffer) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

var _ = bytes.NewReader

// assessQuery is the query the guard's sweep makes of prod.
func assessQuery(w *world) assess.Query {
	return assess.Query{Cluster: "prod", Now: w.now, Catalog: catalog.Default(), StuckAfter: guard.DefaultStuckAfter}
}
