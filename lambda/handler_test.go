package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

const (
	roleName = "EcsInstance"
	roleARN  = "arn:aws:iam::123456789012:role/EcsInstance"
	otherARN = "arn:aws:iam::123456789012:role/Other"
	// foreignARN is a role of another account.
	foreignARN = "arn:aws:iam::210987654321:role/EcsInstance"
	ourID      = "trunkctl/awsvpcTrunking/" + roleARN
	otherID    = "trunkctl/awsvpcTrunking/" + otherARN
	opAssume   = "sts:AssumeRole"
	opPut      = "ecs:PutAccountSetting"
	opList     = "ecs:ListAccountSettings"
	opGetRole  = "iam:GetRole"
	propToken  = "arn:aws:lambda:us-east-1:123456789012:function:trunkctl"
)

func noSleep(context.Context, time.Duration) error { return nil }

func denied(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "User: " + fnRole + " is not authorized", Fault: smithy.FaultClient}
}

func props(kv ...string) map[string]any {
	m := map[string]any{"ServiceToken": propToken}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// overlapped orders the calls the function makes at once: the principalArn
// write and the AssumeRole (with its retries) run side by side, so until
// the next write or the read-back their order is the scheduler's; they are
// listed write first. After a principalArn write, iam:GetRole and the
// read-back run side by side too; they are listed GetRole first.
func overlapped(ops []string) []string {
	out := slices.Clone(ops)
	n := 0
	for n < len(out) && (out[n] == opAssume || out[n] == opPut && !slices.Contains(out[:n], opPut)) {
		n++
	}
	slices.SortStableFunc(out[:n], func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == opPut:
			return -1
		case b == opPut:
			return 1
		}
		return 0
	})
	if n+1 < len(out) && out[n] == opList && out[n+1] == opGetRole {
		out[n], out[n+1] = opGetRole, opList
	}
	return out
}

