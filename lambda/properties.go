package main

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/contract"
)

// Properties are a custom resource's validated ResourceProperties.
type Properties struct {
	Role     awsarn.Role
	Region   string // "" means the function's own Region
	Setting  string
	Value    string
	OnDelete contract.OnDelete
}

// rawProperties is ResourceProperties as CloudFormation sends them: every
// scalar a string, a missing or null property nil. Its json tags are the
// complete list of properties the function accepts.
type rawProperties struct {
	RoleArn  *string `json:"RoleArn"`
	EC2Role  *string `json:"EC2Role"`
	Region   *string `json:"Region"`
	Setting  *string `json:"Setting"`
	Value    *string `json:"Value"`
	OnDelete *string `json:"OnDelete"`
	// RoleNames makes the resource a list resource (see listprops.go).
	RoleNames *[]string `json:"RoleNames"`
	// Sent by CloudFormation, of whatever shape; ignored.
	ServiceToken   any `json:"ServiceToken" sender:"cloudformation"`
	ServiceTimeout any `json:"ServiceTimeout" sender:"cloudformation"`
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

// knownProperties are the json names of rawProperties' fields: every
// property the function accepts.
func knownProperties() []string {
	return propertyNames(func(reflect.StructField) bool { return true })
}

// userProperties are those a template sets (not CloudFormation's own), in
// the struct's order: what an error lists as known.
func userProperties() []string {
	return propertyNames(func(f reflect.StructField) bool { return f.Tag.Get("sender") == "" })
}

func propertyNames(keep func(reflect.StructField) bool) []string {
	t := reflect.TypeFor[rawProperties]()
	var names []string
	for i := range t.NumField() {
		if f := t.Field(i); keep(f) {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			names = append(names, name)
		}
	}
	return names
}

// decodeProperties decodes raw into rawProperties. Unknown properties are
// refused (compared exactly: encoding/json alone would take "Ondelete" for
// OnDelete), and so is any value but a string or null.
func decodeProperties(raw map[string]any) (rawProperties, error) {
	known := knownProperties()
	var unknown []string
	for k := range raw {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return rawProperties{}, &PropertyError{Property: unknown[0], Reason: fmt.Sprintf(
			"unknown propert%s %s (known: %s)",
			plural(len(unknown), "y", "ies"), quoteAll(unknown), strings.Join(userProperties(), ", "))}
	}
	var rp rawProperties
	b, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(b, &rp)
	}
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		return rawProperties{}, &PropertyError{Property: te.Field, Reason: "must be a string, got " + jsonKind(te.Value)}
	case err != nil:
		return rawProperties{}, &PropertyError{Reason: err.Error()}
	}
	return rp, nil
}

// parseProperties validates ResourceProperties before anything calls AWS.
// Unknown properties are refused: a misspelt OnDelete silently meaning
// "retain" is worse than a failed Create that names the typo.
func parseProperties(raw map[string]any) (Properties, error) {
	rp, err := decodeProperties(raw)
	if err != nil {
		return Properties{}, err
	}
	roleArn, prop := deref(rp.RoleArn), contract.PropRoleArn
	switch {
	case rp.RoleArn != nil && rp.EC2Role != nil && *rp.RoleArn != *rp.EC2Role:
		return Properties{}, &PropertyError{Property: contract.PropRoleArn, Reason: fmt.Sprintf(
			"RoleArn %q and its alias EC2Role %q are both set and differ; set only one", clip(*rp.RoleArn), clip(*rp.EC2Role))}
	case rp.RoleArn == nil && rp.EC2Role != nil:
		roleArn, prop = *rp.EC2Role, contract.PropEC2Role
	}
	if roleArn == "" {
		return Properties{}, &PropertyError{Property: contract.PropRoleArn, Reason: "is required: the ARN of the role to opt in, e.g. arn:aws:iam::123456789012:role/EcsInstanceRole"}
	}
	role, err := awsarn.ParseRole(roleArn)
	if err != nil {
		return Properties{}, &PropertyError{Property: prop, Reason: err.Error()}
	}
	p, err := parseCommon(rp)
	p.Role = role
	return p, err
}

// parseCommon validates the properties every resource kind shares.
func parseCommon(rp rawProperties) (Properties, error) {
	p := Properties{
		Region:   deref(rp.Region),
		Setting:  cmp.Or(deref(rp.Setting), accountsetting.AWSVPCTrunking),
		Value:    cmp.Or(deref(rp.Value), accountsetting.Enabled),
		OnDelete: cmp.Or(contract.OnDelete(deref(rp.OnDelete)), contract.OnDeleteRetain),
	}
	if p.Region != "" && !awsarn.ValidRegion(p.Region) {
		return Properties{}, &PropertyError{Property: contract.PropRegion, Reason: fmt.Sprintf("%q is not a Region name such as us-east-1", clip(p.Region))}
	}
	if err := accountsetting.ValidateName(p.Setting); err != nil {
		return Properties{}, &PropertyError{Property: contract.PropSetting, Reason: err.Error()}
	}
	if err := accountsetting.ValidateValue(p.Setting, p.Value); err != nil {
		return Properties{}, &PropertyError{Property: contract.PropValue, Reason: err.Error()}
	}
	if !p.OnDelete.Valid() {
		return Properties{}, &PropertyError{Property: contract.PropOnDelete, Reason: fmt.Sprintf("%q must be %q (the default: leave the setting) or %q (set it to disabled)",
			clip(string(p.OnDelete)), contract.OnDeleteRetain, contract.OnDeleteDisable)}
	}
	return p, nil
}

// deref is *p, or T's zero value for a property that was not given.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// checkRegion fails when the role and the Region are in different partitions
// (a role in aws-cn cannot be assumed from us-east-1).
func (p Properties) checkRegion(region string) error {
	if region == "" {
		return &PropertyError{Property: contract.PropRegion, Reason: "no Region: set the Region property or AWS_REGION"}
	}
	if part := awsarn.PartitionForRegion(region); part != p.Role.Partition {
		return &PropertyError{Property: contract.PropRegion, Reason: fmt.Sprintf("Region %s is in partition %s but role %s is in %s", region, part, p.Role, p.Role.Partition)}
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
	role := raw[contract.PropRoleArn]
	if role == nil {
		role = raw[contract.PropEC2Role]
	}
	setting := raw[contract.PropSetting]
	if setting == nil || setting == "" {
		setting = accountsetting.AWSVPCTrunking
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%v\x00%v", setting, role))
	return createFailedPrefix + hex.EncodeToString(sum[:8])
}

func isCreateFailedID(id string) bool { return strings.HasPrefix(id, createFailedPrefix) }

// jsonKind names a JSON type as json.UnmarshalTypeError spells it.
func jsonKind(t string) string {
	switch t {
	case "bool":
		return "a boolean"
	case "number":
		return "a number"
	case "array":
		return "a list"
	case "object":
		return "an object"
	default:
		return t
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
