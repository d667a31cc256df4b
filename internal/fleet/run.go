package fleet

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Func is the work done for one target with that target's configuration.
// It should return a compact value: all results are held until the end.
type Func[T any] func(ctx context.Context, t Target, cfg aws.Config) (T, error)

// Result is one target's value, or its error.
type Result[T any] struct {
	Target
	Value T
	// Err is nil on success. When a whole account fails before its Regions
	// are known (they were to be listed), there is one result for the
	// account, with an empty Region.
	Err *Error
}

// Counts is how far a Run is.
type Counts struct {
	// Done and Failed count targets; Total counts those known so far, which
	// grows while accounts' Regions are still being listed.
	Done, Total, Failed int
	// AccountsPending have not been assumed (and their Regions listed) yet.
	AccountsPending int
}

// Progress hears a Run's counts after every account and target; calls are
// serialised.
type Progress interface {
	Update(Counts)
}

// Run calls fn for every account x Region, regions nil meaning each
// account's enabled Regions, and returns the results ordered by account (as
// given) then Region (as given, or by name). At most Concurrency accounts or
// targets are worked on at once: first an account's credentials (one
// AssumeRole, so a role that cannot be assumed fails the account's targets
// once) and Regions, then its targets, interleaved with other accounts' so
// that the work in flight spreads over accounts and their rate limits.
func Run[T any](ctx context.Context, f *Fleet, accounts, regions []string, fn Func[T]) []Result[T] {
	s := newScheduler(f, regions, fn)
	s.add(accounts...)
	s.start(ctx)
	return s.sorted(func(a, b int) int { return a - b })
}

// Lister hands account ids to add as it finds them (a page at a time, say)
// and returns once it has handed them all, or with the error that ended
// the listing.
type Lister func(ctx context.Context, add func(ids ...string)) error

// RunListed is Run over the accounts list hands over, started before the
// listing ends: an account is worked on (its AssumeRole first) as soon as
// its page arrives, so the listing's pages, a sequential chain, overlap the
// accounts' work instead of preceding it. An id handed twice is worked on
// once. It returns the account ids sorted and the results ordered by account
// id then Region. When the listing fails, the accounts listed until then are
// still worked on, and the listing's error is returned with their results.
func RunListed[T any](ctx context.Context, f *Fleet, list Lister, regions []string, fn Func[T]) ([]string, []Result[T], error) {
	s := newScheduler(f, regions, fn)
	s.listing = true
	var listErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		listErr = list(ctx, s.add)
		s.mu.Lock()
		s.listing = false
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
	s.start(ctx)
	<-done
	ids := slices.Clone(s.accounts)
	slices.Sort(ids)
	return ids, s.sorted(func(a, b int) int { return strings.Compare(s.accounts[a], s.accounts[b]) }), listErr
}

func newScheduler[T any](f *Fleet, regions []string, fn Func[T]) *scheduler[T] {
	s := &scheduler[T]{f: f, fn: fn, regions: regions, seen: map[string]bool{}, busy: map[int]int{}, ready: map[int]int{}}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// add queues accounts not seen yet.
func (s *scheduler[T]) add(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if s.seen[id] {
			continue
		}
		s.seen[id] = true
		s.pendingAccts = append(s.pendingAccts, len(s.accounts))
		s.accounts = append(s.accounts, id)
		s.counts.AccountsPending++
		if s.regions != nil {
			s.counts.Total += len(s.regions)
		}
	}
	s.cond.Broadcast()
}

// start runs the workers until every account is listed and worked on.
func (s *scheduler[T]) start(ctx context.Context) {
	var wg sync.WaitGroup
	for range s.f.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(ctx)
		}()
	}
	wg.Wait()
}

// sorted returns the results by account (in the order byAcct gives their
// indexes) then Region.
func (s *scheduler[T]) sorted(byAcct func(a, b int) int) []Result[T] {
	slices.SortFunc(s.results, func(a, b keyed[T]) int {
		if c := byAcct(a.acct, b.acct); c != 0 {
			return c
		}
		return a.region - b.region
	})
	out := make([]Result[T], len(s.results))
	for i, r := range s.results {
		out[i] = r.Result
	}
	return out
}

type keyed[T any] struct {
	Result[T]
	acct, region int
}

// targetJob is a target waiting to run.
type targetJob struct {
	acct, region int
	name         string
}

type scheduler[T any] struct {
	f        *Fleet
	fn       Func[T]
	regions  []string
	accounts []string

	mu   sync.Mutex
	cond *sync.Cond
	// listing: more accounts may still be added; seen: those added.
	listing      bool
	seen         map[string]bool
	pendingAccts []int
	targets      []targetJob
	// busy counts each account's targets in flight, ready its targets
	// waiting (an account with none is deleted).
	busy, ready map[int]int
	running     int
	results     []keyed[T]
	counts      Counts
}

