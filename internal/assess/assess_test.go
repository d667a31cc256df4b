package assess_test

import (
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

const (
	acct = "123456789012"
	role = "arn:aws:iam::123456789012:role/EcsInstanceRole"
)

func ci(id string, trunk string) inventory.ContainerInstance {
	return inventory.ContainerInstance{
		Arn: "arn:aws:ecs:us-east-1:" + acct + ":container-instance/prod/" + id, EC2InstanceID: id, InstanceType: "c5.large",
		Status: "ACTIVE", AgentVersion: "1.90.0", AgentConnected: true, RegisteredAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		TrunkENI: trunk, TrunkCapable: true, OSType: "linux",
		Host: inventory.HostAttributes{TaskENI: true, Trunking: true, BranchCNI: "2024.09.0", OSType: "linux"},
	}
}

// assessment is a judged cluster of one instance without a trunk, i-old,
// in subnet (owned by owner), whose role has the setting value.
func assessment(owner, value string) *assess.Assessment {
	in := doctor.Input{
		Snapshot: inventory.Snapshot{
			Cluster:            "prod",
			ContainerInstances: []inventory.ContainerInstance{ci("i-old", "")},
			Instances:          map[string]inventory.Instance{"i-old": {ID: "i-old", InstanceType: "c5.large", SubnetID: "subnet-1"}},
			Subnets:            map[string]inventory.Subnet{"subnet-1": {ID: "subnet-1", OwnerID: owner}},
			InstanceRoles:      map[string][]string{"i-old": {role}},
		},
		Roles:     []accountsetting.RoleSetting{{RoleArn: role, Setting: accountsetting.AWSVPCTrunking, EffectiveValue: value, Source: accountsetting.SourcePrincipal}},
		Catalog:   catalog.Default(),
		AccountID: acct,
		Now:       time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC),
	}
	return &assess.Assessment{Input: in, Report: doctor.Judge(in)}
}

// A replacement is judged with the input of the instance it replaces: in a
// subnet shared from another account, a new instance without a trunk is a
// launch to fix (the catalog alone would have said "wait" or "replace").
func TestAReplacementIsJudgedWithTheInputOfTheInstanceItReplaces(t *testing.T) {
	a := assessment("999999999999", accountsetting.Enabled)
	v := a.JudgeReplacement("i-old", ci("i-new", ""))
	if v.Remedy != doctor.RemedyFixLaunch {
		t.Fatalf("replacement in a shared subnet: %s remedy %s (%s), want fix-launch", v.Code, v.Remedy, v.Message)
	}
	alone := a.Input.JudgeReplacement("i-unknown", ci("i-new", ""))
	if alone.Remedy == doctor.RemedyFixLaunch {
		t.Fatalf("an instance judged from itself alone knows no subnet, got %s", alone.Code)
	}
	if v := a.JudgeReplacement("i-old", ci("i-new", "eni-0trunk")); !v.Healthy {
		t.Fatalf("a replacement with a trunk: %s (%s)", v.Code, v.Message)
	}
}

// After the rollout's opt-in the assessment knows the role is enabled, so a
// replacement without a trunk is no longer "role not enabled".
func TestOptedRejudgesWithTheNewSettings(t *testing.T) {
	a := assessment(acct, accountsetting.Disabled)
	before := a.JudgeReplacement("i-old", ci("i-new", ""))
	if before.Remedy != doctor.RemedyEnableThenReplace {
		t.Fatalf("before the opt-in: %s remedy %s, want enable-then-replace", before.Code, before.Remedy)
	}
	a.Opted(accountsetting.RoleSetting{RoleArn: role, Setting: accountsetting.AWSVPCTrunking, EffectiveValue: accountsetting.Enabled, Source: accountsetting.SourcePrincipal})
	after := a.JudgeReplacement("i-old", ci("i-new", ""))
	if after.Remedy == doctor.RemedyEnableThenReplace || after.Code == before.Code {
		t.Fatalf("after the opt-in the verdict is still %s (%s)", after.Code, after.Message)
	}
	if len(a.Input.Roles) != 1 || !a.Input.Roles[0].Is(accountsetting.Enabled) {
		t.Fatalf("roles after Opted: %+v", a.Input.Roles)
	}
}
