package hostsetup

import (
	"errors"

	"github.com/trunkctl/trunkctl/internal/pkgverify"
)

// Exit codes, a contract with user data scripts and systemd units. They
// are documented in docs/hostbootstrap.md; change both together.
const (
	// ExitOK: the host is configured (and, with --wait, registered with a trunk).
	ExitOK = 0
	// ExitFailed: any other failure (IMDS, OS not supported, a command,
	// a download, a --wait timeout).
	ExitFailed = 1
	// ExitUsage: bad flags or flag values; nothing was changed.
	ExitUsage = 2
	// ExitNotTrunkCapable: the instance type does not support ENI trunking
	// and --require-trunking was given; nothing was changed.
	ExitNotTrunkCapable = 3
	// ExitSignature: the ecs-init package's signature did not verify;
	// nothing was installed.
	ExitSignature = 4
)

// UsageError is a mistake in the command line.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// NotTrunkCapableError is an instance type that cannot get a trunk ENI,
// under --require-trunking.
type NotTrunkCapableError struct {
	InstanceType, Reason string
}

func (e *NotTrunkCapableError) Error() string {
	return "instance type " + e.InstanceType + " does not support ENI trunking (" + e.Reason + "); launch a supported type or drop --require-trunking"
}

// ExitCode maps an error from Run or ParseFlags to the process exit code.
func ExitCode(err error) int {
	var (
		usage *UsageError
		trunk *NotTrunkCapableError
		sig   *pkgverify.Error
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &trunk):
		return ExitNotTrunkCapable
	case errors.As(err, &sig):
		return ExitSignature
	default:
		return ExitFailed
	}
}
