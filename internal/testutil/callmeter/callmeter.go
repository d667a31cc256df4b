// Package callmeter counts the calls a fake AWS API serves: by operation, in
// flight, and the most in flight at once, with an optional latency per call.
// The test fakes of inventory, fleet and rollout share it, so "how many calls
// did that take" means the same everywhere.
package callmeter

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/trunkctl/trunkctl/internal/retry"
)

// Meter is safe for concurrent use; its zero value is ready.
type Meter struct {
	mu             sync.Mutex
	calls          map[string]int
	inFlight, peak int
}

// Enter counts a call to op and returns how many calls of op there have been
// (this one included) and the func that ends the call.
func (m *Meter) Enter(op string) (int, func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.calls == nil {
		m.calls = map[string]int{}
	}
	m.calls[op]++
	m.inFlight++
	m.peak = max(m.peak, m.inFlight)
	return m.calls[op], func() {
		m.mu.Lock()
		m.inFlight--
		m.mu.Unlock()
	}
}

// Wait holds a call for latency, or until ctx ends.
func Wait(ctx context.Context, latency time.Duration) error {
	if latency <= 0 {
		return ctx.Err()
	}
	return retry.Sleep(ctx, latency)
}

// Calls returns a copy of the counts by operation.
func (m *Meter) Calls() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int, len(m.calls))
	maps.Copy(out, m.calls)
	return out
}

// Total is the number of calls so far.
func (m *Meter) Total() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, v := range m.calls {
		n += v
	}
	return n
}

// Peak is the most calls that were in flight at once.
func (m *Meter) Peak() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak
}

// Reset forgets every count.
func (m *Meter) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls, m.inFlight, m.peak = nil, 0, 0
}
