// Package fleettest is a fake AWS Organization for fleet's tests and
// benchmark: accounts in a tree of OUs, an STS that assumes roles into them
// (or refuses to), and each account's Regions, behind fakes with the SDK's
// exact method signatures. Credentials it hands out name their account, so a
// fake service can tell which account a call is made in (AccountOf).
package fleettest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/trunkctl/trunkctl/internal/testutil/callmeter"
)

// PageSize is the page size of every list the fakes answer (ListAccounts'
// maximum is 20).
const PageSize = 20

// Account is a member account.
type Account struct {
	ID     string
	Name   string
	Parent string // an OU or root id; default Root
	State  orgtypes.AccountState
	// Regions enabled in the account; nil means DefaultRegions.
	Regions []string
	// DenyAssume makes AssumeRole into this account fail with AccessDenied.
	DenyAssume bool
	// DenySourceIdentity: the role's trust policy does not allow
	// sts:SetSourceIdentity, so an AssumeRole that sets one is refused.
	DenySourceIdentity bool
}

// Root is the organization's root id.
const Root = "r-root"

// DefaultRegions are enabled in an account unless it says otherwise; the
// Regions after them exist but are not enabled.
var (
	DefaultRegions  = []string{"eu-west-1", "us-east-1", "us-east-2", "us-west-2"}
	DisabledRegions = []string{"af-south-1", "ap-east-1"}
)

// World is the fake organization. Fill the exported fields before use.
type World struct {
	Caller    string // the caller's account id; it is the management account
	Partition string // default aws
	Accounts  []Account
	// OUs maps an OU id to its parent (an OU or Root).
	OUs map[string]string
	// Latency is added to every call.
	Latency time.Duration

	meter callmeter.Meter

	mu      sync.Mutex
	assumes []sts.AssumeRoleInput
}

// AssumeInputs are the AssumeRole requests made so far, refused ones too.
func (w *World) AssumeInputs() []sts.AssumeRoleInput {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]sts.AssumeRoleInput(nil), w.assumes...)
}

// New returns a World whose caller is account 000000000001 in partition aws.
func New() *World {
	return &World{Caller: "000000000001", Partition: "aws", OUs: map[string]string{}}
}

// AddAccounts adds n ACTIVE accounts 100000000001, 100000000002, ... under parent.
func (w *World) AddAccounts(n int, parent string) []string {
	var ids []string
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("1%011d", len(w.Accounts)+1)
		w.Accounts = append(w.Accounts, Account{ID: id, Name: "acct-" + id, Parent: parent, State: orgtypes.AccountStateActive})
		ids = append(ids, id)
	}
	return ids
}

// Account returns the account with id, for tests to change.
func (w *World) Account(id string) *Account {
	for i := range w.Accounts {
		if w.Accounts[i].ID == id {
			return &w.Accounts[i]
		}
	}
	return nil
}

// CallerCredentials are the caller's own (static) credentials.
func (w *World) CallerCredentials() aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIA" + w.Caller, SecretAccessKey: "x", Source: "fleettest"}, nil
	})
}

// AccountOf says which account cfg's credentials belong to.
func AccountOf(ctx context.Context, cfg aws.Config) (string, error) {
	c, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return "", err
	}
	if len(c.AccessKeyID) != 16 {
		return "", fmt.Errorf("credentials %q are not fleettest's", c.AccessKeyID)
	}
	return c.AccessKeyID[4:], nil
}

// Enter counts a call to op, waits the latency, and returns the func that
// ends the call; fakes of other services use it to share the counts.
func (w *World) Enter(ctx context.Context, op string) (func(), error) {
	_, leave := w.meter.Enter(op)
	if err := callmeter.Wait(ctx, w.Latency); err != nil {
		leave()
		return nil, err
	}
	return leave, nil
}

// Calls returns the calls made so far by operation.
func (w *World) Calls() map[string]int { return w.meter.Calls() }

