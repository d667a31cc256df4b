package assess

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// A read cut short by its cluster's context is not kept: the next cluster
// reads again. Any other answer, an error included, is kept for the run.
func TestSharedKeepsAnswersButNotCancellations(t *testing.T) {
	s := &Shared{}
	n := 0
	read := func(err error) func() (bool, error) {
		return func() (bool, error) { n++; return err == nil, err }
	}
	if _, err := s.serviceLinkedRole(read(fmt.Errorf("get role: %w", context.Canceled))); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	denied := errors.New("AccessDenied")
	if _, err := s.serviceLinkedRole(read(denied)); !errors.Is(err, denied) {
		t.Fatalf("err = %v, want the second read's", err)
	}
	if _, err := s.serviceLinkedRole(read(nil)); !errors.Is(err, denied) || n != 2 {
		t.Fatalf("err = %v after %d reads, want the kept AccessDenied after 2", err, n)
	}
}
