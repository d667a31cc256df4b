package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/fleet"
	"github.com/trunkctl/trunkctl/internal/fleet/fleettest"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		parse   func([]string) ([]string, error)
		in      []string
		want    []string
		wantErr string
	}{
		{"account ids keep their order without repeats", fleet.ParseAccounts, []string{"111111111111", " 222222222222", "111111111111"}, []string{"111111111111", "222222222222"}, ""},
		{"an account id must have 12 digits", fleet.ParseAccounts, []string{"12345"}, nil, `"12345" is not an AWS account id`},
		{"no account ids is an error", fleet.ParseAccounts, []string{""}, nil, "empty list"},
		{"named Regions are checked", fleet.ParseRegions, []string{"us-east-1", "eu-central-2"}, []string{"us-east-1", "eu-central-2"}, ""},
		{"all Regions is nil", fleet.ParseRegions, []string{"all"}, nil, ""},
		{"all cannot be combined", fleet.ParseRegions, []string{"all", "us-east-1"}, nil, "cannot be combined"},
		{"a Region name is checked", fleet.ParseRegions, []string{"useast1"}, nil, `"useast1" is not an AWS Region name`},
		{"OU and root ids are accepted", fleet.ParseOUs, []string{"ou-ab12-cdefgh34", "r-ab12"}, []string{"ou-ab12-cdefgh34", "r-ab12"}, ""},
		{"an OU id is checked", fleet.ParseOUs, []string{"Prod"}, nil, `"Prod" is not an organizational unit id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func ids(as []fleet.Account) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func TestOrgAccounts(t *testing.T) {
	ctx := context.Background()
	t.Run("all ACTIVE accounts over several pages, sorted by id", func(t *testing.T) {
		w := fleettest.New()
		want := w.AddAccounts(45, fleettest.Root)
		w.Account(want[3]).State = orgtypes.AccountStateSuspended
		w.Account(want[7]).State = orgtypes.AccountStatePendingClosure
		want = slices.Delete(slices.Delete(want, 7, 8), 3, 4)
		got, err := fleet.OrgAccounts(ctx, w.Organizations(), nil)
		if err != nil || !slices.Equal(ids(got), want) {
			t.Fatalf("got %v, %v\nwant %v", ids(got), err, want)
		}
		if n := w.Calls()["organizations:ListAccounts"]; n != 3 {
			t.Fatalf("ListAccounts called %d times, want 3 pages", n)
		}
		if got[0].Name != "acct-"+want[0] {
			t.Fatalf("name %q", got[0].Name)
		}
	})
	t.Run("OUs are walked down through nested OUs, and only their accounts listed", func(t *testing.T) {
		w := fleettest.New()
		w.OUs = map[string]string{"ou-prod-aaaaaaaa": fleettest.Root, "ou-prod-bbbbbbbb": "ou-prod-aaaaaaaa", "ou-prod-cccccccc": "ou-prod-bbbbbbbb", "ou-dev0-dddddddd": fleettest.Root}
		w.AddAccounts(2, fleettest.Root)
		top := w.AddAccounts(1, "ou-prod-aaaaaaaa")
		deep := w.AddAccounts(25, "ou-prod-cccccccc")
		w.AddAccounts(3, "ou-dev0-dddddddd")
		got, err := fleet.OrgAccounts(ctx, w.Organizations(), []string{"ou-prod-aaaaaaaa"})
		want := append(top, deep...)
		if err != nil || !slices.Equal(ids(got), want) {
			t.Fatalf("got %v, %v\nwant %v", ids(got), err, want)
		}
	})
	t.Run("an OU that does not exist names it", func(t *testing.T) {
		w := fleettest.New()
		_, err := fleet.OrgAccounts(ctx, w.Organizations(), []string{"ou-nope-aaaaaaaa"})
		if err == nil || !strings.Contains(err.Error(), "list the accounts in ou-nope-aaaaaaaa") || !strings.Contains(err.Error(), "ParentNotFoundException") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestEnabledRegionsLeavesOutRegionsNotOptedIn(t *testing.T) {
	w := fleettest.New()
	got, err := fleet.EnabledRegions(context.Background(), w.EC2(aws.Config{Credentials: w.CallerCredentials()}))
	if err != nil || !slices.Equal(got, fleettest.DefaultRegions) {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestWhoAmIReadsThePartitionAndRoleARNsUseIt(t *testing.T) {
	w := fleettest.New()
	w.Partition = "aws-cn"
	c, err := accountsetting.WhoAmI(context.Background(), w.STS())
	if err != nil || c.Account() != w.Caller || c.Principal.Partition != "aws-cn" {
		t.Fatalf("caller %+v, %v", c, err)
	}
	f := fleet.New(aws.Config{}, c, w.STS(), nil, fleet.Options{RoleName: "Reader"})
	if got := f.RoleARN("111122223333"); got != "arn:aws-cn:iam::111122223333:role/Reader" {
		t.Fatalf("role ARN %s", got)
	}
}

// newFleet builds a fleet over w with the caller's credentials.
func newFleet(t *testing.T, w *fleettest.World, opts fleet.Options) *fleet.Fleet {
	t.Helper()
	c, err := accountsetting.WhoAmI(context.Background(), w.STS())
	if err != nil {
		t.Fatal(err)
	}
	base := aws.Config{Region: "us-east-1", Credentials: w.CallerCredentials()}
	return fleet.New(base, c, w.STS(), func(cfg aws.Config) fleet.RegionsAPI { return w.EC2(cfg) }, opts)
}

// where reports the account the config's credentials belong to, and fails
// as the test's rules say.
func where(rules map[fleet.Target]error) fleet.Func[string] {
	return func(ctx context.Context, t fleet.Target, cfg aws.Config) (string, error) {
		acct, err := fleettest.AccountOf(ctx, cfg)
		if err != nil {
			return "", err
		}
		if err := rules[t]; err != nil {
			return "", fmt.Errorf("list clusters: %w", err)
		}
		return acct + "/" + cfg.Region, nil
	}
}

type recorder struct {
	mu     sync.Mutex
	counts []fleet.Counts
}

func (r *recorder) Update(c fleet.Counts) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts = append(r.counts, c)
}

func (r *recorder) last() fleet.Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[len(r.counts)-1]
}

func TestRun(t *testing.T) {
	t.Run("a denied role, a disabled Region and throttling are rows with their kinds, and the others succeed", testRunFailuresAreRows)
	t.Run("all Regions are each account's enabled ones, and an account that cannot be assumed is one row", testRunAllRegions)
	t.Run("the caller's own account is read with the caller's credentials, without AssumeRole", testRunCallerAccount)
	t.Run("concurrency bounds the targets in flight, which spread over accounts, and results keep their order", testRunConcurrency)
	t.Run("a cancelled run marks what it did not do as canceled", testRunCancelled)
	t.Run("credentials refused in a named Region the account has not enabled are region-disabled, asked once per account", testRunRegionNotEnabled)
}

// testRunRegionNotEnabled: credentials refused in a named Region the account
// has not enabled are region-disabled, asked once per account.
func testRunRegionNotEnabled(t *testing.T) {
	ctx := context.Background()
	w := fleettest.New()
	a := w.AddAccounts(2, fleettest.Root)
	w.Account(a[1]).Regions = []string{"us-east-1", "af-south-1"}
	refused := fleettest.APIError("UnrecognizedClientException", "The security token included in the request is invalid.")
	rules := map[fleet.Target]error{}
	regions := []string{"us-east-1", "af-south-1", "ap-east-1", "xx-south-9"}
	for _, acct := range a {
		for _, r := range regions {
			rules[fleet.Target{Account: acct, Region: r}] = refused
		}
	}
	c, err := accountsetting.WhoAmI(ctx, w.STS())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var askedFrom []string
	f := fleet.New(aws.Config{Region: "us-east-1", Credentials: w.CallerCredentials()}, c, w.STS(), func(cfg aws.Config) fleet.RegionsAPI {
		mu.Lock()
		defer mu.Unlock()
		askedFrom = append(askedFrom, cfg.Region)
		return w.EC2(cfg)
	}, fleet.Options{Concurrency: 4})
	res := fleet.Run(ctx, f, a, regions, where(rules))
	var got []string
	for _, r := range res {
		got = append(got, r.Account+" "+r.Region+" "+string(r.Err.Kind))
	}
	want := []string{
		// us-east-1 is enabled: the credentials themselves were refused.
		a[0] + " us-east-1 expired-credentials", a[0] + " af-south-1 region-disabled", a[0] + " ap-east-1 region-disabled", a[0] + " xx-south-9 region-disabled",
		a[1] + " us-east-1 expired-credentials", a[1] + " af-south-1 expired-credentials", a[1] + " ap-east-1 region-disabled", a[1] + " xx-south-9 region-disabled",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var rne *fleet.RegionNotEnabledError
	if !errors.As(res[1].Err, &rne) || rne.OptInStatus != "not-opted-in" || !errors.Is(res[1].Err, refused) {
		t.Fatalf("af-south-1 error %v", res[1].Err)
	}
	if msg := res[1].Err.Error(); msg != "account "+a[0]+", Region af-south-1: region-disabled: Region af-south-1 is not enabled in account "+a[0]+" (opt-in status not-opted-in): list clusters: api error UnrecognizedClientException: The security token included in the request is invalid." {
		t.Fatalf("af-south-1 error: %s", msg)
	}
	if msg := res[3].Err.Error(); !strings.Contains(msg, "Region xx-south-9 is not enabled in account "+a[0]+" (not among the account's Regions)") {
		t.Fatalf("xx-south-9 error: %s", msg)
	}
	if n := w.Calls()["ec2:DescribeRegions"]; n != 2 || !slices.Equal(askedFrom, []string{"us-east-1", "us-east-1"}) {
		t.Fatalf("DescribeRegions called %d times from %v, want once per account from the caller's Region", n, askedFrom)
	}
}

// testRunFailuresAreRows: a denied role, a disabled Region and throttling are rows with their kinds, and the others succeed.
func testRunFailuresAreRows(t *testing.T) {
	ctx := context.Background()
	w := fleettest.New()
	a := w.AddAccounts(4, fleettest.Root)
	w.Account(a[1]).DenyAssume = true
	rules := map[fleet.Target]error{
		{Account: a[2], Region: "eu-west-1"}: fleettest.APIError("OptInRequired", "You are not subscribed to this service."),
		{Account: a[3], Region: "us-east-1"}: fleettest.APIError("ThrottlingException", "Rate exceeded"),
	}
	prog := &recorder{}
	f := newFleet(t, w, fleet.Options{Concurrency: 3, Progress: prog})
	res := fleet.Run(ctx, f, a, []string{"us-east-1", "eu-west-1"}, where(rules))
	var got []string
	for _, r := range res {
		line := r.Account + " " + r.Region + " " + r.Value
		if r.Err != nil {
			line += " " + string(r.Err.Kind)
		}
		got = append(got, line)
	}
	want := []string{
		a[0] + " us-east-1 " + a[0] + "/us-east-1", a[0] + " eu-west-1 " + a[0] + "/eu-west-1",
		a[1] + " us-east-1  access-denied", a[1] + " eu-west-1  access-denied",
		a[2] + " us-east-1 " + a[2] + "/us-east-1", a[2] + " eu-west-1  region-disabled",
		a[3] + " us-east-1  throttled", a[3] + " eu-west-1 " + a[3] + "/eu-west-1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	denied := res[2].Err.Error()
	if !strings.HasPrefix(denied, "account "+a[1]+", Region us-east-1: access-denied: assume role arn:aws:iam::"+a[1]+":role/OrganizationAccountAccessRole: ") || !strings.Contains(denied, "not authorized") {
		t.Fatalf("denied error: %s", denied)
	}
	if msg := res[5].Err.Error(); msg != "account "+a[2]+", Region eu-west-1: region-disabled: list clusters: api error OptInRequired: You are not subscribed to this service." {
		t.Fatalf("disabled Region error: %s", msg)
	}
	if n := w.Calls()["sts:AssumeRole"]; n != 4 {
		t.Fatalf("AssumeRole called %d times, want once per account", n)
	}
	if c := prog.last(); c != (fleet.Counts{Done: 8, Total: 8, Failed: 4}) {
		t.Fatalf("last progress %+v", c)
	}
}

// testRunAllRegions: all Regions are each account's enabled ones, and an account that cannot be assumed is one row.
func testRunAllRegions(t *testing.T) {
	ctx := context.Background()
	w := fleettest.New()
	a := w.AddAccounts(3, fleettest.Root)
	w.Account(a[0]).Regions = []string{"us-west-2", "ap-southeast-2"}
	w.Account(a[2]).DenyAssume = true
	prog := &recorder{}
	f := newFleet(t, w, fleet.Options{Concurrency: 2, Progress: prog})
	res := fleet.Run(ctx, f, a, nil, where(nil))
	var got []string
	for _, r := range res {
		got = append(got, r.Account+" "+r.Region+" "+r.Value)
	}
	want := []string{a[0] + " ap-southeast-2 " + a[0] + "/ap-southeast-2", a[0] + " us-west-2 " + a[0] + "/us-west-2"}
	for _, r := range fleettest.DefaultRegions {
		want = append(want, a[1]+" "+r+" "+a[1]+"/"+r)
	}
	want = append(want, a[2]+"  ")
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if e := res[len(res)-1].Err; e == nil || e.Kind != fleet.KindAccessDenied || !strings.HasPrefix(e.Error(), "account "+a[2]+": access-denied: assume role") {
		t.Fatalf("last row error %v", e)
	}
	if n := w.Calls()["ec2:DescribeRegions"]; n != 2 {
		t.Fatalf("DescribeRegions called %d times, want once per assumed account", n)
	}
	if c := prog.last(); c != (fleet.Counts{Done: 7, Total: 7, Failed: 1}) {
		t.Fatalf("last progress %+v", c)
	}
}

// testRunCallerAccount: the caller's own account is read with the caller's credentials, without AssumeRole.
func testRunCallerAccount(t *testing.T) {
	ctx := context.Background()
	w := fleettest.New()
	a := w.AddAccounts(1, fleettest.Root)
	f := newFleet(t, w, fleet.Options{})
	res := fleet.Run(ctx, f, []string{w.Caller, a[0]}, []string{"us-east-1"}, where(nil))
	if len(res) != 2 || res[0].Value != w.Caller+"/us-east-1" || res[1].Value != a[0]+"/us-east-1" || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("results %+v", res)
	}
	if n := w.Calls()["sts:AssumeRole"]; n != 1 {
		t.Fatalf("AssumeRole called %d times, want 1", n)
	}
}

// testRunConcurrency: concurrency bounds the targets in flight, which spread over accounts, and results keep their order.
func testRunConcurrency(t *testing.T) {
	ctx := context.Background()
	w := fleettest.New()
	a := w.AddAccounts(12, fleettest.Root)
	var inFlight, peak atomic.Int32
	var mu sync.Mutex
	perAccount := map[string]int{}
	overlapping := 0 // targets started while another of their account ran
	fn := func(_ context.Context, t fleet.Target, _ aws.Config) (string, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		mu.Lock()
		if perAccount[t.Account] > 0 {
			overlapping++
		}
		perAccount[t.Account]++
		mu.Unlock()
		// Later targets finish sooner, so completion order differs from the result order.
		time.Sleep(time.Duration(20-len(t.Region)) * time.Millisecond)
		mu.Lock()
		perAccount[t.Account]--
		mu.Unlock()
		return t.String(), nil
	}
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"}
	res := fleet.Run(ctx, newFleet(t, w, fleet.Options{Concurrency: 4}), a, regions, fn)
	if len(res) != 48 {
		t.Fatalf("%d results", len(res))
	}
	for i, r := range res {
		want := fleet.Target{Account: a[i/4], Region: regions[i%4]}
		if r.Target != want || r.Value != want.String() {
			t.Fatalf("result %d is %+v, want %v", i, r, want)
		}
	}
	if p := peak.Load(); p != 4 {
		t.Fatalf("peak targets in flight %d, want 4", p)
	}
	// Taken account by account, 3 of every 4 targets would overlap (36);
	// spread, only the tail's last accounts can.
	if overlapping > 12 {
		t.Fatalf("%d of 48 targets started while another of their account ran; the scheduler should spread them", overlapping)
	}
}

// testRunCancelled: a cancelled run marks what it did not do as canceled.
func testRunCancelled(t *testing.T) {
	ctx := context.Background()
	w := fleettest.New()
	a := w.AddAccounts(2, fleettest.Root)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	res := fleet.Run(cctx, newFleet(t, w, fleet.Options{}), a, []string{"us-east-1"}, where(nil))
	if len(res) != 2 || res[0].Err == nil || res[0].Err.Kind != fleet.KindCanceled || !errors.Is(res[1].Err, context.Canceled) {
		t.Fatalf("results %+v", res)
	}
}

// stsServer answers GetCallerIdentity over the wire, throttling every call
// signed for one Region, and counts calls per Region.
func stsServer(t *testing.T, throttled string) (*httptest.Server, *sync.Map) {
	counts := &sync.Map{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization") // Credential=AKID/DATE/REGION/sts/aws4_request
		region := ""
		if i := strings.Index(auth, "Credential="); i >= 0 {
			if parts := strings.Split(auth[i:], "/"); len(parts) > 2 {
				region = parts[2]
			}
		}
		n, _ := counts.LoadOrStore(region, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		w.Header().Set("Content-Type", "text/xml")
		if region == throttled {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>`)
			return
		}
		_, _ = fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::000000000001:user/operator</Arn><UserId>AIDA</UserId><Account>000000000001</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	}))
	t.Cleanup(srv.Close)
	return srv, counts
}

