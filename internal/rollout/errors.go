package rollout

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// StopKind names why a rollout stopped (stable for scripts).
type StopKind string

const (
	// StopNoTrunk: a replacement registered without a trunk.
	StopNoTrunk StopKind = "replacement-without-trunk"
	// StopUnplaceable: a service reported it cannot place tasks.
	StopUnplaceable StopKind = "service-cannot-place-tasks"
	// StopLaunchTimeout: replacements did not register in time.
	StopLaunchTimeout StopKind = "launch-timeout"
	// StopDrainTimeout: tasks did not leave the batch in time.
	StopDrainTimeout StopKind = "drain-timeout"
	// StopStandalone: standalone tasks and --standalone fail.
	StopStandalone StopKind = "standalone-tasks"
	// StopTasksLeft: an instance about to be terminated still runs service tasks.
	StopTasksLeft StopKind = "service-tasks-left"
	// StopRefresh: an instance refresh failed, was cancelled or timed out.
	StopRefresh StopKind = "instance-refresh"
	// StopRejected: AWS refused an update (e.g. the instance is gone).
	StopRejected StopKind = "rejected"
)

// StopError is a rollout that stopped rather than guess: what was seen, and
// which instances it left DRAINING (for the CLI to say why and what next).
type StopError struct {
	Cluster string
	Kind    StopKind
	Batch   int
	Group   string
	// Instances are the EC2 instances (or services, for StopUnplaceable) it is about.
	Instances []string
	// Seen is what AWS said: the verdict, the service event, the counts.
	Seen string
	// Draining are the EC2 instances left DRAINING; DrainingIDs are their
	// container instance ids, in the same order.
	Draining    []string
	DrainingIDs []string
	// Raised is, per group, how much this run raised the desired capacity
	// and has not yet taken back by terminating with a decrement.
	Raised map[string]int
	// Refreshes say which instance refreshes the stop cancelled (or failed
	// to) beyond what Seen says.
	Refreshes []string
}

func (e *StopError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rollout stopped (%s)", e.Kind)
	if e.Batch > 0 {
		fmt.Fprintf(&b, " in batch %d", e.Batch)
	}
	if e.Group != "" {
		fmt.Fprintf(&b, ", group %s", e.Group)
	}
	if len(e.Instances) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(e.Instances, ", "))
	}
	if e.Seen != "" {
		fmt.Fprintf(&b, ": %s", e.Seen)
	}
	if len(e.Draining) > 0 {
		fmt.Fprintf(&b, "; left DRAINING: %s", strings.Join(e.Draining, ", "))
	}
	for _, g := range slices.Sorted(maps.Keys(e.Raised)) {
		fmt.Fprintf(&b, "; desired capacity of %s left %d above where it was", g, e.Raised[g])
	}
	for _, s := range e.Refreshes {
		b.WriteString("; " + s)
	}
	return b.String()
}

// InterruptedError is a rollout whose context ended; Draining are the EC2
// instances it left DRAINING, which the next run takes as its first batch.
type InterruptedError struct {
	Cluster     string
	Batch       int
	Draining    []string
	DrainingIDs []string
	Raised      map[string]int
	// Refreshes say which instance refreshes the interrupt cancelled (or failed to).
	Refreshes []string
	Err       error
}

func (e *InterruptedError) Error() string {
	s := "rollout interrupted"
	if e.Batch > 0 {
		s += fmt.Sprintf(" in batch %d", e.Batch)
	}
	if len(e.Draining) > 0 {
		s += "; left DRAINING: " + strings.Join(e.Draining, ", ")
	}
	for _, g := range slices.Sorted(maps.Keys(e.Raised)) {
		s += fmt.Sprintf("; desired capacity of %s left %d above where it was", g, e.Raised[g])
	}
	for _, r := range e.Refreshes {
		s += "; " + r
	}
	return s + ": " + e.Err.Error()
}

func (e *InterruptedError) Unwrap() error { return e.Err }
