package cli

import (
	"fmt"
	"strings"

	"github.com/trunkctl/trunkctl/internal/awsarn"
)

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
