package assess_test

import (
	"context"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

// The clusters of one run share the account's reads: the second cluster
// assessed with the same Shared reads neither the service-linked role nor
// the role's setting again; without it, each cluster reads both.
func TestClustersOfOneRunShareTheAccountsReads(t *testing.T) {
	c := inventorytest.New()
	c.AddRole("EcsInstanceProfile", "EcsInstanceRole")
	c.AddRole("ServiceLinked", "AWSServiceRoleForECS")
	c.AddInstance(inventorytest.InstanceSpec{N: 1, Trunk: true})
	a := accountsettingtest.New()
	a.Rule = accountsettingtest.RuleGuide
	a.AddRole("EcsInstanceRole", accountsettingtest.RoleState{})
	a.SetExplicit(a.RoleARN("EcsInstanceRole"), accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	const caller = "arn:aws:sts::123456789012:assumed-role/Admin/ops"
	loader := inventory.NewLoader(c.ECS(), c.EC2(), c.IAM(), 4)
	s := &assess.Session{Region: "us-east-1", Loader: loader, Signals: loader.Signals(c.AutoScaling(), c.CloudTrail()),
		Roles: accountsetting.Resolver{STS: &accountsetting.OnceCaller{STSAPI: a.STSAs(caller)}, ECS: a.ECSAs(caller), PrincipalArnFirst: true, NoAssume: true}}
	reads := func(shared *assess.Shared) (getRoles, lists int) {
		c.ResetCalls()
		a.Reset()
		for range 2 {
			got, err := s.Assess(context.Background(), assess.Query{Cluster: c.Name, Now: time.Now(), Shared: shared})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Input.Roles) != 1 || got.Input.Roles[0].EffectiveValue != accountsetting.Enabled || got.Input.ServiceLinkedRole == nil || !*got.Input.ServiceLinkedRole {
				t.Fatalf("roles %+v, service-linked role %v", got.Input.Roles, got.Input.ServiceLinkedRole)
			}
		}
		for _, op := range a.Ops() {
			if op == "ecs:ListAccountSettings" {
				lists++
			}
		}
		return c.Calls()["iam:GetRole"], lists
	}
	if g, l := reads(nil); g != 2 || l != 2 {
		t.Fatalf("two clusters apart: %d iam:GetRole, %d ListAccountSettings; want 2 and 2", g, l)
	}
	if g, l := reads(&assess.Shared{}); g != 1 || l != 1 {
		t.Errorf("two clusters sharing: %d iam:GetRole, %d ListAccountSettings; want 1 and 1", g, l)
	}
}
