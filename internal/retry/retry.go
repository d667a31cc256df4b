// Package retry holds what trunkctl's retry loops share: one backoff policy
// (exponential with full jitter, the SDK retryer's formula with a chosen
// base) and one context-aware sleep. AWS API calls retry inside the SDK's
// own retryer; these are for the loops the SDK does not run (IAM propagation,
// the custom resource's response PUT).
package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is exponential backoff with full jitter: the wait before retry n
// (n >= 1) is uniform in [0, min(Max, Base·2^n)). With Base one second it is
// the SDK's retry.ExponentialJitterBackoff.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
}

// Delay is the wait before retry attempt (1 for the first retry).
func (b Backoff) Delay(attempt int) time.Duration {
	ceiling := b.Max
	if attempt < 62 {
		if d := b.Base << attempt; d > 0 && d < ceiling {
			ceiling = d
		}
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling) //nolint:gosec // G404: jitter spreads retries; it needs no cryptographic randomness
}

// Sleep waits d, or until ctx is done, whichever is first, and returns
// ctx.Err() in the second case.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
