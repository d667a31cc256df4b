package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/trunkctl/trunkctl/internal/guard"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/testutil/lambdaproc"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
)

// motoWorld is what setUpMoto created: cluster prod with an untrunked
// container instance (moto's agent reports no trunking capabilities) and
// cluster payments with one, an instance role, and a topic.
type motoWorld struct {
	cfg             aws.Config
	topicArn        string
	prodInstance    string
	paymentsCluster string
}

func setUpMoto(t testing.TB, m *moto.Server) motoWorld {
	t.Helper()
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "testing"), BaseEndpoint: aws.String(m.URL)}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	iamc, ec2c, ecsc := iam.NewFromConfig(cfg), ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	must(iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("EcsInstanceRole"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}))
	must(iamc.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("EcsInstanceProfile")}))
	must(iamc.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("EcsInstanceProfile"), RoleName: aws.String("EcsInstanceRole")}))
	images, err := ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{})
	must(images, err)
	ami := ""
	for _, im := range images.Images {
		if im.Platform != ec2types.PlatformValuesWindows && strings.Contains(aws.ToString(im.Name), "amzn") {
			ami = aws.ToString(im.ImageId)
			break
		}
	}
	w := motoWorld{cfg: cfg, paymentsCluster: "payments"}
	for _, cluster := range []string{"prod", "payments"} {
		must(ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}))
		run, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: ec2types.InstanceTypeC5Large,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String("EcsInstanceProfile")}})
		must(run, err)
		id := aws.ToString(run.Instances[0].InstanceId)
		must(ecsc.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String(cluster),
			InstanceIdentityDocument: aws.String(fmt.Sprintf(`{"instanceId":%q}`, id)),
			VersionInfo:              &ecstypes.VersionInfo{AgentVersion: aws.String("1.90.0")}}))
		if cluster == "prod" {
			w.prodInstance = id
		}
	}
	topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("trunkctl-guard")})
	must(topic, err)
	w.topicArn = aws.ToString(topic.TopicArn)
	return w
}

// state reads a cluster's state parameter from moto ("" when absent).
func (w motoWorld) state(t *testing.T, cluster string) string {
	t.Helper()
	out, err := ssm.NewFromConfig(w.cfg).GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(guard.DefaultStatePrefix + cluster)})
	if err != nil {
		if strings.Contains(err.Error(), "ParameterNotFound") {
			return ""
		}
		t.Fatal(err)
	}
	return aws.ToString(out.Parameter.Value)
}

// functionEnv points the function at the recorder (which forwards to moto
// through moto's deviation fixes) with moto's test credentials.
func functionEnv(m *moto.Server, rec *recorder, extra ...string) []string {
	var env []string
	for k, v := range m.EnvVars() {
		if k != "AWS_ENDPOINT_URL" {
			env = append(env, k+"="+v)
		}
	}
	return append(append(env, "AWS_ENDPOINT_URL="+rec.srv.URL, "AWS_MAX_ATTEMPTS=2"), extra...)
}

func scheduledEvent() []byte {
	return []byte(`{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-03-01T14:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/trunkctl-guard"],"detail":{}}`)
}

