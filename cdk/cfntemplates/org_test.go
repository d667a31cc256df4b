package cfntemplates_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/trunkctl/trunkctl/cdk/cfntemplates"
	"github.com/trunkctl/trunkctl/cdk/stacks"
	"github.com/trunkctl/trunkctl/cdk/trunking"
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
		want := `{"S3Bucket":{"Fn::Join":["-",[{"Ref":"BucketPrefix"},{"Ref":"AWS::Region"}]]},"S3Key":{"Ref":"LambdaCodeKey"}}`
		if code != want {
			t.Errorf("Code %s, want %s", code, want)
		}
	})

	t.Run("each listed role has its own conditional opt-in, for the role ARN built from its name", func(t *testing.T) {
		optIns := ofType(trunking.ResourceType)
		if len(optIns) != stacks.MaxOrgInstanceRoles+1 {
			t.Fatalf("%d opt-ins, want %d slots and the trunk-ready role's", len(optIns), stacks.MaxOrgInstanceRoles)
		}
		slots := 0
		for _, id := range optIns {
			r := tpl.Resources[id]
			if r.Condition == "" {
				t.Errorf("%s is unconditional", id)
			}
			arn := jsonOf(r.Properties["RoleArn"])
			if strings.Contains(arn, `":role/"`) {
				slots++
				cond := jsonOf(tpl.Conditions[r.Condition])
				// The slot's condition selects the same list element as the ARN.
				idx := arn[strings.Index(arn, `"Fn::Select":[`)+len(`"Fn::Select":[`):]
				idx = idx[:strings.Index(idx, ",")]
				if !strings.Contains(cond, `"Fn::Select":[`+idx+`,`) || !strings.Contains(cond, `{"Ref":"InstanceRoleNames"}`) {
					t.Errorf("%s: condition %s does not test list element %s", id, cond, idx)
				}
			}
		}
		if slots != stacks.MaxOrgInstanceRoles {
			t.Errorf("%d opt-ins for listed roles, want %d", slots, stacks.MaxOrgInstanceRoles)
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
		if roles := ofType("AWS::IAM::Role"); len(roles) != 2 {
			t.Errorf("roles %v, want the function's and the trunk-ready one only", roles)
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
