package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/awserr"
	"github.com/trunkctl/trunkctl/internal/contract"
)

// A list resource (contract.ListResourceType) opts in every role named by
// its RoleNames property, roles of the function's own account. It is keyed
// by role, not by position: an Update diffs the old list against the new
// one, so a role that stays listed (reordered, or its neighbour removed) is
// only ever enabled, and only a role that left the list is disabled (with
// OnDelete=disable). Its physical id depends on the setting, the stack and
// the logical id alone, so changing the list never replaces it.

// listProperties are a list resource's validated properties.
type listProperties struct {
	common Properties // Region, Setting, Value, OnDelete
	Roles  []awsarn.Role
}

// isListResource reports whether raw describes a list resource.
func isListResource(raw map[string]any) bool {
	_, ok := raw[contract.PropRoleNames]
	return ok
}

// parseListProperties validates a list resource's properties and turns each
// name into a role ARN in the function's own partition and account. Empty
// names are skipped (a CommaDelimitedList parameter of "" is [""]), and a
// role named twice is opted in once.
func parseListProperties(raw map[string]any, partition, account string) (listProperties, error) {
	rp, err := decodeProperties(raw)
	if err != nil {
		return listProperties{}, err
	}
	if rp.RoleArn != nil || rp.EC2Role != nil {
		return listProperties{}, &PropertyError{Property: contract.PropRoleNames, Reason: "set either RoleNames or RoleArn (EC2Role), not both"}
	}
	common, err := parseCommon(rp)
	if err != nil {
		return listProperties{}, err
	}
	lp := listProperties{common: common}
	seen := map[string]bool{}
	for _, name := range deref(rp.RoleNames) {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		var role awsarn.Role
		if strings.HasPrefix(name, "arn:") {
			role, err = awsarn.ParseRole(name)
		} else {
			role, err = awsarn.RoleFromName(partition, account, name)
		}
		if err != nil {
			return listProperties{}, &PropertyError{Property: contract.PropRoleNames, Reason: fmt.Sprintf("%q is not a role name (PATH/NAME) or role ARN: %v", clip(name), err)}
		}
		if !seen[role.String()] {
			seen[role.String()] = true
			lp.Roles = append(lp.Roles, role)
		}
	}
	return lp, nil
}

// listPhysicalID is the list resource's id: the setting, and a hash of the
// stack and logical id, never the names.
func listPhysicalID(setting string, ev cfn.Event) string {
	sum := sha256.Sum256([]byte(ev.StackID + "\x00" + ev.LogicalResourceID))
	return physicalPrefix + setting + "/roles/" + hex.EncodeToString(sum[:8])
}

// one is the Properties of one role of the list.
func (lp listProperties) one(role awsarn.Role) Properties {
	p := lp.common
	p.Role = role
	return p
}

