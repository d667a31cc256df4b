package trunking_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/internal/cdktest"
	"github.com/trunkctl/trunkctl/cdk/stacks"
	"github.com/trunkctl/trunkctl/cdk/trunking"
)

type guardSubject struct {
	stack, given      awscdk.Stack
	tpl, givenTpl     *cdktest.Template
	guard, givenGuard *trunking.TrunkGuard
}

var (
	guardOnce sync.Once
	guardSubj guardSubject
)

// GIVEN two stacks with cdk-nag's AwsSolutions checks, bundling skipped:
// Guard (every default: a topic created, every cluster) and GivenTopic (a
// topic of the app's, two clusters, an hourly schedule).
func getGuard(t *testing.T) *guardSubject {
	t.Helper()
	cdktest.SkipIfShort(t)
	guardOnce.Do(func() {
		app := stacks.NewApp(&awscdk.AppProps{Context: ptr(cdktest.NoBundling())})
		s := &guardSubj
		s.stack = awscdk.NewStack(app, jsii.String("Guard"), nil)
		s.guard = trunking.NewTrunkGuard(s.stack, "TrunkGuard", nil)
		s.given = awscdk.NewStack(app, jsii.String("GivenTopic"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}})
		topic := awssns.NewTopic(s.given, jsii.String("Ops"), &awssns.TopicProps{EnforceSSL: jsii.Bool(true), MasterKey: nil})
		s.givenGuard = trunking.NewTrunkGuard(s.given, "TrunkGuard", &trunking.TrunkGuardProps{
			Topic: topic, Clusters: []string{"prod", "web"}, StatePrefix: "/ops/guard",
		})
		stacks.AddNagChecks(app)
		s.tpl = cdktest.FromStack(t, s.stack)
		s.givenTpl = cdktest.FromStack(t, s.given)
	})
	if guardSubj.tpl == nil {
		t.Fatal("the guard stacks did not synthesize")
	}
	return &guardSubj
}

