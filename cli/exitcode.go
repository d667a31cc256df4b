package cli

import (
	"errors"
	"fmt"
)

// ExitCode is trunkctl's process exit status, a contract with scripts.
type ExitCode int

const (
	// ExitOK is success, and everything checked is enabled and healthy.
	ExitOK ExitCode = 0
	// ExitError is an error (AWS call failed, no access, bad configuration).
	ExitError ExitCode = 1
	// ExitUsage means the command line is wrong.
	ExitUsage ExitCode = 2
	// ExitUnhealthy means checked, and something is not enabled or not healthy.
	ExitUnhealthy ExitCode = 3
	// ExitInterrupted means stopped by SIGINT or SIGTERM (128 + SIGINT, as shells do).
	ExitInterrupted ExitCode = 130
)

// exitError carries an exit code; a nil err means the command already said
// everything (e.g. a table of unhealthy instances) and prints nothing more.
type exitError struct {
	code ExitCode
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is an error in the command line (exit 2).
func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// asUsage marks err as a usage error.
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: ExitUsage, err: err}
}

// unhealthy is the silent exit 3: the output already shows what is wrong.
func unhealthy() error { return &exitError{code: ExitUnhealthy} }

// ExitCodeOf maps an error from a command to its exit code.
func ExitCodeOf(err error) ExitCode {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitError
}

// silent reports whether err has nothing left to print.
func silent(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.err == nil
}
