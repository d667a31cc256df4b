// Package retry holds the small waiting primitive the retry loops share; the
// backoff itself comes from the SDK (aws/retry.ExponentialJitterBackoff).
package retry

import (
	"context"
	"time"
)

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
