// Package awsarn parses and validates the ARNs trunkctl deals with: IAM roles,
// the account root, STS assumed-role sessions and instance profiles, in the
// aws, aws-cn and aws-us-gov partitions. The SDK's aws/arn splits an ARN into
// its sections; this package checks what each section must be.
package awsarn

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Partitions trunkctl supports. ECS account settings exist in all three.
var partitions = map[string]string{
	"aws":        "amazonaws.com",
	"aws-cn":     "amazonaws.com.cn",
	"aws-us-gov": "amazonaws.com",
}

// Role is a parsed IAM role ARN: arn:PARTITION:iam::ACCOUNT:role/PATH/NAME.
type Role struct {
	Partition string
	AccountID string
	Path      string // always begins and ends with "/"
	Name      string
}

// String renders the role ARN in canonical form.
func (r Role) String() string {
	return arn.ARN{Partition: r.Partition, Service: "iam", AccountID: r.AccountID, Resource: "role" + r.Path + r.Name}.String()
}

// RootARN is the ARN of the account root user in the role's partition.
func (r Role) RootARN() string {
	return arn.ARN{Partition: r.Partition, Service: "iam", AccountID: r.AccountID, Resource: "root"}.String()
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
	a, err := arn.Parse(s)
	if err != nil {
		return fail("it does not have the form arn:PARTITION:iam::ACCOUNT:role/NAME")
	}
	if _, ok := partitions[a.Partition]; !ok {
		return fail("partition %q is not one of aws, aws-cn, aws-us-gov", a.Partition)
	}
	if a.Service != "iam" {
		return fail("service is %q, not iam", a.Service)
	}
	if a.Region != "" {
		return fail("IAM ARNs have no Region, found %q", a.Region)
	}
	if !validAccount(a.AccountID) {
		return fail("account %q is not 12 digits", a.AccountID)
	}
	rest, ok := strings.CutPrefix(a.Resource, "role/")
	if !ok {
		return fail("resource %q is not role/NAME", a.Resource)
	}
	path, name := splitPath(rest)
	if !validPath(path) {
		return fail("role path %q is not valid", path)
	}
	if !ValidRoleName(name) {
		return fail("role name %q must be 1-64 characters of letters, digits and +=,.@_-", name)
	}
	return Role{Partition: a.Partition, AccountID: a.AccountID, Path: path, Name: name}, nil
}

// splitPath splits "a/b/NAME" into "/a/b/" and "NAME".
func splitPath(rest string) (path, name string) {
	i := strings.LastIndex(rest, "/")
	return "/" + rest[:i+1], rest[i+1:]
}

// validAccount: an AWS account id is 12 digits.
func validAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validPath: an IAM path is "/" or "/a/b/", at most 512 characters, each
// segment of printable ASCII except "/".
func validPath(p string) bool {
	if len(p) > 512 || !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") {
		return false
	}
	if p == "/" {
		return true
	}
	for _, seg := range strings.Split(p[1:len(p)-1], "/") {
		if seg == "" {
			return false
		}
		for _, c := range []byte(seg) {
			if c < 0x21 || c > 0x7e {
				return false
			}
		}
	}
	return true
}

// ValidRoleName reports whether name can be an IAM role name: 1-64
// characters of letters, digits and +=,.@_-.
func ValidRoleName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for _, c := range []byte(name) {
		if !isWordChar(c) && !strings.ContainsRune("+=,.@-", rune(c)) {
			return false
		}
	}
	return true
}

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// ValidRegion reports whether s looks like a Region name: two letters, one
// or more words and a number of one or two digits, such as us-east-1,
// eu-central-2, us-gov-west-1, cn-north-1.
func ValidRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts[0]) != 2 || !lowerLetters(parts[0]) {
		return false
	}
	for _, w := range parts[1 : len(parts)-1] {
		if w == "" || !lowerLetters(w) {
			return false
		}
	}
	n := parts[len(parts)-1]
	if len(n) < 1 || len(n) > 2 {
		return false
	}
	for _, c := range []byte(n) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func lowerLetters(s string) bool {
	for _, c := range []byte(s) {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// RoleFromName builds a role ARN from a bare name (or path/name) in an account.
func RoleFromName(partition, accountID, nameOrPath string) (Role, error) {
	return ParseRole(arn.ARN{Partition: partition, Service: "iam", AccountID: accountID,
		Resource: "role/" + strings.TrimPrefix(nameOrPath, "/")}.String())
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

// The kinds of caller ParsePrincipal tells apart.
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
	a, err := arn.Parse(s)
	if err != nil {
		return Principal{}, fmt.Errorf("%q is not an ARN", s)
	}
	p := Principal{Partition: a.Partition, AccountID: a.AccountID}
	switch {
	case a.Service == "iam" && a.Resource == "root":
		p.Kind = KindRoot
	case a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/"):
		role, session, ok := strings.Cut(strings.TrimPrefix(a.Resource, "assumed-role/"), "/")
		if !ok || strings.Contains(session, "/") {
			return Principal{}, fmt.Errorf("%q is not an assumed-role ARN", s)
		}
		p.Kind, p.RoleName, p.SessionName = KindAssumedRole, role, session
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "user/"):
		_, p.UserName = splitPath(strings.TrimPrefix(a.Resource, "user/"))
		p.Kind = KindUser
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
	a, err := arn.Parse(s)
	if err != nil || a.Service != "iam" {
		return InstanceProfile{}, fmt.Errorf("%q is not an instance profile ARN", s)
	}
	rest, ok := strings.CutPrefix(a.Resource, "instance-profile/")
	if !ok || rest == "" || strings.HasSuffix(rest, "/") {
		return InstanceProfile{}, fmt.Errorf("%q is not an instance profile ARN", s)
	}
	path, name := splitPath(rest)
	return InstanceProfile{Partition: a.Partition, AccountID: a.AccountID, Path: path, Name: name}, nil
}