// roleNames is the roles for logs and reasons.
func roleNames(roles []awsarn.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

// applyList handles a list resource's Create and Update.
func (h *Handler) applyList(ctx context.Context, ev cfn.Event, prog *progress) outcome {
	prog.set("validating properties")
	lp, old, removed, region, err := h.planList(ctx, ev)
	all := roleNames(lp.Roles)
	if err != nil {
		return h.failed(ev, err, all)
	}
	if len(lp.Roles) == 0 && len(removed) == 0 {
		return h.listDone(ev, lp, 0, 0)
	}
	prog.set("loading the AWS configuration")
	c, err := h.Clients(ctx, region)
	if err != nil {
		return h.failed(ev, err, all)
	}
	// Every name is checked before anything is written, so a typo fails
	// the resource and changes no role.
	for _, r := range lp.Roles {
		prog.set("checking that role %s exists (iam:GetRole)", r)
		if err := checkRoleExists(ctx, c.IAM, r); err != nil {
			return h.failed(ev, err, all)
		}
	}
	for _, r := range lp.Roles {
		// The listed roles exist already and the stack does not edit their
		// trust, so there is no IAM propagation to wait for.
		if _, err := h.optIn(ctx, ev, prog, c, lp.one(r), region, 0, true); err != nil {
			return h.failed(ev, err, all)
		}
	}
	disabled := h.disableRemoved(ctx, ev, prog, c, region, old, removed)
	return h.listDone(ev, lp, len(lp.Roles), disabled)
}

// planList validates a Create or Update before any call: the new list (each
// role in the function's account and allowed), and, for an Update with
// OnDelete=disable, the roles that left the list. An old list that does not
// parse, or another setting, removes nothing here: a new setting is a
// replacement, and CloudFormation deletes the old resource.
func (h *Handler) planList(ctx context.Context, ev cfn.Event) (lp, old listProperties, removed []awsarn.Role, region string, err error) {
	part, acct, _, err := functionAccount(ctx)
	if err != nil {
		return lp, old, nil, "", fmt.Errorf("refusing to act: %w", err)
	}
	if lp, err = parseListProperties(ev.ResourceProperties, part, acct); err != nil {
		return lp, old, nil, "", err
	}
	region = cmp.Or(lp.common.Region, h.DefaultRegion)
	for _, r := range lp.Roles {
		if err := lp.one(r).checkRegion(region); err != nil {
			return lp, old, nil, region, err
		}
		if err := h.authorize(ctx, r); err != nil {
			return lp, old, nil, region, err
		}
	}
	if ev.RequestType != cfn.RequestUpdate || lp.common.OnDelete != contract.OnDeleteDisable {
		return lp, old, nil, region, nil
	}
	o, err := parseListProperties(ev.OldResourceProperties, part, acct)
	if err != nil || o.common.Setting != lp.common.Setting {
		return lp, old, nil, region, nil
	}
	for _, r := range o.Roles {
		if !slices.Contains(lp.Roles, r) {
			removed = append(removed, r)
		}
	}
	return lp, o, removed, region, nil
}

// disableRemoved disables the roles that left the list and returns how many
// it did. A role it cannot disable must not fail the update (a rollback
// replays it the other way round): it is logged and left as it is.
func (h *Handler) disableRemoved(ctx context.Context, ev cfn.Event, prog *progress, c regionClients, region string, old listProperties, removed []awsarn.Role) int {
	disabled := 0
	oldRegion := cmp.Or(old.common.Region, h.DefaultRegion)
	for _, r := range removed {
		err := h.authorize(ctx, r)
		oc := c
		if err == nil && oldRegion != region {
			oc, err = h.Clients(ctx, oldRegion)
		}
		if err == nil {
			err = h.disable(ctx, ev, prog, oc, old.one(r), oldRegion)
		}
		if err != nil {
			h.Log.Warn("a role that left RoleNames was left unchanged", "RequestId", ev.RequestID, "RoleArn", r.String(), "error", err.Error())
			continue
		}
		disabled++
		h.Log.Info("disabled the setting of a role that left RoleNames", "RequestId", ev.RequestID, "RoleArn", r.String(), "Setting", old.common.Setting)
	}
	return disabled
}

func (h *Handler) listDone(ev cfn.Event, lp listProperties, enabled, disabled int) outcome {
	action := contract.ActionCreated
	if ev.RequestType == cfn.RequestUpdate {
		action = contract.ActionUpdated
	}
	return outcome{status: cfn.StatusSuccess, physicalID: listPhysicalID(lp.common.Setting, ev), action: action, role: roleNames(lp.Roles),
		data: map[string]any{contract.AttrSetting: lp.common.Setting, contract.AttrValue: lp.common.Value,
			"Roles": strconv.Itoa(enabled), "Disabled": strconv.Itoa(disabled)}}
}

// deleteList handles a list resource's Delete: always SUCCESS; with
// OnDelete=disable it disables every listed role it may act for.
func (h *Handler) deleteList(ctx context.Context, ev cfn.Event, prog *progress) outcome {
	id := ev.PhysicalResourceID
	skip := func(reason, roles string, action contract.Action) outcome {
		return outcome{status: cfn.StatusSuccess, physicalID: cmp.Or(id, createFailedID(ev.ResourceProperties)), action: action, reason: reason, role: roles}
	}
	if isCreateFailedID(id) {
		return skip("nothing to delete: the Create of this resource failed, so no setting was changed", "", contract.ActionSkipped)
	}
	part, acct, _, err := functionAccount(ctx)
	if err != nil {
		return skip("left every setting unchanged: "+err.Error(), "", contract.ActionLeftUnchanged)
	}
	lp, err := parseListProperties(ev.ResourceProperties, part, acct)
	if err != nil {
		return skip("nothing to delete: the properties do not describe a resource this function made ("+err.Error()+")", "", contract.ActionSkipped)
	}
	all := roleNames(lp.Roles)
	if want := listPhysicalID(lp.common.Setting, ev); id != want {
		return skip(fmt.Sprintf("nothing to delete: physical id %q is not the one this function gives these properties (%q)", clip(id), want), all, contract.ActionSkipped)
	}
	if lp.common.OnDelete == contract.OnDeleteRetain {
		return skip(fmt.Sprintf("OnDelete is retain: %s stays as it is for %d role(s)", lp.common.Setting, len(lp.Roles)), all, contract.ActionRetained)
	}
	region := cmp.Or(lp.common.Region, h.DefaultRegion)
	var left []string
	var c *regionClients
	for _, r := range lp.Roles {
		p := lp.one(r)
		err := p.checkRegion(region)
		if err == nil {
			err = h.authorize(ctx, r)
		}
		if err == nil && c == nil {
			prog.set("loading the AWS configuration")
			var rc regionClients
			if rc, err = h.Clients(ctx, region); err == nil {
				c = &rc
			}
		}
		if err == nil {
			err = h.disable(ctx, ev, prog, *c, p, region)
		}
		if err != nil {
			left = append(left, fmt.Sprintf("%s: %v", r, err))
		}
	}
	if len(left) > 0 {
		return skip(fmt.Sprintf("OnDelete is disable, but %s was left unchanged for %d of %d role(s) so the stack can still be deleted: %s",
			lp.common.Setting, len(left), len(lp.Roles), strings.Join(left, "; ")), all, contract.ActionLeftUnchanged)
	}
	return skip("", all, contract.ActionDisabled)
}

// RoleMissingError says iam:GetRole found no role of that name.
type RoleMissingError struct{ Role awsarn.Role }

func (e *RoleMissingError) Error() string {
	return fmt.Sprintf("role %s does not exist in account %s (iam:GetRole found no role named %s): check the name (aws iam list-roles --query 'Roles[].RoleName')",
		e.Role, e.Role.AccountID, e.Role.Name)
}

// checkRoleExists asks IAM whether role exists. It fails closed: a function
// that may not ask cannot tell a typo from a role, so it says what to grant.
func checkRoleExists(ctx context.Context, c accountsetting.RoleGetter, role awsarn.Role) error {
	if c == nil {
		return fmt.Errorf("cannot check that role %s exists: no IAM client", role)
	}
	ok, err := accountsetting.RoleExists(ctx, c, role)
	switch {
	case err != nil && awserr.IsAccessDenied(err):
		return fmt.Errorf("cannot check that role %s exists: iam:GetRole was denied (grant the function's role iam:GetRole on %s): %s", role, role, awserr.Message(err))
	case err != nil:
		return fmt.Errorf("check that role %s exists: %w", role, err)
	case !ok:
		return &RoleMissingError{Role: role}
	}
	return nil
}
