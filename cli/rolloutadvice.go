package cli

import (
	"errors"
	"fmt"
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
	var draining []string
	var raised map[string]int
	var next string
	switch {
	case errors.As(err, &ie):
		draining, raised, next = ie.Draining, ie.Raised, again
	case errors.As(err, &se):
		draining, raised = se.Draining, se.Raised
		switch se.Kind {
		case rollout.StopNoTrunk:
			next = fmt.Sprintf("check that the role of group %s's launch template is opted in (trunkctl status --cluster CLUSTER) and that the new instance's type and agent can trunk (trunkctl instances --cluster CLUSTER); then %s", se.Group, again)
		case rollout.StopUnplaceable:
			next = "give the service room (more or bigger trunked capacity, a lower --max-unavailable) or fix its placement constraints; then " + again
		case rollout.StopLaunchTimeout:
			next = fmt.Sprintf("see why the group did not launch (aws autoscaling describe-scaling-activities --auto-scaling-group-name %s); then %s, with a longer --timeout if launches are slow", se.Group, again)
		case rollout.StopDrainTimeout:
			next = "see which tasks are left (trunkctl instances --cluster CLUSTER); --standalone stop stops standalone tasks; then " + again + ", with a longer --drain-timeout if tasks are slow to move"
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
	if len(draining) > 0 {
		next += fmt.Sprintf("; or put them back in service: aws ecs update-container-instances-state --cluster CLUSTER --status ACTIVE --container-instances <the container instances of %s>", strings.Join(draining, " "))
	}
	for g, n := range raised {
		next += fmt.Sprintf("; group %s runs %d more instance(s) than before: aws autoscaling set-desired-capacity --auto-scaling-group-name %s to take them back once nothing runs on them", g, n, g)
	}
	return next
}
