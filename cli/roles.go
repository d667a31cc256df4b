package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsarn"
)

// roleResolver finds how to act as a role (accountsetting.Resolver).
type roleResolver interface {
	Caller(ctx context.Context) (awsarn.Principal, string, error)
	Resolve(ctx context.Context, caller awsarn.Principal, callerArn string, role awsarn.Role) (accountsetting.Principal, error)
}

// validateRoleArg checks a --role value: a role ARN, or a name or path/name.
func validateRoleArg(s string) error {
	if strings.HasPrefix(s, "arn:") {
		_, err := awsarn.ParseRole(s)
		return err
	}
	name := s[strings.LastIndex(s, "/")+1:]
	if !awsarn.ValidRoleName(name) {
		return fmt.Errorf("--%s %q is neither a role ARN nor a role name (1-64 characters of letters, digits and +=,.@_-)", flagRole, s)
	}
	return nil
}

// roleFromArg turns a --role value into an ARN; a bare name is a role in
// the caller's account and partition.
func roleFromArg(s string, caller awsarn.Principal) (awsarn.Role, error) {
	if strings.HasPrefix(s, "arn:") {
		return awsarn.ParseRole(s)
	}
	return awsarn.RoleFromName(caller.Partition, caller.AccountID, s)
}

// roleStatus is one role's effective setting; its JSON is a contract.
type roleStatus struct {
	RoleArn        string `json:"roleArn"`
	Setting        string `json:"setting"`
	EffectiveValue string `json:"effectiveValue"`
	Source         string `json:"source"`
	// Via says how trunkctl read it: root, self or assume.
	Via   string `json:"via,omitempty"`
	Error string `json:"error,omitempty"`
}

// readRoles reads the effective setting of every role, one after another
// (clusters have few instance roles), as the principal allows.
func readRoles(ctx context.Context, r roleResolver, roles []awsarn.Role, caller awsarn.Principal, callerArn, setting string) []roleStatus {
	out := make([]roleStatus, 0, len(roles))
	for _, role := range roles {
		st := roleStatus{RoleArn: role.String(), Setting: setting}
		p, err := r.Resolve(ctx, caller, callerArn, role)
		if err == nil {
			st.Via = string(p.Mode)
			var s accountsetting.Setting
			s, err = p.Effective(ctx, setting)
			st.EffectiveValue, st.Source = s.Value, string(s.Source)
		}
		if err != nil {
			st.Error = err.Error()
		}
		out = append(out, st)
	}
	return out
}

func isNoAccess(err error) bool {
	var na *accountsetting.NoAccessError
	return errors.As(err, &na)
}

func dedupeRoles(roles []awsarn.Role) []awsarn.Role {
	seen := map[string]bool{}
	var out []awsarn.Role
	for _, r := range roles {
		if !seen[r.String()] {
			seen[r.String()] = true
			out = append(out, r)
		}
	}
	return out
}
