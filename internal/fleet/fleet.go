// Package fleet runs one read (or write) across many AWS accounts and
// Regions: it finds the accounts (a list, or AWS Organizations), their
// enabled Regions, assumes a role in each account, and fans the work out
// with a bound on work in flight and a rate limit per account. A target that
// fails (a role that cannot be assumed, a Region that is not enabled, a
// throttled API) becomes a result with a classified error; it never stops
// the others.
package fleet

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/trunkctl/trunkctl/internal/validate"
)

// Target is one account in one Region.
type Target struct {
	Account string `json:"account"`
	Region  string `json:"region"`
}

func (t Target) String() string {
	if t.Region == "" {
		return "account " + t.Account
	}
	return fmt.Sprintf("account %s, Region %s", t.Account, t.Region)
}

const (
	// AllRegions is the --regions value that means every Region the
	// account has enabled.
	AllRegions = "all"
	// DefaultRoleName is the role AWS Organizations creates in the accounts
	// it creates, and the one assumed in each account unless told otherwise.
	DefaultRoleName = "OrganizationAccountAccessRole"
	// DefaultConcurrency bounds the accounts and targets worked on at once.
	DefaultConcurrency = 16
	// DefaultAccountRate is the most API calls per second made into one
	// account (all its Regions together), DefaultAccountBurst the burst: at
	// or below the refill rates ECS and EC2 document for their read actions
	// in a single Region, so a fan-out never eats an account's own quota.
	DefaultAccountRate  = 20
	DefaultAccountBurst = 20
	// SessionName names the assumed-role sessions in CloudTrail.
	SessionName = "trunkctl"
)

var (
	accountID = regexp.MustCompile(`^[0-9]{12}$`)
	ouID      = regexp.MustCompile(`^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$`)
)

// ParseAccounts checks and de-duplicates account ids, keeping their order.
func ParseAccounts(ids []string) ([]string, error) {
	return parseList(ids, func(s string) error {
		if !accountID.MatchString(s) {
			return fmt.Errorf("%q is not an AWS account id (12 digits)", s)
		}
		return nil
	})
}

// ParseRegions checks and de-duplicates Region names, keeping their order.
// A nil result with no error means AllRegions: every enabled Region.
func ParseRegions(names []string) ([]string, error) {
	if slices.Contains(names, AllRegions) {
		if len(names) != 1 {
			return nil, fmt.Errorf("--regions %s cannot be combined with named Regions", AllRegions)
		}
		return nil, nil
	}
	regions, err := parseList(names, func(s string) error {
		if _, ok := validate.RegionPartition(s); !ok {
			return fmt.Errorf("%q is not an AWS Region name (like us-east-1), or %q", s, AllRegions)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(regions); i++ {
		p0, _ := validate.RegionPartition(regions[0])
		if p, _ := validate.RegionPartition(regions[i]); p != p0 {
			return nil, fmt.Errorf("%s is in partition %s and %s in %s: one set of credentials reaches one partition; run once per partition", regions[0], p0, regions[i], p)
		}
	}
	return regions, nil
}

// ParseOUs checks organizational unit (ou-...) and root (r-...) ids.
func ParseOUs(ids []string) ([]string, error) {
	return parseList(ids, func(s string) error {
		if !ouID.MatchString(s) {
			return fmt.Errorf("%q is not an organizational unit id (ou-...) or root id (r-...)", s)
		}
		return nil
	})
}

func parseList(in []string, check func(string) error) ([]string, error) {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || slices.Contains(out, s) {
			continue
		}
		if err := check(s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list")
	}
	return out, nil
}