// TotalCalls is the number of calls made so far.
func (w *World) TotalCalls() int { return w.meter.Total() }

// PeakInFlight is the most calls that were in flight at once.
func (w *World) PeakInFlight() int { return w.meter.Peak() }

// APIError builds a client-fault API error with a code, as AWS returns.
func APIError(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg, Fault: smithy.FaultClient}
}

// STS returns the caller's STS client.
func (w *World) STS() *STS { return &STS{w: w} }

// STS is the fake STS: the caller's identity, and AssumeRole into accounts.
type STS struct{ w *World }

func (s *STS) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	leave, err := s.w.Enter(ctx, "sts:GetCallerIdentity")
	if err != nil {
		return nil, err
	}
	defer leave()
	return &sts.GetCallerIdentityOutput{Account: aws.String(s.w.Caller), UserId: aws.String("AIDACALLER"),
		Arn: aws.String(fmt.Sprintf("arn:%s:iam::%s:user/operator", s.w.partition(), s.w.Caller))}, nil
}

func (s *STS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	leave, err := s.w.Enter(ctx, "sts:AssumeRole")
	if err != nil {
		return nil, err
	}
	defer leave()
	s.w.mu.Lock()
	s.w.assumes = append(s.w.assumes, *in)
	s.w.mu.Unlock()
	a, err := arn.Parse(aws.ToString(in.RoleArn))
	if err != nil || a.Partition != s.w.partition() || !strings.HasPrefix(a.Resource, "role/") {
		return nil, APIError("ValidationError", fmt.Sprintf("%q is not a role ARN in partition %s", aws.ToString(in.RoleArn), s.w.partition()))
	}
	acct := s.w.Account(a.AccountID)
	if acct == nil || acct.DenyAssume {
		return nil, APIError("AccessDenied", fmt.Sprintf("User: arn:%s:iam::%s:user/operator is not authorized to perform: sts:AssumeRole on resource: %s", s.w.partition(), s.w.Caller, aws.ToString(in.RoleArn)))
	}
	if acct.DenySourceIdentity && in.SourceIdentity != nil {
		return nil, APIError("AccessDenied", fmt.Sprintf("User: arn:%s:iam::%s:user/operator is not authorized to perform: sts:SetSourceIdentity on resource: %s", s.w.partition(), s.w.Caller, aws.ToString(in.RoleArn)))
	}
	exp := time.Now().Add(time.Hour)
	return &sts.AssumeRoleOutput{
		Credentials: &ststypes.Credentials{AccessKeyId: aws.String("ASIA" + a.AccountID), SecretAccessKey: aws.String("x"), SessionToken: aws.String("t"), Expiration: &exp},
		AssumedRoleUser: &ststypes.AssumedRoleUser{Arn: aws.String(fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", a.Partition, a.AccountID, strings.TrimPrefix(a.Resource, "role/"), aws.ToString(in.RoleSessionName))),
			AssumedRoleId: aws.String("AROA" + a.AccountID)},
	}, nil
}

func (w *World) partition() string {
	if w.Partition == "" {
		return "aws"
	}
	return w.Partition
}

// Organizations returns the management account's Organizations client.
func (w *World) Organizations() *Organizations { return &Organizations{w: w} }

// Organizations is the fake AWS Organizations.
type Organizations struct{ w *World }

func pageOf[T any](items []T, token *string) ([]T, *string, error) {
	start := 0
	if token != nil {
		n, err := strconv.Atoi(*token)
		if err != nil || n < 0 || n > len(items) {
			return nil, nil, APIError("InvalidInputException", "bad NextToken")
		}
		start = n
	}
	end := min(start+PageSize, len(items))
	var next *string
	if end < len(items) {
		next = aws.String(strconv.Itoa(end))
	}
	return items[start:end], next, nil
}

func (w *World) orgAccount(a Account) orgtypes.Account {
	st := a.State
	if st == "" {
		st = orgtypes.AccountStateActive
	}
	return orgtypes.Account{Id: aws.String(a.ID), Name: aws.String(a.Name), State: st}
}

func (o *Organizations) ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	leave, err := o.w.Enter(ctx, "organizations:ListAccounts")
	if err != nil {
		return nil, err
	}
	defer leave()
	var all []orgtypes.Account
	for _, a := range o.w.Accounts {
		all = append(all, o.w.orgAccount(a))
	}
	page, next, err := pageOf(all, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &organizations.ListAccountsOutput{Accounts: page, NextToken: next}, nil
}

func (o *Organizations) checkParent(id string) error {
	if _, ok := o.w.OUs[id]; ok || id == Root {
		return nil
	}
	return APIError("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
}

func (o *Organizations) ListAccountsForParent(ctx context.Context, in *organizations.ListAccountsForParentInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error) {
	leave, err := o.w.Enter(ctx, "organizations:ListAccountsForParent")
	if err != nil {
		return nil, err
	}
	defer leave()
	parent := aws.ToString(in.ParentId)
	if err := o.checkParent(parent); err != nil {
		return nil, err
	}
	var all []orgtypes.Account
	for _, a := range o.w.Accounts {
		if a.Parent == parent || (a.Parent == "" && parent == Root) {
			all = append(all, o.w.orgAccount(a))
		}
	}
	page, next, err := pageOf(all, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &organizations.ListAccountsForParentOutput{Accounts: page, NextToken: next}, nil
}

func (o *Organizations) ListOrganizationalUnitsForParent(ctx context.Context, in *organizations.ListOrganizationalUnitsForParentInput, _ ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error) {
	leave, err := o.w.Enter(ctx, "organizations:ListOrganizationalUnitsForParent")
	if err != nil {
		return nil, err
	}
	defer leave()
	parent := aws.ToString(in.ParentId)
	if err := o.checkParent(parent); err != nil {
		return nil, err
	}
	var all []orgtypes.OrganizationalUnit
	for ou, p := range o.w.OUs {
		if p == parent {
			all = append(all, orgtypes.OrganizationalUnit{Id: aws.String(ou), Name: aws.String(ou)})
		}
	}
	slices.SortFunc(all, func(a, b orgtypes.OrganizationalUnit) int {
		return strings.Compare(aws.ToString(a.Id), aws.ToString(b.Id))
	})
	page, next, err := pageOf(all, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &organizations.ListOrganizationalUnitsForParentOutput{OrganizationalUnits: page, NextToken: next}, nil
}

// EC2 returns the Regions client for cfg's account (fleet.New's newRegions).
func (w *World) EC2(cfg aws.Config) *EC2 { return &EC2{w: w, cfg: cfg} }

// EC2 is the fake EC2 DescribeRegions of one account.
type EC2 struct {
	w   *World
	cfg aws.Config
}

func (e *EC2) DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	leave, err := e.w.Enter(ctx, "ec2:DescribeRegions")
	if err != nil {
		return nil, err
	}
	defer leave()
	id, err := AccountOf(ctx, e.cfg)
	if err != nil {
		return nil, err
	}
	enabled := DefaultRegions
	if a := e.w.Account(id); a != nil && a.Regions != nil {
		enabled = a.Regions
	}
	var out []ec2types.Region
	for _, r := range enabled {
		out = append(out, ec2types.Region{RegionName: aws.String(r), OptInStatus: aws.String("opt-in-not-required")})
	}
	if aws.ToBool(in.AllRegions) {
		for _, r := range DisabledRegions {
			if slices.Contains(enabled, r) {
				continue
			}
			out = append(out, ec2types.Region{RegionName: aws.String(r), OptInStatus: aws.String("not-opted-in")})
		}
	}
	return &ec2.DescribeRegionsOutput{Regions: out}, nil
}
