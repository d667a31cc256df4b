package rollout

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Action is what a rollout does with one container instance.
type Action string

const (
	// ActionTrunked: it has a trunk; nothing to do.
	ActionTrunked Action = "trunked"
	// ActionReplace: it has no trunk and a replacement would get one.
	ActionReplace Action = "replace"
	// ActionSkip: a replacement would not fix it, or trunkctl cannot replace it.
	ActionSkip Action = "skip"
)

// ReasonNotInGroup is the skip reason of an instance no Auto Scaling group owns.
const ReasonNotInGroup = "no trunk, and not in an Auto Scaling group: only a group can replace it"

// ActionFor maps the judge's verdict on an instance to what a rollout does
// with it (group is its Auto Scaling group, "" for none). It is the one
// place that decides, for rollout's plan and the fleet view's STALE count, from the verdict's remedy:
// only instances a replacement gives a trunk (replace, enable-then-replace:
// the rollout opts the roles in first) are replaced; a host that cannot
// trunk, a launch that must change, ECS Managed Instances and the rest are
// skipped with the judge's own message.
func ActionFor(v doctor.Verdict, group string) (Action, string) {
	switch v.Remedy {
	case doctor.RemedyNone:
		if v.Healthy {
			return ActionTrunked, v.Message
		}
	case doctor.RemedyReplace, doctor.RemedyEnableThenReplace:
		if group == "" {
			return ActionSkip, ReasonNotInGroup
		}
		return ActionReplace, "no trunk: a replacement registers after the opt-in and gets one"
	}
	return ActionSkip, v.Message
}

// Item is one container instance of the plan.
type Item struct {
	ContainerInstanceArn string `json:"containerInstanceArn"`
	ContainerInstanceID  string `json:"containerInstanceId"`
	EC2InstanceID        string `json:"ec2InstanceId"`
	InstanceType         string `json:"instanceType"`
	Status               string `json:"status"`
	Group                string `json:"autoScalingGroup,omitempty"`
	TrunkENI             string `json:"trunkEniId,omitempty"`
	Action               Action `json:"action"`
	Reason               string `json:"reason"`
	// Verdict is the judge's code the action came from.
	Verdict doctor.VerdictCode `json:"verdict"`
	// Slots is the awsvpc tasks the instance takes now (0 when unknown).
	Slots int `json:"slots"`
}

// Group is an Auto Scaling group behind instances of the plan.
type Group struct {
	Name    string `json:"name"`
	Min     int    `json:"minSize"`
	Max     int    `json:"maxSize"`
	Desired int    `json:"desiredCapacity"`
	// Instances are the group's EC2 instances (any lifecycle state).
	Instances []string `json:"instances"`
	// Refresh is true when the group is replaced by an instance refresh.
	Refresh bool `json:"refresh,omitempty"`
	// Raised is how far an earlier rollout of the cluster raised the
	// desired capacity and did not take back (the group's RaisedTagKey tag).
	Raised int `json:"raisedByEarlierRun,omitempty"`
	// RaisedFrom is the desired capacity the earlier run raised it from.
	RaisedFrom int `json:"raisedFromDesiredCapacity,omitempty"`
}

// Plan is what a rollout will do, decided from what AWS says now.
type Plan struct {
	Cluster string `json:"cluster"`
	Items   []Item `json:"items"`
	// Groups by name: those of the replace items.
	Groups map[string]Group `json:"groups"`
	// MaxUnavailable is the resolved batch size.
	MaxUnavailable int `json:"maxUnavailable"`
	// MaxSurge is the resolved --max-surge: how many replacements of later
	// batches may be launched ahead of the drains.
	MaxSurge int `json:"maxSurge,omitempty"`
	// Batches hold the EC2 instance ids of the replace items replaced by
	// draining, in order; the first holds the instances already DRAINING
	// (a run that was interrupted or stopped), if any.
	Batches [][]string `json:"batches"`
	// Refresh lists the groups replaced by an instance refresh, in order.
	Refresh []string `json:"refresh,omitempty"`
	// SlotsBefore is the cluster's awsvpc task slots now.
	SlotsBefore int `json:"slotsBefore"`
	// SlotsAfter is what they will be when every replace item has a trunk.
	SlotsAfter int `json:"slotsAfter"`
}

// Item returns the plan's item of an EC2 instance.
func (p *Plan) Item(ec2ID string) (Item, bool) {
	for _, it := range p.Items {
		if it.EC2InstanceID == ec2ID {
			return it, true
		}
	}
	return Item{}, false
}

// Count returns how many items have the action.
func (p *Plan) Count(a Action) int {
	n := 0
	for _, it := range p.Items {
		if it.Action == a {
			n++
		}
	}
	return n
}

// Skipped returns the skip items.
func (p *Plan) Skipped() []Item {
	var out []Item
	for _, it := range p.Items {
		if it.Action == ActionSkip {
			out = append(out, it)
		}
	}
	return out
}

// MaxUnavailable is --max-unavailable: a count, or a percentage of the
// cluster's container instances.
type MaxUnavailable struct {
	N       int
	Percent bool
}

// DefaultMaxUnavailable is 10% of the cluster's instances.
var DefaultMaxUnavailable = MaxUnavailable{N: 10, Percent: true}

// ErrMaxUnavailable is returned for a --max-unavailable that is not N or P%.
var ErrMaxUnavailable = errors.New("max unavailable must be a positive count (5) or a percentage from 1% to 100% (10%)")