func TestRunWithSDKClients(t *testing.T) {
	srv, counts := stsServer(t, "eu-west-1")
	base := aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDCALLER", SecretAccessKey: "x"}, nil
		}),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 3; o.MaxBackoff = time.Millisecond })
		},
	}
	caller := fleet.Caller{Principal: awsarn.Principal{AccountID: "000000000001", Partition: "aws"}}
	// 2 calls per second after a burst of 1: the 3 attempts into the
	// throttled Region and the 3 calls into the other take >= 2.5 s.
	f := fleet.New(base, caller, nil, nil, fleet.Options{AccountRate: 2, AccountBurst: 1})
	start := time.Now()
	res := fleet.Run(context.Background(), f, []string{caller.Account()}, []string{"us-east-1", "eu-west-1"},
		func(ctx context.Context, _ fleet.Target, cfg aws.Config) (int, error) {
			c := sts.NewFromConfig(cfg)
			for i := range 3 {
				if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
					return i, err
				}
			}
			return 3, nil
		})
	wall := time.Since(start)
	if len(res) != 2 || res[0].Err != nil || res[0].Value != 3 || res[1].Err == nil || res[1].Err.Kind != fleet.KindThrottled {
		t.Fatalf("results %+v", res)
	}
	if !strings.HasPrefix(res[1].Err.Error(), "account 000000000001, Region eu-west-1: throttled: operation error STS: GetCallerIdentity") {
		t.Fatalf("error %s", res[1].Err)
	}
	if wall < 2400*time.Millisecond || wall > 10*time.Second {
		t.Fatalf("wall %s, want about 2.5 s under the account's rate limit", wall)
	}
	for region, want := range map[string]int32{"us-east-1": 3, "eu-west-1": 3} {
		n, _ := counts.Load(region)
		if n == nil || n.(*atomic.Int32).Load() != want {
			t.Fatalf("%s: %v calls, want %d", region, n, want)
		}
	}
}