func TestHandleAnswersEveryRequestTypeAndOutcome(t *testing.T) {
	malformed := props("RoleArn", "arn:aws:iam::12345:role/EcsInstance", "OnDelete", "disable")
	validDisable := props("RoleArn", roleARN, "OnDelete", "disable")
	tests := []struct {
		name       string
		reqType    cfn.RequestType
		props      map[string]any
		old        map[string]any
		physicalID string
		setup      func(a *accountsettingtest.Account)
		timeout    time.Duration
		wantStatus cfn.StatusType
		wantID     string
		wantReason string
		wantOps    []string
		wantValue  string // the role's explicit setting afterwards
		wantData   map[string]string
		// check replaces the exact wantOps comparison.
		check func(t *testing.T, ops []string)
		// allowed is the allow-list variable's value; noLambdaContext
		// invokes without the invoked function's ARN.
		allowed         string
		noLambdaContext bool
	}{
		{
			name: "create for a role of another account fails naming both accounts before any call", reqType: cfn.RequestCreate,
			props: props("RoleArn", foreignARN), wantStatus: cfn.StatusFailed, wantID: createFailedID(props("RoleArn", foreignARN)),
			wantReason: "refusing to act for role " + foreignARN + ": the role is in account 210987654321 (partition aws) but this function runs in account 123456789012",
		},
		{
			name: "create for a role of another partition fails before any call", reqType: cfn.RequestCreate,
			props: props("RoleArn", "arn:aws-cn:iam::123456789012:role/EcsInstance", "Region", "cn-north-1"), wantStatus: cfn.StatusFailed,
			wantReason: "the role is in account 123456789012 (partition aws-cn) but this function runs in account 123456789012 (partition aws)",
		},
		{
			name: "create for a role of its own account outside the allow-list fails before any call", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN), allowed: otherARN, wantStatus: cfn.StatusFailed,
			wantReason: "refusing to act for role " + roleARN + ": the role is not in the function's allow-list (TRUNKCTL_ALLOWED_ROLE_ARNS, 1 role(s))",
		},
		{
			name: "create for a role on the allow-list opts it in", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN), allowed: otherARN + ", " + roleARN, wantStatus: cfn.StatusSuccess, wantID: ourID,
			wantOps: []string{opPut, opAssume, opPut, opList}, wantValue: "enabled",
		},
		{
			name: "create with an allow-list that does not parse fails closed before any call", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN), allowed: roleARN + ",ecsInstanceRole", wantStatus: cfn.StatusFailed,
			wantReason: "TRUNKCTL_ALLOWED_ROLE_ARNS has an entry that is not a role ARN",
		},
		{
			name: "create without the invoked function's ARN fails before any call", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN), noLambdaContext: true, wantStatus: cfn.StatusFailed,
			wantReason: "the invocation carries no invoked function ARN",
		},
		{
			name: "delete with OnDelete disable for a role of another account answers SUCCESS and calls nothing", reqType: cfn.RequestDelete,
			props: props("RoleArn", foreignARN, "OnDelete", "disable"), physicalID: "trunkctl/awsvpcTrunking/" + foreignARN,
			wantStatus: cfn.StatusSuccess, wantReason: "but this function runs in account 123456789012", wantValue: "enabled",
		},
		{
			name: "create under the ECS guide's rule for a role that does not exist fails naming it (iam:GetRole beside the read-back after the principalArn write, which ECS takes for any name)", reqType: cfn.RequestCreate,
			props: props("RoleArn", "arn:aws:iam::123456789012:role/EcsInstanse"), setup: func(a *accountsettingtest.Account) { a.Rule = accountsettingtest.RuleGuide },
			wantStatus: cfn.StatusFailed, wantReason: "role arn:aws:iam::123456789012:role/EcsInstanse does not exist in account 123456789012",
			wantOps: []string{opPut, opAssume, opGetRole, opList}, wantValue: "",
		},
		{
			name: "create enables trunking as the role and answers SUCCESS with the data", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN), wantStatus: cfn.StatusSuccess, wantID: ourID,
			wantOps: []string{opPut, opAssume, opPut, opList}, wantValue: "enabled",
			wantData: map[string]string{"PrincipalArn": roleARN, "Setting": "awsvpcTrunking", "Value": "enabled", "EffectiveValue": "enabled", "Via": "assume-role"},
		},
		{
			name: "create accepts the seed template's EC2Role alias and its Region property", reqType: cfn.RequestCreate,
			props: props("EC2Role", roleARN, "Region", "us-east-1"), wantStatus: cfn.StatusSuccess, wantID: ourID,
			wantOps: []string{opPut, opAssume, opPut, opList}, wantValue: "enabled",
		},
		{
			name: "create with RoleArn and EC2Role both set and equal is fine", reqType: cfn.RequestCreate,
			props: props("EC2Role", roleARN, "RoleArn", roleARN), wantStatus: cfn.StatusSuccess, wantID: ourID,
			wantOps: []string{opPut, opAssume, opPut, opList}, wantValue: "enabled",
		},
		{
			name: "create with RoleArn and EC2Role that differ fails naming both without calls", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN, "EC2Role", otherARN), wantStatus: cfn.StatusFailed,
			wantReason: "RoleArn \"" + roleARN + "\" and its alias EC2Role \"" + otherARN + "\" are both set and differ",
		},
		{
			name: "create with a malformed role ARN fails at once naming RoleArn", reqType: cfn.RequestCreate,
			props: malformed, wantStatus: cfn.StatusFailed, wantID: createFailedID(malformed),
			wantReason: "invalid property RoleArn: \"arn:aws:iam::12345:role/EcsInstance\" is not an IAM role ARN: account \"12345\" is not 12 digits",
		},
		{
			name: "create without a role fails saying RoleArn is required", reqType: cfn.RequestCreate,
			props: props(), wantStatus: cfn.StatusFailed, wantReason: "invalid property RoleArn: is required",
		},
		{
			name: "create with a value other than enabled or disabled fails naming Value", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN, "Value", "true"), wantStatus: cfn.StatusFailed,
			wantReason: "invalid property Value: value \"true\" for awsvpcTrunking must be \"enabled\" or \"disabled\"",
		},
		{
			name: "create with a misspelt property fails naming it", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN, "Ondelete", "disable"), wantStatus: cfn.StatusFailed,
			wantReason: "invalid property Ondelete: unknown property \"Ondelete\"",
		},
		{
			name: "create with a property that is not a string fails naming it", reqType: cfn.RequestCreate,
			props: map[string]any{"RoleArn": roleARN, "Value": true}, wantStatus: cfn.StatusFailed,
			wantReason: "invalid property Value: must be a string, got a boolean",
		},
		{
			name: "create with an unknown setting fails naming Setting", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN, "Setting", "awsvpcTrunkin"), wantStatus: cfn.StatusFailed,
			wantReason: "invalid property Setting: unknown setting \"awsvpcTrunkin\"",
		},
		{
			name: "create with a bad OnDelete fails naming OnDelete", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN, "OnDelete", "delete"), wantStatus: cfn.StatusFailed,
			wantReason: "invalid property OnDelete: \"delete\" must be \"retain\"",
		},
		{
			name: "create with a Region in another partition fails naming Region", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN, "Region", "cn-north-1"), wantStatus: cfn.StatusFailed,
			wantReason: "invalid property Region: Region cn-north-1 is in partition aws-cn but role " + roleARN + " is in aws",
		},
		{
			name: "create retries AccessDenied while IAM propagates and then succeeds", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN), setup: func(a *accountsettingtest.Account) { a.AddRole(roleName, accountsettingtest.RoleState{DenyFirst: 2}) },
			wantStatus: cfn.StatusSuccess, wantID: ourID, wantOps: []string{opPut, opAssume, opAssume, opAssume, opPut, opList}, wantValue: "enabled",
		},
		{
			name: "create for a role that never trusts the function fails with access denied", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN), setup: func(a *accountsettingtest.Account) {
				a.AddRole(roleName, accountsettingtest.RoleState{DenyAlways: true})
			},
			wantStatus: cfn.StatusFailed, wantReason: "access denied after", wantID: createFailedID(props("RoleArn", roleARN)),
			check: func(t *testing.T, ops []string) {
				if len(ops) < 3 || ops[0] != opPut || ops[len(ops)-1] != opGetRole || slices.ContainsFunc(ops[1:len(ops)-1], func(op string) bool { return op != opAssume }) {
					t.Errorf("calls = %v, want the refused principalArn write, several AssumeRole attempts and iam:GetRole for the hint", ops)
				}
			},
		},
		{
			name: "create fails when ECS refuses the put", reqType: cfn.RequestCreate, props: props("RoleArn", roleARN),
			setup:      func(a *accountsettingtest.Account) { a.Fail[opPut] = denied("AccessDeniedException") },
			wantStatus: cfn.StatusFailed, wantReason: "put account setting awsvpcTrunking=enabled as " + roleARN, wantOps: []string{opPut, opAssume, opPut},
		},
		{
			name: "create fails when the setting does not read back as written", reqType: cfn.RequestCreate, props: props("RoleArn", roleARN),
			setup:      func(a *accountsettingtest.Account) { a.Override["awsvpcTrunking"] = "disabled" },
			wantStatus: cfn.StatusFailed, wantReason: "reads back \"disabled\"", wantOps: []string{opPut, opAssume, opPut, opList}, wantValue: "enabled",
		},
		{
			name: "create succeeds unverified when the role may put but not list settings", reqType: cfn.RequestCreate, props: props("RoleArn", roleARN),
			setup:      func(a *accountsettingtest.Account) { a.Fail[opList] = denied("AccessDeniedException") },
			wantStatus: cfn.StatusSuccess, wantID: ourID, wantOps: []string{opPut, opAssume, opPut, opList}, wantValue: "enabled",
			wantData: map[string]string{"PrincipalArn": roleARN, "Setting": "awsvpcTrunking", "Value": "enabled", "EffectiveValue": "unverified", "Via": "assume-role"},
		},
		{
			name: "create with a hung put answers FAILED before the deadline saying what it was doing", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN), setup: func(a *accountsettingtest.Account) { a.Hang[opPut] = true }, timeout: time.Second,
			wantStatus: cfn.StatusFailed, wantReason: "while putting awsvpcTrunking=enabled as " + roleARN + " in us-east-1", wantOps: []string{opPut, opAssume},
		},
		{
			name: "create with a hung AssumeRole answers FAILED before the deadline", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN), setup: func(a *accountsettingtest.Account) { a.Hang[opAssume] = true }, timeout: time.Second,
			wantStatus: cfn.StatusFailed, wantReason: "timed out after", wantOps: []string{opPut, opAssume},
		},
		{
			name: "update of Value keeps the physical id and puts the new value", reqType: cfn.RequestUpdate,
			props: props("RoleArn", roleARN, "Value", "disabled"), old: props("RoleArn", roleARN), physicalID: ourID,
			wantStatus: cfn.StatusSuccess, wantID: ourID, wantOps: []string{opPut, opAssume, opPut, opList}, wantValue: "disabled",
		},
		{
			name: "update to another role is a replacement with a new physical id", reqType: cfn.RequestUpdate,
			props: props("RoleArn", otherARN), old: props("RoleArn", roleARN), physicalID: ourID,
			setup:      func(a *accountsettingtest.Account) { a.AddRole("Other", accountsettingtest.RoleState{}) },
			wantStatus: cfn.StatusSuccess, wantID: otherID, wantOps: []string{opPut, opAssume, opPut, opList}, wantValue: "enabled",
		},
		{
			name: "update with invalid new properties fails keeping the old physical id", reqType: cfn.RequestUpdate,
			props: props("RoleArn", "not-an-arn"), old: props("RoleArn", roleARN), physicalID: ourID,
			wantStatus: cfn.StatusFailed, wantID: ourID, wantReason: "invalid property RoleArn", wantValue: "enabled",
		},
		{
			name: "update with a hung read-back fails before the deadline keeping the old physical id", reqType: cfn.RequestUpdate,
			props: props("RoleArn", roleARN), old: props("RoleArn", roleARN), physicalID: ourID, timeout: time.Second,
			setup: func(a *accountsettingtest.Account) {
				a.Rule = accountsettingtest.RuleGuide
				a.Hang[opList] = true // the principalArn write answers, the read-back hangs
			},
			wantStatus: cfn.StatusFailed, wantID: ourID, wantReason: "while reading back awsvpcTrunking as " + roleARN, wantOps: []string{opPut, opAssume, opGetRole, opList}, wantValue: "enabled",
		},
		{
			name: "delete with OnDelete retain answers SUCCESS without calls", reqType: cfn.RequestDelete,
			props: props("RoleArn", roleARN), physicalID: ourID, wantStatus: cfn.StatusSuccess, wantID: ourID, wantValue: "enabled",
		},
		{
			name: "delete with OnDelete disable sets disabled as the role", reqType: cfn.RequestDelete,
			props: validDisable, physicalID: ourID, wantStatus: cfn.StatusSuccess, wantID: ourID,
			wantOps: []string{opPut, opAssume, opPut}, wantValue: "disabled",
		},
		{
			name: "delete with OnDelete disable answers SUCCESS when the role cannot be assumed and leaves the setting", reqType: cfn.RequestDelete,
			props: validDisable, physicalID: ourID, setup: func(a *accountsettingtest.Account) {
				a.AddRole(roleName, accountsettingtest.RoleState{DenyAlways: true})
			},
			wantStatus: cfn.StatusSuccess, wantID: ourID, wantReason: "was left unchanged for " + roleARN + " so the stack can still be deleted",
			wantOps: []string{opPut, opAssume, opGetRole}, wantValue: "enabled",
		},
		{
			name: "delete with OnDelete disable answers SUCCESS before the deadline when the put hangs", reqType: cfn.RequestDelete,
			props: validDisable, physicalID: ourID, setup: func(a *accountsettingtest.Account) { a.Hang[opPut] = true }, timeout: time.Second,
			wantStatus: cfn.StatusSuccess, wantID: ourID, wantReason: "timed out after", wantOps: []string{opPut, opAssume}, wantValue: "enabled",
		},
		{
			name: "delete after a failed create with a malformed role answers SUCCESS without calls", reqType: cfn.RequestDelete,
			props: malformed, physicalID: createFailedID(malformed), wantStatus: cfn.StatusSuccess, wantID: createFailedID(malformed),
			wantReason: "the Create of this resource failed", wantValue: "enabled",
		},
		{
			name: "delete after a failed create with valid properties answers SUCCESS without calls", reqType: cfn.RequestDelete,
			props: validDisable, physicalID: createFailedID(validDisable), wantStatus: cfn.StatusSuccess, wantID: createFailedID(validDisable),
			wantReason: "the Create of this resource failed", wantValue: "enabled",
		},
		{
			name: "delete of a physical id this function did not make answers SUCCESS without calls", reqType: cfn.RequestDelete,
			props: validDisable, physicalID: "some-other-id", wantStatus: cfn.StatusSuccess, wantID: "some-other-id",
			wantReason: "is not the one this function gives these properties", wantValue: "enabled",
		},
		{
			name: "delete with malformed properties and another id answers SUCCESS without calls", reqType: cfn.RequestDelete,
			props: props("RoleArn", roleARN, "Bogus", "x", "OnDelete", "disable"), physicalID: ourID, wantStatus: cfn.StatusSuccess, wantID: ourID,
			wantReason: "the properties do not describe a resource this function made", wantValue: "enabled",
		},
		{
			name: "create under the ECS guide's rule names the role with principalArn and drops the AssumeRole started beside the write", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN), setup: func(a *accountsettingtest.Account) { a.Rule = accountsettingtest.RuleGuide },
			wantStatus: cfn.StatusSuccess, wantID: ourID, wantOps: []string{opPut, opAssume, opGetRole, opList}, wantValue: "enabled",
			wantData: map[string]string{"PrincipalArn": roleARN, "Setting": "awsvpcTrunking", "Value": "enabled", "EffectiveValue": "enabled", "Via": "principal-arn"},
		},
		{
			name: "create under the ECS guide's rule reads back beside iam:GetRole, not after it", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN), timeout: time.Second, setup: func(a *accountsettingtest.Account) {
				a.Rule = accountsettingtest.RuleGuide
				a.Hang[opGetRole] = true // the existence check never answers; the read-back is asked all the same
			},
			wantStatus: cfn.StatusFailed, wantID: createFailedID(props("RoleArn", roleARN)), wantReason: "and checking that the role exists (iam:GetRole)",
			wantOps: []string{opPut, opAssume, opGetRole, opList}, wantValue: "enabled",
		},
		{
			name: "delete under the ECS guide's rule disables with principalArn", reqType: cfn.RequestDelete,
			props: validDisable, physicalID: ourID, setup: func(a *accountsettingtest.Account) { a.Rule = accountsettingtest.RuleGuide },
			wantStatus: cfn.StatusSuccess, wantID: ourID, wantOps: []string{opPut, opAssume}, wantValue: "disabled",
		},
		{
			name: "create where ECS lets the function read but not write with principalArn puts as the assumed role", reqType: cfn.RequestCreate,
			props: props("RoleArn", roleARN), setup: func(a *accountsettingtest.Account) {
				a.Rule = accountsettingtest.RuleGuide
				a.DenyPrincipalArn[opPut] = true
			},
			wantStatus: cfn.StatusSuccess, wantID: ourID, wantOps: []string{opPut, opAssume, opPut, opList}, wantValue: "enabled",
			wantData: map[string]string{"PrincipalArn": roleARN, "Setting": "awsvpcTrunking", "Value": "enabled", "EffectiveValue": "enabled", "Via": "assume-role"},
		},
		{
			name: "an unknown RequestType fails", reqType: "Replace", props: props("RoleArn", roleARN), physicalID: ourID,
			wantStatus: cfn.StatusFailed, wantID: ourID, wantReason: "unknown RequestType \"Replace\"", wantValue: "enabled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acct := accountsettingtest.New()
			acct.AddRole(roleName, accountsettingtest.RoleState{})
			if tt.reqType != cfn.RequestCreate {
				acct.SetExplicit(roleARN, "awsvpcTrunking", "enabled") // what the Create did
			}
			if tt.setup != nil {
				tt.setup(acct)
			}
			acct.Reset()
			b := newBucket(t)
			logs := &syncbuf.Buffer{}
			h := newTestHandler(acct, logs)
			h.Sleep = noSleep
			ev := event(tt.reqType, b.URL(), tt.props)
			ev.PhysicalResourceID, ev.OldResourceProperties = tt.physicalID, tt.old
			h.Allowed = parseAllowlist(tt.allowed)
			timeout := cmpOr(tt.timeout, 5*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			deadline, _ := ctx.Deadline()
			hctx := invoked(ctx)
			if tt.noLambdaContext {
				hctx = ctx
			}

			if err := h.Handle(hctx, ev); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			puts := b.Puts()
			if len(puts) != 1 {
				t.Fatalf("bucket got %d responses, want exactly 1", len(puts))
			}
			if !puts[0].At.Before(deadline) {
				t.Errorf("response arrived %s after the deadline", puts[0].At.Sub(deadline))
			}
			got := decode(t, puts[0].Body)
			if got.Status != string(tt.wantStatus) {
				t.Errorf("Status = %s (%s), want %s", got.Status, got.Reason, tt.wantStatus)
			}
			if got.PhysicalResourceID == "" {
				t.Errorf("PhysicalResourceId is empty")
			}
			if tt.wantID != "" && got.PhysicalResourceID != tt.wantID {
				t.Errorf("PhysicalResourceId = %q, want %q", got.PhysicalResourceID, tt.wantID)
			}
			if tt.wantStatus == cfn.StatusFailed && tt.reqType == cfn.RequestCreate && !isCreateFailedID(got.PhysicalResourceID) {
				t.Errorf("a failed Create answered PhysicalResourceId %q, want a create-failed id", got.PhysicalResourceID)
			}
			if !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("Reason = %q, want it to contain %q", got.Reason, tt.wantReason)
			}
			if got.RequestID != ev.RequestID || got.StackID != stackID || got.LogicalResourceID != "Trunking" {
				t.Errorf("response does not echo the request: %+v", got)
			}
			if tt.check != nil {
				tt.check(t, overlapped(acct.Ops()))
			} else if ops := overlapped(acct.Ops()); !slices.Equal(ops, tt.wantOps) {
				t.Errorf("calls = %v, want %v", ops, tt.wantOps)
			}
			if v := acct.Explicit(roleARN, "awsvpcTrunking"); v != tt.wantValue {
				t.Errorf("role's setting = %q, want %q", v, tt.wantValue)
			}
			if tt.wantData != nil && !mapsEqual(got.Data, tt.wantData) {
				t.Errorf("Data = %v, want %v", got.Data, tt.wantData)
			}
			named, _ := tt.props["RoleArn"].(string)
			if named == "" {
				named, _ = tt.props["EC2Role"].(string)
			}
			for _, c := range acct.Calls() {
				if in, ok := c.Input.(*ecs.PutAccountSettingInput); ok && c.Caller == fnRole && aws.ToString(in.PrincipalArn) != named {
					t.Errorf("put was made as the function's own role without naming the instance role")
				}
				if in, ok := c.Input.(*sts.AssumeRoleInput); ok && aws.ToString(in.Policy) != accountsetting.SessionPolicy("awsvpcTrunking") {
					t.Errorf("AssumeRole passed session policy %q, want the account-setting-only policy", aws.ToString(in.Policy))
				}
			}
			lines := logLines(t, logs)
			outcomes := 0
			for _, l := range lines {
				if l["msg"] == "custom resource event" {
					outcomes++
					if l["result"] != string(tt.wantStatus) || l["RequestType"] != string(tt.reqType) || l["StackId"] != stackID || l["LogicalResourceId"] != "Trunking" {
						t.Errorf("outcome log line lacks the event: %v", l)
					}
					if _, ok := l["duration_ms"].(float64); !ok {
						t.Errorf("outcome log line has no duration_ms: %v", l)
					}
				}
			}
			if outcomes != 1 {
				t.Errorf("%d outcome log lines, want 1:\n%s", outcomes, logs.String())
			}
		})
	}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestAssumeRoleSessionNameIdentifiesTheStackAndResource(t *testing.T) {
	acct := accountsettingtest.New()
	acct.AddRole(roleName, accountsettingtest.RoleState{})
	b := newBucket(t)
	h := newTestHandler(acct, &syncbuf.Buffer{})
	if err := h.Handle(invoked(context.Background()), event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN))); err != nil {
		t.Fatal(err)
	}
	var in *sts.AssumeRoleInput
	for _, c := range acct.Calls() { // after the refused principalArn probe
		if c.Op == opAssume {
			in = c.Input.(*sts.AssumeRoleInput)
			break
		}
	}
	if in == nil {
		t.Fatalf("no AssumeRole among %v", acct.Ops())
	}
	if got, want := aws.ToString(in.RoleSessionName), "trunkctl.trunking-demo.Trunking"; got != want {
		t.Errorf("RoleSessionName = %q, want %q", got, want)
	}
}

