package accountsetting_test

import (
	"context"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
)

// span is one call's start and end.
type span struct{ start, end time.Time }

// clock gives every call a fixed latency and records when it ran, so the
// sequential depth of a flow is the longest chain of calls each starting
// after the one before ended.
type clock struct {
	mu      sync.Mutex
	latency time.Duration
	spans   []span
}

func (c *clock) call(ctx context.Context) func() {
	start := time.Now()
	select {
	case <-time.After(c.latency):
	case <-ctx.Done():
	}
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.spans = append(c.spans, span{start, time.Now()})
	}
}

// depth is the longest chain of calls that ran one after another.
func (c *clock) depth() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := slices.Clone(c.spans)
	sort.Slice(s, func(i, j int) bool { return s[i].start.Before(s[j].start) })
	best := make([]int, len(s))
	longest := 0
	for i := range s {
		best[i] = 1
		for j := range i {
			if !s[i].start.Before(s[j].end) && best[j]+1 > best[i] {
				best[i] = best[j] + 1
			}
		}
		longest = max(longest, best[i])
	}
	return longest
}

type slowECS struct {
	accountsetting.ECSAPI
	c *clock
}

func (s slowECS) PutAccountSetting(ctx context.Context, in *ecs.PutAccountSettingInput, optFns ...func(*ecs.Options)) (*ecs.PutAccountSettingOutput, error) {
	defer s.c.call(ctx)()
	return s.ECSAPI.PutAccountSetting(ctx, in, optFns...)
}

func (s slowECS) ListAccountSettings(ctx context.Context, in *ecs.ListAccountSettingsInput, optFns ...func(*ecs.Options)) (*ecs.ListAccountSettingsOutput, error) {
	defer s.c.call(ctx)()
	return s.ECSAPI.ListAccountSettings(ctx, in, optFns...)
}

type slowSTS struct {
	accountsetting.STSAPI
	c *clock
}

func (s slowSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	defer s.c.call(ctx)()
	return s.STSAPI.AssumeRole(ctx, in, optFns...)
}

// slowResolver is resolver with every call taking latency.
func slowResolver(a *accountsettingtest.Account, c *clock) accountsetting.Resolver {
	r := resolver(a, caller)
	r.ECS = slowECS{a.ECSAs(caller), c}
	r.Assumer.STS = slowSTS{a.STSAs(caller), c}
	factory := a.ECSFactory()
	r.Assumer.NewECS = func(p aws.CredentialsProvider) accountsetting.ECSAPI { return slowECS{factory(p), c} }
	r.PrincipalArnFirst = true
	return r
}

func count(ops []string, op string) int {
	n := 0
	for _, o := range ops {
		if o == op {
			n++
		}
	}
	return n
}

