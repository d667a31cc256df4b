package main

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trunkctl/trunkctl/internal/fleet/fleettest"
)

// TestFanOutOnAVirtualClock runs the benchmark's three modes in a synctest
// bubble, where the fakes' 50 ms a call and the accounts' rate limits pass
// on a virtual clock that moves only when every goroutine waits: the wall
// time it gives is the schedule's alone, the same on any machine under any
// load, where `go run ./cli/benchfleet` also counts the real machine's
// scheduling. It holds the targets of the fan-out (calls <= 1.1x the
// minimum, wall <= 1.1x the floor at concurrency 16 and 64) for the read
// that works on accounts as their pages arrive and for the command; the
// read that lists first is printed beside them for comparison.
func TestFanOutOnAVirtualClock(t *testing.T) {
	const accounts, latency = 300, 50 * time.Millisecond
	fmt.Printf("virtual clock: %d accounts, %s per call\n%-7s %-3s %7s %7s %6s %8s %8s %6s %8s\n", accounts, latency,
		"mode", "n", "calls", "minimum", "ratio", "wall", "floor", "ratio", "inflight")
	for _, concurrency := range []int{16, 64} {
		for _, mode := range []string{"read", "list1st", "cli"} {
			t.Run(fmt.Sprintf("%s:%d", mode, concurrency), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					w := fleettest.New()
					w.Latency = latency
					ids := w.AddAccounts(accounts, fleettest.Root)
					start := time.Now()
					var r result
					switch mode {
					case "cli":
						code, out := cliRead(context.Background(), w, concurrency)
						r = tallyCLI(w, ids, accounts, code, out)
					default:
						res, err := read(context.Background(), w, concurrency, mode == "list1st")
						if err != nil {
							t.Fatal(err)
						}
						r = tally(w, accounts, res)
					}
					r.wall = time.Since(start)
					if r.failedTargets > 0 {
						t.Fatalf("%d of %d targets failed%s", r.failedTargets, r.targets, r.note)
					}
					floor := time.Duration(float64(r.minimum) / float64(concurrency) * float64(latency))
					calls, wall := float64(r.calls)/float64(r.minimum), r.wall.Seconds()/floor.Seconds()
					fmt.Printf("%-7s %-3d %7d %7d %5.2fx %7.2fs %7.2fs %5.3fx %8d\n", mode, concurrency, r.calls, r.minimum, calls, r.wall.Seconds(), floor.Seconds(), wall, r.peakInFlight)
					if mode == "list1st" {
						return
					}
					if calls > 1.1 {
						t.Errorf("calls %d are %.2fx the minimum %d, want <= 1.1x", r.calls, calls, r.minimum)
					}
					if wall > 1.1 {
						t.Errorf("virtual wall %s is %.3fx the floor %s, want <= 1.1x", r.wall, wall, floor)
					}
				})
			})
		}
	}
}