func TestARegionNotEnabledIsFoundWithSDKClients(t *testing.T) {
	// ECS refuses the credentials in af-south-1; EC2 (asked from the
	// caller's Region) says af-south-1 is not opted in.
	var asked sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		region := "?"
		if _, scope, ok := strings.Cut(auth, "Credential="); ok {
			if parts := strings.Split(scope, "/"); len(parts) > 3 {
				region = parts[2] + "/" + parts[3]
			}
		}
		n, _ := asked.LoadOrStore(region, &atomic.Int32{})
		n.(*atomic.Int32).Add(1)
		switch {
		case strings.HasSuffix(region, "/ec2"):
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, `<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><regionInfo>`+
				`<item><regionName>us-east-1</regionName><optInStatus>opt-in-not-required</optInStatus></item>`+
				`<item><regionName>af-south-1</regionName><optInStatus>not-opted-in</optInStatus></item></regionInfo></DescribeRegionsResponse>`)
		case region == "af-south-1/ecs":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."}`)
		default:
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprint(w, `{"clusterArns":[]}`)
		}
	}))
	defer srv.Close()
	base := aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDCALLER", SecretAccessKey: "x"}, nil
		}),
		Retryer: func() aws.Retryer { return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 1 }) },
	}
	caller := fleet.Caller{Principal: awsarn.Principal{AccountID: "000000000001", Partition: "aws"}}
	f := fleet.New(base, caller, nil, func(cfg aws.Config) fleet.RegionsAPI { return ec2.NewFromConfig(cfg) }, fleet.Options{})
	res := fleet.Run(context.Background(), f, []string{caller.Account()}, []string{"us-east-1", "af-south-1"},
		func(ctx context.Context, _ fleet.Target, cfg aws.Config) (int, error) {
			out, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{})
			if err != nil {
				return 0, err
			}
			return len(out.ClusterArns), nil
		})
	if len(res) != 2 || res[0].Err != nil || res[1].Err == nil || res[1].Err.Kind != fleet.KindRegionDisabled {
		t.Fatalf("results %+v", res)
	}
	if msg := res[1].Err.Error(); !strings.HasPrefix(msg, "account 000000000001, Region af-south-1: region-disabled: Region af-south-1 is not enabled in account 000000000001 (opt-in status not-opted-in): operation error ECS: ListClusters") {
		t.Fatalf("error %s", msg)
	}
	n, _ := asked.Load("us-east-1/ec2")
	if n == nil || n.(*atomic.Int32).Load() != 1 {
		t.Fatalf("DescribeRegions from us-east-1: %v calls, want 1", n)
	}
}
