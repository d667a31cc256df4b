package moto

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// Organization creates an AWS Organization (all features) with cfg's
// account as its management account, adds n member accounts, and returns
// the client and the members' ids in the order created. moto keeps a
// backend per account, so resources made with a member's assumed role land
// in that member.
func Organization(tb testing.TB, cfg aws.Config, n int) (*organizations.Client, []string) {
	tb.Helper()
	ctx := context.Background()
	org := organizations.NewFromConfig(cfg)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		tb.Fatal(err)
	}
	members := make([]string, 0, n)
	for i := range n {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(fmt.Sprintf("member-%d", i)), Email: aws.String(fmt.Sprintf("member-%d@example.com", i))})
		if err != nil {
			tb.Fatal(err)
		}
		members = append(members, aws.ToString(out.CreateAccountStatus.AccountId))
	}
	return org, members
}
