package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsclient"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/fleet"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
)

// motoOrganization starts moto_server for the test (its endpoint in the
// environment) with an organization of the caller's account and two
// members: a cluster "web" of two instances in the first member's
// us-east-1, and "api" of one trunked instance in the second's eu-west-1,
// set up with the same per-account configurations the CLI derives.
func motoOrganization(t *testing.T) (accountsetting.Caller, []string) {
	t.Helper()
	m := moto.Start(t)
	m.Env(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	ctx := context.Background()
	base, err := awsclient.Load(ctx, awsclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, members := moto.Organization(t, base, 2)
	stsc := sts.NewFromConfig(base)
	caller, err := accountsetting.WhoAmI(ctx, stsc)
	if err != nil {
		t.Fatal(err)
	}
	f := fleet.New(base, caller, stsc, func(cfg aws.Config) fleet.RegionsAPI { return ec2.NewFromConfig(cfg) }, fleet.Options{})
	moto.RegisterInstances(t, f.Config(members[0], "us-east-1"), "web", 2)
	trunked := moto.RegisterInstances(t, f.Config(members[1], "eu-west-1"), "api", 1)
	if _, err := ecs.NewFromConfig(f.Config(members[1], "eu-west-1")).PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("api"), Attributes: []ecstypes.Attribute{{
		Name: aws.String(inventory.AttrTrunkID), Value: aws.String("eni-0123456789abcdef0"), TargetId: aws.String(trunked[0])}}}); err != nil {
		t.Fatal(err)
	}
	return caller, members
}

// TestFleetAgainstMoto runs `trunkctl instances --org --all-clusters` with
// the real SDK clients against moto_server: an organization of two member
// accounts (moto keeps a backend per account; the CLI reaches them by
// AssumeRole), with clusters in two Regions.
func TestFleetAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("moto integration skipped in -short mode")
	}
	caller, members := motoOrganization(t)

	terminal := false
	trunkctl := func(args ...string) (ExitCode, string, string) {
		out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
		deps := Deps{IO: &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut, OutIsTerminal: terminal, NoColor: true}, AWS: RealAWS, Catalog: catalog.Default()}
		return Run(context.Background(), args, deps), out.String(), errOut.String()
	}

	code, out, stderr := trunkctl("instances", "--org", "--all-clusters", "--regions", "us-east-1,eu-west-1", "--no-roles", "-o", "json")
	var got struct {
		Targets []struct {
			Account, Region, Cluster, Error string
			Instances                       []instanceRow
		}
		Summary fleetSummary
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("exit %d, %v\n%s\n%s", code, err, out, stderr)
	}
	var rows []string
	for _, r := range got.Targets {
		if r.Error != "" {
			t.Fatalf("%s %s: %s", r.Account, r.Region, r.Error)
		}
		trunks := 0
		for _, in := range r.Instances {
			if in.TrunkENI != "" {
				trunks++
			}
		}
		rows = append(rows, fmt.Sprintf("%s %s %s %d %d", r.Account, r.Region, r.Cluster, len(r.Instances), trunks))
	}
	accounts := append([]string{caller.Account()}, members...)
	slices.Sort(accounts)
	var want []string
	for _, a := range accounts {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			switch {
			case a == members[0] && region == "us-east-1":
				want = append(want, a+" us-east-1 web 2 0")
			case a == members[1] && region == "eu-west-1":
				want = append(want, a+" eu-west-1 api 1 1")
			default:
				want = append(want, a+" "+region+"  0 0")
			}
		}
	}
	// moto's ECS agent version is below the minimum, so every instance is unhealthy.
	if code != ExitUnhealthy || !slices.Equal(rows, want) || got.Summary.Accounts != 3 || got.Summary.Targets != 6 || got.Summary.Clusters != 2 || got.Summary.Trunked != 1 {
		t.Fatalf("exit %d, rows\n%s\nwant\n%s\nsummary %+v\n%s", code, strings.Join(rows, "\n"), strings.Join(want, "\n"), got.Summary, stderr)
	}

	t.Logf("JSON:\n%s", out)
	terminal = true
	code, out, stderr = trunkctl("instances", "--org", "--all-clusters", "--regions", "us-east-1,eu-west-1", "--no-roles")
	t.Logf("trunkctl instances --org --all-clusters --regions us-east-1,eu-west-1 --no-roles (exit %d):\n%s%s", code, out, stderr)
}
