package fleet

import (
	"context"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
)

// Caller is the identity trunkctl runs as (accountsetting's one type); its
// partition names the roles assumed in the other accounts.
type Caller = accountsetting.Caller

// Options shape a Fleet; zero values take the defaults.
type Options struct {
	// RoleName is the role assumed for reads in every account but the
	// caller's own (e.g. the member template's read-only role).
	RoleName string
	// WriteRoleName is the role assumed for writes (WriteConfig); default
	// RoleName.
	WriteRoleName string
	// Concurrency bounds the accounts and targets worked on at once.
	Concurrency int
	// AccountRate and AccountBurst limit the API calls per second into one account.
	AccountRate  rate.Limit
	AccountBurst int
	// Progress hears how far a Run is; nil for none.
	Progress Progress
}

// Fleet hands out one aws.Config per account and Region (the caller's own
// credentials in the caller's account, an assumed role's elsewhere, cached
// and refreshed by the SDK) and runs work across targets (see Run).
type Fleet struct {
	base   aws.Config
	caller Caller
	opts   Options
	assume stscreds.AssumeRoleAPIClient
	// newRegions builds the client that lists an account's Regions.
	newRegions func(aws.Config) RegionsAPI

	mu       sync.Mutex
	accounts map[string]*account
}

type account struct {
	creds aws.CredentialsProvider // nil: the base config's
	// writeCreds are the write role's (creds when it is the same role).
	writeCreds aws.CredentialsProvider
	limiter    *rate.Limiter
	// regions are the account's Regions by opt-in status, read at most
	// once (see Explain).
	regions struct {
		once   sync.Once
		status map[string]string
		err    error
	}
}

// New builds a Fleet on base (the caller's configuration). assume is the
// caller's STS client; newRegions builds an EC2 client (ec2.NewFromConfig
// fits through a func literal) for accounts whose Regions are listed.
func New(base aws.Config, caller Caller, assume stscreds.AssumeRoleAPIClient, newRegions func(aws.Config) RegionsAPI, opts Options) *Fleet {
	if opts.RoleName == "" {
		opts.RoleName = DefaultRoleName
	}
	if opts.WriteRoleName == "" {
		opts.WriteRoleName = opts.RoleName
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.AccountRate <= 0 {
		opts.AccountRate = DefaultAccountRate
	}
	if opts.AccountBurst <= 0 {
		opts.AccountBurst = DefaultAccountBurst
	}
	return &Fleet{base: base, caller: caller, opts: opts, assume: assume, newRegions: newRegions, accounts: map[string]*account{}}
}

// Caller is who the fleet runs as.
func (f *Fleet) Caller() Caller { return f.caller }

// RoleARN is the role assumed for reads in account.
func (f *Fleet) RoleARN(accountID string) string { return f.roleARN(accountID, f.opts.RoleName) }

// WriteRoleARN is the role assumed for writes in account.
func (f *Fleet) WriteRoleARN(accountID string) string {
	return f.roleARN(accountID, f.opts.WriteRoleName)
}

func (f *Fleet) roleARN(accountID, name string) string {
	return arn.ARN{Partition: f.caller.Principal.Partition, Service: "iam", AccountID: accountID, Resource: "role/" + name}.String()
}

// assumeRole is the credentials of one role in one account, in sessions
// that carry the caller's name (SessionNameFor) and, where the role's trust
// allows sts:SetSourceIdentity, the caller as SourceIdentity: the member
// accounts' CloudTrail says who ran trunkctl.
func (f *Fleet) assumeRole(roleARN string) aws.CredentialsProvider {
	who := CallerName(f.caller.Arn)
	return aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sourceIdentityFallback{f.assume}, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = SessionNameFor(who)
		o.SourceIdentity = aws.String(SourceIdentityFor(who))
	}))
}

func (f *Fleet) account(id string) *account {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.accounts[id]
	if a == nil {
		a = &account{limiter: rate.NewLimiter(f.opts.AccountRate, f.opts.AccountBurst)}
		if id != f.caller.Account() {
			a.creds = f.assumeRole(f.RoleARN(id))
			a.writeCreds = a.creds
			if f.opts.WriteRoleName != f.opts.RoleName {
				a.writeCreds = f.assumeRole(f.WriteRoleARN(id))
			}
		}
		f.accounts[id] = a
	}
	return a
}

// Config is the configuration for reads in account and region: the read
// role's credentials, and the account's rate limit on every attempt of
// every call.
func (f *Fleet) Config(accountID, region string) aws.Config {
	return f.config(accountID, region, false)
}

// WriteConfig is Config with the write role's credentials (--write-role-name).
func (f *Fleet) WriteConfig(accountID, region string) aws.Config {
	return f.config(accountID, region, true)
}

func (f *Fleet) config(accountID, region string, write bool) aws.Config {
	a := f.account(accountID)
	cfg := f.base.Copy()
	cfg.Region = region
	creds := a.creds
	if write {
		creds = a.writeCreds
	}
	if creds != nil {
		cfg.Credentials = creds
	}
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), rateLimit(a.limiter))
	return cfg
}

// rateLimit makes every attempt of a call wait for the account's limiter,
// after the retryer (so retries are limited too) and before signing.
func rateLimit(l *rate.Limiter) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		mw := middleware.FinalizeMiddlewareFunc("TrunkctlAccountRateLimit", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if err := l.Wait(ctx); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			return next.HandleFinalize(ctx, in)
		})
		if err := st.Finalize.Insert(mw, "Retry", middleware.After); err == nil {
			return nil
		}
		return st.Finalize.Add(mw, middleware.Before)
	}
}

type limiterKey struct{}

// WaitTurn waits for the rate limit of the account whose work ctx carries
// (Run puts it there). Clients built from the config Run passes wait by
// themselves; clients that do not go through the SDK's middleware (fakes)
// call this before each call.
func WaitTurn(ctx context.Context) error {
	if l, ok := ctx.Value(limiterKey{}).(*rate.Limiter); ok {
		return l.Wait(ctx)
	}
	return nil
}
