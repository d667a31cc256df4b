// Package validate checks user input before any AWS call: values that cannot
// be right (an empty id, a role ARN in another partition than the Region, a
// cluster name ECS would reject) fail here with the flag, the value and what
// a valid one looks like, instead of as an AWS error or a silent "all".
package validate

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/trunkctl/trunkctl/internal/awsarn"
)

// Error is one invalid value.
type Error struct {
	// Field is what the user set, e.g. "--cluster" or "RoleArn".
	Field  string
	Value  string
	Reason string
	// Want describes a valid value, with an example.
	Want string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %q %s", e.Field, e.Value, e.Reason)
	if e.Value == "" {
		s = fmt.Sprintf("%s is empty", e.Field)
		if e.Reason != "" && e.Reason != "is empty" {
			s += ": " + e.Reason
		}
	}
	if e.Want != "" {
		s += " (want " + e.Want + ")"
	}
	return s
}

var (
	regionRe    = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]+$`)
	clusterRe   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	instanceRe  = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)
	ciIDRe      = regexp.MustCompile(`^([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)
)

// NotEmpty fails for an empty or blank value: a flag given as "" is a
// mistake, never a request for "all".
func NotEmpty(field, value string) error {
	if strings.TrimSpace(value) == "" {
		return &Error{Field: field, Value: "", Reason: "is empty"}
	}
	return nil
}

// Region checks a Region name by its shape and partition (us-east-1,
// cn-north-1, us-gov-west-1, eusc-de-east-1), not against a list, so that
// Regions newer than the SDK (mx-central-1, ap-southeast-7) pass.
func Region(field, region string) error {
	if err := NotEmpty(field, region); err != nil {
		return err
	}
	if _, ok := RegionPartition(region); !ok {
		return &Error{Field: field, Value: region, Reason: "is not a Region name", Want: "e.g. us-east-1, eu-west-1, cn-north-1"}
	}
	return nil
}

// regionPrefixes map the start of a Region name to its partition, longest
// first; any other two-letter geography is in "aws".
var regionPrefixes = []struct{ prefix, partition string }{
	{"us-gov-", "aws-us-gov"},
	{"us-isob-", "aws-iso-b"},
	{"us-isof-", "aws-iso-f"},
	{"us-iso-", "aws-iso"},
	{"eu-isoe-", "aws-iso-e"},
	{"eusc-", "aws-eusc"},
	{"cn-", "aws-cn"},
}

// RegionPartition returns the partition of a Region name of the right
// shape; false when the name has the wrong shape or no partition has it.
func RegionPartition(region string) (string, bool) {
	if !regionRe.MatchString(region) {
		return "", false
	}
	for _, p := range regionPrefixes {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition, true
		}
	}
	if geo, _, _ := strings.Cut(region, "-"); len(geo) == 2 {
		return "aws", true
	}
	return "", false
}

// PartitionMatchesRegion fails when an ARN's partition is not the Region's:
// a role in aws-cn cannot be used from us-east-1.
func PartitionMatchesRegion(field, arnValue, partition, region string) error {
	want := awsarn.PartitionForRegion(region)
	if partition != want {
		return &Error{Field: field, Value: arnValue,
			Reason: fmt.Sprintf("is in partition %s, but Region %s is in partition %s", partition, region, want),
			Want:   fmt.Sprintf("an ARN beginning arn:%s:, or a Region of partition %s", want, partition)}
	}
	return nil
}

// Role checks a role given as an ARN or as a name or path/name, and, when
// region is not empty, that an ARN's partition is the Region's.
func Role(field, value, region string) error {
	if err := NotEmpty(field, value); err != nil {
		return err
	}
	if strings.HasPrefix(value, "arn:") {
		r, err := awsarn.ParseRole(value)
		if err != nil {
			return &Error{Field: field, Value: value, Reason: "is not a role ARN: " + reasonOf(err), Want: "arn:aws:iam::123456789012:role/NAME"}
		}
		if region != "" {
			return PartitionMatchesRegion(field, value, r.Partition, region)
		}
		return nil
	}
	name := value[strings.LastIndex(value, "/")+1:]
	if !awsarn.ValidRoleName(name) {
		return &Error{Field: field, Value: value, Reason: "is neither a role ARN nor a role name",
			Want: "1-64 characters of letters, digits and +=,.@_-, or arn:aws:iam::123456789012:role/NAME"}
	}
	return nil
}

