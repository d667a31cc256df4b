package cli

import (
	"context"
	"fmt"
	"sort"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// roleResolver finds how to act as a role (accountsetting.Resolver).
type roleResolver interface {
	Caller(ctx context.Context) (awsarn.Principal, string, error)
	Resolve(ctx context.Context, caller awsarn.Principal, callerArn string, role awsarn.Role) (accountsetting.Principal, error)
}

// roleStatus is one role's effective setting; its JSON is a contract.
type roleStatus struct {
	RoleArn        string `json:"roleArn"`
	Setting        string `json:"setting"`
	EffectiveValue string `json:"effectiveValue"`
	Source         string `json:"source"`
	// Via says how trunkctl read it: root, self, principal-arn or assume-role.
	Via   string `json:"via,omitempty"`
	Error string `json:"error,omitempty"`
	// err is the error Error prints, kept for the judge.
	err error
}

func (st *roleStatus) fail(err error) {
	st.err, st.Error = err, err.Error()
}

// readRoles reads the effective awsvpcTrunking setting of every role, one
// after another (clusters have few instance roles), as the principal allows.
func readRoles(ctx context.Context, r roleResolver, roles []awsarn.Role, caller awsarn.Principal, callerArn string) []roleStatus {
	const setting = accountsetting.AWSVPCTrunking
	out := make([]roleStatus, 0, len(roles))
	for _, role := range roles {
		st := roleStatus{RoleArn: role.String(), Setting: setting}
		p, err := r.Resolve(ctx, caller, callerArn, role)
		if err == nil {
			var s accountsetting.Setting
			s, err = p.Effective(ctx, setting)
			st.EffectiveValue, st.Source, st.Via = s.Value, string(s.Source), string(p.Via())
		}
		if err != nil {
			st.fail(err)
		}
		out = append(out, st)
	}
	return out
}

// readSnapshotRoles reads the settings of the roles behind a snapshot's
// instances. The error says why the roles could not be found or the caller
// not known; a role whose setting cannot be read has its error in its status.
func readSnapshotRoles(ctx context.Context, r roleResolver, snap *inventory.Snapshot) ([]roleStatus, error) {
	if snap.RolesErr != nil {
		return nil, snap.RolesErr
	}
	roles := snapshotRoles(snap)
	if len(roles) == 0 {
		return nil, nil
	}
	caller, callerArn, err := r.Caller(ctx)
	if err != nil {
		return nil, err
	}
	return readRoles(ctx, r, roles, caller, callerArn), nil
}

// snapshotRoles parses the role ARNs behind a snapshot's instances, sorted;
// an ARN that does not parse is left out.
func snapshotRoles(s *inventory.Snapshot) []awsarn.Role {
	var roles []awsarn.Role
	for _, a := range s.RoleArns() {
		if role, err := awsarn.ParseRole(a); err == nil {
			roles = append(roles, role)
		}
	}
	sort.Slice(roles, func(i, j int) bool { return roles[i].String() < roles[j].String() })
	return roles
}

// judgedRoles are role settings as the judge takes them.
func judgedRoles(rs []roleStatus) []accountsetting.RoleSetting {
	out := make([]accountsetting.RoleSetting, 0, len(rs))
	for _, st := range rs {
		out = append(out, accountsetting.RoleSetting{RoleArn: st.RoleArn, EffectiveValue: st.EffectiveValue, Source: accountsetting.Source(st.Source), Err: st.err})
	}
	return out
}

// statusExit turns role results into the exit contract: errors first (1),
// then any role whose value is not want (3).
func statusExit(s *IOStreams, rs []roleStatus, want string) error {
	failed, off := 0, 0
	for _, r := range rs {
		switch {
		case r.Error != "":
			failed++
			s.Warnf("%s: %s", r.RoleArn, r.Error)
		case r.EffectiveValue != want:
			off++
		}
	}
	switch {
	case failed > 0:
		return &exitError{code: ExitError, err: fmt.Errorf("could not read %d of %d role(s)", failed, len(rs))}
	case off > 0:
		return unhealthy()
	}
	return nil
}

// printRoles prints role settings as a table.
func printRoles(s *IOStreams, rs []roleStatus) error {
	t := newTable(s, "ROLE", "SETTING", "SOURCE", "VIA", "VALUE")
	for _, r := range rs {
		value := r.EffectiveValue
		switch {
		case r.Error != "":
			value = s.color(colorRed, "error")
		case value == accountsetting.Enabled:
			value = s.color(colorGreen, value)
		default:
			value = s.color(colorRed, value)
		}
		t.add(r.RoleArn, r.Setting, r.Source, r.Via, value)
	}
	return t.render()
}
