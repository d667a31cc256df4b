// Package catalog answers, for an EC2 instance type, whether ECS ENI trunking
// supports it and how many awsvpc tasks fit with and without trunking.
//
// No AWS API returns the trunked task limit: it comes from ECS's published
// table (embedded from shared/data). Types the table lacks but EC2 calls
// trunk-compatible (the newer families: c7i, m7i, c8g, ...) are
// LimitUnpublished: they trunk, with a limit nobody publishes. Types neither
// source vouches for, or where the table contradicts the unsupported list,
// are Unknown, never guessed.
package catalog

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
)

//go:embed data/ecs-eni-trunking-limits.csv
var ecsTableCSV []byte

//go:embed data/ec2-network-limits.csv
var ec2TableCSV []byte

// Support is the verdict on trunking for an instance type.
type Support string

const (
	// Supported: in ECS's published table with a usable limit.
	Supported Support = "supported"
	// Unsupported: ECS documents the type as unsupported, or EC2 cannot put a trunk ENI on it.
	Unsupported Support = "unsupported"
	// LimitUnpublished: EC2 says the type can have a trunk ENI, but ECS's
	// published table (2023) predates it, so its trunked task limit is not
	// published. Instances of it trunk; TasksWithTrunking is 0 (unknown),
	// and the tasks seen running on one are a lower bound.
	LimitUnpublished Support = "supported-limit-not-published"
	// Unknown: not in the published table, or the table contradicts itself.
	Unknown Support = "unknown"
)

// Trunks reports whether instances of a type with this support get a trunk
// ENI when their role is opted in (Supported or LimitUnpublished).
func (s Support) Trunks() bool { return s == Supported || s == LimitUnpublished }

// InstanceType is what the catalog knows about one type.
type InstanceType struct {
	Name    string  `json:"instanceType"`
	Family  string  `json:"family"`
	Support Support `json:"support"`
	// Reason explains Unsupported and Unknown verdicts.
	Reason string `json:"reason,omitempty"`
	// TasksWithoutTrunking is max ENIs - 1 (0 when unknown).
	TasksWithoutTrunking int `json:"tasksWithoutTrunking"`
	// TasksWithTrunking is ECS's published limit (0 unless Supported).
	TasksWithTrunking int `json:"tasksWithTrunking"`
	// MaxNetworkInterfaces is EC2's ENI limit (0 when unknown).
	MaxNetworkInterfaces int `json:"maxNetworkInterfaces,omitempty"`
	// InPublishedTable says whether ECS's table lists the type at all.
	InPublishedTable bool   `json:"inPublishedTable"`
	Category         string `json:"category,omitempty"`
	// Known says whether either data source mentions the type.
	Known bool `json:"known"`
	// Suggestions are the nearest known names of a type nobody knows (a typo).
	Suggestions []string `json:"suggestions,omitempty"`
}

// Catalog is the parsed, immutable data. Use Default for the embedded data.
type Catalog struct {
	types map[string]InstanceType
}

// Unsupported per the ECS developer guide (2023).
var (
	unsupportedTypes = []string{"a1.metal", "c5.metal", "c5a.8xlarge", "c5ad.8xlarge", "c5d.metal", "m5.metal",
		"p3dn.24xlarge", "r5.metal", "r5.8xlarge", "r5d.metal"}
	unsupportedFamilies = []string{"c5n", "d3", "d3en", "g3", "g3s", "g4dn", "i3", "i3en", "inf1", "m5dn", "m5n",
		"m5zn", "mac1", "r5b", "r5n", "r5dn", "u-6tb1", "u-9tb1", "u-12tb1", "z1d", "t2", "t3", "t3a", "t4g"}
)

// Family returns the family part of an instance type ("c5" of "c5.large").
func Family(name string) string {
	f, _, _ := strings.Cut(name, ".")
	return f
}

type ec2Row struct {
	maxENI     int
	compatible bool
}