func TestPutAsOverlapsThePrincipalArnWriteWithTheAssumeRoleUnderBothRules(t *testing.T) {
	tests := []struct {
		name                 string
		rule                 accountsettingtest.Rule
		wantVia              accountsetting.Mode
		wantDepth, actAsDeep int
	}{
		{name: "under the guide's rule the write names the role, two calls in turn, no more calls than the probe took",
			rule: accountsettingtest.RuleGuide, wantVia: accountsetting.AsPrincipalArn, wantDepth: 2, actAsDeep: 3},
		{name: "under the API reference's rule the refused write runs beside the AssumeRole, three calls in turn",
			rule: accountsettingtest.RuleAPIReference, wantVia: accountsetting.AsAssumedRole, wantDepth: 3, actAsDeep: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			flows := map[string]struct {
				ops   []string
				depth int
				via   accountsetting.Mode
			}{}
			for _, flow := range []string{"ActAs", "PutAs"} {
				a := accountsettingtest.New()
				a.Rule = tt.rule
				a.AddRole("EcsInstance", accountsettingtest.RoleState{})
				c := &clock{latency: 40 * time.Millisecond}
				r := slowResolver(a, c)
				var p accountsetting.Principal
				var got accountsetting.Setting
				var err error
				if flow == "ActAs" {
					if p, err = r.ActAs(ctx, role(t, a, "EcsInstance")); err == nil {
						got, err = p.Ensure(ctx, accountsetting.AWSVPCTrunking, accountsetting.Enabled)
					}
				} else {
					if p, err = r.PutAs(ctx, role(t, a, "EcsInstance"), accountsetting.AWSVPCTrunking, accountsetting.Enabled); err == nil {
						got, err = p.ReadBack(ctx, accountsetting.AWSVPCTrunking, accountsetting.Enabled)
					}
				}
				if err != nil {
					t.Fatalf("%s: %v (calls %s)", flow, err, a)
				}
				if got.Value != accountsetting.Enabled || a.Explicit(a.RoleARN("EcsInstance"), accountsetting.AWSVPCTrunking) != accountsetting.Enabled {
					t.Fatalf("%s: the setting did not land on the role: %+v (calls %s)", flow, got, a)
				}
				flows[flow] = struct {
					ops   []string
					depth int
					via   accountsetting.Mode
				}{a.Ops(), c.depth(), p.Via()}
			}
			act, put := flows["ActAs"], flows["PutAs"]
			if put.via != tt.wantVia || act.via != tt.wantVia {
				t.Fatalf("via: PutAs %s, ActAs %s; want %s", put.via, act.via, tt.wantVia)
			}
			if put.depth != tt.wantDepth || act.depth != tt.actAsDeep {
				t.Fatalf("calls in turn: PutAs %d (calls %v), ActAs %d (calls %v); want %d and %d", put.depth, put.ops, act.depth, act.ops, tt.wantDepth, tt.actAsDeep)
			}
			if len(put.ops) > len(act.ops) {
				t.Fatalf("PutAs made %d calls %v, ActAs %d %v: want no extra call", len(put.ops), put.ops, len(act.ops), act.ops)
			}
			if count(put.ops, "sts:AssumeRole") > 1 || count(put.ops, "ecs:ListAccountSettings") != 1 {
				t.Fatalf("PutAs calls %v: want at most one AssumeRole and only the read-back's ListAccountSettings", put.ops)
			}
			ecsCalls := func(ops []string) int {
				return count(ops, "ecs:PutAccountSetting") + count(ops, "ecs:ListAccountSettings")
			}
			if tt.rule == accountsettingtest.RuleGuide && ecsCalls(put.ops) != 2 {
				t.Fatalf("under the guide's rule PutAs made ECS calls %v, want the write and the read-back only", put.ops)
			}
		})
	}
}

func TestPutAsTellsAssumeRoleRetriesOnlyOnceTheRoleIsNeeded(t *testing.T) {
	for _, rule := range []accountsettingtest.Rule{accountsettingtest.RuleGuide, accountsettingtest.RuleAPIReference} {
		a := accountsettingtest.New()
		a.Rule = rule
		a.AddRole("EcsInstance", accountsettingtest.RoleState{DenyFirst: 2})
		r := resolver(a, caller)
		r.PrincipalArnFirst = true
		var told []int
		r.Assumer.OnRetry = func(attempt int, _ time.Duration, _ error) { told = append(told, attempt) }
		p, err := r.PutAs(context.Background(), role(t, a, "EcsInstance"), accountsetting.AWSVPCTrunking, accountsetting.Enabled)
		if err != nil {
			t.Fatalf("rule %v: %v (calls %s)", rule, err, a)
		}
		want := []int{1, 2}
		if rule == accountsettingtest.RuleGuide {
			want = nil // principalArn did it; the role's propagation is no concern
		}
		if !slices.Equal(told, want) {
			t.Fatalf("rule %v (via %s): retries told %v, want %v", rule, p.Via(), told, want)
		}
	}
}

func TestPutAsFailsOnAnErrorThatIsNotARefusalWithoutWritingAsTheRole(t *testing.T) {
	a := accountsettingtest.New()
	a.AddRole("EcsInstance", accountsettingtest.RoleState{})
	a.Fail["ecs:PutAccountSetting"] = apiErr("ServerException", "internal error")
	r := resolver(a, caller)
	r.PrincipalArnFirst = true
	_, err := r.PutAs(context.Background(), role(t, a, "EcsInstance"), accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	if err == nil || count(a.Ops(), "ecs:PutAccountSetting") != 1 {
		t.Fatalf("err = %v, calls %s; want the error and no second write", err, a)
	}
}
