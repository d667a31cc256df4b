package fleet_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/fleet"
	"github.com/trunkctl/trunkctl/internal/fleet/fleettest"
)

func newTestFleet(t *testing.T, w *fleettest.World, concurrency int) *fleet.Fleet {
	t.Helper()
	c, err := accountsetting.WhoAmI(context.Background(), w.STS())
	if err != nil {
		t.Fatal(err)
	}
	return fleet.New(aws.Config{Region: "us-east-1", Credentials: w.CallerCredentials()}, c, w.STS(),
		func(cfg aws.Config) fleet.RegionsAPI { return w.EC2(cfg) }, fleet.Options{Concurrency: concurrency})
}

func TestRunListed(t *testing.T) {
	t.Run("an account is worked on as soon as its page arrives, before the listing ends", func(t *testing.T) {
		w := fleettest.New()
		a := w.AddAccounts(4, fleettest.Root)
		f := newTestFleet(t, w, 4)
		started := make(chan string, 16)
		list := func(_ context.Context, add func(...string)) error {
			add(a[2], a[3])
			// The second page comes only once an account of the first is worked on.
			select {
			case id := <-started:
				if id != a[2] && id != a[3] {
					return errors.New("worked on an account not listed yet: " + id)
				}
			case <-time.After(5 * time.Second):
				return errors.New("no account of the first page was worked on while the listing went on")
			}
			add(a[0], a[1], a[2]) // a[2] again: worked on once
			return nil
		}
		ids, res, err := fleet.RunListed(context.Background(), f, list, []string{"us-east-1"}, func(_ context.Context, tg fleet.Target, _ aws.Config) (string, error) {
			started <- tg.Account
			return tg.Account, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Sorted(slices.Values(a))
		var got []string
		for _, r := range res {
			if r.Err != nil {
				t.Fatalf("%s: %v", r.Target, r.Err)
			}
			got = append(got, r.Value)
		}
		if !slices.Equal(ids, want) || !slices.Equal(got, want) {
			t.Fatalf("accounts %v, results %v; want each of %v once, by id", ids, got, want)
		}
		if n := w.Calls()["sts:AssumeRole"]; n != 4 {
			t.Fatalf("AssumeRole %d times, want once per account", n)
		}
	})
	t.Run("a listing that fails returns its error with the results of the accounts listed before", func(t *testing.T) {
		w := fleettest.New()
		a := w.AddAccounts(3, fleettest.Root)
		f := newTestFleet(t, w, 2)
		boom := errors.New("list the organization's accounts: throttled")
		list := func(_ context.Context, add func(...string)) error {
			add(a[1])
			return boom
		}
		var mu sync.Mutex
		var worked []string
		ids, res, err := fleet.RunListed(context.Background(), f, list, []string{"us-east-1"}, func(_ context.Context, tg fleet.Target, _ aws.Config) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			worked = append(worked, tg.Account)
			return 1, nil
		})
		if !errors.Is(err, boom) || !slices.Equal(ids, []string{a[1]}) || len(res) != 1 || res[0].Err != nil || !slices.Equal(worked, []string{a[1]}) {
			t.Fatalf("err %v, accounts %v, results %+v, worked on %v; want the listing's error and %s's result", err, ids, res, worked, a[1])
		}
	})
	t.Run("the organization's pages are handed over one by one, ACTIVE accounts only", func(t *testing.T) {
		w := fleettest.New()
		a := w.AddAccounts(45, fleettest.Root)
		w.Account(a[3]).State = "SUSPENDED"
		var pages [][]string
		err := fleet.OrgLister(w.Organizations(), nil)(context.Background(), func(ids ...string) { pages = append(pages, ids) })
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Delete(slices.Clone(a), 3, 4)
		if len(pages) != 3 || len(pages[0]) != fleettest.PageSize-1 || !slices.Equal(slices.Concat(pages...), want) {
			t.Fatalf("pages %v, want 3 pages of %v (the suspended %s left out)", pages, want, a[3])
		}
	})
}
