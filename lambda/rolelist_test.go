package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

// The member template's roles: the example list.
const (
	arnA = "arn:aws:iam::123456789012:role/ecsInstanceRole"
	arnB = "arn:aws:iam::123456789012:role/ops/legacy-ecs"
	arnC = "arn:aws:iam::123456789012:role/thirdRole"
)

func listProps(onDelete string, names ...string) map[string]any {
	ns := make([]any, len(names))
	for i, n := range names {
		ns[i] = n
	}
	return map[string]any{"ServiceToken": propToken, "RoleNames": ns, "OnDelete": onDelete}
}

// listRun sends events to one handler over one fake account, as
// CloudFormation would for one list resource.
type listRun struct {
	t    *testing.T
	acct *accountsettingtest.Account
	h    *Handler
	b    *bucket
	id   string // the physical id from the last answer
	last map[string]any
}

func newListRun(t *testing.T) *listRun {
	acct := accountsettingtest.New()
	acct.Rule = accountsettingtest.RuleGuide // the member template's path: principalArn
	for _, n := range []string{"ecsInstanceRole", "ops/legacy-ecs", "thirdRole"} {
		acct.AddRole(n, accountsettingtest.RoleState{})
	}
	h := newTestHandler(acct, &syncbuf.Buffer{})
	h.Sleep = noSleep
	return &listRun{t: t, acct: acct, h: h, b: newBucket(t)}
}

func (r *listRun) send(reqType cfn.RequestType, p map[string]any) decoded {
	r.t.Helper()
	ev := event(reqType, r.b.URL(), p)
	ev.ResourceType = "Custom::EniTrunkingRoles"
	ev.PhysicalResourceID, ev.OldResourceProperties = r.id, r.last
	n := len(r.b.Puts())
	if err := r.h.Handle(invoked(context.Background()), ev); err != nil {
		r.t.Fatalf("Handle: %v", err)
	}
	puts := r.b.Puts()
	if len(puts) != n+1 {
		r.t.Fatalf("bucket got %d responses to one event, want 1", len(puts)-n)
	}
	d := decode(r.t, puts[n].Body)
	if d.Status == "SUCCESS" {
		if r.id != "" && reqType == cfn.RequestUpdate && d.PhysicalResourceID != r.id {
			r.t.Errorf("an update changed the physical id from %q to %q: CloudFormation would delete the old one", r.id, d.PhysicalResourceID)
		}
		r.id, r.last = d.PhysicalResourceID, p
	}
	return d
}

func (r *listRun) settings() map[string]string {
	return map[string]string{
		"A": r.acct.Explicit(arnA, "awsvpcTrunking"),
		"B": r.acct.Explicit(arnB, "awsvpcTrunking"),
		"C": r.acct.Explicit(arnC, "awsvpcTrunking"),
	}
}

func (r *listRun) want(step string, want map[string]string) {
	r.t.Helper()
	got := r.settings()
	for k, v := range want {
		if got[k] != v {
			r.t.Errorf("after %s: role %s is %q, want %q (all: %v; calls %s)", step, k, got[k], v, got, r.acct)
		}
	}
}

