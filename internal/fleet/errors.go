package fleet

import (
	"context"
	"errors"

	"github.com/trunkctl/trunkctl/internal/awserr"
)

// Kind classifies why a target failed, for the fleet view and JSON.
type Kind string

const (
	KindAccessDenied       Kind = "access-denied"
	KindRegionDisabled     Kind = "region-disabled"
	KindThrottled          Kind = "throttled"
	KindExpiredCredentials Kind = "expired-credentials" //nolint:gosec // a failure class name, not a credential
	KindNotFound           Kind = "not-found"
	KindCanceled           Kind = "canceled"
	KindOther              Kind = "error"
)

// Classify names the kind of err (through awserr, never by message).
func Classify(err error) Kind {
	switch {
	case err == nil:
		return ""
	case awserr.IsRegionDisabled(err):
		return KindRegionDisabled
	case awserr.IsAccessDenied(err):
		return KindAccessDenied
	case awserr.IsThrottle(err):
		return KindThrottled
	case awserr.IsExpiredCredentials(err):
		return KindExpiredCredentials
	case awserr.IsNotFound(err):
		return KindNotFound
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return KindCanceled
	}
	return KindOther
}

// Error is why one target (or a whole account, when Region is empty) failed.
type Error struct {
	Target Target
	Kind   Kind
	// Err says what was done ("assume role arn:...: ...").
	Err error
}

func (e *Error) Error() string {
	return e.Target.String() + ": " + string(e.Kind) + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

func newError(t Target, err error) *Error {
	return &Error{Target: t, Kind: Classify(err), Err: err}
}