func TestTrunkGuard(t *testing.T) {
	s := getGuard(t)
	tpl := s.tpl

	t.Run("by default it sweeps every 15 minutes", func(t *testing.T) {
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{"ScheduleExpression": "rate(15 minutes)", "State": "ENABLED"})
		})
	})

	t.Run("both event rules send ECS's events to the function, retried twice within an hour", func(t *testing.T) {
		fnID, _ := tpl.One(t, "AWS::Lambda::Function")
		for _, pattern := range []map[string]interface{}{
			{"source": []interface{}{"aws.ecs"}, "detail-type": []interface{}{"ECS Container Instance State Change"}},
			{"source": []interface{}{"aws.ecs"}, "detail-type": []interface{}{"ECS Service Action"}, "detail": map[string]interface{}{"eventName": []interface{}{"SERVICE_TASK_PLACEMENT_FAILURE"}}},
		} {
			cdktest.Check(t, func() {
				tpl.Assert.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
					"EventPattern": pattern,
					"Targets": []interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
						"Arn":         map[string]interface{}{"Fn::GetAtt": []interface{}{fnID, "Arn"}},
						"RetryPolicy": map[string]interface{}{"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
					})},
				})
			})
		}
		if n := len(tpl.OfType("AWS::Lambda::Permission")); n != 3 {
			t.Errorf("%d invoke permissions, want 3 (one per rule)", n)
		}
	})

	t.Run("a topic is created and the alarm on the account-level UntrunkedInstances notifies it", func(t *testing.T) {
		topicID, topic := tpl.One(t, "AWS::SNS::Topic")
		_ = topic
		_, alarm := tpl.One(t, "AWS::CloudWatch::Alarm")
		p := alarm.Properties
		if p["Namespace"] != "trunkctl" || p["MetricName"] != "UntrunkedInstances" || p["Dimensions"] != nil ||
			p["ComparisonOperator"] != "GreaterThanThreshold" || p["Threshold"] != float64(0) || p["Statistic"] != "Maximum" {
			t.Errorf("alarm %v", p)
		}
		for _, k := range []string{"AlarmActions", "OKActions"} {
			if got := cdktest.JSON(p[k]); got != "["+cdktest.Ref(topicID)+"]" {
				t.Errorf("%s %s, want the topic", k, got)
			}
		}
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
				"Runtime": "provided.al2023", "Architectures": []interface{}{"arm64"}, "Handler": "bootstrap",
				"Environment": map[string]interface{}{"Variables": map[string]interface{}{
					"TOPIC_ARN": map[string]interface{}{"Ref": topicID}, "CLUSTERS": "", "STATE_PREFIX": "/trunkctl/guard/"}},
			})
		})
	})

	t.Run("its logs are kept a month", func(t *testing.T) {
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]interface{}{"RetentionInDays": 30})
		})
	})

	t.Run("its role reads, and writes only to its topic, its SSM prefix and its logs", func(t *testing.T) {
		for _, c := range []struct {
			tpl    *cdktest.Template
			prefix string
		}{{tpl, "trunkctl/guard/*"}, {s.givenTpl, "ops/guard/*"}} {
			_, fn := c.tpl.One(t, "AWS::Lambda::Function")
			roleID := fn.Properties["Role"].(map[string]interface{})["Fn::GetAtt"].([]interface{})[0].(string)
			sts := c.tpl.PolicyStatements(t, roleID)
			if len(sts) == 0 {
				t.Fatal("no statements")
			}
			for _, st := range sts {
				for _, a := range st.Actions() {
					_, verb, _ := strings.Cut(a, ":")
					switch {
					case strings.HasPrefix(verb, "List"), strings.HasPrefix(verb, "Describe"), a == "cloudtrail:LookupEvents",
						a == "iam:GetInstanceProfile", a == "iam:GetRole", a == "ssm:GetParameter":
					case a == "sns:Publish":
						if r := st.Resources(); len(r) != 1 || !strings.Contains(r[0], "Ref") {
							t.Errorf("sns:Publish on %v, want only the topic", r)
						}
					case a == "ssm:PutParameter":
						if r := st.Resources(); len(r) != 1 || !strings.Contains(r[0], ":parameter/"+c.prefix) {
							t.Errorf("ssm:PutParameter on %v, want parameter/%s", r, c.prefix)
						}
					case a == "logs:CreateLogStream", a == "logs:PutLogEvents":
						if r := st.Resources(); len(r) != 1 || !strings.Contains(r[0], "LogGroup") {
							t.Errorf("%s on %v, want its log group", a, r)
						}
					default:
						t.Errorf("the guard's role may %s (%v): it must not change anything", a, st.Resources())
					}
				}
			}
		}
	})

	t.Run("a given topic is used, and cluster names narrow the state-change rule", func(t *testing.T) {
		gt := s.givenTpl
		if n := len(gt.OfType("AWS::SNS::Topic")); n != 1 {
			t.Errorf("%d topics, want only the given one", n)
		}
		cdktest.Check(t, func() {
			gt.Assert.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
				"EventPattern": map[string]interface{}{
					"source": []interface{}{"aws.ecs"}, "detail-type": []interface{}{"ECS Container Instance State Change"},
					"detail": map[string]interface{}{"clusterArn": []interface{}{
						"arn:aws:ecs:eu-west-1:123456789012:cluster/prod", "arn:aws:ecs:eu-west-1:123456789012:cluster/web"}},
				},
			})
		})
		_, fn := gt.One(t, "AWS::Lambda::Function")
		env, _ := json.Marshal(fn.Properties["Environment"])
		if !strings.Contains(string(env), `"CLUSTERS":"prod,web"`) || !strings.Contains(string(env), `"STATE_PREFIX":"/ops/guard/"`) {
			t.Errorf("environment %s", env)
		}
		if s.givenGuard.StatePrefix() != "/ops/guard/" {
			t.Errorf("StatePrefix %q", s.givenGuard.StatePrefix())
		}
	})

	t.Run("cdk-nag finds nothing unsuppressed", func(t *testing.T) {
		for _, st := range []awscdk.Stack{s.stack, s.given} {
			ann := assertions.Annotations_FromStack(st)
			nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-"))
			for _, m := range *ann.FindError(jsii.String("*"), nag) {
				t.Errorf("%s: error: %v", *st.StackName(), m.Entry.Data) //nolint:staticcheck // assertions still return cxapi messages
			}
			for _, m := range *ann.FindWarning(jsii.String("*"), nag) {
				t.Errorf("%s: warning: %v", *st.StackName(), m.Entry.Data) //nolint:staticcheck // assertions still return cxapi messages
			}
		}
	})
}
