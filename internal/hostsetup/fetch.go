package hostsetup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/trunkctl/trunkctl/internal/retry"
)

const (
	// DefaultRetryFor bounds how long downloads and package installs are
	// retried: long enough for the NAT route of a VPC created alongside the
	// instance to come up, short enough that a dead network fails the boot.
	DefaultRetryFor = 10 * time.Minute
	// DefaultRetryMaxBackoff caps one wait between attempts.
	DefaultRetryMaxBackoff = 30 * time.Second
)

// HTTPStatusError is a download answered with a status other than 200.
type HTTPStatusError struct {
	URL    string
	Status string
	Code   int
}

func (e *HTTPStatusError) Error() string { return fmt.Sprintf("download %s: HTTP %s", e.URL, e.Status) }

// retryableDownload reports whether a failed download may succeed later:
// network errors (no route yet, DNS, refused, reset, timeouts), 5xx, 408 and
// 429. Other answers (404, 403) and refusals of the URL itself will not change.
func retryableDownload(err error) bool {
	var st *HTTPStatusError
	if errors.As(err, &st) {
		return st.Code >= 500 || st.Code == http.StatusRequestTimeout || st.Code == http.StatusTooManyRequests
	}
	var tooBig *sizeError
	return !errors.As(err, &tooBig) && !errors.Is(err, errBadURL)
}

// RetryError is work that still failed when its retry bound ran out.
type RetryError struct {
	What     string
	Attempts int
	Waited   time.Duration
	Err      error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%s: failed %d time(s) over %s, last: %v; check the instance's route to the internet "+
		"(the private subnet's NAT gateway route, or VPC endpoints) and its security group's egress, "+
		"or raise --%s", e.What, e.Attempts, e.Waited.Round(time.Second), e.Err, FlagRetryFor)
}

func (e *RetryError) Unwrap() error { return e.Err }

// retrying runs attempt until it succeeds, fails with an error retryable
// does not accept, or RetryFor has passed, waiting the shared jittered
// exponential backoff (internal/retry) between attempts and logging each retry.
func (s *setup) retrying(ctx context.Context, what string, retryable func(error) bool, attempt func(context.Context) error) error {
	return s.retryingFor(ctx, what, s.o.RetryFor, s.o.RetryMaxBackoff, retryable, attempt)
}

// retryingFor is retrying with its own bound and backoff cap.
func (s *setup) retryingFor(ctx context.Context, what string, bound, maxBackoff time.Duration, retryable func(error) bool, attempt func(context.Context) error) error {
	backoff := retry.Backoff{Base: time.Second, Max: maxBackoff}
	sleep := s.d.Sleep
	if sleep == nil {
		sleep = retry.Sleep
	}
	start := time.Now()
	var waited time.Duration // the sum of backoffs bounds the loop even when Sleep is faked
	spent := func() time.Duration { return max(waited, time.Since(start)) }
	for n := 1; ; n++ {
		err := attempt(ctx)
		if err == nil {
			if n > 1 {
				s.d.Log.Info("succeeded after retrying", "what", what, "attempts", n, s.elapsed())
			}
			return nil
		}
		if ctx.Err() != nil || !retryable(err) {
			return err
		}
		wait := backoff.Delay(n)
		if spent()+wait > bound {
			if n == 1 && bound <= 0 {
				return err
			}
			return &RetryError{What: what, Attempts: n, Waited: spent(), Err: err}
		}
		s.d.Log.Warn("failed; retrying (the network may not be up yet)", "what", what, "attempt", n,
			"wait_ms", wait.Milliseconds(), "retry_for", bound.String(), "error", err.Error(), s.elapsed())
		waited += wait
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: gave up after %d attempt(s): %w", what, n, err)
		}
	}
}