func TestListResourceKeysItsOptInsByRole(t *testing.T) {
	const (
		a = "ecsInstanceRole"
		b = "ops/legacy-ecs"
		c = "thirdRole"
	)
	t.Run("removing the middle name disables only that role; the roles still listed stay enabled", func(t *testing.T) {
		r := newListRun(t)
		if d := r.send(cfn.RequestCreate, listProps("disable", a, b, c)); d.Status != "SUCCESS" {
			t.Fatalf("create: %s %s", d.Status, d.Reason)
		}
		r.want("create", map[string]string{"A": "enabled", "B": "enabled", "C": "enabled"})
		if d := r.send(cfn.RequestUpdate, listProps("disable", a, c)); d.Status != "SUCCESS" || d.Data["Disabled"] != "1" {
			t.Fatalf("update: %s %s %v", d.Status, d.Reason, d.Data)
		}
		r.want("removing "+b, map[string]string{"A": "enabled", "B": "disabled", "C": "enabled"})
	})
	t.Run("reordering the names disables nothing", func(t *testing.T) {
		r := newListRun(t)
		r.send(cfn.RequestCreate, listProps("disable", a, b, c))
		r.acct.Reset()
		if d := r.send(cfn.RequestUpdate, listProps("disable", c, a, b)); d.Status != "SUCCESS" || d.Data["Disabled"] != "0" {
			t.Fatalf("update: %s %s %v", d.Status, d.Reason, d.Data)
		}
		r.want("reordering", map[string]string{"A": "enabled", "B": "enabled", "C": "enabled"})
	})
	t.Run("swapping two names disables neither", func(t *testing.T) {
		r := newListRun(t)
		r.send(cfn.RequestCreate, listProps("disable", a, b, c))
		if d := r.send(cfn.RequestUpdate, listProps("disable", a, c, b)); d.Status != "SUCCESS" {
			t.Fatalf("update: %s %s", d.Status, d.Reason)
		}
		r.want("swapping", map[string]string{"A": "enabled", "B": "enabled", "C": "enabled"})
		for _, call := range r.acct.Calls() {
			if strings.Contains(callValue(call.Input), "disabled") {
				t.Errorf("a swap wrote disabled: %+v", call.Input)
			}
		}
	})
	t.Run("a misspelt name fails the update naming it and writes nothing", func(t *testing.T) {
		r := newListRun(t)
		r.send(cfn.RequestCreate, listProps("disable", a, c))
		r.acct.Reset()
		d := r.send(cfn.RequestUpdate, listProps("disable", a, c, "thridRole"))
		if d.Status != "FAILED" || !strings.Contains(d.Reason, "role arn:aws:iam::123456789012:role/thridRole does not exist in account 123456789012") {
			t.Fatalf("update: %s %q, want FAILED naming the missing role", d.Status, d.Reason)
		}
		if r.acct.HasOp(opPut) {
			t.Errorf("calls %s: a put happened although a name was wrong", r.acct)
		}
		// CloudFormation rolls back: the old list again, the failed one as old.
		r.last = listProps("disable", a, c, "thridRole")
		if d := r.send(cfn.RequestUpdate, listProps("disable", a, c)); d.Status != "SUCCESS" {
			t.Fatalf("rollback: %s %s", d.Status, d.Reason)
		}
		r.want("the rollback", map[string]string{"A": "enabled", "C": "enabled"})
	})
	t.Run("delete with OnDelete disable disables every listed role; with retain it calls nothing", func(t *testing.T) {
		r := newListRun(t)
		r.send(cfn.RequestCreate, listProps("retain", a, b))
		r.acct.Reset()
		if d := r.send(cfn.RequestDelete, listProps("retain", a, b)); d.Status != "SUCCESS" || len(r.acct.Ops()) != 0 {
			t.Fatalf("delete with retain: %s %s, calls %s", d.Status, d.Reason, r.acct)
		}
		r.want("delete with retain", map[string]string{"A": "enabled", "B": "enabled"})
		r.send(cfn.RequestUpdate, listProps("disable", a, b))
		if d := r.send(cfn.RequestDelete, listProps("disable", a, b)); d.Status != "SUCCESS" {
			t.Fatalf("delete: %s %s", d.Status, d.Reason)
		}
		r.want("delete with disable", map[string]string{"A": "disabled", "B": "disabled", "C": ""})
	})
	t.Run("a role of another account in the list fails the create before any call", func(t *testing.T) {
		r := newListRun(t)
		d := r.send(cfn.RequestCreate, listProps("retain", a, foreignARN))
		if d.Status != "FAILED" || !strings.Contains(d.Reason, "account 210987654321") || !strings.Contains(d.Reason, "account 123456789012") {
			t.Fatalf("create: %s %q, want FAILED naming both accounts", d.Status, d.Reason)
		}
		if ops := r.acct.Ops(); len(ops) != 0 {
			t.Errorf("calls %v, want none", ops)
		}
	})
	t.Run("a role that left the list but is outside the allow-list is left unchanged", func(t *testing.T) {
		r := newListRun(t)
		r.send(cfn.RequestCreate, listProps("disable", a, b))
		r.h.Allowed = parseAllowlist(arnA) // the function's new allow-list no longer names b
		if d := r.send(cfn.RequestUpdate, listProps("disable", a)); d.Status != "SUCCESS" || d.Data["Disabled"] != "0" {
			t.Fatalf("update: %s %s %v", d.Status, d.Reason, d.Data)
		}
		r.want("removing b outside the allow-list", map[string]string{"A": "enabled", "B": "enabled"})
	})
	t.Run("an empty list is a resource that does nothing", func(t *testing.T) {
		r := newListRun(t)
		if d := r.send(cfn.RequestCreate, listProps("disable", "")); d.Status != "SUCCESS" || len(r.acct.Ops()) != 0 {
			t.Fatalf("create: %s %s, calls %s", d.Status, d.Reason, r.acct)
		}
	})
}

// callValue is the value a PutAccountSetting wrote ("" for other calls).
func callValue(in any) string {
	if p, ok := in.(*ecs.PutAccountSettingInput); ok {
		return aws.ToString(p.Value)
	}
	return ""
}
