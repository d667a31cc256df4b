package cli

import (
	"errors"
	"fmt"
	"strings"
)

// noActiveAccounts is the error of an --org run that found no account to
// run in: in the organization, or in the --ou units and the units below them.
func noActiveAccounts(ous []string) error {
	if len(ous) == 0 {
		return errors.New("the organization has no ACTIVE accounts; there is nothing to run in")
	}
	return fmt.Errorf("the organization has no ACTIVE accounts in %s or the organizational units below; check the --%s ids", strings.Join(ous, ", "), flagOU)
}
