package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awserr"
	"github.com/trunkctl/trunkctl/internal/contract"
	"github.com/trunkctl/trunkctl/internal/retry"
)

// regionClients are the clients for one Region: STS, the function's own ECS
// client (for principalArn calls) and a factory for ECS clients as the role.
type regionClients struct {
	STS    accountsetting.STSAPI
	ECS    accountsetting.ECSAPI
	NewECS accountsetting.ECSFactory
	// IAM answers iam:GetRole: does a role named with principalArn exist?
	IAM accountsetting.RoleGetter
}

// clientsFunc returns the clients for a Region.
type clientsFunc func(ctx context.Context, region string) (regionClients, error)

// Handler answers CloudFormation custom resource events for one ECS account
// setting of one role. main builds it once per process.
type Handler struct {
	Clients clientsFunc
	HTTP    *http.Client // for the response PUT
	Log     *slog.Logger
	// DefaultRegion is the function's own Region, used when the Region property is empty.
	DefaultRegion string
	// PropagationWait bounds how long AccessDenied from AssumeRole is retried
	// on Create and Update (IAM propagation); the deadline bounds it too.
	PropagationWait time.Duration
	// Reserve is the time kept back from the invocation deadline to answer
	// CloudFormation; zero derives it from the time the invocation has.
	Reserve time.Duration
	// Sleep waits between retries; nil means a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Allowed narrows the roles of the function's own account it acts for
	// (contract.AllowedRolesEnv); the zero value allows all of them.
	Allowed Allowlist
}

// defaultBudget applies when an invocation has no deadline (never in Lambda).
const defaultBudget = 60 * time.Second

// outcome is what one event comes to, before it is sent.
type outcome struct {
	status     cfn.StatusType
	physicalID string
	reason     string
	data       map[string]any
	action     contract.Action
	role       string
}

// progress records what the work is doing, so a timeout can say so.
type progress struct {
	mu    sync.Mutex
	doing string
}

func (p *progress) set(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	p.mu.Lock()
	p.doing = s
	p.mu.Unlock()
}

func (p *progress) get() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.doing
}

