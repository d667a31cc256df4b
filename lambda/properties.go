package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsarn"
)

// Property names, as they appear in the template.
const (
	propRoleArn        = "RoleArn"
	propEC2Role        = "EC2Role" // alias of RoleArn, so the widely copied seed template works unchanged
	propRegion         = "Region"
	propSetting        = "Setting"
	propValue          = "Value"
	propOnDelete       = "OnDelete"
	propServiceToken   = "ServiceToken"   // always sent by CloudFormation; ignored
	propServiceTimeout = "ServiceTimeout" // a CloudFormation property of every custom resource; ignored
)

// OnDelete values.
const (
	onDeleteRetain  = "retain"
	onDeleteDisable = "disable"
)

var knownProps = []string{propRoleArn, propEC2Role, propRegion, propSetting, propValue, propOnDelete, propServiceToken, propServiceTimeout}

// regionRe accepts Region names such as us-east-1, eu-central-2, us-gov-west-1, cn-north-1.
var regionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// Properties are a custom resource's validated ResourceProperties.
type Properties struct {
	Role     awsarn.Role
	Region   string // "" means the function's own Region
	Setting  string
	Value    string
	OnDelete string
}

// PropertyError names the property that is wrong.
type PropertyError struct {
	Property string
	Reason   string
}

func (e *PropertyError) Error() string {
	if e.Property == "" {
		return "invalid properties: " + e.Reason
	}
	return fmt.Sprintf("invalid property %s: %s", e.Property, e.Reason)
}

// parseProperties validates ResourceProperties as CloudFormation sends them
// (every scalar a string) before anything calls AWS. Unknown properties are
// refused: a misspelt OnDelete silently meaning "retain" is worse than a
// failed Create that names the typo.
func parseProperties(raw map[string]any) (Properties, error) {
	var unknown []string
	for k := range raw {
		if !slices.Contains(knownProps, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Properties{}, &PropertyError{Property: unknown[0], Reason: fmt.Sprintf(
			"unknown propert%s %s (known: RoleArn or its alias EC2Role, Region, Setting, Value, OnDelete)",
			plural(len(unknown), "y", "ies"), quoteAll(unknown))}
	}
	str := func(name string) (string, bool, error) {
		v, ok := raw[name]
		if !ok || v == nil {
			return "", false, nil
		}
		s, isStr := v.(string)
		if !isStr {
			return "", true, &PropertyError{Property: name, Reason: fmt.Sprintf("must be a string, got %s", jsonKind(v))}
		}
		return s, true, nil
	}

	roleArn, hasRoleArn, err := str(propRoleArn)
	if err != nil {
		return Properties{}, err
	}
	ec2Role, hasEC2Role, err := str(propEC2Role)
	if err != nil {
		return Properties{}, err
	}
	prop := propRoleArn
	switch {
	case hasRoleArn && hasEC2Role && roleArn != ec2Role:
		return Properties{}, &PropertyError{Property: propRoleArn, Reason: fmt.Sprintf(
			"RoleArn %q and its alias EC2Role %q are both set and differ; set only one", clip(roleArn), clip(ec2Role))}
	case !hasRoleArn && hasEC2Role:
		roleArn, prop = ec2Role, propEC2Role
	}
	if roleArn == "" {
		return Properties{}, &PropertyError{Property: propRoleArn, Reason: "is required: the ARN of the role to opt in, e.g. arn:aws:iam::123456789012:role/EcsInstanceRole"}
	}
	role, err := awsarn.ParseRole(roleArn)
	if err != nil {
		return Properties{}, &PropertyError{Property: prop, Reason: err.Error()}
	}
	p := Properties{Role: role, Setting: accountsetting.AWSVPCTrunking, Value: accountsetting.Enabled, OnDelete: onDeleteRetain}

	if s, ok, err := str(propRegion); err != nil {
		return Properties{}, err
	} else if ok && s != "" {
		if !regionRe.MatchString(s) {
			return Properties{}, &PropertyError{Property: propRegion, Reason: fmt.Sprintf("%q is not a Region name such as us-east-1", clip(s))}
		}
		p.Region = s
	}
	if s, ok, err := str(propSetting); err != nil {
		return Properties{}, err
	} else if ok && s != "" {
		if err := accountsetting.ValidateName(s); err != nil {
			return Properties{}, &PropertyError{Property: propSetting, Reason: err.Error()}
		}
		p.Setting = s
	}
	if s, ok, err := str(propValue); err != nil {
		return Properties{}, err
	} else if ok && s != "" {
		p.Value = s
	}
	if err := accountsetting.ValidateValue(p.Setting, p.Value); err != nil {
		return Properties{}, &PropertyError{Property: propValue, Reason: err.Error()}
	}
	if s, ok, err := str(propOnDelete); err != nil {
		return Properties{}, err
	} else if ok && s != "" {
		if s != onDeleteRetain && s != onDeleteDisable {
			return Properties{}, &PropertyError{Property: propOnDelete, Reason: fmt.Sprintf("%q must be %q (the default: leave the setting) or %q (set it to disabled)", clip(s), onDeleteRetain, onDeleteDisable)}
		}
		p.OnDelete = s
	}
	return p, nil
}

// checkRegion fails when the role and the Region are in different partitions
// (a role in aws-cn cannot be assumed from us-east-1).
func (p Properties) checkRegion(region string) error {
	if region == "" {
		return &PropertyError{Property: propRegion, Reason: "no Region: set the Region property or AWS_REGION"}
	}
	if part := awsarn.PartitionForRegion(region); part != p.Role.Partition {
		return &PropertyError{Property: propRegion, Reason: fmt.Sprintf("Region %s is in partition %s but role %s is in %s", region, part, p.Role, p.Role.Partition)}
	}
	return nil
}

// Physical ids. A resource we made is "trunkctl/SETTING/ROLE-ARN": derived
// from the setting and role only, so an Update of Value, Region or OnDelete
// keeps it and a new role or setting is a replacement. A failed Create answers
// "trunkctl/create-failed/HASH" so the Delete that follows knows there is
// nothing to undo, even when the role ARN was too malformed to embed.
const (
	physicalPrefix     = "trunkctl/"
	createFailedPrefix = "trunkctl/create-failed/"
)

func (p Properties) physicalID() string {
	return physicalPrefix + p.Setting + "/" + p.Role.String()
}

// createFailedID is the deterministic physical id of a Create that failed,
// computed from the raw setting and role properties whatever their shape.
func createFailedID(raw map[string]any) string {
	role := raw[propRoleArn]
	if role == nil {
		role = raw[propEC2Role]
	}
	setting := raw[propSetting]
	if setting == nil || setting == "" {
		setting = accountsetting.AWSVPCTrunking
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%v\x00%v", setting, role))
	return createFailedPrefix + hex.EncodeToString(sum[:8])
}

func isCreateFailedID(id string) bool { return strings.HasPrefix(id, createFailedPrefix) }

func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// clip keeps echoed input short: the reason must fit the 4 KB response.
func clip(s string) string {
	const n = 200
	if len(s) <= n {
		return s
	}
	return truncateUTF8(s, n) + "..."
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", clip(s))
	}
	return strings.Join(q, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
