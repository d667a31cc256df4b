package rollout

import "time"

// Step names what a progress event reports (stable for scripts).
type Step string

const (
	StepPlan         Step = "plan"
	StepBatch        Step = "batch"
	StepLaunch       Step = "launch"
	StepRegistered   Step = "registered"
	StepDrain        Step = "drain"
	StepDrained      Step = "drained"
	StepStopTasks    Step = "stop-tasks"
	StepUnprotect    Step = "unprotect"
	StepTerminate    Step = "terminate"
	StepDeregister   Step = "deregister"
	StepReplaced     Step = "replaced"
	StepRefresh      Step = "refresh"
	StepWait         Step = "wait"
	StepNote         Step = "note"
	StepWouldCall    Step = "would-call"
	StepDone         Step = "done"
	StepStopped      Step = "stopped"
	StepInterrupted  Step = "interrupted"
	StepRefreshState Step = "refresh-status"
	StepOptIn        Step = "opt-in"
)

// Event is one step of a rollout, for the CLI to render.
type Event struct {
	Time time.Time `json:"time"`
	Step Step      `json:"step"`
	// Batch is 1-based; 0 outside batches (plan, refresh, done).
	Batch   int    `json:"batch,omitempty"`
	Batches int    `json:"batches,omitempty"`
	Group   string `json:"autoScalingGroup,omitempty"`
	// Instances are EC2 instance ids the step is about.
	Instances []string `json:"instances,omitempty"`
	Message   string   `json:"message"`
	// Elapsed is the time since the rollout started.
	Elapsed time.Duration `json:"elapsedNs"`
}

// Observer hears every event, in order, on the rollout's goroutine.
type Observer func(Event)

// emit hands an event from outside a run (the opt-in, a dry run's opt-in
// calls) to the observer.
func (e *Engine) emit(ev Event) {
	if e.Observe != nil {
		e.Observe(ev)
	}
}
