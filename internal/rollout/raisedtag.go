package rollout

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// RaisedTagKey is the Auto Scaling group tag in which a rollout keeps how
// far it raised the group's desired capacity and has not yet taken back,
// so that a run that was interrupted or stopped mid-batch leaves the next
// run enough to decrement: the state lives in AWS, not on the machine that
// ran the command. Its value is "raised=N from=D cluster=NAME" (D: the
// desired capacity before the first raise); it does not propagate to
// instances, and the rollout deletes it when the group is back.
const RaisedTagKey = "trunkctl:rollout-raised"

// raisedTag is the tag's content.
type raisedTag struct {
	Raised, From int
	Cluster      string
}

func (t raisedTag) String() string {
	return fmt.Sprintf("raised=%d from=%d cluster=%s", t.Raised, t.From, t.Cluster)
}

// parseRaisedTag reads a tag value; ok is false for a value trunkctl did not write.
func parseRaisedTag(v string) (t raisedTag, ok bool) {
	seen := map[string]bool{}
	for _, f := range strings.Fields(v) {
		k, val, found := strings.Cut(f, "=")
		if !found || seen[k] {
			return raisedTag{}, false
		}
		seen[k] = true
		var err error
		switch k {
		case "raised":
			t.Raised, err = strconv.Atoi(val)
		case "from":
			t.From, err = strconv.Atoi(val)
		case "cluster":
			t.Cluster = val
		}
		if err != nil {
			return raisedTag{}, false
		}
	}
	return t, seen["raised"] && seen["from"] && t.Cluster != "" && t.Raised >= 0 && t.From >= 0
}

// raisedBy is how far the group's tag says a rollout of cluster raised it
// (zero without a tag, or with one another cluster's rollout wrote), and
// the desired capacity it started from. It credits no more than the group
// is above that now: a group lowered by hand (or by scaling) since is not
// decremented below where the rollout found it.
func (g groupState) raisedBy(cluster string) (raised, from int) {
	v, ok := g.tags[RaisedTagKey]
	if !ok {
		return 0, 0
	}
	t, ok := parseRaisedTag(v)
	if !ok || t.Cluster != cluster {
		return 0, 0
	}
	return min(t.Raised, max(0, g.Desired-t.From)), t.From
}

// saveRaised writes the run's outstanding raise of a group to its tag, or
// deletes the tag when nothing is outstanding.
func (r *run) saveRaised(ctx context.Context, group string) error {
	c := r.capacityOf(group)
	n := c.raised
	tag := asgtypes.Tag{ResourceId: aws.String(group), ResourceType: aws.String("auto-scaling-group"), Key: aws.String(RaisedTagKey)}
	if n <= 0 {
		if _, err := r.e.ASG.DeleteTags(ctx, &autoscaling.DeleteTagsInput{Tags: []asgtypes.Tag{tag}}); err != nil {
			return fmt.Errorf("delete tag %s of %s: %w", RaisedTagKey, group, err)
		}
		return nil
	}
	tag.Value, tag.PropagateAtLaunch = aws.String(c.tag(r.o.Cluster).String()), aws.Bool(false)
	if _, err := r.e.ASG.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: []asgtypes.Tag{tag}}); err != nil {
		return fmt.Errorf("tag %s with %s=%q (desired capacity raised by %d): %w", group, RaisedTagKey, aws.ToString(tag.Value), n, err)
	}
	return nil
}
