package accountsetting

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/trunkctl/trunkctl/internal/awsarn"
)

// PutAs puts name=value for a role the caller is neither root of nor a
// session of, and returns the Principal that did (for the read-back).
//
// With PrincipalArnFirst it makes the write itself the principalArn probe,
// and starts sts:AssumeRole beside it: where ECS accepts principalArn the
// write is done and the assumed session is dropped (the AssumeRole takes the
// place of the ListAccountSettings probe ActAs makes, so the count of calls
// is the same: put, read back, and one call beside the put); where ECS
// refuses it, the session is ready (or on its way) for the write as the
// role. Either way the sequential depth is the write, maybe once more as
// the role, and the read-back: two or three calls instead of ActAs's three
// or four. AssumeRole retries while IAM propagates are told (OnRetry) only
// once the principalArn write was refused.
func (r Resolver) PutAs(ctx context.Context, role awsarn.Role, name, value string) (Principal, error) {
	if !r.PrincipalArnFirst || r.ECS == nil {
		p, err := r.Assumer.Assume(ctx, role)
		if err != nil {
			return Principal{}, err
		}
		return p, p.Put(ctx, name, value)
	}
	type assumed struct {
		p   Principal
		err error
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Retries while IAM propagates are told only once the role is needed:
	// those before the refusal are held, then told in order.
	var mu sync.Mutex
	refused := false
	var held []func()
	a := r.Assumer
	if hear := a.OnRetry; hear != nil {
		a.OnRetry = func(attempt int, wait time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			if refused {
				hear(attempt, wait, err)
				return
			}
			held = append(held, func() { hear(attempt, wait, err) })
		}
	}
	ch := make(chan assumed, 1)
	go func() {
		p, err := a.Assume(actx, role)
		ch <- assumed{p, err}
	}()

	_, err := r.ECS.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{
		Name: types.SettingName(name), Value: aws.String(value), PrincipalArn: aws.String(role.String()),
	})
	switch {
	case err == nil:
		// Drop the session: cancel the AssumeRole and wait for it to end,
		// so nothing of this call outlives it. Should it have arrived, it
		// serves a later call ECS refuses with principalArn (IAM may allow
		// the write but not the read); else that assumes the role afresh.
		cancel()
		got := <-ch
		return Principal{Role: role, Mode: AsPrincipalArn, ECS: r.ECS, fallback: &fallback{assume: func(ctx context.Context) (Principal, error) {
			if got.err == nil {
				return got.p, nil
			}
			return r.Assumer.Assume(ctx, role)
		}}}, nil
	case !IsPrincipalArnRefused(err):
		return Principal{}, fmt.Errorf("put account setting %s=%s for %s: %w", name, value, role, err)
	}
	mu.Lock()
	refused = true
	for _, tell := range held {
		tell()
	}
	mu.Unlock()
	var got assumed
	select {
	case got = <-ch:
	case <-ctx.Done():
		return Principal{}, ctx.Err()
	}
	if got.err != nil {
		return Principal{}, got.err
	}
	return got.p, got.p.Put(ctx, name, value)
}

// ReadBack reads name's effective value after a write of want with one
// ListAccountSettings when it reads back as written; the source is then
// said only where ECS names the principal (some endpoints, moto among them,
// omit it, and telling the principal's own setting from the default would
// take a second list). When it does not read back as written, it is
// Effective, source and all, for the mismatch to say where the value comes
// from.
func (p Principal) ReadBack(ctx context.Context, name, want string) (Setting, error) {
	s, found, err := p.list(ctx, name, true)
	if err != nil {
		return Setting{}, err
	}
	if !found || aws.ToString(s.Value) != want {
		if q := p.current(); q.Mode != p.Mode {
			return q.effectiveOf(ctx, name, s, found)
		}
		return p.effectiveOf(ctx, name, s, found)
	}
	out := Setting{PrincipalArn: p.Role.String(), Name: name, Value: want}
	switch arn := aws.ToString(s.PrincipalArn); {
	case arn == "":
	case strings.HasSuffix(arn, ":root"):
		out.Source = SourceDefault
	default:
		out.Source = SourcePrincipal
	}
	return out, nil
}
