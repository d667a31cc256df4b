package cfntemplates_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/trunkctl/trunkctl/cdk/cfntemplates"
	"github.com/trunkctl/trunkctl/cdk/stacks"
	"github.com/trunkctl/trunkctl/cdk/trunking"
	"github.com/trunkctl/trunkctl/internal/contract"
)

// orgTemplate is a generated template read back as plain values.
type orgTemplate struct {
	Parameters map[string]map[string]interface{} `yaml:"Parameters"`
	Conditions map[string]interface{}            `yaml:"Conditions"`
	Resources  map[string]struct {
		Type       string                 `yaml:"Type"`
		Condition  string                 `yaml:"Condition"`
		Properties map[string]interface{} `yaml:"Properties"`
		DependsOn  interface{}            `yaml:"DependsOn"`
	} `yaml:"Resources"`
	Outputs map[string]map[string]interface{} `yaml:"Outputs"`
}

func readOrg(t *testing.T, file string) orgTemplate {
	t.Helper()
	var tpl orgTemplate
	if err := yaml.Unmarshal(generate(t)[file], &tpl); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return tpl
}

func jsonOf(v interface{}) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestOrgMemberTemplate(t *testing.T) {
	tpl := readOrg(t, cfntemplates.OrgMemberFile)
	// The guard's resources (EnableGuard) are checked in org_guard_test.go.
	ofType := func(typ string) []string {
		var ids []string
		for id, r := range tpl.Resources {
			if r.Type == typ && !strings.HasPrefix(id, "TrunkGuard") {
				ids = append(ids, id)
			}
		}
		return ids
	}

	t.Run("existing roles are named by a list parameter defaulting to ecsInstanceRole", func(t *testing.T) {
		p := tpl.Parameters[stacks.ParamInstanceRoleNames]
		if p["Type"] != "CommaDelimitedList" || p["Default"] != "ecsInstanceRole" {
			t.Errorf("%s: %v", stacks.ParamInstanceRoleNames, p)
		}
		if p := tpl.Parameters[stacks.ParamCreateTrunkReadyRole]; p["Default"] != "false" {
			t.Errorf("%s: %v, want off by default", stacks.ParamCreateTrunkReadyRole, p)
		}
	})

	t.Run("the Lambda code comes from this Region's artifact bucket", func(t *testing.T) {
		fns := ofType("AWS::Lambda::Function")
		if len(fns) != 1 {
			t.Fatalf("functions %v", fns)
		}
		code := jsonOf(tpl.Resources[fns[0]].Properties["Code"])
		want := `{"S3Bucket":{"Fn::Join":["-",[{"Ref":"BucketPrefix"},{"Ref":"AWS::Region"}]]},"S3Key":{"Ref":"LambdaCodeKey"},` +
			`"S3ObjectVersion":{"Fn::If":["HasLambdaCodeVersion",{"Ref":"LambdaCodeVersion"},{"Ref":"AWS::NoValue"}]}}`
		if code != want {
			t.Errorf("Code %s, want %s", code, want)
		}
	})

	t.Run("code signing is offered: a config that enforces the given signing profiles, used only when they are given", func(t *testing.T) {
		cscs := ofType("AWS::Lambda::CodeSigningConfig")
		if len(cscs) != 1 {
			t.Fatalf("code signing configs %v", cscs)
		}
		r := tpl.Resources[cscs[0]]
		if r.Condition != "HasSigningProfiles" {
			t.Errorf("condition %q", r.Condition)
		}
		if got := jsonOf(r.Properties); !strings.Contains(got, `"AllowedPublishers":{"SigningProfileVersionArns":{"Ref":"SigningProfileVersionArns"}}`) ||
			!strings.Contains(got, `"CodeSigningPolicies":{"UntrustedArtifactOnDeployment":"Enforce"}`) {
			t.Errorf("code signing config %s", got)
		}
		fn := tpl.Resources[ofType("AWS::Lambda::Function")[0]]
		if got, want := jsonOf(fn.Properties["CodeSigningConfigArn"]), `{"Fn::If":["HasSigningProfiles",{"Fn::GetAtt":["`+cscs[0]+`","CodeSigningConfigArn"]},{"Ref":"AWS::NoValue"}]}`; got != want {
			t.Errorf("function CodeSigningConfigArn %s, want %s", got, want)
		}
		if p := tpl.Parameters[stacks.ParamSigningProfileVersionArns]; p["Type"] != "CommaDelimitedList" || p["Default"] != "" {
			t.Errorf("%s: %v", stacks.ParamSigningProfileVersionArns, p)
		}
	})

	t.Run("the listed roles are one opt-in over the whole list, keyed by role, never by list position", func(t *testing.T) {
		lists := ofType(contract.ListResourceType)
		if len(lists) != 1 {
			t.Fatalf("list opt-ins %v, want exactly one", lists)
		}
		r := tpl.Resources[lists[0]]
		if got := jsonOf(r.Properties[contract.PropRoleNames]); got != `{"Ref":"InstanceRoleNames"}` {
			t.Errorf("RoleNames %s, want the whole InstanceRoleNames list", got)
		}
		if got := jsonOf(r.Properties[contract.PropOnDelete]); got != `{"Ref":"OnDelete"}` {
			t.Errorf("OnDelete %s", got)
		}
		if r.Condition != "HasInstanceRoleNames" {
			t.Errorf("condition %q, want HasInstanceRoleNames (an empty list makes no resource)", r.Condition)
		}
		// Only the trunk-ready role has a single-role opt-in; no resource is
		// tied to one element of the list.
		for _, id := range ofType(trunking.ResourceType) {
			if arn := jsonOf(tpl.Resources[id].Properties["RoleArn"]); strings.Contains(arn, "InstanceRoleNames") {
				t.Errorf("opt-in %s is tied to a list position: %s", id, arn)
			}
		}
	})

	t.Run("every opt-in waits for the function's no-retry invoke configuration", func(t *testing.T) {
		cfg := ofType("AWS::Lambda::EventInvokeConfig")
		if len(cfg) != 1 {
			t.Fatalf("EventInvokeConfig %v", cfg)
		}
		for _, id := range append(ofType(contract.ListResourceType), ofType(trunking.ResourceType)...) {
			if deps := jsonOf(tpl.Resources[id].DependsOn); !strings.Contains(deps, `"`+cfg[0]+`"`) {
				t.Errorf("%s DependsOn %s, want %s", id, deps, cfg[0])
			}
		}
	})

	t.Run("the function may look up exactly the listed roles and act for them and the trunk-ready role only", func(t *testing.T) {
		var fn string
		for _, id := range ofType("AWS::Lambda::Function") {
			fn = id
		}
		env := jsonOf(tpl.Resources[fn].Properties["Environment"])
		if !strings.Contains(env, `"`+trunking.AllowedRolesEnv+`":{"Fn::Join":[",",[`) {
			t.Fatalf("function environment %s has no allow-list", env)
		}
		for i := 1; i <= stacks.MaxOrgInstanceRoles; i++ {
			if !strings.Contains(env, fmt.Sprintf(`{"Fn::If":["HasInstanceRoleName%d",`, i)) {
				t.Errorf("allow-list lacks list element %d", i)
			}
		}
		if !strings.Contains(env, `{"Fn::If":["CreateTrunkReadyRoleIsTrue",{"Fn::GetAtt":["TrunkReadyRole`) {
			t.Errorf("allow-list lacks the trunk-ready role: %s", env)
		}
		var get []string
		for _, id := range ofType("AWS::IAM::Policy") {
			if !strings.Contains(jsonOf(tpl.Resources[id].Properties["Roles"]), `"EniTrunkingFunctionRole`) {
				continue // another role's policy (the read-only role's)
			}
			doc := jsonOf(tpl.Resources[id].Properties["PolicyDocument"])
			if strings.Contains(doc, `"iam:GetRole"`) {
				get = append(get, id+" "+doc)
				if strings.Contains(doc, `"Resource":"*"`) || strings.Contains(doc, `role/*`) {
					t.Errorf("iam:GetRole wider than the named roles: %s", doc)
				}
			}
		}
		if len(get) != 2 {
			t.Errorf("iam:GetRole policies %v, want the listed roles' and the trunk-ready role's", get)
		}
	})

	t.Run("BucketPrefix refuses what S3 refuses in a bucket name", func(t *testing.T) {
		re := regexp.MustCompile(tpl.Parameters[stacks.ParamBucketPrefix]["AllowedPattern"].(string))
		for in, want := range map[string]bool{
			"trunkctl-artifacts": true, "acme.trunkctl": true, "a--b": true, "abc": true, "a1.b2-c3": true,
			"a..b": false, "a.-b": false, "a-.b": false, "-abc": false, "abc.": false, "ABC": false, "a_b": false,
		} {
			if got := re.MatchString(in); got != want {
				t.Errorf("BucketPrefix %q accepted=%v, want %v", in, got, want)
			}
		}
	})

	t.Run("more names than slots fail the deployment instead of being dropped", func(t *testing.T) {
		id := fmt.Sprintf("AtMost%dInstanceRoleNames", stacks.MaxOrgInstanceRoles)
		r, ok := tpl.Resources[id]
		if !ok || r.Type != "AWS::CloudFormation::WaitCondition" {
			t.Fatalf("no wait condition %s", id)
		}
		cond := jsonOf(tpl.Conditions[r.Condition])
		if !strings.Contains(cond, fmt.Sprintf(`"Fn::Select":[%d,`, stacks.MaxOrgInstanceRoles)) {
			t.Errorf("condition %s does not test element %d", cond, stacks.MaxOrgInstanceRoles)
		}
	})

	t.Run("roles the stack does not own are not edited: only its own roles get trust or policies", func(t *testing.T) {
		for _, id := range ofType("AWS::IAM::Policy") {
			for _, role := range tpl.Resources[id].Properties["Roles"].([]interface{}) {
				ref, _ := role.(map[string]interface{})["Ref"].(string)
				if r, ok := tpl.Resources[ref]; !ok || r.Type != "AWS::IAM::Role" {
					t.Errorf("policy %s is attached to %v, not a role of this stack", id, role)
				}
			}
		}
		if roles := ofType("AWS::IAM::Role"); len(roles) != 3 {
			t.Errorf("roles %v, want the function's, the trunk-ready one and the read-only one only", roles)
		}
	})

	t.Run("the function role may put awsvpcTrunking for other principals and read settings", func(t *testing.T) {
		var all string
		for _, id := range ofType("AWS::IAM::Policy") {
			all += jsonOf(tpl.Resources[id].Properties["PolicyDocument"])
		}
		for _, want := range []string{
			`{"Action":"ecs:PutAccountSetting","Condition":{"StringEquals":{"ecs:account-setting":"awsvpcTrunking"}},"Effect":"Allow","Resource":"*","Sid":"PutAccountSettingByPrincipalArn"}`,
			`{"Action":"ecs:ListAccountSettings","Effect":"Allow","Resource":"*","Sid":"ReadAccountSettingsByPrincipalArn"}`,
		} {
			if !strings.Contains(all, want) {
				t.Errorf("no statement %s in %s", want, all)
			}
		}
	})

	t.Run("the trunk-ready role, profile and outputs exist only when asked for; the role trusts EC2 and the function", func(t *testing.T) {
		for _, typ := range []string{"AWS::IAM::InstanceProfile"} {
			for _, id := range ofType(typ) {
				if tpl.Resources[id].Condition != "CreateTrunkReadyRoleIsTrue" {
					t.Errorf("%s %s is not conditional", typ, id)
				}
			}
		}
		var ready string
		for _, id := range ofType("AWS::IAM::Role") {
			if tpl.Resources[id].Condition == "CreateTrunkReadyRoleIsTrue" {
				ready = id
			}
		}
		trust := jsonOf(tpl.Resources[ready].Properties["AssumeRolePolicyDocument"])
		if !strings.Contains(trust, `"Service":"ec2.amazonaws.com"`) || !strings.Contains(trust, `"AWS":{"Fn::GetAtt":["EniTrunkingFunctionRole`) {
			t.Errorf("trunk-ready role %q trust %s", ready, trust)
		}
		for _, o := range []string{"TrunkReadyRoleArn", "TrunkReadyInstanceProfileName", "TrunkReadyInstanceProfileArn"} {
			if tpl.Outputs[o]["Condition"] != "CreateTrunkReadyRoleIsTrue" {
				t.Errorf("output %s: %v", o, tpl.Outputs[o])
			}
		}
	})

	t.Run("the read-only role trusts only the trunkctl account inside the organization, takes the SourceIdentity and only reads", func(t *testing.T) {
		var id string
		for _, r := range ofType("AWS::IAM::Role") {
			if tpl.Resources[r].Condition == "CreateReadOnlyRoleIsTrue" {
				id = r
			}
		}
		if id == "" {
			t.Fatal("no role conditional on CreateReadOnlyRole")
		}
		trust := jsonOf(tpl.Resources[id].Properties["AssumeRolePolicyDocument"])
		for _, want := range []string{`"Action":["sts:AssumeRole","sts:SetSourceIdentity"]`, `"Condition":{"StringEquals":{"aws:PrincipalOrgID":{"Ref":"OrganizationId"}}}`,
			`{"Ref":"TrunkctlAccountId"},":root"`} {
			if !strings.Contains(trust, want) {
				t.Errorf("trust %s lacks %s", trust, want)
			}
		}
		if strings.Count(trust, `"Effect":"Allow"`) != 1 {
			t.Errorf("trust has more than the one statement: %s", trust)
		}
		for _, p := range ofType("AWS::IAM::Policy") {
			if jsonOf(tpl.Resources[p].Properties["Roles"]) != `[{"Ref":"`+id+`"}]` {
				continue
			}
			if tpl.Resources[p].Condition != "CreateReadOnlyRoleIsTrue" {
				t.Errorf("policy %s is not conditional", p)
			}
			var doc struct{ Statement []struct{ Action []string } }
			if err := json.Unmarshal([]byte(jsonOf(tpl.Resources[p].Properties["PolicyDocument"])), &doc); err != nil {
				t.Fatal(err)
			}
			for _, st := range doc.Statement {
				for _, a := range st.Action {
					verb := a[strings.Index(a, ":")+1:]
					if !strings.HasPrefix(verb, "Describe") && !strings.HasPrefix(verb, "List") && !strings.HasPrefix(verb, "Get") && verb != "LookupEvents" {
						t.Errorf("the read-only role may %s", a)
					}
				}
			}
		}
		if _, ok := tpl.Parameters[stacks.ParamTrunkctlAccountID]; !ok {
			t.Errorf("no %s parameter", stacks.ParamTrunkctlAccountID)
		}
	})

	t.Run("the template fits in a StackSet's TemplateBody", func(t *testing.T) {
		body, err := stacks.OrgMemberTemplate()
		if err != nil {
			t.Fatal(err)
		}
		if len(body) > stacks.MaxTemplateBodyBytes {
			t.Errorf("TemplateBody is %d bytes, over %d", len(body), stacks.MaxTemplateBodyBytes)
		}
		t.Logf("TemplateBody %d bytes (limit %d); YAML file %d bytes", len(body), stacks.MaxTemplateBodyBytes, len(generate(t)[cfntemplates.OrgMemberFile]))
		if n := len(generate(t)[cfntemplates.OrgMemberFile]); n > stacks.MaxTemplateBodyBytes {
			t.Errorf("the YAML file is %d bytes: --template-body file:// would be refused", n)
		}
	})
}

