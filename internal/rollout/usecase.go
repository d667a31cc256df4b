package rollout

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/awsarn"
)

// Request is a rollout as the command line asks for it.
type Request struct {
	Options
	// Query is the assessment to plan from (the same one doctor shows).
	Query assess.Query
	// Roles are also opted in (--role).
	Roles []awsarn.Role
}

// Prepared is a rollout read, judged and planned: what it would do, before
// it does anything.
type Prepared struct {
	Assessment *assess.Assessment
	Plan       *Plan
	// Roles are the roles behind the instances to replace, and the
	// requested ones, sorted.
	Roles []string
	// Enable are those of Roles whose setting is not enabled (or could not
	// be read): the rollout opts them in first.
	Enable []awsarn.Role
	// Warnings say what the read left out.
	Warnings []string

	// engine and opts carry the rollout out: passed once, to Prepare.
	engine *Engine
	opts   Options
}

// Prepare is the rollout's read -> judge -> plan: the one assessment of the
// cluster (the input doctor judges), the plan from its verdicts, and the
// roles to opt in. The engine judges replacements with the same input.
func Prepare(ctx context.Context, s *assess.Session, e *Engine, req Request) (*Prepared, error) {
	a, err := s.Assess(ctx, req.Query)
	if err != nil {
		return nil, err
	}
	e.Judge, e.Reader = a, s.Loader
	plan, err := e.Plan(ctx, req.Options, a.Report.Instances)
	if err != nil {
		return nil, err
	}
	p := &Prepared{Assessment: a, Plan: plan, Warnings: a.Warnings, engine: e, opts: req.Options}
	want := map[string]bool{}
	for _, it := range plan.Items {
		if it.Action != ActionReplace {
			continue
		}
		rs := a.Input.Snapshot.InstanceRoles[it.EC2InstanceID]
		if len(rs) == 0 {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s has no instance profile role trunkctl can see; its replacement gets a trunk only if the launch template's role is opted in", it.EC2InstanceID))
			continue
		}
		want[rs[0]] = true
	}
	for _, r := range req.Roles {
		want[r.String()] = true
	}
	enabled := map[string]bool{}
	for _, st := range a.Input.Roles {
		if st.Is(accountsetting.Enabled) {
			enabled[st.RoleArn] = true
		}
	}
	for a := range want {
		p.Roles = append(p.Roles, a)
	}
	sort.Strings(p.Roles)
	for _, arn := range p.Roles {
		if enabled[arn] {
			continue
		}
		role, err := awsarn.ParseRole(arn)
		if err != nil {
			return nil, fmt.Errorf("role %s: %w", arn, err)
		}
		p.Enable = append(p.Enable, role)
	}
	return p, nil
}

// Empty: nothing to replace and no role to opt in.
func (p *Prepared) Empty() bool { return p.Plan.Count(ActionReplace) == 0 && len(p.Enable) == 0 }

// OptIn opts the roles in with the one opt-in (as trunkctl enable does) and
// stops on any that does not read back enabled: replacements would register
// without a trunk. The assessment learns the new settings, so replacements
// are judged with the roles as they are now.
func (p *Prepared) OptIn(ctx context.Context, s *assess.Session) error {
	e := p.engine
	if len(p.Enable) == 0 {
		return nil
	}
	got, err := s.OptIn(ctx, p.Enable, accountsetting.Enabled)
	if err != nil {
		return err
	}
	for _, st := range got {
		switch {
		case st.Err != nil:
			return fmt.Errorf("opt in %s: %w", st.RoleArn, st.Err)
		case st.EffectiveValue != accountsetting.Enabled:
			return fmt.Errorf("opt in %s: awsvpcTrunking reads back %q (source %s), not enabled; nothing was replaced", st.RoleArn, st.EffectiveValue, st.Source)
		}
		e.emit(Event{Time: e.Clock.Now(), Step: StepOptIn, Message: fmt.Sprintf("awsvpcTrunking enabled for %s (%s)", st.RoleArn, st.Via)})
	}
	p.Assessment.Opted(got...)
	return nil
}

// DryRun reports, as events, every call the rollout would make (the opt-ins
// and the engine's own), computed by the same arithmetic as Run.
func (p *Prepared) DryRun(ctx context.Context) error {
	if !p.opts.DryRun {
		return errors.New("rollout: DryRun needs Options.DryRun")
	}
	e := p.engine
	for _, r := range p.Enable {
		e.emit(Event{Time: e.Clock.Now(), Step: StepWouldCall, Message: "ecs PutAccountSetting awsvpcTrunking=enabled for " + r.String() + " (as trunkctl enable does)"})
	}
	_, err := e.Run(ctx, p.Plan, p.opts)
	return err
}

// Run carries the plan out (after OptIn).
func (p *Prepared) Run(ctx context.Context) (*Result, error) {
	if p.opts.DryRun {
		return nil, errors.New("rollout: Run with Options.DryRun; call DryRun")
	}
	return p.engine.Run(ctx, p.Plan, p.opts)
}