// Handle answers one event: it always sends exactly one response, before the
// invocation deadline, and returns an error only when that response could not
// be delivered (so Lambda's asynchronous retry runs the idempotent event again).
func (h *Handler) Handle(ctx context.Context, ev cfn.Event) (err error) {
	start := time.Now()
	attempted := false
	defer func() {
		if r := recover(); r != nil {
			h.Log.Error("panic while answering", "RequestId", ev.RequestID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if !attempted {
				attempted = true
				body := encodeResponse(cfn.Response{Status: cfn.StatusFailed, RequestID: ev.RequestID, LogicalResourceID: ev.LogicalResourceID,
					StackID: ev.StackID, PhysicalResourceID: failurePhysicalID(ev), Reason: fmt.Sprintf("internal error: %v", r)})
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				defer cancel()
				_, _ = h.sender().send(sctx, ev.ResponseURL, body)
			}
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	if err := checkResponseURL(ev.ResponseURL); err != nil {
		h.Log.Error("cannot answer event", "RequestType", string(ev.RequestType), "StackId", ev.StackID,
			"LogicalResourceId", ev.LogicalResourceID, "RequestId", ev.RequestID, "error", err.Error())
		return err
	}

	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(defaultBudget)
	}
	reserve := h.reserve(deadline.Sub(start))
	workCtx, cancel := context.WithDeadline(ctx, deadline.Add(-reserve))
	defer cancel()

	prog := &progress{doing: "starting"}
	results := make(chan outcome, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				h.Log.Error("panic in handler", "RequestId", ev.RequestID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				results <- h.failed(ev, fmt.Errorf("internal error while %s: %v", prog.get(), r), "")
			}
		}()
		results <- h.run(workCtx, ev, prog)
	}()

	var out outcome
	select {
	case out = <-results:
		if workCtx.Err() != nil && (out.action == contract.ActionFailed || out.action == contract.ActionLeftUnchanged) {
			// The error is the cancellation; say what was cut short instead.
			out = h.timedOut(ev, prog.get(), time.Since(start), reserve, out)
		}
	case <-workCtx.Done():
		// The work may still be blocked; it is cancelled and its result dropped.
		out = h.timedOut(ev, prog.get(), time.Since(start), reserve, outcome{})
	}
	cancel()
	workDur := time.Since(start)

	body := encodeResponse(cfn.Response{
		Status: out.status, RequestID: ev.RequestID, LogicalResourceID: ev.LogicalResourceID, StackID: ev.StackID,
		PhysicalResourceID: out.physicalID, Reason: out.reason, Data: out.data,
	})
	sendCtx, cancelSend := context.WithDeadline(context.WithoutCancel(ctx), deadline.Add(-50*time.Millisecond))
	defer cancelSend()
	attempted = true
	sendStart := time.Now()
	sres, serr := h.sender().send(sendCtx, ev.ResponseURL, body)

	level := slog.LevelInfo
	switch {
	case serr != nil || out.status == cfn.StatusFailed:
		level = slog.LevelError
	case out.action == contract.ActionLeftUnchanged:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("RequestType", string(ev.RequestType)),
		slog.String("StackId", ev.StackID),
		slog.String("LogicalResourceId", ev.LogicalResourceID),
		slog.String("RequestId", ev.RequestID),
		slog.String("RoleArn", out.role),
		slog.String("PhysicalResourceId", out.physicalID),
		slog.String("result", string(out.status)),
		slog.String("action", string(out.action)),
		slog.String("reason", out.reason),
		slog.Float64("duration_ms", ms(time.Since(start))),
		slog.Float64("work_ms", ms(workDur)),
		slog.Float64("response_ms", ms(time.Since(sendStart))),
		slog.Int("response_attempts", sres.Attempts),
		slog.Int("response_status", sres.Status),
		slog.Int("response_bytes", sres.Bytes),
		slog.String("response_url", redactURL(ev.ResponseURL)),
	}
	if serr != nil {
		attrs = append(attrs, slog.String("response_error", serr.Error()))
	}
	h.Log.LogAttrs(ctx, level, "custom resource event", attrs...)
	if serr != nil {
		return fmt.Errorf("deliver response to %s: %w", redactURL(ev.ResponseURL), serr)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// reserve is the time kept for answering: a tenth of the invocation, at
// least 500 ms and at most 5 s.
func (h *Handler) reserve(total time.Duration) time.Duration {
	if h.Reserve > 0 {
		return h.Reserve
	}
	return min(max(total/10, 500*time.Millisecond), 5*time.Second)
}

func (h *Handler) sleep() func(context.Context, time.Duration) error {
	if h.Sleep != nil {
		return h.Sleep
	}
	return retry.Sleep
}

func (h *Handler) sender() sender {
	c := h.HTTP
	if c == nil {
		c = http.DefaultClient
	}
	return sender{client: c, sleep: h.sleep()}
}

func (h *Handler) run(ctx context.Context, ev cfn.Event, prog *progress) outcome {
	switch ev.RequestType {
	case cfn.RequestCreate, cfn.RequestUpdate:
		if isListResource(ev.ResourceProperties) {
			return h.applyList(ctx, ev, prog)
		}
		return h.apply(ctx, ev, prog)
	case cfn.RequestDelete:
		if isListResource(ev.ResourceProperties) {
			return h.deleteList(ctx, ev, prog)
		}
		return h.delete(ctx, ev, prog)
	default:
		return h.failed(ev, fmt.Errorf("unknown RequestType %q (want Create, Update or Delete)", clip(string(ev.RequestType))), "")
	}
}

// apply handles Create and Update: validate, check the function may act
// for the role, act as it, put the setting and read it back.
func (h *Handler) apply(ctx context.Context, ev cfn.Event, prog *progress) outcome {
	prog.set("validating properties")
	props, err := parseProperties(ev.ResourceProperties)
	if err != nil {
		return h.failed(ev, err, rawRole(ev.ResourceProperties))
	}
	role := props.Role.String()
	region := cmp.Or(props.Region, h.DefaultRegion)
	if err := props.checkRegion(region); err != nil {
		return h.failed(ev, err, role)
	}
	if err := h.authorize(ctx, props.Role); err != nil {
		return h.failed(ev, err, role)
	}
	prog.set("loading the AWS configuration")
	c, err := h.Clients(ctx, region)
	if err != nil {
		return h.failed(ev, err, role)
	}
	data, err := h.optIn(ctx, ev, prog, c, props, region, h.propagationWait(ctx), false)
	if err != nil {
		return h.failed(ev, err, role)
	}
	action := contract.ActionCreated
	if ev.RequestType == cfn.RequestUpdate {
		action = contract.ActionUpdated
	}
	return outcome{status: cfn.StatusSuccess, physicalID: props.physicalID(), action: action, role: role, data: data}
}

// optIn acts as props.Role, puts the setting and reads it back, returning
// the response's Data. checkedExists says iam:GetRole already found the role.
func (h *Handler) optIn(ctx context.Context, ev cfn.Event, prog *progress, c regionClients, props Properties, region string, wait time.Duration, checkedExists bool) (map[string]any, error) {
	role := props.Role.String()
	prog.set("putting %s=%s as %s in %s (principalArn, with sts:AssumeRole beside it)", props.Setting, props.Value, role, region)
	p, err := h.putAs(ctx, c, h.assumer(ev, c, props, wait), props, props.Value)
	if err != nil {
		return nil, err
	}
	var exists chan error
	if p.Via() == accountsetting.AsPrincipalArn && !checkedExists {
		// ECS takes a principalArn for a role that does not exist; only IAM
		// can tell that a name was mistyped. Asked beside the read-back: the
		// write is done either way, and neither answer waits for the other.
		exists = make(chan error, 1)
		go func() { exists <- checkRoleExists(ctx, c.IAM, props.Role) }()
		prog.set("reading back %s as %s in %s, and checking that the role exists (iam:GetRole)", props.Setting, role, region)
	} else {
		prog.set("reading back %s as %s in %s", props.Setting, role, region)
	}
	effective := ""
	got, err := p.ReadBack(ctx, props.Setting, props.Value)
	if exists != nil {
		// A role that does not exist is the first thing to say, whatever
		// the read-back found.
		if xerr := <-exists; xerr != nil {
			return nil, xerr
		}
	}
	switch {
	case err != nil && awserr.IsAccessDenied(err):
		// The put was accepted; the role only lacks ecs:ListAccountSettings
		// (the seed template's role has just ecs:PutAccountSetting).
		effective = contract.Unverified
		h.Log.Warn("cannot read the setting back: the role lacks ecs:ListAccountSettings", "RequestId", ev.RequestID, "RoleArn", role, "error", awserr.Message(err))
	case err != nil:
		return nil, err
	case got.Value != props.Value:
		return nil, &accountsetting.MismatchError{Want: props.Value, Got: got}
	default:
		effective = got.Value
	}
	return map[string]any{contract.AttrPrincipalArn: role, contract.AttrSetting: props.Setting, contract.AttrValue: props.Value,
		contract.AttrEffectiveValue: effective, contract.AttrVia: string(p.Via())}, nil
}

// assumer assumes roles for one event: its session carries only the
// account-setting calls (accountsetting.SessionPolicy), whatever the role
// itself may do.
func (h *Handler) assumer(ev cfn.Event, c regionClients, props Properties, wait time.Duration) accountsetting.Assumer {
	role := props.Role.String()
	return accountsetting.Assumer{
		STS: c.STS, NewECS: c.NewECS, IAM: c.IAM, SessionName: sessionName(ev), Policy: accountsetting.SessionPolicy(props.Setting),
		PropagationWait: wait, MaxBackoff: min(5*time.Second, max(wait/4, 100*time.Millisecond)), Sleep: h.sleep(),
		OnRetry: func(attempt int, d time.Duration, err error) {
			h.Log.Warn("role not assumable yet, retrying (IAM propagation)", "RequestId", ev.RequestID, "RoleArn", role,
				"attempt", attempt, "wait_ms", ms(d), "error", awserr.Message(err))
		},
	}
}

// putAs puts the setting as the role: with principalArn where ECS lets the
// function's role name it (the ECS developer guide's rule), else as the
// assumed role (the API reference's rule, which some accounts enforce), the
// AssumeRole started beside the principalArn write so neither rule waits
// for the other.
func (h *Handler) putAs(ctx context.Context, c regionClients, assumer accountsetting.Assumer, props Properties, value string) (accountsetting.Principal, error) {
	r := accountsetting.Resolver{ECS: c.ECS, Assumer: assumer, PrincipalArnFirst: c.ECS != nil, Setting: props.Setting}
	return r.PutAs(ctx, props.Role, props.Setting, value)
}

// delete handles Delete. It always answers SUCCESS: a Delete must never be
// why a stack cannot be deleted. It makes calls only for a resource this
// function created with OnDelete=disable.
func (h *Handler) delete(ctx context.Context, ev cfn.Event, prog *progress) outcome {
	id := ev.PhysicalResourceID
	skip := func(reason, role string) outcome {
		return outcome{status: cfn.StatusSuccess, physicalID: cmp.Or(id, createFailedID(ev.ResourceProperties)), action: contract.ActionSkipped, reason: reason, role: role}
	}
	if isCreateFailedID(id) {
		return skip("nothing to delete: the Create of this resource failed, so no setting was changed", rawRole(ev.ResourceProperties))
	}
	prog.set("validating properties")
	props, err := parseProperties(ev.ResourceProperties)
	if err != nil {
		return skip("nothing to delete: the properties do not describe a resource this function made ("+err.Error()+")", rawRole(ev.ResourceProperties))
	}
	role := props.Role.String()
	if id != props.physicalID() {
		return skip(fmt.Sprintf("nothing to delete: physical id %q is not the one this function gives these properties (%q)", clip(id), props.physicalID()), role)
	}
	if props.OnDelete == contract.OnDeleteRetain {
		out := skip(fmt.Sprintf("OnDelete is retain: %s stays as it is for %s", props.Setting, role), role)
		out.action = contract.ActionRetained
		return out
	}
	leave := func(err error) outcome {
		out := skip(fmt.Sprintf("OnDelete is disable, but %s was left unchanged for %s so the stack can still be deleted: %v", props.Setting, role, err), role)
		out.action = contract.ActionLeftUnchanged
		return out
	}
	if err := h.authorize(ctx, props.Role); err != nil {
		return leave(err)
	}
	region := cmp.Or(props.Region, h.DefaultRegion)
	if err := props.checkRegion(region); err != nil {
		return leave(err)
	}
	prog.set("loading the AWS configuration")
	c, err := h.Clients(ctx, region)
	if err != nil {
		return leave(err)
	}
	if err := h.disable(ctx, ev, prog, c, props, region); err != nil {
		return leave(err)
	}
	out := skip("", role)
	out.action = contract.ActionDisabled
	return out
}

// disable puts the setting to disabled as props.Role, with no propagation
// wait: the role was assumable when the resource was made; if it is not now
// it was deleted or stopped trusting this function.
func (h *Handler) disable(ctx context.Context, ev cfn.Event, prog *progress, c regionClients, props Properties, region string) error {
	prog.set("putting %s=%s as %s in %s (principalArn, with sts:AssumeRole beside it)", props.Setting, accountsetting.Disabled, props.Role, region)
	_, err := h.putAs(ctx, c, h.assumer(ev, c, props, 0), props, accountsetting.Disabled)
	return err
}

// failed is the FAILED outcome of a Create or Update, and the SUCCESS of a
// Delete that could not do its work.
func (h *Handler) failed(ev cfn.Event, err error, role string) outcome {
	if ev.RequestType == cfn.RequestDelete {
		return outcome{status: cfn.StatusSuccess, physicalID: failurePhysicalID(ev), action: contract.ActionLeftUnchanged, role: role,
			reason: "left the setting unchanged so the stack can still be deleted: " + err.Error()}
	}
	return outcome{status: cfn.StatusFailed, physicalID: failurePhysicalID(ev), action: contract.ActionFailed, reason: err.Error(), role: role}
}

// timedOut is the outcome when the work did not finish before the reserve.
func (h *Handler) timedOut(ev cfn.Event, doing string, elapsed, reserve time.Duration, partial outcome) outcome {
	msg := fmt.Sprintf("timed out after %s while %s (the function stops %s before its deadline to answer CloudFormation)",
		elapsed.Round(time.Millisecond), doing, reserve.Round(time.Millisecond))
	if partial.reason != "" {
		msg += ": " + partial.reason
	}
	role := cmp.Or(partial.role, rawRole(ev.ResourceProperties))
	return h.failed(ev, errors.New(msg), role)
}

// failurePhysicalID keeps an existing resource's id (Update, Delete) and
// gives a failed Create the deterministic "create-failed" id.
func failurePhysicalID(ev cfn.Event) string {
	if ev.RequestType != cfn.RequestCreate && ev.PhysicalResourceID != "" {
		return ev.PhysicalResourceID
	}
	return createFailedID(ev.ResourceProperties)
}

// propagationWait leaves a quarter of the remaining time for the put and the
// read-back, so a role that never becomes assumable fails with the
// access-denied error rather than a timeout.
func (h *Handler) propagationWait(ctx context.Context) time.Duration {
	wait := h.PropagationWait
	if dl, ok := ctx.Deadline(); ok {
		if rem := time.Until(dl) * 3 / 4; rem < wait {
			wait = max(rem, 0)
		}
	}
	return wait
}

// sessionName identifies the stack and resource in the role's CloudTrail.
func sessionName(ev cfn.Event) string {
	stack := ev.StackID
	// arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID
	if a, err := arn.Parse(stack); err == nil {
		if rest, ok := strings.CutPrefix(a.Resource, "stack/"); ok {
			stack, _, _ = strings.Cut(rest, "/")
		}
	}
	return accountsetting.SessionName("trunkctl." + stack + "." + ev.LogicalResourceID)
}

// rawRole is the role as given, for logs when it did not parse.
func rawRole(raw map[string]any) string {
	for _, k := range []string{contract.PropRoleArn, contract.PropEC2Role} {
		if s, ok := raw[k].(string); ok && s != "" {
			return clip(s)
		}
	}
	return ""
}