// instanceEvent is a state-change event as ECS sends it for an ACTIVE
// container instance of prod with a trunk-capable agent; trunk adds the
// trunk attribute, managed makes it an ECS Managed Instance (no versionInfo).
func instanceEvent(ec2ID string, trunk, managed bool) []byte {
	attrs := []map[string]any{
		{"name": "ecs.instance-type", "value": "c5.large"}, {"name": "ecs.os-type", "value": "linux"},
		{"name": "ecs.ami-id", "value": "ami-0al2023"}, {"name": "ecs.availability-zone", "value": "us-east-1a"},
		{"name": "ecs.capability.task-eni"}, {"name": "ecs.capability.task-eni-trunking"},
		{"name": "ecs.capability.branch-cni-plugin-version", "value": "a21d3a41-"},
		{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.44"},
	}
	if trunk {
		attrs = append(attrs, map[string]any{"name": inventory.AttrTrunkID, "value": "eni-0a000000000000001"})
	}
	detail := map[string]any{
		"agentConnected": true, "attributes": attrs, "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
		"containerInstanceArn": "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef",
		"ec2InstanceId":        ec2ID, "status": "ACTIVE", "version": 14801, "registeredAt": "2026-03-01T12:00:00.000Z",
		"registeredResources": []any{map[string]any{"name": "CPU", "type": "INTEGER", "integerValue": 2048}},
		"remainingResources":  []any{map[string]any{"name": "MEMORY", "type": "INTEGER", "integerValue": 3000}},
		"runningTasksCount":   2, "pendingTasksCount": 0, "updatedAt": "2026-03-01T14:00:00.000Z",
		"versionInfo": map[string]any{"agentHash": "aebcbca", "agentVersion": "1.90.0", "dockerVersion": "DockerVersion: 25.0.8"},
	}
	if managed {
		delete(detail, "versionInfo")
		detail["capacityProviderName"] = "managed-cp"
	}
	b, _ := json.Marshal(map[string]any{"version": "0", "id": "8952ba83-7be2-4ab5-9c32-6687532d15a2",
		"detail-type": "ECS Container Instance State Change", "source": "aws.ecs", "account": "123456789012",
		"time": "2026-03-01T14:00:00Z", "region": "us-east-1", "resources": []string{detail["containerInstanceArn"].(string)}, "detail": detail})
	return b
}

// settled waits (a few seconds at most) for the function's output to
// contain want: the log reaches us through a pipe, after the response.
func settled(fn invoker, want string) bool {
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(fn.output(), want) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func placementEvent(reason string) []byte {
	return []byte(`{"version":"0","id":"57c9506e-9d21-294c-d2fe-e8738da7e67d","detail-type":"ECS Service Action","source":"aws.ecs","account":"123456789012","time":"2026-03-01T13:59:00Z","region":"us-east-1","resources":["arn:aws:ecs:us-east-1:123456789012:service/prod/web"],"detail":{"eventType":"ERROR","eventName":"SERVICE_TASK_PLACEMENT_FAILURE","clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/prod","capacityProviderArns":[],"reasons":["` + reason + `"],"createdAt":"2026-03-01T13:59:00.000Z"}}`)
}

// runner starts the function once per subtest: the local Runtime API here,
// AWS's emulator in emulators_linux_test.go.
type runner func(t *testing.T, env []string) invoker

// invoker sends one event and returns whether the function failed it.
type invoker interface {
	invoke(t *testing.T, ev []byte) (failed bool, body string)
	output() string
}

type localInvoker struct{ f *lambdaproc.Function }

func (l localInvoker) invoke(t *testing.T, ev []byte) (bool, string) {
	res := invoke(t, l.f, ev)
	return res.Kind == "error", string(res.Body)
}

func (l localInvoker) output() string { return l.f.Stdout.String() + l.f.Stderr.String() }

func TestUnderTheLocalRuntimeAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built guard against moto_server")
	}
	bin := guardBinary(t)
	eventKinds(t, func(t *testing.T, env []string) invoker {
		return localInvoker{f: lambdaproc.Start(t, []string{bin}, env...)}
	})
}