// ParseMaxUnavailable reads "5" or "10%".
func ParseMaxUnavailable(s string) (MaxUnavailable, error) {
	n, pct, ok := parseCount(s, 1)
	if !ok {
		return MaxUnavailable{}, fmt.Errorf("%w: %q", ErrMaxUnavailable, strings.TrimSpace(s))
	}
	return MaxUnavailable{N: n, Percent: pct}, nil
}

// String is the flag's form.
func (m MaxUnavailable) String() string { return formatCount(m.N, m.Percent) }

// Of resolves the batch size for a cluster of total instances: at least 1.
func (m MaxUnavailable) Of(total int) int { return max(countOf(m.N, m.Percent, total), 1) }

// parseCount reads the flags' "N" or "P%": a count of at least least, or a
// percentage from least to 100.
func parseCount(s string, least int) (n int, percent, ok bool) {
	s = strings.TrimSpace(s)
	percent = strings.HasSuffix(s, "%")
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	return n, percent, err == nil && n >= least && (!percent || n <= 100)
}

// formatCount is parseCount's form of n.
func formatCount(n int, percent bool) string {
	if percent {
		return strconv.Itoa(n) + "%"
	}
	return strconv.Itoa(n)
}

// countOf is n, or n% of total rounded down.
func countOf(n int, percent bool, total int) int {
	if percent {
		return total * n / 100
	}
	return n
}

// slots is the awsvpc tasks an instance takes: with trunking when it has a
// trunk (or trunked is set), else without; 0 when the catalog does not know.
func slots(cat *catalog.Catalog, ci inventory.ContainerInstance, trunked bool) int {
	if trunked {
		ci.TrunkENI = "planned"
	}
	return doctor.UsageOf(ci, cat.Lookup(ci.InstanceType), 0).Limit
}

// ReplacementJudge judges a container instance that registered during the
// rollout as the replacement of the EC2 instance like, with the same input
// as like (the assessment's; doctor.Input also is one).
type ReplacementJudge interface {
	JudgeReplacement(like string, ci inventory.ContainerInstance) doctor.Verdict
}

// likeIn is the first instance of group the plan replaces: what a new
// instance of that group replaces, and is judged like.
func (p *Plan) likeIn(group string) string {
	for _, it := range p.Items {
		if it.Group == group && it.Action == ActionReplace {
			return it.EC2InstanceID
		}
	}
	return ""
}

// newPlan takes each container instance's action from the judge's verdict
// and orders the replace items into batches. groupOf maps EC2 instance ids
// to their group's name.
func newPlan(cluster string, cat *catalog.Catalog, judged []doctor.InstanceReport, groupOf map[string]string,
	groups map[string]Group, mu MaxUnavailable, method Method) *Plan {
	p := &Plan{Cluster: cluster, Groups: map[string]Group{}, MaxUnavailable: mu.Of(len(judged))}
	for _, jr := range judged {
		ci, v := jr.ContainerInstance, jr.Verdict
		g := groupOf[ci.EC2InstanceID]
		a, reason := ActionFor(v, g)
		it := Item{
			ContainerInstanceArn: ci.Arn, ContainerInstanceID: ci.ID(), EC2InstanceID: ci.EC2InstanceID,
			InstanceType: ci.InstanceType, Status: ci.Status, Group: g, TrunkENI: ci.TrunkENI,
			Action: a, Reason: reason, Verdict: v.Code, Slots: slots(cat, ci, false),
		}
		p.Items = append(p.Items, it)
		p.SlotsBefore += it.Slots
		p.SlotsAfter += slots(cat, ci, a == ActionReplace)
		if a == ActionReplace {
			p.Groups[g] = groups[g]
		}
	}
	sort.Slice(p.Items, func(i, j int) bool { return p.Items[i].EC2InstanceID < p.Items[j].EC2InstanceID })

	replace := map[string]bool{}
	for _, it := range p.Items {
		if it.Action == ActionReplace {
			replace[it.EC2InstanceID] = true
		}
	}
	if method == MethodRefresh {
		for name, g := range p.Groups {
			if everyReplaced(g, replace) {
				g.Refresh = true
				p.Groups[name] = g
				p.Refresh = append(p.Refresh, name)
			}
		}
		sort.Strings(p.Refresh)
	}

	var draining, rest []string
	for _, it := range p.Items {
		if it.Action != ActionReplace || p.Groups[it.Group].Refresh {
			continue
		}
		if it.Status == statusDraining {
			draining = append(draining, it.EC2InstanceID)
		} else {
			rest = append(rest, it.EC2InstanceID)
		}
	}
	// Group by group so a batch touches few groups; ids are sorted within.
	// Groups that can launch first go first: their trunked replacements make
	// room for the tasks of groups at their MaxSize, which drain first.
	groupOfID := map[string]string{}
	for _, it := range p.Items {
		groupOfID[it.EC2InstanceID] = it.Group
	}
	atMax := func(id string) bool { g := p.Groups[groupOfID[id]]; return g.Desired >= g.Max }
	sort.SliceStable(rest, func(i, j int) bool {
		if a, b := atMax(rest[i]), atMax(rest[j]); a != b {
			return b
		}
		return groupOfID[rest[i]] < groupOfID[rest[j]]
	})
	if len(draining) > 0 {
		p.Batches = append(p.Batches, draining)
	}
	for len(rest) > 0 {
		n := min(p.MaxUnavailable, len(rest))
		p.Batches = append(p.Batches, rest[:n])
		rest = rest[n:]
	}
	return p
}

// everyReplaced: every instance of the group is a replace item (an instance
// refresh replaces them all, so it must not touch any other).
func everyReplaced(g Group, replace map[string]bool) bool {
	if len(g.Instances) == 0 {
		return false
	}
	for _, id := range g.Instances {
		if !replace[id] {
			return false
		}
	}
	return true
}
