package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/inventory"
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

// validateRoleArgs checks every --role value.
func validateRoleArgs(args []string) error {
	for _, s := range args {
		if err := validateRoleArg(s); err != nil {
			return err
		}
	}
	return nil
}

// rolesFromArgs turns --role values into ARNs (bare names in the caller's
// account), as usage errors when one does not parse.
func rolesFromArgs(args []string, caller awsarn.Principal) ([]awsarn.Role, error) {
	roles := make([]awsarn.Role, 0, len(args))
	for _, s := range args {
		r, err := roleFromArg(s, caller)
		if err != nil {
			return nil, asUsage(err)
		}
		roles = append(roles, r)
	}
	return roles, nil
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

// roleFinder maps EC2 instances to their instance roles.
type roleFinder interface {
	Instances(ctx context.Context, ids []string) (map[string]inventory.Instance, error)
	RolesByInstance(ctx context.Context, insts map[string]inventory.Instance) (map[string][]string, error)
}

// instanceRoles is what is known of the roles behind container instances.
type instanceRoles struct {
	// byInstance maps an EC2 instance id to its role's current setting.
	byInstance map[string]*inventory.RoleOptIn
	// roles are the distinct roles read, sorted by ARN.
	roles []roleStatus
	// insts are the described EC2 instances.
	insts map[string]inventory.Instance
	// err says why roles could not be found at all.
	err error
}

// readInstanceRoles finds each container instance's role through its EC2
// instance profile and reads the role's current setting. It does not fail:
// a role that cannot be read is left out of byInstance.
func readInstanceRoles(ctx context.Context, f roleFinder, r roleResolver, cis []inventory.ContainerInstance) instanceRoles {
	out := instanceRoles{byInstance: map[string]*inventory.RoleOptIn{}}
	ids := make([]string, 0, len(cis))
	for _, c := range cis {
		ids = append(ids, c.EC2InstanceID)
	}
	if len(ids) == 0 {
		return out
	}
	insts, err := f.Instances(ctx, ids)
	if err != nil {
		out.err = err
		return out
	}
	out.insts = insts
	byInst, err := f.RolesByInstance(ctx, insts)
	if err != nil {
		out.err = err
		return out
	}
	seen := map[string]bool{}
	var roles []awsarn.Role
	for _, arns := range byInst {
		for _, a := range arns {
			role, err := awsarn.ParseRole(a)
			if err != nil || seen[a] {
				continue
			}
			seen[a] = true
			roles = append(roles, role)
		}
	}
	sort.Slice(roles, func(i, j int) bool { return roles[i].String() < roles[j].String() })
	if len(roles) == 0 {
		return out
	}
	caller, callerArn, err := r.Caller(ctx)
	if err != nil {
		out.err = err
		return out
	}
	out.roles = readRoles(ctx, r, roles, caller, callerArn, accountsetting.AWSVPCTrunking)
	byArn := map[string]roleStatus{}
	for _, st := range out.roles {
		byArn[st.RoleArn] = st
	}
	for id, arns := range byInst {
		if st, ok := byArn[arns[0]]; ok && st.Error == "" {
			out.byInstance[id] = &inventory.RoleOptIn{RoleArn: st.RoleArn, Enabled: st.EffectiveValue == accountsetting.Enabled}
		}
	}
	return out
}
