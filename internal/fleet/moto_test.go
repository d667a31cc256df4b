package fleet_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsclient"
	"github.com/trunkctl/trunkctl/internal/fleet"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
)

// clusterCounts lists the target's clusters and their container instances:
// "name=N,..." sorted by name.
func clusterCounts(ctx context.Context, _ fleet.Target, cfg aws.Config) (string, error) {
	c := ecs.NewFromConfig(cfg)
	var parts []string
	p := ecs.NewListClustersPaginator(c, &ecs.ListClustersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list clusters: %w", err)
		}
		for _, arn := range page.ClusterArns {
			name := arn[strings.LastIndex(arn, "/")+1:]
			n := 0
			ip := ecs.NewListContainerInstancesPaginator(c, &ecs.ListContainerInstancesInput{Cluster: aws.String(arn)})
			for ip.HasMorePages() {
				ipage, err := ip.NextPage(ctx)
				if err != nil {
					return "", fmt.Errorf("list container instances in %s: %w", name, err)
				}
				n += len(ipage.ContainerInstanceArns)
			}
			parts = append(parts, fmt.Sprintf("%s=%d", name, n))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ","), nil
}

// motoOrg is the organization TestAgainstMoto builds in moto_server.
type motoOrg struct {
	org     *organizations.Client
	f       *fleet.Fleet
	caller  fleet.Caller
	members []string
	ou      *organizations.CreateOrganizationalUnitOutput
}

// TestAgainstMoto builds an organization in moto_server (which keeps one
// backend per account: what is created with an assumed role's credentials
// lands in that role's account), with ECS clusters and container instances
// in two Regions of several accounts, and fans out over it.
func TestAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("moto integration skipped in -short mode")
	}
	m := moto.Start(t)
	m.Env(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	mo := setUpMotoOrg(t)
	t.Run("the organization's ACTIVE accounts, and an OU's down through nested OUs", func(t *testing.T) { testMotoOrgAccounts(t, mo) })
	t.Run("fan-out reads each account's clusters in each Region through an assumed role", func(t *testing.T) { testMotoFanOut(t, mo) })
	t.Run("all Regions are the account's enabled ones", func(t *testing.T) { testMotoAllRegions(t, mo) })
}

// setUpMotoOrg creates the organization (four members, the last closed; an
// OU with a nested OU) and the clusters, through the fleet's own
// per-account configurations.
func setUpMotoOrg(t *testing.T) motoOrg {
	t.Helper()
	ctx := context.Background()
	base, err := awsclient.Load(ctx, awsclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	org, members := moto.Organization(t, base, 4)
	// The last member is closed: not ACTIVE, so not read.
	if _, err := org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(members[3])}); err != nil {
		t.Fatal(err)
	}
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	root := aws.ToString(roots.Roots[0].Id)
	ou, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(root), Name: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	nested, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: ou.OrganizationalUnit.Id, Name: aws.String("prod-eu")})
	if err != nil {
		t.Fatal(err)
	}
	for i, parent := range []*string{ou.OrganizationalUnit.Id, nested.OrganizationalUnit.Id} {
		if _, err := org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(members[i]), SourceParentId: aws.String(root), DestinationParentId: parent}); err != nil {
			t.Fatal(err)
		}
	}

	stsc := sts.NewFromConfig(base)
	caller, err := accountsetting.WhoAmI(ctx, stsc)
	if err != nil {
		t.Fatal(err)
	}
	f := fleet.New(base, caller, stsc, func(cfg aws.Config) fleet.RegionsAPI { return ec2.NewFromConfig(cfg) }, fleet.Options{Concurrency: 3})

	// Clusters, created through the fleet's own per-account configurations.
	moto.RegisterInstances(t, f.Config(members[0], "us-east-1"), "web", 2)
	moto.RegisterInstances(t, f.Config(members[0], "eu-west-1"), "web", 1)
	moto.RegisterInstances(t, f.Config(members[0], "eu-west-1"), "batch", 1)
	moto.RegisterInstances(t, f.Config(members[1], "eu-west-1"), "api", 3)
	moto.RegisterInstances(t, f.Config(caller.Account(), "us-east-1"), "mgmt", 1)
	return motoOrg{org: org, f: f, caller: caller, members: members, ou: ou}
}

// testMotoOrgAccounts: the organization's ACTIVE accounts, and an OU's down through nested OUs.
func testMotoOrgAccounts(t *testing.T, mo motoOrg) {
	ctx := context.Background()
	org, caller, members, ou := mo.org, mo.caller, mo.members, mo.ou
	all, err := fleet.OrgAccounts(ctx, org, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string{caller.Account()}, members[:3]...)
	slices.Sort(want)
	if !slices.Equal(ids(all), want) {
		t.Fatalf("accounts %v, want %v", ids(all), want)
	}
	inOU, err := fleet.OrgAccounts(ctx, org, []string{aws.ToString(ou.OrganizationalUnit.Id)})
	want = slices.Clone(members[:2])
	slices.Sort(want)
	if err != nil || !slices.Equal(ids(inOU), want) {
		t.Fatalf("accounts in OU %v, %v; want %v", ids(inOU), err, want)
	}
}

// testMotoFanOut: fan-out reads each account's clusters in each Region through an assumed role.
func testMotoFanOut(t *testing.T, mo motoOrg) {
	ctx := context.Background()
	f, caller, members := mo.f, mo.caller, mo.members
	accounts := []string{caller.Account(), members[0], members[1], members[2]}
	res := fleet.Run(ctx, f, accounts, []string{"us-east-1", "eu-west-1"}, clusterCounts)
	var got []string
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%v", r.Err)
		}
		got = append(got, fmt.Sprintf("%s %s %s", r.Account, r.Region, r.Value))
	}
	want := []string{
		caller.Account() + " us-east-1 mgmt=1", caller.Account() + " eu-west-1 ",
		members[0] + " us-east-1 web=2", members[0] + " eu-west-1 batch=1,web=1",
		members[1] + " us-east-1 ", members[1] + " eu-west-1 api=3",
		members[2] + " us-east-1 ", members[2] + " eu-west-1 ",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// testMotoAllRegions: all Regions are the account's enabled ones.
func testMotoAllRegions(t *testing.T, mo motoOrg) {
	ctx := context.Background()
	f, members := mo.f, mo.members
	res := fleet.Run(ctx, f, []string{members[1]}, nil, clusterCounts)
	var regions []string
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%v", r.Err)
		}
		regions = append(regions, r.Region)
		if r.Region == "eu-west-1" && r.Value != "api=3" {
			t.Fatalf("eu-west-1: %q", r.Value)
		}
	}
	// moto marks me-south-1 not opted in.
	if !slices.Contains(regions, "us-east-1") || !slices.Contains(regions, "eu-west-1") || slices.Contains(regions, "me-south-1") || !slices.IsSorted(regions) {
		t.Fatalf("Regions %v", regions)
	}
}