func (s *scheduler[T]) work(ctx context.Context) {
	for {
		s.mu.Lock()
		for len(s.pendingAccts) == 0 && len(s.targets) == 0 && (s.running > 0 || s.listing) {
			s.cond.Wait()
		}
		if len(s.pendingAccts) == 0 && len(s.targets) == 0 {
			s.mu.Unlock()
			return
		}
		s.running++
		// Resolve accounts ahead until the ready targets span as many
		// accounts as there are workers, so that each can take a different one.
		if len(s.pendingAccts) > 0 && len(s.ready) < s.f.opts.Concurrency {
			a := s.pendingAccts[0]
			s.pendingAccts = s.pendingAccts[1:]
			s.mu.Unlock()
			s.resolve(ctx, a)
			s.mu.Lock()
		} else {
			t := s.next()
			s.busy[t.acct]++
			s.mu.Unlock()
			s.run(ctx, t)
			s.mu.Lock()
			s.busy[t.acct]--
		}
		s.running--
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// next takes the ready target whose account has the fewest targets in
// flight, then the lowest Region index, then the first account, so the work
// in flight spreads over accounts and their rate limits; s.mu is held.
func (s *scheduler[T]) next() targetJob {
	best := 0
	for i, t := range s.targets[1:] {
		b := s.targets[best]
		if bt, bb := s.busy[t.acct], s.busy[b.acct]; bt < bb || bt == bb && (t.region < b.region || t.region == b.region && t.acct < b.acct) {
			best = i + 1
		}
	}
	t := s.targets[best]
	s.targets = slices.Delete(s.targets, best, best+1)
	if s.ready[t.acct]--; s.ready[t.acct] <= 0 {
		delete(s.ready, t.acct)
	}
	return t
}

// resolve assumes the account's role (unless it is the caller's account) and
// lists its Regions when none were named, then queues its targets.
func (s *scheduler[T]) resolve(ctx context.Context, a int) {
	id := s.accounts[a]
	f := s.f
	var err error
	regions := s.regions
	if err = ctx.Err(); err == nil {
		cfg := f.Config(id, f.base.Region)
		if id != f.caller.Account() {
			if _, rerr := cfg.Credentials.Retrieve(ctx); rerr != nil {
				err = fmt.Errorf("assume role %s: %w", f.RoleARN(id), rerr)
			}
		}
		if err == nil && regions == nil {
			regions, err = EnabledRegions(withLimiter(ctx, f.account(id)), f.newRegions(cfg))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.AccountsPending--
	switch {
	case err != nil && s.regions == nil:
		s.counts.Total++
		s.record(keyed[T]{Result: Result[T]{Target: Target{Account: id}, Err: newError(Target{Account: id}, err)}, acct: a, region: -1})
	case err != nil:
		for r, name := range s.regions {
			t := Target{Account: id, Region: name}
			s.record(keyed[T]{Result: Result[T]{Target: t, Err: newError(t, err)}, acct: a, region: r})
		}
	default:
		if s.regions == nil {
			s.counts.Total += len(regions)
		}
		for r, name := range regions {
			s.targets = append(s.targets, targetJob{acct: a, region: r, name: name})
			s.ready[a]++
		}
		s.report()
	}
}

func (s *scheduler[T]) run(ctx context.Context, j targetJob) {
	id := s.accounts[j.acct]
	t := Target{Account: id, Region: j.name}
	var res Result[T]
	res.Target = t
	if err := ctx.Err(); err != nil {
		res.Err = newError(t, err)
	} else {
		v, err := s.fn(withLimiter(ctx, s.f.account(id)), t, s.f.Config(id, j.name))
		res.Value = v
		switch {
		case err != nil && s.regions != nil:
			// A named Region may not be enabled in this account.
			res.Err = s.f.Explain(ctx, t, err)
		case err != nil:
			res.Err = newError(t, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record(keyed[T]{Result: res, acct: j.acct, region: j.region})
}

// record keeps a result and reports progress; s.mu is held.
func (s *scheduler[T]) record(r keyed[T]) {
	s.results = append(s.results, r)
	s.counts.Done++
	if r.Err != nil {
		s.counts.Failed++
	}
	s.report()
}

func (s *scheduler[T]) report() {
	if s.f.opts.Progress != nil {
		s.f.opts.Progress.Update(s.counts)
	}
}

// withLimiter puts the account's limiter in ctx for WaitTurn.
func withLimiter(ctx context.Context, a *account) context.Context {
	return context.WithValue(ctx, limiterKey{}, a.limiter)
}
