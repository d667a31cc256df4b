package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/fleet"
	"github.com/trunkctl/trunkctl/internal/fleet/fleettest"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

// fleetWorld is an organization whose accounts have, per Region, the
// clusters of single-target tests' worlds.
type fleetWorld struct {
	org *fleettest.World
	// clusters by target and name; a target without any has no clusters.
	clusters map[fleet.Target]map[string]*world
	// listErr fails a target's ListClusters (a disabled Region, throttling).
	listErr map[fleet.Target]error
}

func newFleetWorld() *fleetWorld {
	return &fleetWorld{org: fleettest.New(), clusters: map[fleet.Target]map[string]*world{}, listErr: map[fleet.Target]error{}}
}

// addCluster puts a cluster in a target: healthy (trunked instances, role
// enabled) or not (an instance without a trunk, role not enabled).
func (fw *fleetWorld) addCluster(t fleet.Target, name string, healthy bool, instances int) {
	c := inventorytest.New()
	c.Name, c.Region, c.AccountID = name, t.Region, t.Account
	c.AddRole("EcsInstanceProfile", "EcsInstanceRole")
	c.AddRole("ServiceLinked", "AWSServiceRoleForECS")
	var group []int
	for i := 1; i <= instances; i++ {
		c.AddInstance(inventorytest.InstanceSpec{N: i, Trunk: healthy || i > 1})
		group = append(group, i)
	}
	if instances > 0 {
		// In a group, so an instance without a trunk is one rollout replaces (STALE).
		c.AddAutoScalingGroup(inventorytest.ASGSpec{Name: name + "-asg", Template: "lt-0" + name, Subnets: []string{"subnet-0a"}, Instances: group})
	}
	a := accountsettingtest.New()
	a.ID = t.Account
	a.AddRole("EcsInstanceRole", accountsettingtest.RoleState{})
	if healthy {
		a.SetExplicit(a.RoleARN("EcsInstanceRole"), accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	}
	caller := a.SessionARN(fleet.DefaultRoleName, fleet.SessionName)
	if t.Account == fw.org.Caller {
		caller = fmt.Sprintf("arn:aws:iam::%s:user/operator", t.Account)
	}
	if fw.clusters[t] == nil {
		fw.clusters[t] = map[string]*world{}
	}
	fw.clusters[t][name] = &world{cluster: c, acct: a, caller: caller}
}

func (fw *fleetWorld) deps(s *IOStreams) Deps {
	return Deps{
		IO: s, Catalog: catalog.Default(), Now: testNow,
		AWS: func(context.Context, GlobalOptions, io.Writer) (*AWS, error) {
			return nil, fmt.Errorf("a fanned-out command must not use the single-target clients")
		},
		Fleet: func(context.Context, GlobalOptions, io.Writer) (*FleetAWS, error) {
			return &FleetAWS{
				Base: aws.Config{Region: "us-east-1", Credentials: fw.org.CallerCredentials()},
				STS:  fw.org.STS(), Organizations: fw.org.Organizations(),
				Regions: func(cfg aws.Config) fleet.RegionsAPI { return fw.org.EC2(cfg) },
				Target: func(ctx context.Context, t fleet.Target, cfg aws.Config) (*AWS, ClustersAPI, error) {
					// The target's clients must come with its account's credentials.
					if acct, err := fleettest.AccountOf(ctx, cfg); err != nil || acct != t.Account || cfg.Region != t.Region {
						return nil, nil, fmt.Errorf("target %v got the configuration of account %s, Region %s (%w)", t, acct, cfg.Region, err)
					}
					return fw.targetAWS(t), fw.lister(t), nil
				},
			}, nil
		},
	}
}

// targetAWS is the target's clients: ECS answers for every cluster of the
// target; EC2, IAM and the account settings are those of the world of its
// cluster with the most instances (the tests put instances in one cluster
// per target).
func (fw *fleetWorld) targetAWS(t fleet.Target) *AWS {
	var clusters []*inventorytest.Cluster
	var first *world
	for _, name := range slices.Sorted(maps.Keys(fw.clusters[t])) {
		w := fw.clusters[t][name]
		clusters = append(clusters, w.cluster)
		if first == nil || len(w.cluster.ContainerInstances) > len(first.cluster.ContainerInstances) {
			first = w
		}
	}
	if first == nil { // no clusters: an empty world of the target's account
		c := inventorytest.New()
		c.Region, c.AccountID = t.Region, t.Account
		a := accountsettingtest.New()
		a.ID = t.Account
		first = &world{cluster: c, acct: a, caller: a.SessionARN(fleet.DefaultRoleName, fleet.SessionName)}
	}
	a := first.aws()
	a.Region = t.Region
	a.ECS = (&inventorytest.Region{Clusters: clusters}).ECS()
	return a
}

// lister lists the target's clusters, or fails as listErr says.
func (fw *fleetWorld) lister(t fleet.Target) ClustersAPI {
	var clusters []*inventorytest.Cluster
	for _, name := range slices.Sorted(maps.Keys(fw.clusters[t])) {
		clusters = append(clusters, fw.clusters[t][name].cluster)
	}
	return failingLister{ClustersAPI: (&inventorytest.Region{Clusters: clusters}).ECS(), err: fw.listErr[t]}
}

type failingLister struct {
	ClustersAPI
	err error
}

func (f failingLister) ListClusters(ctx context.Context, in *ecs.ListClustersInput, o ...func(*ecs.Options)) (*ecs.ListClustersOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.ClustersAPI.ListClusters(ctx, in, o...)
}

func runFleetCmd(t *testing.T, fw *fleetWorld, s *IOStreams, args ...string) ExitCode {
	t.Helper()
	return Run(context.Background(), args, fw.deps(s))
}

// threeAccounts: the caller's account and two members, one of which denies
// AssumeRole; Regions us-east-1 and eu-west-1.
func threeAccounts() (*fleetWorld, []string) {
	fw := newFleetWorld()
	members := fw.org.AddAccounts(2, fleettest.Root)
	fw.org.Account(members[1]).DenyAssume = true
	accounts := []string{fw.org.Caller, members[0], members[1]}
	return fw, accounts
}

func TestFleetInstances(t *testing.T) {
	t.Run("one row per cluster of each account and Region; a denied account and a disabled Region are rows with their errors; exit 1", func(t *testing.T) {
		fw, accts := threeAccounts()
		fw.addCluster(fleet.Target{Account: accts[0], Region: "us-east-1"}, "prod", true, 2)
		fw.addCluster(fleet.Target{Account: accts[1], Region: "us-east-1"}, "web", false, 3)
		fw.addCluster(fleet.Target{Account: accts[1], Region: "us-east-1"}, "empty", true, 0)
		fw.listErr[fleet.Target{Account: accts[1], Region: "eu-west-1"}] = fleettest.APIError("OptInRequired", "You are not subscribed to this service.")
		s, out, errOut := streams(false)
		code := runFleetCmd(t, fw, s, "instances", "--all-clusters", "--accounts", strings.Join(accts, ","), "--regions", "us-east-1,eu-west-1")
		want := strings.Join([]string{
			accts[0] + "\tus-east-1\tprod\t2\t2\t0\t1/1\tok",
			accts[0] + "\teu-west-1\t-\t-\t-\t-\t-\tno clusters",
			accts[1] + "\tus-east-1\tempty\t0\t0\t0\t-\tok",
			accts[1] + "\tus-east-1\tweb\t3\t2\t1\t0/1\trole-not-enabled on 1 of 3",
			accts[1] + "\teu-west-1\t-\t-\t-\t-\t-\tregion-disabled: list clusters: api error OptInRequired: You are not subscribed to this service.",
			accts[2] + "\tus-east-1\t-\t-\t-\t-\t-\taccess-denied: assume role arn:aws:iam::" + accts[2] + ":role/OrganizationAccountAccessRole: ",
		}, "\n")
		if code != ExitError || !strings.HasPrefix(out.String(), want) {
			t.Fatalf("exit %d\n%s\nwant prefix\n%s\nstderr %s", code, out, want, errOut)
		}
		if !strings.Contains(errOut.String(), "3 account(s), 6 target(s): 3 failed; 3 cluster(s), 1 unhealthy") {
			t.Fatalf("stderr %s", errOut)
		}
	})

	t.Run("a named Region the account has not enabled is region-disabled with the fix, whichever call ECS refused", func(t *testing.T) {
		fw := newFleetWorld()
		member := fw.org.AddAccounts(1, fleettest.Root)[0]
		refused := fleettest.APIError("UnrecognizedClientException", "The security token included in the request is invalid.")
		fw.listErr[fleet.Target{Account: member, Region: "af-south-1"}] = refused
		fw.addCluster(fleet.Target{Account: member, Region: "ap-east-1"}, "web", true, 1)
		for _, op := range []string{"ecs:DescribeClusters", "ecs:ListContainerInstances", "ecs:DescribeContainerInstances", "ecs:ListTasks", "ecs:ListServices"} {
			fw.clusters[fleet.Target{Account: member, Region: "ap-east-1"}]["web"].cluster.Fail[op] = refused
		}
		fix := "; enable the Region in the account (aws account enable-region --account-id " + member + " --region-name %s), or use --regions all, which runs only each account's enabled Regions"
		for _, tc := range []struct{ region, flag, want string }{
			{"af-south-1", "--all-clusters", "-\t-\t-\t-\t-\tregion-disabled: Region af-south-1 is not enabled in account " + member + " (opt-in status not-opted-in): list clusters: api error UnrecognizedClientException: The security token included in the request is invalid." + fmt.Sprintf(fix, "af-south-1")},
			{"ap-east-1", "--cluster=web", "web\t-\t-\t-\t-\tregion-disabled: Region ap-east-1 is not enabled in account " + member + " (opt-in status not-opted-in): "},
		} {
			s, out, errOut := streams(false)
			code := runFleetCmd(t, fw, s, "instances", tc.flag, "--accounts", member, "--regions", tc.region, "--no-roles")
			if code != ExitError || !strings.HasPrefix(out.String(), member+"\t"+tc.region+"\t"+tc.want) || !strings.Contains(out.String(), fmt.Sprintf(fix, tc.region)) {
				t.Fatalf("exit %d\n%s\nwant prefix\n%s\nstderr %s", code, out, tc.want, errOut)
			}
		}
		if n := fw.org.Calls()["ec2:DescribeRegions"]; n != 2 {
			t.Fatalf("DescribeRegions called %d times, want once per run (one account)", n)
		}
	})

	t.Run("JSON has account, region, cluster, the single-target shape and error per row, and a summary", func(t *testing.T) {
		fw, accts := threeAccounts()
		fw.addCluster(fleet.Target{Account: accts[1], Region: "eu-west-1"}, "web", false, 2)
		s, out, errOut := streams(false)
		code := runFleetCmd(t, fw, s, "instances", "--cluster", "web", "--accounts", strings.Join(accts[1:], ","), "--regions", "eu-west-1", "-o", "json")
		var got struct {
			Targets []struct {
				Account, Region, Cluster, Error, ErrorKind string
				Instances                                  []instanceRow
				Summary                                    instancesSummary
			}
			Summary fleetSummary
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil || code != ExitError || len(got.Targets) != 2 {
			t.Fatalf("exit %d, %v\n%s\n%s", code, err, out, errOut)
		}
		web, denied := got.Targets[0], got.Targets[1]
		if web.Account != accts[1] || web.Region != "eu-west-1" || web.Cluster != "web" || web.Error != "" || len(web.Instances) != 2 || web.Summary.WithTrunk != 1 ||
			web.Instances[0].RoleArn != "arn:aws:iam::"+accts[1]+":role/EcsInstanceRole" {
			t.Fatalf("web row %+v", web)
		}
		if denied.Account != accts[2] || denied.Region != "eu-west-1" || denied.ErrorKind != "access-denied" || !strings.Contains(denied.Error, "not authorized to perform: sts:AssumeRole") || denied.Instances != nil {
			t.Fatalf("denied row %+v", denied)
		}
		if want := (fleetSummary{Accounts: 2, Targets: 2, Failed: 1, Clusters: 1, Unhealthy: 1, Instances: 2, Trunked: 1, Stale: 1, ByError: map[string]int{"access-denied": 1}}); !reflect.DeepEqual(got.Summary, want) {
			t.Fatalf("summary %+v", got.Summary)
		}
	})

	t.Run("a target without the named cluster is a not-found row", func(t *testing.T) {
		fw := newFleetWorld()
		members := fw.org.AddAccounts(2, fleettest.Root)
		fw.addCluster(fleet.Target{Account: members[0], Region: "us-east-1"}, "prod", true, 1)
		s, out, errOut := streams(false)
		code := runFleetCmd(t, fw, s, "doctor", "--cluster", "prod", "--accounts", strings.Join(members, ","))
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if code != ExitError || len(lines) != 2 || !strings.HasPrefix(lines[1], members[1]+"\tus-east-1\tprod\t-\t-\t-\t-\tnot-found: ") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
	})

	t.Run("every cluster healthy is exit 0; one unhealthy is exit 3", func(t *testing.T) {
		fw := newFleetWorld()
		members := fw.org.AddAccounts(3, fleettest.Root)
		for _, a := range members {
			fw.addCluster(fleet.Target{Account: a, Region: "us-east-1"}, "prod", true, 2)
		}
		s, out, errOut := streams(false)
		if code := runFleetCmd(t, fw, s, "instances", "--cluster", "prod", "--org"); code != ExitOK {
			t.Fatalf("healthy: exit %d\n%s\n%s", code, out, errOut)
		}
		fw.addCluster(fleet.Target{Account: members[2], Region: "us-east-1"}, "prod", false, 2)
		s, out, errOut = streams(false)
		if code := runFleetCmd(t, fw, s, "instances", "--cluster", "prod", "--org"); code != ExitUnhealthy {
			t.Fatalf("unhealthy: exit %d\n%s\n%s", code, out, errOut)
		}
	})
}

func TestFleetDoctorAndStatus(t *testing.T) {
	fw := newFleetWorld()
	fw.org.OUs = map[string]string{"ou-prod-aaaaaaaa": fleettest.Root}
	members := fw.org.AddAccounts(2, "ou-prod-aaaaaaaa")
	outside := fw.org.AddAccounts(1, fleettest.Root)
	fw.addCluster(fleet.Target{Account: members[0], Region: "us-east-1"}, "prod", true, 2)
	fw.addCluster(fleet.Target{Account: members[1], Region: "us-east-1"}, "prod", false, 2)
	fw.addCluster(fleet.Target{Account: outside[0], Region: "us-east-1"}, "prod", false, 2)

	t.Run("doctor --org --ou checks only the OU's accounts and names the worst finding", func(t *testing.T) {
		s, out, errOut := streams(false)
		code := runFleetCmd(t, fw, s, "doctor", "--cluster", "prod", "--org", "--ou", "ou-prod-aaaaaaaa")
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if code != ExitUnhealthy || len(lines) != 2 || lines[0] != members[0]+"\tus-east-1\tprod\t2\t2\t0\t1/1\tok" ||
			lines[1] != members[1]+"\tus-east-1\tprod\t2\t1\t1\t0/1\terror instance "+inventorytest.InstanceID(1)+" (+1 more)" || strings.Contains(out.String(), outside[0]) {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
	})

	t.Run("status --all-clusters reads the roles behind every cluster", func(t *testing.T) {
		s, out, errOut := streams(false)
		code := runFleetCmd(t, fw, s, "status", "--all-clusters", "--accounts", members[0]+","+members[1], "-o", "json")
		var got struct {
			Targets []struct {
				Account string
				Roles   []accountsetting.RoleSetting
			}
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil || code != ExitUnhealthy || len(got.Targets) != 2 {
			t.Fatalf("exit %d, %v\n%s\n%s", code, err, out, errOut)
		}
		if r := got.Targets[0].Roles; len(r) != 1 || r[0].EffectiveValue != "enabled" || r[0].RoleArn != "arn:aws:iam::"+members[0]+":role/EcsInstanceRole" {
			t.Fatalf("first account roles %+v", r)
		}
		if r := got.Targets[1].Roles; len(r) != 1 || r[0].EffectiveValue != "disabled" {
			t.Fatalf("second account roles %+v", r)
		}
	})
}

func TestFleetUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"--accounts and --org are alternatives", []string{"instances", "--cluster", "c", "--accounts", "111111111111", "--org"}, "alternatives"},
		{"--ou needs --org", []string{"instances", "--cluster", "c", "--ou", "ou-prod-aaaaaaaa"}, "--ou narrows --org"},
		{"an account id has 12 digits", []string{"doctor", "--cluster", "c", "--accounts", "1234"}, `"1234" is not an AWS account id`},
		{"all is alone", []string{"status", "--role", "r", "--regions", "all,us-east-1"}, "cannot be combined"},
		{"--cluster and --all-clusters are alternatives", []string{"instances", "--cluster", "c", "--all-clusters"}, "alternatives"},
		{"enis does not fan out", []string{"enis", "--cluster", "c", "--regions", "us-east-1"}, "does not run across accounts and Regions"},
		{"concurrency is at least 1", []string{"instances", "--cluster", "c", "--org", "--concurrency", "0"}, "--concurrency must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fw := newFleetWorld()
			s, _, errOut := streams(false)
			if code := runFleetCmd(t, fw, s, tt.args...); code != ExitUsage || !strings.Contains(errOut.String(), tt.want) {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			if n := fw.org.TotalCalls(); n != 0 {
				t.Fatalf("%d AWS calls for a usage error", n)
			}
		})
	}
}

func TestFleetProgressOnATerminal(t *testing.T) {
	fw, accts := threeAccounts()
	s, _, errOut := streams(false)
	s.ErrIsTerminal = true
	runFleetCmd(t, fw, s, "instances", "--all-clusters", "--accounts", strings.Join(accts, ","))
	if !strings.Contains(errOut.String(), "targets 3/3 done, 1 failed") {
		t.Fatalf("stderr %q", errOut)
	}
	s, _, errOut = streams(false)
	runFleetCmd(t, fw, s, "instances", "--all-clusters", "--accounts", strings.Join(accts, ","))
	if strings.Contains(errOut.String(), "targets") {
		t.Fatalf("progress when stderr is not a terminal: %q", errOut)
	}
}

// enableWorld: two member accounts, each with a cluster in two Regions
// whose instance role is not opted in.
func enableWorld() (*fleetWorld, []string, []fleet.Target) {
	fw := newFleetWorld()
	members := fw.org.AddAccounts(2, fleettest.Root)
	var targets []fleet.Target
	for _, a := range members {
		for _, r := range []string{"us-east-1", "eu-west-1"} {
			tg := fleet.Target{Account: a, Region: r}
			fw.addCluster(tg, "prod", false, 1)
			targets = append(targets, tg)
		}
	}
	return fw, members, targets
}

// explicitSetting is the role's own awsvpcTrunking setting in a target.
func explicitSetting(fw *fleetWorld, tg fleet.Target) string {
	w := fw.clusters[tg]["prod"]
	return w.acct.Explicit(w.acct.RoleARN("EcsInstanceRole"), accountsetting.AWSVPCTrunking)
}

func TestFleetEnable(t *testing.T) {
	t.Run("enable --role-name --yes sets the role's setting in every account and Region and reads it back", testEnableWrites)
	t.Run("without --yes and no terminal it is a usage error, and nothing is called", testEnableNeedsYes)
	t.Run("a declined confirmation changes nothing", testEnableDeclined)
	t.Run("--dry-run prints the plan and assumes no role", testEnableDryRun)
	t.Run("--role ARNs and --default do not run across accounts", testEnableRefusesARNsAndDefault)
}

// testEnableWrites: enable --role-name --yes sets the role's setting in every account and Region and reads it back.
func testEnableWrites(t *testing.T) {
	fw, members, targets := enableWorld()
	s, out, errOut := streams(false)
	code := runFleetCmd(t, fw, s, "enable", "--role-name", "EcsInstanceRole", "--accounts", strings.Join(members, ","), "--regions", "us-east-1,eu-west-1", "--yes")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, tg := range targets {
		if got := explicitSetting(fw, tg); got != accountsetting.Enabled {
			t.Fatalf("%v: explicit setting %q", tg, got)
		}
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], members[0]+"\tus-east-1\t-\t-\t-\t-\t1/1\tok") {
		t.Fatalf("output\n%s", out)
	}
}

