package cli

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/trunkctl/trunkctl/internal/rollout"
)

// rolloutAdvice is the next step after a rollout stopped or was interrupted.
func rolloutAdvice(err error) string {
	var (
		se *rollout.StopError
		ie *rollout.InterruptedError
	)
	again := "run the same trunkctl rollout again to continue (instances left DRAINING are its first batch)"
	var (
		cluster     string
		drainingIDs []string
		raised      map[string]int
		next        string
	)
	switch {
	case errors.As(err, &ie):
		cluster, drainingIDs, raised, next = ie.Cluster, ie.DrainingIDs, ie.Raised, again
	case errors.As(err, &se):
		cluster, drainingIDs, raised = se.Cluster, se.DrainingIDs, se.Raised
		switch se.Kind {
		case rollout.StopNoTrunk:
			next = fmt.Sprintf("check that the role of group %s's launch template is opted in (trunkctl status --cluster %s) and that the new instance's type and agent can trunk (trunkctl instances --cluster %s); then %s", se.Group, cluster, cluster, again)
		case rollout.StopUnplaceable:
			next = "give the service room (more or bigger trunked capacity, a lower --max-unavailable) or fix its placement constraints; then " + again
		case rollout.StopLaunchTimeout:
			next = fmt.Sprintf("see why the group did not launch (aws autoscaling describe-scaling-activities --auto-scaling-group-name %s); then %s, with a longer --timeout if launches are slow", se.Group, again)
		case rollout.StopDrainTimeout:
			next = "see which tasks are left (trunkctl instances --cluster " + cluster + "); --standalone stop stops standalone tasks; then " + again + ", with a longer --drain-timeout if tasks are slow to move"
		case rollout.StopStandalone:
			next = "pass --standalone wait (wait for them to end) or --standalone stop"
		case rollout.StopRefresh:
			next = fmt.Sprintf("aws autoscaling describe-instance-refreshes --auto-scaling-group-name %s; then %s", se.Group, again)
		default:
			next = again
		}
	default:
		return ""
	}
	if len(drainingIDs) > 0 {
		next += fmt.Sprintf("; or put the DRAINING ones back in service: aws ecs update-container-instances-state --cluster %s --status ACTIVE --container-instances %s", cluster, strings.Join(drainingIDs, " "))
	}
	for _, g := range slices.Sorted(maps.Keys(raised)) {
		n := raised[g]
		next += fmt.Sprintf("; group %s runs %d more instance(s) than before (its tag %s says so): the next run takes them back by terminating with a decrement; "+
			"if you stop here, once nothing runs on the extra instances lower it by hand: "+
			"aws autoscaling set-desired-capacity --auto-scaling-group-name %s --desired-capacity $(( $(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names %s --query 'AutoScalingGroups[0].DesiredCapacity' --output text) - %d )) "+
			"&& aws autoscaling delete-tags --tags ResourceId=%s,ResourceType=auto-scaling-group,Key=%s",
			g, n, rollout.RaisedTagKey, g, g, n, g, rollout.RaisedTagKey)
	}
	return next
}
