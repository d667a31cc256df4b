package rollout

import (
	"errors"
	"fmt"
	"strings"
)

// MaxSurge is --max-surge: how many replacements a rollout may launch ahead
// of the drains, for instances of later batches, as Auto Scaling's own
// instance refresh does with MaxHealthyPercentage above 100. A count, or a
// percentage of the cluster's container instances; zero (the default)
// launches each batch's replacements when that batch starts.
type MaxSurge struct {
	N       int
	Percent bool
}

// ErrMaxSurge is returned for a --max-surge that is not N or P%.
var ErrMaxSurge = errors.New("max surge must be a count (0, 20) or a percentage from 0% to 100% (50%)")

// ParseMaxSurge reads "0", "20" or "50%".
func ParseMaxSurge(s string) (MaxSurge, error) {
	n, pct, ok := parseCount(s, 0)
	if !ok {
		return MaxSurge{}, fmt.Errorf("%w: %q", ErrMaxSurge, strings.TrimSpace(s))
	}
	return MaxSurge{N: n, Percent: pct}, nil
}

// String is the flag's form.
func (m MaxSurge) String() string { return formatCount(m.N, m.Percent) }

// Set parses a flag value (MaxSurge is a pflag.Value).
func (m *MaxSurge) Set(s string) error {
	v, err := ParseMaxSurge(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Type names the flag's value in usage.
func (*MaxSurge) Type() string { return "N|P%" }

// Of resolves the surge for a cluster of total instances (may be 0).
func (m MaxSurge) Of(total int) int { return countOf(m.N, m.Percent, total) }

// ahead is, per group, how many instances of the batches after batch k
// (0-based) the surge launches for while batch k is replaced: the first
// MaxSurge of them, in plan order.
func (p *Plan) ahead(k int, groupOf func(ec2ID string) string) map[string]int {
	out := map[string]int{}
	left := p.MaxSurge
	for _, ids := range p.Batches[min(k+1, len(p.Batches)):] {
		for _, id := range ids {
			if left == 0 {
				return out
			}
			out[groupOf(id)]++
			left--
		}
	}
	return out
}

// raise is a group's desired capacity as a rollout moves it. Its methods are
// the one place the rollout's raise and give-back arithmetic lives: the run
// steps it from what Auto Scaling says, the dry run from the plan, so what a
// dry run shows is what a run does.
type raise struct {
	desired, max int
	// raised is the desired capacity raised and not yet given back, by this
	// run or (per the group's tag) an earlier one; from is the desired
	// capacity before the first raise.
	raised, from int
	// unclaimed are replacements this run launched that no batch has
	// claimed yet: those launched ahead of their batch's drain.
	unclaimed int
}

// launch is how far to raise the group for count instances of the batch and
// ahead instances of later batches: what the raise does not already cover,
// as far as MaxSize allows (a group at MaxSize launches nothing: its share
// is drained first and replaced by the group).
func (g raise) launch(count, ahead int) int {
	return min(max(0, count+ahead-g.raised), max(0, g.max-g.desired))
}

// surged is how many of a launch of n (launch's answer) are for later
// batches rather than this batch's count instances.
func (g raise) surged(count, n int) int {
	return n - min(n, max(0, count-g.raised))
}

// short is how many of the batch's count instances get no replacement
// launched before their drain: those neither the raise nor room for one
// covers.
func (g raise) short(count int) int {
	return max(0, count-g.raised-max(0, g.max-g.desired))
}

// carried is the part of the raise this run has no unclaimed launch for:
// an earlier run's (its tag), whose instances already stand in for as many
// of a batch.
func (g raise) carried() int { return g.raised - g.unclaimed }

// launched records a raise of n.
func (g *raise) launched(n int) {
	if g.raised == 0 {
		g.from = g.desired
	}
	g.raised += n
	g.desired += n
	g.unclaimed += n
}

// claim takes, for a batch of count instances, the replacements this run
// launched that it waits for before its drain, and returns how many.
// Replacements an earlier run launched (its tag's raise) are not waited
// for: this run cannot tell them apart.
func (g *raise) claim(count int) int {
	n := min(count, g.unclaimed)
	g.unclaimed -= n
	return n
}

// decrements is how many of count terminated instances are terminated with
// a decrement of the desired capacity: as many as it is raised; the rest
// the group replaces.
func (g raise) decrements(count int) int {
	return min(count, g.raised)
}

// decremented records one termination with a decrement.
func (g *raise) decremented() {
	g.raised--
	g.desired--
}

// tag is the group's raised tag for cluster.
func (g raise) tag(cluster string) raisedTag {
	return raisedTag{Raised: g.raised, From: g.from, Cluster: cluster}
}
