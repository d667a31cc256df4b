// Package awsarn parses and validates the ARNs trunkctl deals with: IAM roles,
// the account root, STS assumed-role sessions and instance profiles, in the
// aws, aws-cn and aws-us-gov partitions.
package awsarn

import (
	"fmt"
	"regexp"
	"strings"
)

// Partitions trunkctl supports. ECS account settings exist in all three.
var partitions = map[string]string{
	"aws":        "amazonaws.com",
	"aws-cn":     "amazonaws.com.cn",
	"aws-us-gov": "amazonaws.com",
}

var (
	accountRe  = regexp.MustCompile(`^[0-9]{12}$`)
	roleNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	// IAM paths: "/" or "/a/b/" with printable ASCII except "/" in segments.
	pathRe    = regexp.MustCompile(`^/([\x21-\x2e\x30-\x7e]+/)*$`)
	sessionRe = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

// Role is a parsed IAM role ARN: arn:PARTITION:iam::ACCOUNT:role/PATH/NAME.
type Role struct {
	Partition string
	AccountID string
	Path      string // always begins and ends with "/"
	Name      string
}

// String renders the role ARN in canonical form.
func (r Role) String() string {
	return fmt.Sprintf("arn:%s:iam::%s:role%s%s", r.Partition, r.AccountID, r.Path, r.Name)
}

// RootARN is the ARN of the account root user in the role's partition.
func (r Role) RootARN() string {
	return fmt.Sprintf("arn:%s:iam::%s:root", r.Partition, r.AccountID)
}

// Error says which part of an ARN is wrong and what a valid one looks like.
type Error struct {
	Input  string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%q is not an IAM role ARN: %s (want arn:aws:iam::123456789012:role/NAME)", e.Input, e.Reason)
}

// ParseRole parses and validates an IAM role ARN.
func ParseRole(s string) (Role, error) {
	fail := func(reason string, args ...any) (Role, error) {
		return Role{}, &Error{Input: s, Reason: fmt.Sprintf(reason, args...)}
	}
	if s == "" {
		return fail("it is empty")
	}
	if len(s) > 2048 {
		return fail("it is longer than 2048 characters")
	}
	if strings.TrimSpace(s) != s {
		return fail("it has leading or trailing white space")
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return fail("it does not have the form arn:PARTITION:iam::ACCOUNT:role/NAME")
	}
	partition, service, region, account, resource := parts[1], parts[2], parts[3], parts[4], parts[5]
	if _, ok := partitions[partition]; !ok {
		return fail("partition %q is not one of aws, aws-cn, aws-us-gov", partition)
	}
	if service != "iam" {
		return fail("service is %q, not iam", service)
	}
	if region != "" {
		return fail("IAM ARNs have no Region, found %q", region)
	}
	if !accountRe.MatchString(account) {
		return fail("account %q is not 12 digits", account)
	}
	rest, ok := strings.CutPrefix(resource, "role/")
	if !ok {
		return fail("resource %q is not role/NAME", resource)
	}
	i := strings.LastIndex(rest, "/")
	path, name := "/"+rest[:i+1], rest[i+1:]
	if i < 0 {
		path = "/"
	}
	if len(path) > 512 || !pathRe.MatchString(path) {
		return fail("role path %q is not valid", path)
	}
	if !roleNameRe.MatchString(name) {
		return fail("role name %q must be 1-64 characters of letters, digits and +=,.@_-", name)
	}
	return Role{Partition: partition, AccountID: account, Path: path, Name: name}, nil
}

// ValidRoleName reports whether name can be an IAM role name.
func ValidRoleName(name string) bool { return roleNameRe.MatchString(name) }

// ValidSessionName reports whether s can be an STS role session name.
func ValidSessionName(s string) bool { return sessionRe.MatchString(s) }

// RoleFromName builds a role ARN from a bare name (or path/name) in an account.
func RoleFromName(partition, accountID, nameOrPath string) (Role, error) {
	return ParseRole(fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, accountID, strings.TrimPrefix(nameOrPath, "/")))
}

// Principal is what STS GetCallerIdentity says the caller is.
type Principal struct {
	Partition string
	AccountID string
	Kind      PrincipalKind
	// RoleName is set for assumed-role sessions, UserName for IAM users.
	RoleName    string
	SessionName string
	UserName    string
}

// PrincipalKind is the sort of caller.
type PrincipalKind int

const (
	KindOther PrincipalKind = iota
	KindRoot
	KindAssumedRole
	KindUser
)

// ParsePrincipal parses a caller identity ARN:
// arn:aws:iam::123456789012:root, arn:aws:sts::123456789012:assumed-role/NAME/SESSION,
// arn:aws:iam::123456789012:user/PATH/NAME. Anything else is KindOther.
func ParsePrincipal(s string) (Principal, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return Principal{}, fmt.Errorf("%q is not an ARN", s)
	}
	p := Principal{Partition: parts[1], AccountID: parts[4]}
	switch {
	case parts[2] == "iam" && parts[5] == "root":
		p.Kind = KindRoot
	case parts[2] == "sts" && strings.HasPrefix(parts[5], "assumed-role/"):
		segs := strings.Split(strings.TrimPrefix(parts[5], "assumed-role/"), "/")
		if len(segs) != 2 {
			return Principal{}, fmt.Errorf("%q is not an assumed-role ARN", s)
		}
		p.Kind, p.RoleName, p.SessionName = KindAssumedRole, segs[0], segs[1]
	case parts[2] == "iam" && strings.HasPrefix(parts[5], "user/"):
		segs := strings.Split(parts[5], "/")
		p.Kind, p.UserName = KindUser, segs[len(segs)-1]
	}
	return p, nil
}

// IsRole reports whether the principal is a session of role r. Assumed-role
// ARNs carry no path, so the name and account decide.
func (p Principal) IsRole(r Role) bool {
	return p.Kind == KindAssumedRole && p.AccountID == r.AccountID && p.Partition == r.Partition && p.RoleName == r.Name
}

// PartitionForRegion returns the partition a Region belongs to.
func PartitionForRegion(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	default:
		return "aws"
	}
}

// DNSSuffix returns the DNS suffix of a partition (amazonaws.com or amazonaws.com.cn).
func DNSSuffix(partition string) string {
	if s, ok := partitions[partition]; ok {
		return s
	}
	return "amazonaws.com"
}

// InstanceProfile is a parsed instance profile ARN.
type InstanceProfile struct {
	Partition, AccountID, Path, Name string
}

// ParseInstanceProfile parses arn:PARTITION:iam::ACCOUNT:instance-profile/PATH/NAME.
func ParseInstanceProfile(s string) (InstanceProfile, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" {
		return InstanceProfile{}, fmt.Errorf("%q is not an instance profile ARN", s)
	}
	rest, ok := strings.CutPrefix(parts[5], "instance-profile/")
	if !ok || rest == "" || strings.HasSuffix(rest, "/") {
		return InstanceProfile{}, fmt.Errorf("%q is not an instance profile ARN", s)
	}
	i := strings.LastIndex(rest, "/")
	return InstanceProfile{Partition: parts[1], AccountID: parts[4], Path: "/" + rest[:i+1], Name: rest[i+1:]}, nil
}
