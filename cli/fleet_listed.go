package cli

import (
	"context"

	"github.com/trunkctl/trunkctl/internal/fleet"
)

// listsWhileRunning says whether a fan-out starts on the organization's
// accounts while their pages are still being listed: an --org read. A run
// with a hook that must see every account first (a write's confirmation,
// a dry run's plan) lists them all before.
func (fo *fanOut) listsWhileRunning(hasBefore bool) bool {
	return len(fo.opts.Accounts) == 0 && fo.opts.Org && !hasBefore
}

// runListed runs fn over the organization's accounts (under --ou) as their
// pages arrive; like accounts, it fails for an organization with none.
func (fo *fanOut) runListed(ctx context.Context, fa *FleetAWS, f *fleet.Fleet, regions []string, fn fleet.Func[[]fleetRow]) ([]string, []fleet.Result[[]fleetRow], error) {
	var ous []string
	if len(fo.opts.OUs) > 0 {
		ous, _ = fleet.ParseOUs(fo.opts.OUs)
	}
	accounts, res, err := fleet.RunListed(ctx, f, fleet.OrgLister(fa.Organizations, ous), regions, fn)
	switch {
	case err != nil:
		return nil, nil, err
	case len(accounts) == 0:
		return nil, nil, noActiveAccounts(ous)
	}
	return accounts, res, nil
}
