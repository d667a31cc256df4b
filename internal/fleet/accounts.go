package fleet

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// OrganizationsAPI is the part of the AWS Organizations client fleet calls.
type OrganizationsAPI interface {
	ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
	ListAccountsForParent(ctx context.Context, in *organizations.ListAccountsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error)
	ListOrganizationalUnitsForParent(ctx context.Context, in *organizations.ListOrganizationalUnitsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error)
}

// Account is a member account of the organization.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// OrgAccounts lists the organization's ACTIVE accounts, sorted by id: all of
// them, or with parents (OU or root ids) those in these OUs and every OU
// below them. It must run in the management account or a delegated
// administrator.
func OrgAccounts(ctx context.Context, api OrganizationsAPI, parents []string) ([]Account, error) {
	seen := map[string]bool{}
	var out []Account
	add := func(as []orgtypes.Account) {
		for _, a := range as {
			id := aws.ToString(a.Id)
			if seen[id] || !active(a) {
				continue
			}
			seen[id] = true
			out = append(out, Account{ID: id, Name: aws.ToString(a.Name)})
		}
	}
	var err error
	if len(parents) == 0 {
		err = listAll(ctx, api, add)
	} else {
		err = listUnder(ctx, api, parents, add)
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Account) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// OrgLister hands the organization's ACTIVE account ids to RunListed page
// by page, as OrgAccounts finds them (all, or those under parents).
func OrgLister(api OrganizationsAPI, parents []string) Lister {
	return func(ctx context.Context, add func(ids ...string)) error {
		push := func(as []orgtypes.Account) {
			ids := make([]string, 0, len(as))
			for _, a := range as {
				if active(a) {
					ids = append(ids, aws.ToString(a.Id))
				}
			}
			if len(ids) > 0 {
				add(ids...)
			}
		}
		if len(parents) == 0 {
			return listAll(ctx, api, push)
		}
		return listUnder(ctx, api, parents, push)
	}
}

// listAll hands every page of ListAccounts to add.
func listAll(ctx context.Context, api OrganizationsAPI, add func([]orgtypes.Account)) error {
	p := organizations.NewListAccountsPaginator(api, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list the organization's accounts: %w", err)
		}
		add(page.Accounts)
	}
	return nil
}

// listUnder walks the OU tree breadth first from parents (an OU has at most
// 5 levels below the root) and hands each OU's accounts to add.
func listUnder(ctx context.Context, api OrganizationsAPI, parents []string, add func([]orgtypes.Account)) error {
	queue := slices.Clone(parents)
	visited := map[string]bool{}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		if visited[parent] {
			continue
		}
		visited[parent] = true
		ap := organizations.NewListAccountsForParentPaginator(api, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent)})
		for ap.HasMorePages() {
			page, err := ap.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("list the accounts in %s: %w", parent, err)
			}
			add(page.Accounts)
		}
		op := organizations.NewListOrganizationalUnitsForParentPaginator(api, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent)})
		for op.HasMorePages() {
			page, err := op.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("list the organizational units in %s: %w", parent, err)
			}
			for _, ou := range page.OrganizationalUnits {
				queue = append(queue, aws.ToString(ou.Id))
			}
		}
	}
	return nil
}

// active reads State, which replaces Status (retired in September 2026);
// Status is the fallback for answers that carry only it.
func active(a orgtypes.Account) bool {
	if a.State != "" {
		return a.State == orgtypes.AccountStateActive
	}
	return a.Status == orgtypes.AccountStatusActive //nolint:staticcheck // fallback for answers without State
}