func TestHandlePanicAnswersFailedOnce(t *testing.T) {
	acct := accountsettingtest.New()
	b := newBucket(t)
	logs := &syncbuf.Buffer{}
	h := newTestHandler(acct, logs)
	h.Clients = func(context.Context, string) (regionClients, error) {
		panic("boom in client set-up")
	}
	if err := h.Handle(invoked(context.Background()), event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN))); err != nil {
		t.Fatal(err)
	}
	puts := b.Puts()
	if len(puts) != 1 {
		t.Fatalf("bucket got %d responses, want 1", len(puts))
	}
	got := decode(t, puts[0].Body)
	if got.Status != "FAILED" || !strings.Contains(got.Reason, "internal error while loading the AWS configuration: boom in client set-up") {
		t.Errorf("got %s %q, want FAILED naming the panic and what it was doing", got.Status, got.Reason)
	}
	if !isCreateFailedID(got.PhysicalResourceID) {
		t.Errorf("PhysicalResourceId = %q, want a create-failed id", got.PhysicalResourceID)
	}
	if !strings.Contains(logs.String(), `"panic":"boom in client set-up"`) {
		t.Errorf("panic not logged:\n%s", logs)
	}
}

func TestHandleAnswersOnceEvenWhenHungWorkFinishesLater(t *testing.T) {
	acct := accountsettingtest.New()
	acct.AddRole(roleName, accountsettingtest.RoleState{})
	acct.Hang[opPut] = true
	b := newBucket(t)
	h := newTestHandler(acct, &syncbuf.Buffer{})
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	if err := h.Handle(invoked(ctx), event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the cancelled put returns meanwhile
	if n := len(b.Puts()); n != 1 {
		t.Fatalf("bucket got %d responses, want exactly 1", n)
	}
}

func TestHandleWithoutResponseURLReturnsAnError(t *testing.T) {
	h := newTestHandler(accountsettingtest.New(), &syncbuf.Buffer{})
	err := h.Handle(invoked(context.Background()), event(cfn.RequestCreate, "file:///etc/passwd", props("RoleArn", roleARN)))
	if err == nil || !strings.Contains(err.Error(), "is not an http(s) URL") {
		t.Fatalf("err = %v, want an error about the ResponseURL", err)
	}
}

func TestLoadingClientsFailsTheCreateAndIsRetriedNextTime(t *testing.T) {
	acct := accountsettingtest.New()
	acct.AddRole(roleName, accountsettingtest.RoleState{})
	b := newBucket(t)
	h := newTestHandler(acct, &syncbuf.Buffer{})
	good := h.Clients
	calls := 0
	h.Clients = func(ctx context.Context, region string) (regionClients, error) {
		calls++
		if calls == 1 {
			return regionClients{}, errors.New("load AWS configuration: no credentials")
		}
		return good(ctx, region)
	}
	for _, want := range []string{"FAILED", "SUCCESS"} {
		if err := h.Handle(invoked(context.Background()), event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN))); err != nil {
			t.Fatal(err)
		}
		puts := b.Puts()
		if got := decode(t, puts[len(puts)-1].Body); got.Status != want {
			t.Errorf("Status = %s (%s), want %s", got.Status, got.Reason, want)
		}
	}
}

func TestSessionPolicyAllowsOnlyTheAccountSettingCalls(t *testing.T) {
	var doc struct {
		Version   string
		Statement []struct {
			Effect    string
			Action    any
			Resource  any
			Condition map[string]map[string]string
		}
	}
	policy := accountsetting.SessionPolicy("awsvpcTrunking")
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		t.Fatalf("session policy %q is not JSON: %v", policy, err)
	}
	if len(policy) > 2048 {
		t.Errorf("session policy is %d characters, over STS's 2,048", len(policy))
	}
	got := map[string]string{}
	for _, st := range doc.Statement {
		if st.Effect != "Allow" {
			t.Errorf("statement %+v is not an Allow", st)
		}
		action, _ := st.Action.(string)
		got[action] = fmt.Sprint(st.Condition)
	}
	want := map[string]string{
		"ecs:PutAccountSetting":   "map[StringEquals:map[ecs:account-setting:awsvpcTrunking]]",
		"ecs:ListAccountSettings": "map[]",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("session policy allows %v, want exactly %v", got, want)
	}
}
