// Package cdktest holds helpers for the CDK tests: running assertions that
// panic as test failures, and finding resources by what they are rather than
// by their hashed logical ids.
package cdktest

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// NoBundling is the context that makes every stack skip asset bundling.
func NoBundling() map[string]interface{} {
	return map[string]interface{}{"aws:cdk:bundling-stacks": []interface{}{}}
}

// Check runs an assertion (they panic on mismatch) and reports a mismatch
// as a test error, so one failed assertion does not end the whole binary.
func Check(t testing.TB, assertion func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%v", r)
		}
	}()
	assertion()
}

// LogicalID is the logical id the stack gives construct c (or its default child).
func LogicalID(stack awscdk.Stack, c constructs.IConstruct) string {
	el, ok := c.(awscdk.CfnElement)
	if !ok {
		el = c.Node().DefaultChild().(awscdk.CfnElement)
	}
	return fmt.Sprint(stack.Resolve(stack.GetLogicalId(el)))
}

// Template is a synthesized template as plain Go values.
type Template struct {
	Assert    assertions.Template
	Resources map[string]Resource
	Raw       map[string]interface{}
}

// Resource is one resource of a template.
type Resource struct {
	Type       string                 `json:"Type"`
	Properties map[string]interface{} `json:"Properties"`
	DependsOn  []string               `json:"DependsOn"`
	Metadata   map[string]interface{} `json:"Metadata"`
}

// FromStack synthesizes stack once and keeps both views of the template.
func FromStack(t testing.TB, stack awscdk.Stack) *Template {
	t.Helper()
	a := assertions.Template_FromStack(stack, nil)
	js, err := json.Marshal(a.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Resources map[string]Resource `json:"Resources"`
	}
	if err := json.Unmarshal(js, &raw); err != nil {
		t.Fatal(err)
	}
	var all map[string]interface{}
	_ = json.Unmarshal(js, &all)
	return &Template{Assert: a, Resources: raw.Resources, Raw: all}
}

// OfType returns the logical ids of every resource of a type.
func (tp *Template) OfType(typ string) []string {
	var ids []string
	for id, r := range tp.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// One returns the only resource of a type, failing the test otherwise.
func (tp *Template) One(t testing.TB, typ string) (string, Resource) {
	t.Helper()
	ids := tp.OfType(typ)
	if len(ids) != 1 {
		t.Fatalf("want one %s, found %d: %v", typ, len(ids), ids)
	}
	return ids[0], tp.Resources[ids[0]]
}

// Statement is an IAM policy statement as synthesized.
type Statement struct {
	Sid       string          `json:"Sid"`
	Effect    string          `json:"Effect"`
	Action    json.RawMessage `json:"Action"`
	Resource  json.RawMessage `json:"Resource"`
	Principal json.RawMessage `json:"Principal"`
	Condition json.RawMessage `json:"Condition"`
}

// Actions returns the statement's actions (one or a list).
func (s Statement) Actions() []string { return stringOrList(s.Action) }

// Resources returns the statement's resources, each as compact JSON
// (a literal string or an intrinsic such as {"Fn::GetAtt":[...]}).
func (s Statement) Resources() []string {
	var list []json.RawMessage
	if err := json.Unmarshal(s.Resource, &list); err != nil {
		list = []json.RawMessage{s.Resource}
	}
	out := make([]string, 0, len(list))
	for _, r := range list {
		out = append(out, compact(r))
	}
	return out
}

// PolicyStatements returns every statement of the AWS::IAM::Policy
// resources attached to the role with logical id roleID.
func (tp *Template) PolicyStatements(t testing.TB, roleID string) []Statement {
	t.Helper()
	ref := fmt.Sprintf(`{"Ref":%q}`, roleID)
	var out []Statement
	for _, id := range tp.OfType("AWS::IAM::Policy") {
		p := tp.Resources[id].Properties
		attached := false
		for _, r := range p["Roles"].([]interface{}) {
			b, _ := json.Marshal(r)
			attached = attached || string(b) == ref
		}
		if !attached {
			continue
		}
		b, _ := json.Marshal(p["PolicyDocument"].(map[string]interface{})["Statement"])
		var st []Statement
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		out = append(out, st...)
	}
	return out
}

// JSON renders v compactly, for comparing intrinsics.
func JSON(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// GetAtt is the compact JSON of {"Fn::GetAtt": [id, attr]}.
func GetAtt(id, attr string) string {
	return JSON(map[string]interface{}{"Fn::GetAtt": []string{id, attr}})
}

// Ref is the compact JSON of {"Ref": id}.
func Ref(id string) string { return JSON(map[string]string{"Ref": id}) }

func stringOrList(raw json.RawMessage) []string {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}
	}
	var list []string
	_ = json.Unmarshal(raw, &list)
	return list
}

func compact(raw json.RawMessage) string {
	var v interface{}
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	return JSON(v)
}

// Str is jsii.String, for brevity in tests.
func Str(s string) *string { return jsii.String(s) }

// QuietNode silences the jsii runtime's Node.js version banner (Node 20 is
// past its end of life for jsii but works) unless the caller set the
// variables. Call it from TestMain, before the first jsii call.
func QuietNode() {
	for k, v := range map[string]string{
		"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION":  "1",
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "18,20",
	} {
		if _, set := os.LookupEnv(k); !set {
			os.Setenv(k, v)
		}
	}
}

// SkipIfShort skips tests that synthesize (seconds each, and node): `make
// test-short` runs no CDK synth.
func SkipIfShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("synthesizes CDK stacks; skipped with -short")
	}
}

// Main runs a CDK test package: it quiets Node's banners, runs the tests,
// and stops the jsii runtime before exiting. Use it as the package's TestMain.
func Main(m *testing.M) {
	QuietNode()
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}