// testEnableNeedsYes: without --yes and no terminal it is a usage error, and nothing is called.
func testEnableNeedsYes(t *testing.T) {
	fw, members, _ := enableWorld()
	s, _, errOut := streams(false)
	if code := runFleetCmd(t, fw, s, "enable", "--role-name", "EcsInstanceRole", "--accounts", strings.Join(members, ",")); code != ExitUsage || !strings.Contains(errOut.String(), "pass --yes") || fw.org.TotalCalls() != 0 {
		t.Fatalf("exit %d, %d calls, stderr %s", code, fw.org.TotalCalls(), errOut)
	}
}

// testEnableDeclined: a declined confirmation changes nothing.
func testEnableDeclined(t *testing.T) {
	fw, members, targets := enableWorld()
	s, _, errOut := streams(true)
	s.In = strings.NewReader("n\n")
	code := runFleetCmd(t, fw, s, "enable", "--role-name", "EcsInstanceRole", "--accounts", strings.Join(members, ","), "--regions", "us-east-1,eu-west-1")
	if code != ExitError || !strings.Contains(errOut.String(), "Set awsvpcTrunking=enabled for role(s) EcsInstanceRole in 2 account(s) x 2 Region(s)? [y/N]") || !strings.Contains(errOut.String(), "cancelled") {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	for _, tg := range targets {
		if got := explicitSetting(fw, tg); got != "" {
			t.Fatalf("%v: explicit setting %q after a declined confirmation", tg, got)
		}
	}
}

// testEnableDryRun: --dry-run prints the plan and assumes no role.
func testEnableDryRun(t *testing.T) {
	fw, members, _ := enableWorld()
	s, out, errOut := streams(false)
	code := runFleetCmd(t, fw, s, "enable", "--role-name", "EcsInstanceRole", "--accounts", strings.Join(members, ","), "--regions", "all", "--dry-run", "-o", "json")
	var p fleetPlan
	if err := json.Unmarshal(out.Bytes(), &p); err != nil || code != ExitOK || !p.DryRun || len(p.Accounts) != 2 || p.Regions[0] != "all" || p.AssumeRoleName != fleet.DefaultRoleName {
		t.Fatalf("exit %d, %v, plan %+v\n%s", code, err, p, errOut)
	}
	if n := fw.org.Calls()["sts:AssumeRole"]; n != 0 {
		t.Fatalf("%d AssumeRole calls in a dry run", n)
	}
}

// testEnableRefusesARNsAndDefault: --role ARNs and --default do not run across accounts.
func testEnableRefusesARNsAndDefault(t *testing.T) {
	fw, members, _ := enableWorld()
	for _, args := range [][]string{
		{"enable", "--role", "arn:aws:iam::" + members[0] + ":role/EcsInstanceRole", "--accounts", members[0], "--yes"},
		{"enable", "--default", "--accounts", members[0], "--yes"},
	} {
		s, _, errOut := streams(false)
		if code := runFleetCmd(t, fw, s, args...); code != ExitUsage {
			t.Fatalf("%v: exit %d, stderr %s", args, code, errOut)
		}
	}
}

func TestAllClustersAloneReadsTheCallersAccountAndRegion(t *testing.T) {
	fw := newFleetWorld()
	fw.addCluster(fleet.Target{Account: fw.org.Caller, Region: "us-east-1"}, "a", true, 1)
	fw.addCluster(fleet.Target{Account: fw.org.Caller, Region: "us-east-1"}, "b", true, 0)
	s, out, errOut := streams(false)
	code := runFleetCmd(t, fw, s, "instances", "--all-clusters")
	want := fw.org.Caller + "\tus-east-1\ta\t1\t1\t0\t1/1\tok\n" + fw.org.Caller + "\tus-east-1\tb\t0\t0\t0\t-\tok\n"
	if code != ExitOK || out.String() != want {
		t.Fatalf("exit %d\n%q\nwant\n%q\n%s", code, out, want, errOut)
	}
	if n := fw.org.Calls()["sts:AssumeRole"]; n != 0 {
		t.Fatalf("%d AssumeRole calls in the caller's own account", n)
	}
}

// Every Region of an account runs as the same identity: a fan-out asks
// sts:GetCallerIdentity once per account, not once per account and Region.
func TestFleetAsksWhoItIsOncePerAccount(t *testing.T) {
	fw := newFleetWorld()
	accounts := fw.org.AddAccounts(1, fleettest.Root)
	regions := []string{"us-east-1", "eu-west-1"}
	for _, r := range regions {
		fw.addCluster(fleet.Target{Account: accounts[0], Region: r}, "prod", true, 1)
	}
	s, out, errOut := streams(false)
	if code := runFleetCmd(t, fw, s, "doctor", "--cluster", "prod", "--accounts", accounts[0], "--regions", strings.Join(regions, ",")); code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	asked := 0
	for _, r := range regions {
		for _, op := range fw.clusters[fleet.Target{Account: accounts[0], Region: r}]["prod"].acct.Ops() {
			if op == "sts:GetCallerIdentity" {
				asked++
			}
		}
	}
	if asked != 1 {
		t.Errorf("sts:GetCallerIdentity asked %d times in one account's two Regions, want 1", asked)
	}
}
