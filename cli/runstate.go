package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsclient"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

const (
	// DefaultReadTimeout bounds a read command when --timeout is not given.
	DefaultReadTimeout = 5 * time.Minute
	// annotationWrites marks commands that change AWS state and may wait on
	// IAM propagation: they get no default --timeout.
	annotationWrites = "trunkctl/writes"
	// whereLookupTimeout bounds the one sts:GetCallerIdentity that finds the
	// account an error happened in.
	whereLookupTimeout = 3 * time.Second
)

// runState is what Run needs after the command ran: the timeout it set, the
// account and Region the calls went to, and the secrets to hide.
type runState struct {
	redactor *awsclient.Redactor
	profile  string

	mu      sync.Mutex
	region  string
	sts     accountsetting.STSAPI
	timeout time.Duration
	cmdCtx  context.Context
	cancel  context.CancelFunc
}

// timeoutError is the cause of a context --timeout ended.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string {
	return fmt.Sprintf("timed out after %s (--%s); raise --%s, or check the network and the endpoint if calls were retrying", e.d, flagTimeout, flagTimeout)
}

// startTimeout bounds the command's context by --timeout, or by the
// command's default when the flag was not given.
func (st *runState) startTimeout(cmd *cobra.Command, d time.Duration, given bool) {
	if !given {
		d = DefaultReadTimeout
		if cmd.Annotations[annotationWrites] == "true" {
			d = 0
		}
	}
	if d <= 0 {
		return
	}
	ctx, cancel := context.WithTimeoutCause(cmd.Context(), d, &timeoutError{d: d})
	cmd.SetContext(ctx)
	st.mu.Lock()
	st.timeout, st.cmdCtx, st.cancel = d, ctx, cancel
	st.mu.Unlock()
}

func (st *runState) stopTimeout() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.cancel != nil {
		st.cancel()
	}
}

// timedOut reports whether --timeout ended the run.
func (st *runState) timedOut() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.cmdCtx == nil {
		return nil
	}
	var te *timeoutError
	if errors.As(context.Cause(st.cmdCtx), &te) {
		return te
	}
	return nil
}

// connected records where the clients point.
func (st *runState) connected(c *AWS) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.region, st.sts = c.Region, c.STS
}

// attemptTimeout is the per-attempt bound for a run bounded by total: at
// least two attempts fit.
func attemptTimeout(total time.Duration) time.Duration {
	if total <= 0 {
		return awsclient.DefaultAttemptTimeout
	}
	return min(awsclient.DefaultAttemptTimeout, max(total/2, time.Second))
}

// explain is err as the user reads it: the timeout, or the credentials
// sentence, or the error with its next step and where it happened.
func (st *runState) explain(err error) string {
	if te := st.timedOut(); te != nil {
		return te.Error()
	}
	if msg, ok := explainCredentials(err, st.profileName()); ok {
		return msg
	}
	msg := withAdvice(err).Error()
	if where := st.where(err); where != "" {
		msg += " (" + where + ")"
	}
	return msg
}

func (st *runState) profileName() string {
	for _, p := range []string{st.profile, os.Getenv("AWS_PROFILE"), os.Getenv("AWS_DEFAULT_PROFILE")} {
		if p != "" {
			return p
		}
	}
	return "default"
}

// where names the account and Region of an error AWS answered (access
// denied, not found): the Region the clients used, and the account from one
// sts:GetCallerIdentity.
func (st *runState) where(err error) string {
	var api smithy.APIError
	var cnf *inventory.ClusterNotFoundError
	var inf *inventory.InstanceNotFoundError
	if !errors.As(err, &api) && !errors.As(err, &cnf) && !errors.As(err, &inf) {
		return ""
	}
	st.mu.Lock()
	region, stsc := st.region, st.sts
	st.mu.Unlock()
	if region == "" {
		return ""
	}
	if strings.Contains(err.Error(), "account ") && strings.Contains(err.Error(), region) {
		return ""
	}
	where := "Region " + region
	if stsc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), whereLookupTimeout)
		defer cancel()
		if c, err := accountsetting.WhoAmI(ctx, stsc); err == nil && c.Account() != "" {
			where = "account " + c.Account() + ", " + where
		}
	}
	return where
}

// redact hides secrets in text printed at the edge.
func (st *runState) redact(s string) string { return st.redactor.Redact(s) }

// didYouMean renders cobra's suggestions for a mistyped command.
func didYouMean(suggestions []string) string {
	if len(suggestions) == 0 {
		return ""
	}
	return "; did you mean " + strings.Join(suggestions, " or ") + "?"
}

// progressState is what the spinner shows besides its label.
type progressState struct {
	mu     sync.Mutex
	active bool
	note   string
	// quiet keeps retry lines off a non-terminal stderr, which carries
	// machine-readable lines with -o json|yaml (rollout's steps).
	quiet bool
}

// Retrying shows a retry of an AWS call: in the spinner's line on a
// terminal, else as a line on stderr (not with -o json or yaml).
func (s *IOStreams) Retrying(ev awsclient.RetryEvent) {
	if s.progress == nil {
		return
	}
	s.progress.mu.Lock()
	active, quiet := s.progress.active, s.progress.quiet
	s.progress.note = ev.String()
	s.progress.mu.Unlock()
	if !active && !quiet {
		s.Infof("%s", ev.String())
	}
}

// progressNote is the retry note for the spinner ("" when none).
func (s *IOStreams) progressNote() string {
	if s.progress == nil {
		return ""
	}
	s.progress.mu.Lock()
	defer s.progress.mu.Unlock()
	return s.progress.note
}

func (s *IOStreams) setProgressActive(on bool) {
	if s.progress == nil {
		return
	}
	s.progress.mu.Lock()
	s.progress.active, s.progress.note = on, ""
	s.progress.mu.Unlock()
}
