package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleepWaitsTheWholeDuration(t *testing.T) {
	start := time.Now()
	if err := Sleep(context.Background(), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("returned after %s", d)
	}
}

func TestSleepStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Sleep(ctx, time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
}

func TestBackoffDelayGrowsWithTheAttemptAndStaysUnderTheCap(t *testing.T) {
	b := Backoff{Base: 10 * time.Millisecond, Max: 300 * time.Millisecond}
	for _, tt := range []struct {
		attempt int
		ceiling time.Duration
	}{
		{1, 20 * time.Millisecond},
		{2, 40 * time.Millisecond},
		{4, 160 * time.Millisecond},
		{5, 300 * time.Millisecond},
		{40, 300 * time.Millisecond},
		{100, 300 * time.Millisecond},
	} {
		var most time.Duration
		for range 500 {
			d := b.Delay(tt.attempt)
			if d < 0 || d >= tt.ceiling {
				t.Fatalf("Delay(%d) = %s, want in [0, %s)", tt.attempt, d, tt.ceiling)
			}
			most = max(most, d)
		}
		// 500 uniform draws all in the lower half has probability 2^-500.
		if most < tt.ceiling/2 {
			t.Errorf("Delay(%d) never exceeded %s in 500 draws: not jittered over [0, %s)", tt.attempt, most, tt.ceiling)
		}
	}
}

func TestBackoffWithoutACeilingDoesNotWait(t *testing.T) {
	if d := (Backoff{}).Delay(3); d != 0 {
		t.Fatalf("zero Backoff waits %s", d)
	}
}
