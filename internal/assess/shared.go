package assess

import (
	"context"
	"errors"
	"sync"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Shared holds the reads of one account and Region that do not depend on
// the cluster: whether the ECS service-linked role exists, each role's
// setting, and CloudTrail's opt-in record. A run that assesses several
// clusters of one target (the guard's sweep, --all-clusters) passes one
// Shared in every Query, so each is read once for the run, not once per
// cluster. Make one per run, never per process: what it holds is as old as
// the run. The zero value is ready; a nil *Shared shares nothing.
type Shared struct {
	mu    sync.Mutex
	slr   map[struct{}]*read[bool]
	optIn map[struct{}]*read[[]inventory.OptInEvent]
	roles map[string]*read[accountsetting.RoleSetting]
}

// read is one read, made by whichever cluster asks first while the others
// wait for it.
type read[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// cutShort says a read ended with its context (its cluster's read failed,
// or the run ended): it is not kept, and who waited for it reads again.
func cutShort(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// get returns m[k]'s read, making it with f when there is none.
func get[K comparable, T any](s *Shared, m *map[K]*read[T], k K, f func() (T, error)) (T, error) {
	if s == nil {
		return f()
	}
	for {
		s.mu.Lock()
		if *m == nil {
			*m = map[K]*read[T]{}
		}
		r, found := (*m)[k]
		if !found {
			r = &read[T]{done: make(chan struct{})}
			(*m)[k] = r
		}
		s.mu.Unlock()
		if !found {
			r.val, r.err = f()
			if cutShort(r.err) {
				s.mu.Lock()
				delete(*m, k)
				s.mu.Unlock()
			}
			close(r.done)
			return r.val, r.err
		}
		<-r.done
		if !cutShort(r.err) {
			return r.val, r.err
		}
	}
}

func (s *Shared) serviceLinkedRole(f func() (bool, error)) (bool, error) {
	if s == nil {
		return f()
	}
	return get(s, &s.slr, struct{}{}, f)
}

func (s *Shared) optInEvents(f func() ([]inventory.OptInEvent, error)) ([]inventory.OptInEvent, error) {
	if s == nil {
		return f()
	}
	return get(s, &s.optIn, struct{}{}, f)
}

func (s *Shared) role(arn string, f func() accountsetting.RoleSetting) accountsetting.RoleSetting {
	if s == nil {
		return f()
	}
	st, _ := get(s, &s.roles, arn, func() (accountsetting.RoleSetting, error) { st := f(); return st, st.Err })
	return st
}
