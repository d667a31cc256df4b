package cfntemplates_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/cdk/cfntemplates"
)

// TestGuardTemplateDeploysInMoto creates the guard's stack from the
// committed template in moto_server's CloudFormation, once with a topic it
// creates and once with a given one, and reads back what it made.
func TestGuardTemplateDeploysInMoto(t *testing.T) {
	awsCLI, _, srv, tmp, run := packagingPeers(t, time.Minute)
	aws := func(t *testing.T, args ...string) string {
		t.Helper()
		out, errOut, err := run(awsCLI, append([]string{"--endpoint-url", srv.URL, "--output", "json"}, args...)...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, errOut)
		}
		return out
	}
	// GIVEN the guard's zip in a bucket (a stand-in zip with a bootstrap:
	// moto does not run it)
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	f, _ := zw.Create("bootstrap")
	_, _ = f.Write([]byte("#!/bin/sh\n"))
	_ = zw.Close()
	zipPath := filepath.Join(tmp, "guard.zip")
	if err := os.WriteFile(zipPath, zbuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	aws(t, "s3api", "create-bucket", "--bucket", "artifacts")
	aws(t, "s3", "cp", zipPath, "s3://artifacts/trunkctl/guard.zip")
	template := "file://" + filepath.Join(committedDir, cfntemplates.GuardFile)

	deploy := func(t *testing.T, name string, params ...string) map[string]string {
		t.Helper()
		aws(t, append([]string{"cloudformation", "create-stack", "--stack-name", name, "--template-body", template,
			"--capabilities", "CAPABILITY_IAM", "--parameters",
			"ParameterKey=LambdaCodeBucket,ParameterValue=artifacts", "ParameterKey=LambdaCodeKey,ParameterValue=trunkctl/guard.zip"}, params...)...)
		deadline := time.Now().Add(90 * time.Second)
		for {
			var out struct {
				Stacks []struct {
					StackStatus, StackStatusReason string
					Outputs                        []struct{ OutputKey, OutputValue string }
				}
			}
			if err := json.Unmarshal([]byte(aws(t, "cloudformation", "describe-stacks", "--stack-name", name)), &out); err != nil || len(out.Stacks) != 1 {
				t.Fatalf("describe-stacks: %v", err)
			}
			st := out.Stacks[0]
			switch {
			case st.StackStatus == "CREATE_COMPLETE":
				outputs := map[string]string{}
				for _, o := range st.Outputs {
					outputs[o.OutputKey] = o.OutputValue
				}
				return outputs
			case strings.HasSuffix(st.StackStatus, "_FAILED") || strings.Contains(st.StackStatus, "ROLLBACK"):
				t.Fatalf("stack %s: %s %s\n%s", name, st.StackStatus, st.StackStatusReason, aws(t, "cloudformation", "describe-stack-events", "--stack-name", name))
			case time.Now().After(deadline):
				t.Fatalf("stack %s still %s after 90s", name, st.StackStatus)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	t.Run("with the defaults it creates the function, its topic, three rules and the alarm", func(t *testing.T) {
		outputs := deploy(t, "guard-default")
		topic := outputs["CreatedTopicArn"]
		if !strings.HasPrefix(topic, "arn:aws:sns:us-east-1:") {
			t.Fatalf("outputs %v: no created topic", outputs)
		}
		var fn struct {
			Configuration struct {
				Runtime, Handler string
				Architectures    []string
				Environment      struct{ Variables map[string]string }
			}
		}
		if err := json.Unmarshal([]byte(aws(t, "lambda", "get-function", "--function-name", outputs["GuardFunctionName"])), &fn); err != nil {
			t.Fatal(err)
		}
		c := fn.Configuration
		// (moto ignores Architectures: the template's arm64 is checked by cfn-lint and the construct's tests.)
		if c.Runtime != "provided.al2023" || c.Handler != "bootstrap" ||
			c.Environment.Variables["TOPIC_ARN"] != topic || c.Environment.Variables["STATE_PREFIX"] != "/trunkctl/guard/" {
			t.Errorf("function %+v", c)
		}
		rules := aws(t, "events", "list-rules")
		for _, want := range []string{"rate(15 minutes)", `ECS Container Instance State Change`, "SERVICE_TASK_PLACEMENT_FAILURE"} {
			if !strings.Contains(rules, strings.ReplaceAll(want, `"`, `\"`)) {
				t.Errorf("no rule with %s:\n%s", want, rules)
			}
		}
		// moto 5 accepts AWS::CloudWatch::Alarm and AWS::SNS::TopicPolicy but
		// does not model them (they come back without a type, and
		// describe-alarms does not list the alarm), so their properties are
		// checked in the construct's tests and by cfn-lint.
		var res struct {
			StackResources []struct{ ResourceType, ResourceStatus string }
		}
		if err := json.Unmarshal([]byte(aws(t, "cloudformation", "describe-stack-resources", "--stack-name", "guard-default")), &res); err != nil {
			t.Fatal(err)
		}
		types := map[string]int{}
		for _, r := range res.StackResources {
			if r.ResourceStatus != "CREATE_COMPLETE" {
				t.Errorf("%s: %s", r.ResourceType, r.ResourceStatus)
			}
			types[r.ResourceType]++
		}
		for typ, n := range map[string]int{"AWS::Lambda::Function": 1, "AWS::Events::Rule": 3, "AWS::Lambda::Permission": 3,
			"AWS::SNS::Topic": 1, "AWS::IAM::Role": 1, "AWS::IAM::Policy": 1, "AWS::Logs::LogGroup": 1} {
			if types[typ] != n {
				t.Errorf("%d %s, want %d (all: %v)", types[typ], typ, n, types)
			}
		}
	})

	t.Run("with a given topic, clusters and schedule it creates no topic", func(t *testing.T) {
		given := "arn:aws:sns:us-east-1:123456789012:ops-alerts"
		outputs := deploy(t, "guard-given", "ParameterKey=TopicArn,ParameterValue="+given,
			"ParameterKey=Clusters,ParameterValue=prod", "ParameterKey=Schedule,ParameterValue=rate(1 hour)")
		if _, ok := outputs["CreatedTopicArn"]; ok {
			t.Errorf("a topic was created although one was given: %v", outputs)
		}
		var fn struct {
			Configuration struct {
				Environment struct{ Variables map[string]string }
			}
		}
		if err := json.Unmarshal([]byte(aws(t, "lambda", "get-function", "--function-name", outputs["GuardFunctionName"])), &fn); err != nil {
			t.Fatal(err)
		}
		if v := fn.Configuration.Environment.Variables; v["TOPIC_ARN"] != given || v["CLUSTERS"] != "prod" {
			t.Errorf("environment %v", v)
		}
		if rules := aws(t, "events", "list-rules"); !strings.Contains(rules, "rate(1 hour)") {
			t.Errorf("no hourly rule:\n%s", rules)
		}
	})
}