func TestOrgArtifactBucketTemplate(t *testing.T) {
	tpl := readOrg(t, cfntemplates.OrgArtifactBucketFile)
	var bucket, policy string
	for id, r := range tpl.Resources {
		switch r.Type {
		case "AWS::S3::Bucket":
			bucket = id
		case "AWS::S3::BucketPolicy":
			policy = id
		}
	}
	b := tpl.Resources[bucket].Properties
	t.Run("the bucket is BUCKET_PREFIX-REGION, versioned, encrypted and blocks public access", func(t *testing.T) {
		for key, want := range map[string]string{
			"BucketName":                     `{"Fn::Join":["-",[{"Ref":"BucketPrefix"},{"Ref":"AWS::Region"}]]}`,
			"VersioningConfiguration":        `{"Status":"Enabled"}`,
			"BucketEncryption":               `{"ServerSideEncryptionConfiguration":[{"ServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`,
			"PublicAccessBlockConfiguration": `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}`,
		} {
			if got := jsonOf(b[key]); got != want {
				t.Errorf("%s %s, want %s", key, got, want)
			}
		}
	})
	t.Run("only the organization may read, and only over TLS", func(t *testing.T) {
		doc := jsonOf(tpl.Resources[policy].Properties["PolicyDocument"])
		for _, want := range []string{
			`"Condition":{"Bool":{"aws:SecureTransport":"false"}},"Effect":"Deny"`,
			`"Action":["s3:GetObject","s3:GetObjectVersion"],"Condition":{"StringEquals":{"aws:PrincipalOrgID":{"Ref":"OrganizationId"}}},"Effect":"Allow"`,
		} {
			if !strings.Contains(doc, want) {
				t.Errorf("bucket policy %s lacks %s", doc, want)
			}
		}
	})
}