// Parse builds a catalog from the two CSV tables.
func Parse(ecsTable, ec2Table io.Reader) (*Catalog, error) {
	ecsRows, err := readCSV(ecsTable, []string{"instance_type", "tasks_without_trunking", "tasks_with_trunking", "category"})
	if err != nil {
		return nil, fmt.Errorf("ECS trunking table: %w", err)
	}
	ec2Rows, err := readCSV(ec2Table, []string{"instance_type", "max_network_interfaces", "ipv4_per_interface",
		"trunking_compatible", "eks_branch_interfaces", "hypervisor", "bare_metal"})
	if err != nil {
		return nil, fmt.Errorf("EC2 network table: %w", err)
	}
	ec2 := map[string]ec2Row{}
	for i, r := range ec2Rows {
		n, err := strconv.Atoi(r[1])
		if err != nil {
			return nil, fmt.Errorf("EC2 network table line %d: max_network_interfaces %q: %w", i+2, r[1], err)
		}
		ec2[r[0]] = ec2Row{maxENI: n, compatible: r[3] == "true"}
	}
	c := &Catalog{types: map[string]InstanceType{}}
	for name, e := range ec2 {
		it := InstanceType{Name: name, Family: Family(name), Known: true, MaxNetworkInterfaces: e.maxENI}
		if e.maxENI > 0 {
			it.TasksWithoutTrunking = e.maxENI - 1
		}
		c.types[name] = it
	}
	for i, r := range ecsRows {
		without, err1 := strconv.Atoi(r[1])
		with, err2 := strconv.Atoi(r[2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("ECS trunking table line %d: non-numeric limit in %v", i+2, r)
		}
		it := c.types[r[0]]
		it.Name, it.Family, it.Known, it.InPublishedTable, it.Category = r[0], Family(r[0]), true, true, r[3]
		it.TasksWithoutTrunking, it.TasksWithTrunking = without, with
		c.types[r[0]] = it
	}
	for name, it := range c.types {
		c.types[name] = judge(it, ec2[name])
	}
	return c, nil
}

func judge(it InstanceType, e ec2Row) InstanceType {
	listed := slices.Contains(unsupportedTypes, it.Name) || slices.Contains(unsupportedFamilies, it.Family)
	switch {
	case listed && it.InPublishedTable:
		it.Support, it.Reason = Unknown, "ECS's published table lists this type but the same guide calls it unsupported"
	case listed:
		it.Support, it.Reason = Unsupported, "ECS documents this type as not supporting ENI trunking"
	case it.InPublishedTable && it.TasksWithTrunking <= 0:
		it.Support, it.Reason = Unknown, fmt.Sprintf("ECS's published table gives an impossible limit (%d)", it.TasksWithTrunking)
	case it.InPublishedTable:
		it.Support = Supported
	case it.MaxNetworkInterfaces > 0 && !e.compatible:
		it.Support, it.Reason = Unsupported, "EC2 cannot attach a trunk ENI to this type"
	case it.MaxNetworkInterfaces > 0 && e.compatible:
		it.Support, it.Reason = LimitUnpublished, "EC2 says this type can have a trunk ENI; it is newer than ECS's published table, so its trunked task limit is not published"
	default:
		it.Support, it.Reason = Unknown, "not in ECS's published trunking table; the trunked task limit is not published"
	}
	if it.Support != Supported {
		it.TasksWithTrunking = 0
	}
	return it
}

func readCSV(r io.Reader, header []string) ([][]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(header)
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || !slices.Equal(rows[0], header) {
		return nil, fmt.Errorf("header is not %s", strings.Join(header, ","))
	}
	return rows[1:], nil
}

// Default returns the catalog built from the embedded data. The data is
// checked by tests, so a parse failure here is a build defect.
func Default() *Catalog {
	c, err := Parse(bytes.NewReader(ecsTableCSV), bytes.NewReader(ec2TableCSV))
	if err != nil {
		panic("embedded catalog data: " + err.Error())
	}
	return c
}

// Lookup returns what is known of a type. An unknown name yields Known=false
// and Support=Unknown.
func (c *Catalog) Lookup(name string) InstanceType {
	name = strings.ToLower(strings.TrimSpace(name))
	if it, ok := c.types[name]; ok {
		return it
	}
	it := InstanceType{Name: name, Family: Family(name), Support: Unknown, Reason: "instance type not found in ECS's or EC2's data"}
	if slices.Contains(unsupportedTypes, name) || slices.Contains(unsupportedFamilies, it.Family) {
		it.Support, it.Reason = Unsupported, "ECS documents this type as not supporting ENI trunking"
		return it
	}
	it.Suggestions = c.Suggest(name)
	it.Reason += DidYouMean(it.Suggestions)
	return it
}

// Family returns every known type of a family, smallest limit first.
func (c *Catalog) Family(family string) []InstanceType {
	var out []InstanceType
	for _, it := range c.types {
		if it.Family == family {
			out = append(out, it)
		}
	}
	sortTypes(out)
	return out
}

// All returns every known type, sorted.
func (c *Catalog) All() []InstanceType {
	out := make([]InstanceType, 0, len(c.types))
	for _, it := range c.types {
		out = append(out, it)
	}
	sortTypes(out)
	return out
}

// sortTypes orders by family, then by size (ENIs, then trunk limit), then name.
func sortTypes(ts []InstanceType) {
	sort.Slice(ts, func(i, j int) bool {
		a, b := ts[i], ts[j]
		if a.Family != b.Family {
			return a.Family < b.Family
		}
		if a.MaxNetworkInterfaces != b.MaxNetworkInterfaces {
			return a.MaxNetworkInterfaces < b.MaxNetworkInterfaces
		}
		if a.TasksWithTrunking != b.TasksWithTrunking {
			return a.TasksWithTrunking < b.TasksWithTrunking
		}
		return a.Name < b.Name
	})
}
