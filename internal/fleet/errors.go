package fleet

import (
	"context"
	"errors"
	"fmt"

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

// RegionNotEnabledError says a named Region is not enabled in the account:
// its services refused the account's credentials there as unknown.
type RegionNotEnabledError struct {
	Account, Region string
	// OptInStatus is EC2's for the Region (not-opted-in, opting-in, ...);
	// empty when the account's Regions do not include it at all.
	OptInStatus string
	// Err is the refused call's error.
	Err error
}

func (e *RegionNotEnabledError) Error() string {
	status := "not among the account's Regions"
	if e.OptInStatus != "" {
		status = "opt-in status " + e.OptInStatus
	}
	return fmt.Sprintf("Region %s is not enabled in account %s (%s): %v", e.Region, e.Account, status, e.Err)
}

func (e *RegionNotEnabledError) Unwrap() error { return e.Err }

// Explain classifies err, from the work in target t, like Classify, except
// that credentials refused as unknown (UnrecognizedClientException,
// InvalidClientTokenId, AuthFailure: what ECS answers assumed-role session
// credentials in a Region the account has not enabled) in a Region the
// account has not enabled are KindRegionDisabled, with a
// *RegionNotEnabledError. The account's Regions are asked once per account
// (ec2:DescribeRegions, from the caller's Region) and kept; when they cannot
// be read, err keeps its own kind.
func (f *Fleet) Explain(ctx context.Context, t Target, err error) *Error {
	if t.Region == "" || !awserr.IsUnrecognizedCredentials(err) {
		return newError(t, err)
	}
	status, known, rerr := f.regionStatus(ctx, t.Account, t.Region)
	if rerr != nil || known && enabled(status) {
		return newError(t, err)
	}
	return &Error{Target: t, Kind: KindRegionDisabled, Err: &RegionNotEnabledError{Account: t.Account, Region: t.Region, OptInStatus: status, Err: err}}
}