func reasonOf(err error) string {
	var ae *awsarn.Error
	if errors.As(err, &ae) {
		return ae.Reason
	}
	return err.Error()
}

// Cluster checks an ECS cluster name (1-255 letters, digits, hyphens and
// underscores) or cluster ARN; an ARN's partition and Region must be the
// Region's when region is not empty.
func Cluster(field, value, region string) error {
	if err := NotEmpty(field, value); err != nil {
		return err
	}
	if strings.HasPrefix(value, "arn:") {
		a, err := arn.Parse(value)
		if err != nil || a.Service != "ecs" || !strings.HasPrefix(a.Resource, "cluster/") || !clusterRe.MatchString(strings.TrimPrefix(a.Resource, "cluster/")) || !accountIDRe.MatchString(a.AccountID) {
			return &Error{Field: field, Value: value, Reason: "is not an ECS cluster ARN", Want: "arn:aws:ecs:us-east-1:123456789012:cluster/NAME"}
		}
		if region != "" && a.Region != region {
			return &Error{Field: field, Value: value, Reason: fmt.Sprintf("is in Region %s, but the Region is %s", a.Region, region),
				Want: fmt.Sprintf("--region %s, or the cluster's name", a.Region)}
		}
		return nil
	}
	if !clusterRe.MatchString(value) {
		return &Error{Field: field, Value: value, Reason: "is not a cluster name",
			Want: "1-255 letters, digits, hyphens and underscores, or a cluster ARN"}
	}
	return nil
}

// InstanceID checks an EC2 instance id (i- and 8 or 17 hex digits).
func InstanceID(field, value string) error {
	if err := NotEmpty(field, value); err != nil {
		return err
	}
	if !instanceRe.MatchString(value) {
		return &Error{Field: field, Value: value, Reason: "is not an EC2 instance id", Want: "i- and 8-17 hex digits, e.g. i-0123456789abcdef0"}
	}
	return nil
}

// ContainerInstanceID checks an ECS container instance id (32 hex digits, or
// a UUID for older ones) or a container instance ARN.
func ContainerInstanceID(field, value string) error {
	if err := NotEmpty(field, value); err != nil {
		return err
	}
	if strings.HasPrefix(value, "arn:") {
		a, err := arn.Parse(value)
		if err == nil && a.Service == "ecs" && strings.HasPrefix(a.Resource, "container-instance/") {
			id := a.Resource[strings.LastIndex(a.Resource, "/")+1:]
			if ciIDRe.MatchString(id) {
				return nil
			}
		}
		return &Error{Field: field, Value: value, Reason: "is not a container instance ARN",
			Want: "arn:aws:ecs:us-east-1:123456789012:container-instance/CLUSTER/ID"}
	}
	if !ciIDRe.MatchString(value) {
		return &Error{Field: field, Value: value, Reason: "is not a container instance id", Want: "32 hex digits, e.g. 0123456789abcdef0123456789abcdef"}
	}
	return nil
}

// Instance accepts what trunkctl's --instance takes: an EC2 instance id, a
// container instance id or a container instance ARN.
func Instance(field, value string) error {
	if err := NotEmpty(field, value); err != nil {
		return err
	}
	if strings.HasPrefix(value, "i-") {
		return InstanceID(field, value)
	}
	if ContainerInstanceID(field, value) == nil {
		return nil
	}
	return &Error{Field: field, Value: value, Reason: "is neither an EC2 instance id nor a container instance id or ARN",
		Want: "e.g. i-0123456789abcdef0 or a container instance id"}
}
