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
// ran the command. Its value is "raised=N cluster=NAME"; it does not
// propagate to instances, and the rollout deletes it when the group is back.
const RaisedTagKey = "trunkctl:rollout-raised"

// raisedTagValue is the tag's value for n raised by a rollout of cluster.
func raisedTagValue(n int, cluster string) string {
	return fmt.Sprintf("raised=%d cluster=%s", n, cluster)
}

// parseRaisedTag reads a tag value; ok is false for a value trunkctl did not write.
func parseRaisedTag(v string) (n int, cluster string, ok bool) {
	seen := 0
	for _, f := range strings.Fields(v) {
		k, val, found := strings.Cut(f, "=")
		if !found {
			return 0, "", false
		}
		switch k {
		case "raised":
			var err error
			if n, err = strconv.Atoi(val); err != nil || n < 0 {
				return 0, "", false
			}
			seen++
		case "cluster":
			cluster = val
			seen++
		}
	}
	return n, cluster, seen == 2 && cluster != ""
}

// raisedBy is what the group's tag says a rollout of cluster raised it by
// (0 without a tag, or with one another cluster's rollout wrote).
func (g groupState) raisedBy(cluster string) int {
	v, ok := g.tags[RaisedTagKey]
	if !ok {
		return 0
	}
	n, c, ok := parseRaisedTag(v)
	if !ok || c != cluster {
		return 0
	}
	return n
}

// saveRaised writes the run's outstanding raise of a group to its tag, or
// deletes the tag when nothing is outstanding.
func (r *run) saveRaised(ctx context.Context, group string) error {
	n := r.raised[group]
	tag := asgtypes.Tag{ResourceId: aws.String(group), ResourceType: aws.String("auto-scaling-group"), Key: aws.String(RaisedTagKey)}
	if n <= 0 {
		if _, err := r.e.ASG.DeleteTags(ctx, &autoscaling.DeleteTagsInput{Tags: []asgtypes.Tag{tag}}); err != nil {
			return fmt.Errorf("delete tag %s of %s: %w", RaisedTagKey, group, err)
		}
		return nil
	}
	tag.Value, tag.PropagateAtLaunch = aws.String(raisedTagValue(n, r.o.Cluster)), aws.Bool(false)
	if _, err := r.e.ASG.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: []asgtypes.Tag{tag}}); err != nil {
		return fmt.Errorf("tag %s with %s=%q (desired capacity raised by %d): %w", group, RaisedTagKey, aws.ToString(tag.Value), n, err)
	}
	return nil
}
