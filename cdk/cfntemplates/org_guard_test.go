package cfntemplates_test

import (
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/cdk/cfntemplates"
	"github.com/trunkctl/trunkctl/cdk/stacks"
)

func TestOrgMemberTemplateEnablesTheGuard(t *testing.T) {
	tpl := readOrg(t, cfntemplates.OrgMemberFile)

	t.Run("EnableGuard defaults to false and needs the guard's code key when true", func(t *testing.T) {
		if p := tpl.Parameters[stacks.ParamEnableGuard]; p["Default"] != "false" || jsonOf(p["AllowedValues"]) != `["true","false"]` {
			t.Errorf("%s: %v", stacks.ParamEnableGuard, p)
		}
		if p := tpl.Parameters[stacks.ParamGuardCodeKey]; p["Default"] != stacks.NoGuardCodeKey {
			t.Errorf("%s: %v", stacks.ParamGuardCodeKey, p)
		}
		if !strings.Contains(string(generate(t)[cfntemplates.OrgMemberFile]), "EnableGuard=true needs GuardCodeKey") {
			t.Error("no rule refusing EnableGuard=true without GuardCodeKey")
		}
	})

	t.Run("every guard resource exists only with EnableGuard=true, its code from the Region's artifact bucket", func(t *testing.T) {
		n := 0
		for id, r := range tpl.Resources {
			if !strings.HasPrefix(id, "TrunkGuard") {
				continue
			}
			n++
			if r.Condition != "EnableGuardIsTrue" {
				t.Errorf("%s (%s) is created whatever EnableGuard says", id, r.Type)
			}
			if r.Type == "AWS::Lambda::Function" {
				code := jsonOf(r.Properties["Code"])
				if !strings.Contains(code, `"Ref":"`+stacks.ParamBucketPrefix+`"`) || !strings.Contains(code, `"S3Key":{"Ref":"`+stacks.ParamGuardCodeKey+`"}`) {
					t.Errorf("guard code %s", code)
				}
			}
		}
		types := map[string]int{}
		for id, r := range tpl.Resources {
			if strings.HasPrefix(id, "TrunkGuard") {
				types[r.Type]++
			}
		}
		for typ, want := range map[string]int{"AWS::Lambda::Function": 1, "AWS::Events::Rule": 3, "AWS::SNS::Topic": 1, "AWS::CloudWatch::Alarm": 1, "AWS::IAM::Role": 1} {
			if types[typ] != want {
				t.Errorf("%d %s, want %d (%v)", types[typ], typ, want, types)
			}
		}
		if o := tpl.Outputs["GuardTopicArn"]; o["Condition"] != "EnableGuardIsTrue" {
			t.Errorf("output GuardTopicArn: %v", o)
		}
		if n == 0 {
			t.Fatal("no guard resources")
		}
	})
}