// eventKinds runs every event kind of the contract through a function
// started by start, against moto_server for ECS, EC2, IAM, STS, SNS and SSM.
func eventKinds(t *testing.T, start runner) {
	m := moto.Start(t)
	rec := newRecorder(t, moto.Proxy(t, m.URL, moto.ContainerNumbersAsStrings, moto.AgentVersion("1.90.0")))
	fresh := func(t *testing.T) motoWorld {
		m.Reset(t)
		w := setUpMoto(t, m)
		rec.reset()
		return w
	}

	t.Run("a scheduled sweep notifies each cluster's error findings once and keeps them in SSM", func(t *testing.T) {
		w := fresh(t)
		fn := start(t, functionEnv(m, rec, "TOPIC_ARN="+w.topicArn))
		for i := 0; i < 2; i++ {
			if failed, body := fn.invoke(t, scheduledEvent()); failed {
				t.Fatalf("sweep %d failed: %s\n%s", i, body, fn.output())
			}
		}
		msgs := rec.Messages()
		if len(msgs) != 2 {
			t.Fatalf("%d publishes over two sweeps of two clusters, want 2 (one per cluster, once)\n%s", len(msgs), fn.output())
		}
		var n guard.Notification
		for _, msg := range msgs {
			if err := json.Unmarshal([]byte(msg.Message), &n); err != nil {
				t.Fatal(err)
			}
			if n.Cluster == "prod" {
				break
			}
		}
		found := false
		for _, f := range n.Findings {
			if f.Check == "instance" && f.Subject == w.prodInstance && f.Severity == "error" {
				found = true
			}
		}
		if !found || n.Account != "123456789012" || n.Region != "us-east-1" {
			t.Errorf("prod's message %+v lacks the error on %s", n, w.prodInstance)
		}
		if st := w.state(t, "prod"); !strings.Contains(st, `"instance `+w.prodInstance+`"`) {
			t.Errorf("state of prod in SSM: %q", st)
		}
		ops := rec.Ops()
		if lambdaproc.Count(ops, "AssumeRole") != 0 {
			t.Errorf("the guard assumed a role: %v", ops)
		}
		if lambdaproc.Count(ops, "PutParameter") != 2 || lambdaproc.Count(ops, "GetParameter") != 4 {
			t.Errorf("PutParameter %d GetParameter %d, want 2 and 4", lambdaproc.Count(ops, "PutParameter"), lambdaproc.Count(ops, "GetParameter"))
		}
		if out := fn.output(); strings.Count(out, `"Namespace":"trunkctl"`) != 4 {
			t.Errorf("want 4 EMF lines (2 clusters x 2 sweeps):\n%s", out)
		}
	})

	t.Run("a denied cluster beside a healthy one is skipped; every cluster denied fails the invocation", func(t *testing.T) {
		w := fresh(t)
		fn := start(t, functionEnv(m, rec, "TOPIC_ARN="+w.topicArn))
		rec.mu.Lock()
		rec.denied["payments"] = true
		rec.mu.Unlock()
		if failed, body := fn.invoke(t, scheduledEvent()); failed {
			t.Fatalf("one denied cluster failed the sweep: %s", body)
		}
		if msgs := rec.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0].Subject, " in prod") {
			t.Errorf("publishes %+v, want one for prod", msgs)
		}
		if !settled(fn, `"cluster":"payments"`) {
			t.Errorf("the denied cluster was not logged:\n%s", fn.output())
		}
		rec.mu.Lock()
		rec.denied["prod"] = true
		rec.mu.Unlock()
		if failed, body := fn.invoke(t, scheduledEvent()); !failed || !strings.Contains(body, "every cluster failed") {
			t.Errorf("every cluster denied: failed=%v %s", failed, body)
		}
	})

	t.Run("20 state-change events for the same untrunked instance publish once", func(t *testing.T) {
		w := fresh(t)
		fn := start(t, functionEnv(m, rec, "TOPIC_ARN="+w.topicArn))
		for i := 0; i < 20; i++ {
			if failed, body := fn.invoke(t, instanceEvent("i-0untrunked0000001", false, false)); failed {
				t.Fatalf("event %d: %s\n%s", i, body, fn.output())
			}
		}
		ops := rec.Ops()
		if lambdaproc.Count(ops, "Publish") != 1 || lambdaproc.Count(ops, "GetParameter") != 20 || lambdaproc.Count(ops, "PutParameter") != 1 || len(ops) != 22 {
			t.Errorf("ops %v; want 20 GetParameter, 1 Publish, 1 PutParameter and nothing else", ops)
		}
		if msgs := rec.Messages(); len(msgs) != 1 || msgs[0].Subject != "trunkctl: 1 instance without a trunk in prod" {
			t.Errorf("messages %+v", msgs)
		}
	})

	t.Run("a trunked instance, a Managed Instance and other placement failures make no AWS call", func(t *testing.T) {
		w := fresh(t)
		fn := start(t, functionEnv(m, rec, "TOPIC_ARN="+w.topicArn))
		for _, ev := range [][]byte{instanceEvent("i-0trunked00000001", true, false), instanceEvent("i-0managed00000001", false, true), placementEvent("RESOURCE:MEMORY")} {
			for i := 0; i < 5; i++ {
				if failed, body := fn.invoke(t, ev); failed {
					t.Fatalf("%s\n%s", body, fn.output())
				}
			}
		}
		if ops := rec.Ops(); len(ops) != 0 {
			t.Errorf("AWS calls %v, want none", ops)
		}
	})

	t.Run("a RESOURCE:ENI placement failure is notified once, naming the service and the cluster", func(t *testing.T) {
		w := fresh(t)
		fn := start(t, functionEnv(m, rec, "TOPIC_ARN="+w.topicArn))
		for i := 0; i < 3; i++ {
			if failed, body := fn.invoke(t, placementEvent("RESOURCE:ENI")); failed {
				t.Fatalf("%s\n%s", body, fn.output())
			}
		}
		msgs := rec.Messages()
		if len(msgs) != 1 || !strings.Contains(msgs[0].Message, `"subject":"web"`) || !strings.Contains(msgs[0].Message, `"cluster":"prod"`) {
			t.Errorf("messages %+v", msgs)
		}
	})

	t.Run("bad and unknown events are acknowledged with one log line and no AWS call", func(t *testing.T) {
		w := fresh(t)
		fn := start(t, functionEnv(m, rec, "TOPIC_ARN="+w.topicArn))
		for _, ev := range []string{`{"source":"aws.s3","detail-type":"Object Created","detail":{}}`, `[1,2]`, `"text"`,
			`{"source":"aws.ecs","detail-type":"ECS Container Instance State Change","detail":{"ec2InstanceId":5}}`} {
			if failed, body := fn.invoke(t, []byte(ev)); failed {
				t.Errorf("%s failed: %s", ev, body)
			}
		}
		if ops := rec.Ops(); len(ops) != 0 {
			t.Errorf("AWS calls %v", ops)
		}
		deadline := time.Now().Add(3 * time.Second)
		for strings.Count(fn.output(), `"level":"WARN"`)+strings.Count(fn.output(), `"level":"INFO"`) < 4 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := strings.Count(fn.output(), `"msg":"ignoring`); n != 4 {
			t.Errorf("%d ignore lines, want 4:\n%s", n, fn.output())
		}
	})
}
