package guard_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/guard"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

func TestStateChangeEvents(t *testing.T) {
	ctx := context.Background()

	t.Run("20 state-change events for the same untrunked instance publish once", func(t *testing.T) {
		w := healthyWorld()
		w.prod().AddInstance(inventorytest.InstanceSpec{N: 3})
		g := w.guard(guard.Config{TopicArn: topicArn})
		for i := 0; i < 20; i++ {
			if err := g.Handle(ctx, stateChange(t, w.prod(), 3)); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
		pubs := w.sns.published()
		if len(pubs) != 1 {
			t.Fatalf("%d publishes, want 1", len(pubs))
		}
		gets, puts := w.ssm.counts()
		if gets != 20 || puts != 1 {
			t.Errorf("GetParameter %d, PutParameter %d; want 20 and 1", gets, puts)
		}
		if n := w.prod().TotalCalls() + len(w.acct.Calls()); n != 0 {
			t.Errorf("the event path read the cluster or account (%d calls); it judges from the detail alone", n)
		}
		n := message(t, pubs[0])
		if len(n.Findings) != 1 || n.Findings[0].Check != "instance" || n.Findings[0].Subject != inventorytest.InstanceID(3) || n.Findings[0].Severity != "error" {
			t.Errorf("findings %+v, want one error on instance %s", n.Findings, inventorytest.InstanceID(3))
		}
		if n.Cluster != "prod" || n.Account != "123456789012" || n.Region != "us-east-1" || len(n.Resolved) != 0 {
			t.Errorf("message %+v", n)
		}
		if s := aws.ToString(pubs[0].Subject); s != "trunkctl: 1 instance without a trunk in prod" {
			t.Errorf("subject %q", s)
		}
		if !strings.Contains(n.Findings[0].Fix, "trunkctl doctor --cluster prod") {
			t.Errorf("fix %q should send the reader to doctor, which reads the role", n.Findings[0].Fix)
		}
		if got := w.ssm.params["/trunkctl/guard/prod"]; got != `["instance `+inventorytest.InstanceID(3)+`"]` {
			t.Errorf("state %q", got)
		}
	})

	quiet := []struct {
		name  string
		build func(w *world)
		cfg   guard.Config
		n     int
		edit  func(map[string]any)
	}{
		{name: "a trunked instance makes no AWS call", n: 1},
		{name: "a Managed Instance (no agent version, a capacity provider) is silent",
			build: func(w *world) {
				w.prod().AddInstance(inventorytest.InstanceSpec{N: 3})
				w.prod().AddCapacityProvider("managed-cp", "")
				w.prod().MakeManaged(3, "managed-cp")
			}, n: 3},
		{name: "an instance without versionInfo is left to the sweep",
			build: func(w *world) { w.prod().AddInstance(inventorytest.InstanceSpec{N: 3}) }, n: 3,
			edit: func(m map[string]any) { delete(m, "versionInfo") }},
		{name: "an instance of a cluster outside CLUSTERS makes no AWS call",
			build: func(w *world) { w.prod().AddInstance(inventorytest.InstanceSpec{N: 3}) }, n: 3, cfg: guard.Config{Clusters: []string{"other"}}},
		{name: "a registering instance is silent",
			build: func(w *world) { w.prod().AddInstance(inventorytest.InstanceSpec{N: 3, Status: "REGISTERING"}) }, n: 3},
		{name: "a draining instance is left to the sweep",
			build: func(w *world) { w.prod().AddInstance(inventorytest.InstanceSpec{N: 3, Status: "DRAINING"}) }, n: 3},
		{name: "a deregistered instance is silent",
			build: func(w *world) { w.prod().AddInstance(inventorytest.InstanceSpec{N: 3, Status: "INACTIVE"}) }, n: 3},
		{name: "an instance type the catalog does not know is only a warning, not notified",
			build: func(w *world) { w.prod().AddInstance(inventorytest.InstanceSpec{N: 3, Type: "zz9.large"}) }, n: 3},
	}
	for _, tc := range quiet {
		t.Run(tc.name, func(t *testing.T) {
			w := healthyWorld()
			if tc.build != nil {
				tc.build(w)
			}
			cfg := tc.cfg
			cfg.TopicArn = topicArn
			g := w.guard(cfg)
			var edits []func(map[string]any)
			if tc.edit != nil {
				edits = append(edits, tc.edit)
			}
			for i := 0; i < 5; i++ {
				if err := g.Handle(ctx, stateChange(t, w.prod(), tc.n, edits...)); err != nil {
					t.Fatal(err)
				}
			}
			if n := w.awsCalls(); n != 0 || w.connects != 0 {
				t.Errorf("%d AWS calls, %d connects; want none", n, w.connects)
			}
			if m := w.metrics.String(); m != "" {
				t.Errorf("an event wrote metrics: %s", m)
			}
		})
	}

	t.Run("an instance whose agent cannot trunk is notified with the judge's verdict", func(t *testing.T) {
		w := healthyWorld()
		w.prod().AddInstance(inventorytest.InstanceSpec{N: 3})
		w.prod().RemoveAttributes(3, "ecs.capability.task-eni-trunking")
		g := w.guard(guard.Config{TopicArn: topicArn})
		if err := g.Handle(ctx, stateChange(t, w.prod(), 3)); err != nil {
			t.Fatal(err)
		}
		pubs := w.sns.published()
		if len(pubs) != 1 {
			t.Fatalf("%d publishes, want 1", len(pubs))
		}
		if f := message(t, pubs[0]).Findings[0]; !strings.Contains(f.Message, "the agent cannot trunk") || !strings.Contains(f.Fix, "ECS_ENABLE_TASK_ENI") {
			t.Errorf("finding %+v", f)
		}
	})

	t.Run("a failed publish fails the invocation and keeps the state, so the retry notifies", func(t *testing.T) {
		w := healthyWorld()
		w.prod().AddInstance(inventorytest.InstanceSpec{N: 3})
		w.sns.err = inventorytest.APIError("ThrottlingException", "Rate exceeded")
		g := w.guard(guard.Config{TopicArn: topicArn})
		if err := g.Handle(ctx, stateChange(t, w.prod(), 3)); err == nil {
			t.Fatal("a failed publish was acknowledged")
		}
		if _, puts := w.ssm.counts(); puts != 0 {
			t.Errorf("state written although nothing was published")
		}
		w.sns.err = nil
		if err := g.Handle(ctx, stateChange(t, w.prod(), 3)); err != nil {
			t.Fatal(err)
		}
		if len(w.sns.published()) != 1 {
			t.Errorf("the retry did not notify")
		}
	})

	t.Run("the event path and the next sweep compare like with like", func(t *testing.T) {
		w := healthyWorld()
		w.prod().AddInstance(inventorytest.InstanceSpec{N: 3})
		g := w.guard(guard.Config{TopicArn: topicArn})
		if err := g.Handle(ctx, stateChange(t, w.prod(), 3)); err != nil {
			t.Fatal(err)
		}
		res, err := g.SweepResults(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || len(res[0].Findings) != 1 || res[0].Findings[0].Check != "instance" || res[0].Findings[0].Subject != inventorytest.InstanceID(3) {
			t.Fatalf("sweep findings %+v", res)
		}
		if pubs := w.sns.published(); len(pubs) != 1 {
			t.Errorf("%d publishes, want 1: the sweep found what the event notified", len(pubs))
		}
	})
}

func TestSweep(t *testing.T) {
	ctx := context.Background()

	t.Run("a sweep notifies the error findings once, then stays quiet", func(t *testing.T) {
		w := healthyWorld()
		w.prod().AddInstance(inventorytest.InstanceSpec{N: 3})
		w.prod().AddInstance(inventorytest.InstanceSpec{N: 4, Type: "t3.large"})
		g := w.guard(guard.Config{TopicArn: topicArn})
		for i := 0; i < 3; i++ {
			if err := g.Handle(ctx, scheduled()); err != nil {
				t.Fatal(err)
			}
		}
		pubs := w.sns.published()
		if len(pubs) != 1 {
			t.Fatalf("%d publishes over 3 sweeps, want 1", len(pubs))
		}
		n := message(t, pubs[0])
		var subjects []string
		for _, f := range n.Findings {
			subjects = append(subjects, f.Check+" "+f.Subject)
			if f.Severity != "error" || f.Message == "" || f.Fix == "" {
				t.Errorf("finding %+v", f)
			}
		}
		want := "instance " + inventorytest.InstanceID(3) + ",instance " + inventorytest.InstanceID(4)
		if strings.Join(subjects, ",") != want {
			t.Errorf("findings %v, want %s", subjects, want)
		}
		if s := aws.ToString(pubs[0].Subject); s != "trunkctl: 2 instances without a trunk in prod" {
			t.Errorf("subject %q", s)
		}
		if n.Account != "123456789012" || n.Region != "us-east-1" {
			t.Errorf("account %q region %q", n.Account, n.Region)
		}
		if gets, puts := w.ssm.counts(); gets != 3 || puts != 1 {
			t.Errorf("GetParameter %d PutParameter %d, want 3 and 1", gets, puts)
		}
	})

	t.Run("a resolved state publishes one resolved message", func(t *testing.T) {
		w := healthyWorld()
		w.prod().AddInstance(inventorytest.InstanceSpec{N: 3})
		g := w.guard(guard.Config{TopicArn: topicArn})
		if err := g.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		// Instance 3 is replaced by a trunked one.
		w.prod().Change(func() {
			w.prod().ContainerInstances = w.prod().ContainerInstances[:2]
		})
		w.prod().AddInstance(inventorytest.InstanceSpec{N: 5, Trunk: true})
		for i := 0; i < 2; i++ {
			if err := g.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		pubs := w.sns.published()
		if len(pubs) != 2 {
			t.Fatalf("%d publishes, want 2 (the finding, then its resolution)", len(pubs))
		}
		n := message(t, pubs[1])
		if len(n.Findings) != 0 || len(n.Resolved) != 1 || n.Resolved[0].Check != "instance" || n.Resolved[0].Subject != inventorytest.InstanceID(3) {
			t.Errorf("resolved message %s", aws.ToString(pubs[1].Message))
		}
		if !strings.Contains(aws.ToString(pubs[1].Message), `"findings":[]`) {
			t.Errorf("findings must be [] when resolved: %s", aws.ToString(pubs[1].Message))
		}
		if s := aws.ToString(pubs[1].Subject); s != "trunkctl: 1 resolved, nothing left in prod" {
			t.Errorf("subject %q", s)
		}
		if got := w.ssm.params["/trunkctl/guard/prod"]; got != "[]" {
			t.Errorf("state %q, want []", got)
		}
	})

	t.Run("a denied cluster beside a healthy one is skipped and the other judged", func(t *testing.T) {
		w := healthyWorld()
		w.prod().AddInstance(inventorytest.InstanceSpec{N: 3})
		denied := inventorytest.New()
		denied.Name = "payments"
		denied.Fail["ecs:DescribeClusters"] = inventorytest.APIError("AccessDeniedException", "User is not authorized to perform: ecs:DescribeClusters")
		w.region.Clusters = append(w.region.Clusters, denied)
		g := w.guard(guard.Config{TopicArn: topicArn})
		res, err := g.SweepResults(ctx)
		if err != nil {
			t.Fatalf("one denied cluster failed the sweep: %v", err)
		}
		byName := map[string]guard.ClusterResult{}
		for _, r := range res {
			byName[r.Cluster] = r
		}
		if r := byName["payments"]; r.Err == nil || !strings.Contains(r.Err.Error(), "AccessDenied") {
			t.Errorf("payments: %+v", r)
		}
		if r := byName["prod"]; r.Err != nil || !r.Notified {
			t.Errorf("prod: %+v", r)
		}
		if len(w.sns.published()) != 1 {
			t.Errorf("%d publishes, want 1 (prod)", len(w.sns.published()))
		}
		if !strings.Contains(w.logs.String(), `"cluster":"payments"`) {
			t.Errorf("the skipped cluster was not logged:\n%s", w.logs)
		}
		if len(lines(w.metrics)) != 1 {
			t.Errorf("metrics for %d clusters, want 1 (the judged one)", len(lines(w.metrics)))
		}
	})

	t.Run("a sweep in which every cluster failed fails the invocation", func(t *testing.T) {
		w := healthyWorld()
		w.prod().Fail["ecs:ListContainerInstances"] = inventorytest.APIError("ThrottlingException", "Rate exceeded")
		g := w.guard(guard.Config{TopicArn: topicArn})
		err := g.Handle(ctx, scheduled())
		if !errors.Is(err, guard.ErrEveryClusterFailed) {
			t.Fatalf("err %v, want ErrEveryClusterFailed", err)
		}
	})

	t.Run("CLUSTERS limits the sweep without listing clusters", func(t *testing.T) {
		w := healthyWorld()
		other := inventorytest.New()
		other.Name = "other"
		w.region.Clusters = append(w.region.Clusters, other)
		g := w.guard(guard.Config{TopicArn: topicArn, Clusters: []string{"prod"}})
		res, err := g.SweepResults(ctx)
		if err != nil || len(res) != 1 || res[0].Cluster != "prod" {
			t.Fatalf("%+v %v", res, err)
		}
		if other.TotalCalls() != 0 {
			t.Errorf("the cluster outside CLUSTERS was read")
		}
	})

	t.Run("a refused principalArn is a warning on the role, and no role is assumed", func(t *testing.T) {
		w := healthyWorld()
		w.acct.Rule = accountsettingtest.RuleAPIReference
		g := w.guard(guard.Config{TopicArn: topicArn})
		res, err := g.SweepResults(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(res[0].Findings) != 0 || len(w.sns.published()) != 0 {
			t.Errorf("a role the guard could not read made error findings: %+v", res[0].Findings)
		}
		if w.acct.HasOp("AssumeRole") {
			t.Errorf("the guard assumed an instance role: %s", w.acct)
		}
		var sess *guard.Clients
		sess, _ = g.Clients(ctx)
		a, err := sess.Session.Assess(ctx, assessQuery(w))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range a.Report.Findings {
			if f.Check == "role-opt-in" && f.Subject == roleArn {
				found = true
				if f.Severity != "warning" || !strings.Contains(f.Message, "does not assume instance roles") {
					t.Errorf("role finding %+v", f)
				}
			}
		}
		if !found {
			t.Errorf("no role-opt-in finding for the unread role: %+v", a.Report.Findings)
		}
	})

	t.Run("one EMF line per judged cluster with the contract's metrics", func(t *testing.T) {
		w := healthyWorld()
		w.prod().AddInstance(inventorytest.InstanceSpec{N: 3})
		w.prod().AddInstance(inventorytest.InstanceSpec{N: 4, Status: "REGISTERING"})
		g := w.guard(guard.Config{})
		if err := g.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		ls := lines(w.metrics)
		if len(ls) != 1 {
			t.Fatalf("%d lines, want 1", len(ls))
		}
		var doc struct {
			AWS struct {
				Timestamp         int64
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name, Unit string }
				}
			} `json:"_aws"`
			ClusterName                                         string
			UntrunkedInstances, TrunkedInstances, ErrorFindings int
		}
		if err := json.Unmarshal([]byte(ls[0]), &doc); err != nil {
			t.Fatal(err)
		}
		m := doc.AWS.CloudWatchMetrics
		if len(m) != 1 || m[0].Namespace != "trunkctl" || len(m[0].Dimensions) != 2 || len(m[0].Dimensions[0]) != 1 || m[0].Dimensions[0][0] != "ClusterName" || len(m[0].Dimensions[1]) != 0 || len(m[0].Metrics) != 3 {
			t.Errorf("EMF directive %+v", m)
		}
		if doc.AWS.Timestamp != w.now.UnixMilli() || doc.ClusterName != "prod" || doc.UntrunkedInstances != 1 || doc.TrunkedInstances != 2 || doc.ErrorFindings != 1 {
			t.Errorf("EMF values %+v", doc)
		}
		if gets, _ := w.ssm.counts(); gets != 1 || len(w.sns.published()) != 0 {
			t.Errorf("without TOPIC_ARN there must be no publish (state still kept)")
		}
	})

	t.Run("a state too long for a parameter is kept as its hash and still compared", func(t *testing.T) {
		w := healthyWorld()
		for n := 3; n < 203; n++ {
			w.prod().AddInstance(inventorytest.InstanceSpec{N: n})
		}
		g := w.guard(guard.Config{TopicArn: topicArn})
		for i := 0; i < 2; i++ {
			if err := g.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		v := w.ssm.params["/trunkctl/guard/prod"]
		if !strings.HasPrefix(v, "sha256:") || len(v) != len("sha256:")+64 {
			t.Errorf("state %q, want sha256:HEX", v)
		}
		if len(w.sns.published()) != 1 {
			t.Errorf("%d publishes, want 1", len(w.sns.published()))
		}
		if s := aws.ToString(w.sns.published()[0].Subject); s != "trunkctl: 200 instances without a trunk in prod" {
			t.Errorf("subject %q", s)
		}
	})
}

func TestServiceAction(t *testing.T) {
	ctx := context.Background()
	t.Run("a RESOURCE:ENI placement failure is notified once per service", func(t *testing.T) {
		w := healthyWorld()
		g := w.guard(guard.Config{TopicArn: topicArn})
		for i := 0; i < 3; i++ {
			if err := g.Handle(ctx, placementFailure(w.prod(), "web", "RESOURCE:ENI")); err != nil {
				t.Fatal(err)
			}
		}
		pubs := w.sns.published()
		if len(pubs) != 1 {
			t.Fatalf("%d publishes, want 1", len(pubs))
		}
		n := message(t, pubs[0])
		if n.Cluster != "prod" || len(n.Findings) != 1 || n.Findings[0].Check != "service-eni-placement" || n.Findings[0].Subject != "web" || !strings.Contains(n.Findings[0].Message, "web") {
			t.Errorf("message %+v", n)
		}
	})
	t.Run("a placement failure the sweep still sees stays notified, and is resolved once it ages out", func(t *testing.T) {
		w := healthyWorld()
		w.prod().AddTask(inventorytest.TaskSpec{N: 9, Instance: 1, AWSVPC: true, Service: "web"})
		w.prod().AddServiceEvent("web", w.now.Add(-10*60e9), w.prod().ENIPlacementFailure("web", 1))
		g := w.guard(guard.Config{TopicArn: topicArn})
		if err := g.Handle(ctx, placementFailure(w.prod(), "web", "RESOURCE:ENI")); err != nil {
			t.Fatal(err)
		}
		if err := g.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if len(w.sns.published()) != 1 {
			t.Fatalf("%d publishes, want 1: the sweep still sees the failure", len(w.sns.published()))
		}
		w.now = w.now.Add(4 * 3600e9)
		if err := g.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		pubs := w.sns.published()
		if len(pubs) != 2 || len(message(t, pubs[1]).Resolved) != 1 {
			t.Fatalf("publishes %d; want the failure resolved once it aged out", len(pubs))
		}
	})
	t.Run("placement failures for other reasons make no AWS call", func(t *testing.T) {
		w := healthyWorld()
		g := w.guard(guard.Config{TopicArn: topicArn})
		if err := g.Handle(ctx, placementFailure(w.prod(), "api", "RESOURCE:MEMORY")); err != nil {
			t.Fatal(err)
		}
		if w.awsCalls() != 0 || w.connects != 0 {
			t.Errorf("%d calls", w.awsCalls())
		}
	})
}

func TestBadEventsAreAcknowledged(t *testing.T) {
	ctx := context.Background()
	events := map[string]string{
		"not JSON":                        `not json`,
		"a JSON array":                    `[1,2,3]`,
		"null":                            `null`,
		"an empty object":                 `{}`,
		"an unknown source":               `{"source":"aws.s3","detail-type":"Object Created","detail":{}}`,
		"a state change without a detail": `{"source":"aws.ecs","detail-type":"ECS Container Instance State Change"}`,
		"a state change whose detail lacks the instance": `{"source":"aws.ecs","detail-type":"ECS Container Instance State Change","detail":{"clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/prod"}}`,
		"a state change with wrong types":                `{"source":"aws.ecs","detail-type":"ECS Container Instance State Change","detail":{"clusterArn":7,"ec2InstanceId":["i-1"],"attributes":"many"}}`,
		"a service action with wrong types":              `{"source":"aws.ecs","detail-type":"ECS Service Action","detail":{"eventName":5,"reasons":"RESOURCE:ENI"}}`,
		"a placement failure naming no service":          `{"source":"aws.ecs","detail-type":"ECS Service Action","resources":[],"detail":{"eventName":"SERVICE_TASK_PLACEMENT_FAILURE","clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/prod","reasons":["RESOURCE:ENI"]}}`,
		"a detail-type with the wrong type":              `{"source":"aws.ecs","detail-type":["x"]}`,
	}
	for name, ev := range events {
		t.Run(name+" is logged and acknowledged without an AWS call", func(t *testing.T) {
			w := healthyWorld()
			g := w.guard(guard.Config{TopicArn: topicArn})
			if err := g.Handle(ctx, json.RawMessage(ev)); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if w.awsCalls() != 0 || w.connects != 0 {
				t.Errorf("%d AWS calls", w.awsCalls())
			}
			if got := len(lines(w.logs)); got != 1 {
				t.Errorf("%d log lines, want 1:\n%s", got, w.logs)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"TOPIC_ARN": " " + topicArn + " ", "CLUSTERS": "prod, arn:aws:ecs:us-east-1:123456789012:cluster/web ,,", "STATE_PREFIX": "/x/guard"}
	c := guard.ConfigFromEnv(func(k string) string { return env[k] })
	if c.TopicArn != topicArn || strings.Join(c.Clusters, "|") != "prod|web" || c.StatePrefix != "/x/guard/" {
		t.Errorf("%+v", c)
	}
	c = guard.ConfigFromEnv(func(string) string { return "" })
	if c.TopicArn != "" || c.Clusters != nil || c.StatePrefix != "/trunkctl/guard/" {
		t.Errorf("defaults %+v", c)
	}
}

func TestSubjectIsShortAndASCII(t *testing.T) {
	long := strings.Repeat("c", 255)
	for _, n := range []guard.Notification{
		{Cluster: long, Findings: make([]guard.NotifiedFinding, 1000)},
		{Cluster: "prod\u00e9\n", Resolved: make([]guard.NotifiedFinding, 3)},
		{Cluster: long, Findings: []guard.NotifiedFinding{{Check: "instance"}, {Check: "role-opt-in"}}},
	} {
		s := n.Subject()
		if len(s) >= 100 || strings.ContainsAny(s, "\n\u00e9") {
			t.Errorf("subject %q (%d chars)", s, len(s))
		}
	}
	if s := (guard.Notification{Cluster: "prod", Findings: []guard.NotifiedFinding{{Check: "instance"}, {Check: "role-opt-in"}}}).Subject(); s != "trunkctl: 2 errors (1 instance without a trunk) in prod" {
		t.Errorf("mixed subject %q", s)
	}
}

var _ = accountsetting.Enabled
