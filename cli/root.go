// Package cli is trunkctl's command line: one file per command, each an
// xxxOpts struct with Validate, Execute and RecommendActions. Cobra only
// parses flags and hands them to the opts; tests build the opts directly.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/awsclient"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/rollout"
)

// Flag names.
const (
	flagProfile    = "profile"
	flagRegion     = "region"
	flagOutput     = "output"
	flagNoColor    = "no-color"
	flagDebug      = "debug"
	flagRole       = "role"
	flagCluster    = "cluster"
	flagInstance   = "instance"
	flagFamily     = "family"
	flagDefault    = "default"
	flagYes        = "yes"
	flagDryRun     = "dry-run"
	flagStuckAfter = "stuck-after"
	flagNoRoles    = "no-roles"
	flagWide       = "wide"
)

// defaultStuckAfter is how long a task may be PROVISIONING before doctor
// (and instances, which judge alike) call it stuck.
const defaultStuckAfter = 5 * time.Minute

// SettingsECS is the ECS client for account settings, including the
// account default.
type SettingsECS interface {
	accountsetting.ECSAPI
	PutAccountSettingDefault(ctx context.Context, in *ecs.PutAccountSettingDefaultInput, optFns ...func(*ecs.Options)) (*ecs.PutAccountSettingDefaultOutput, error)
}

// AWS holds the clients commands use, as SDK-shaped interfaces.
type AWS struct {
	Region   string
	ECS      inventory.ECSAPI
	EC2      inventory.EC2API
	IAM      inventory.IAMAPI
	STS      accountsetting.STSAPI
	Settings SettingsECS
	// NewECS builds a settings client with other credentials (after AssumeRole).
	NewECS accountsetting.ECSFactory
	// AutoScaling and CloudTrail are read by instances and doctor (the
	// capacity behind the cluster, when roles were opted in); nil skips
	// those reads with a warning finding.
	AutoScaling inventory.AutoScalingAPI
	CloudTrail  inventory.CloudTrailAPI
	// Rollout are the ECS and Auto Scaling clients of trunkctl rollout.
	Rollout RolloutClients
}

// RolloutClients are what trunkctl rollout changes the cluster with.
type RolloutClients struct {
	ECS rollout.ECSAPI
	ASG rollout.AutoScalingAPI
	// Clock is what it waits on (the wall clock when nil).
	Clock rollout.Clock
}

// GlobalOptions are the flags every command takes.
type GlobalOptions struct {
	Profile string
	Region  string
	Output  string
	NoColor bool
	Debug   bool
	// Timeout bounds the whole run (--timeout); zero means no bound.
	Timeout time.Duration

	// progress hears the AWS clients' retries (the run's streams).
	progress awsclient.Progress
	// redactor hides the secrets the clients saw, in errors at the edge.
	redactor *awsclient.Redactor
}

// Deps are what trunkctl needs from outside; main builds the real ones and
// tests pass fakes.
type Deps struct {
	IO *IOStreams
	// AWS returns the clients for the global options.
	AWS     func(ctx context.Context, g GlobalOptions, debugOut io.Writer) (*AWS, error)
	Catalog *catalog.Catalog
	Now     func() time.Time
	// Concurrency bounds AWS calls in flight (inventory.DefaultConcurrency when 0).
	Concurrency int
	// AssumeWait bounds retries of AssumeRole while IAM propagates.
	AssumeWait time.Duration
	// Fleet returns what a fanned-out run needs (RealFleetAWS when nil).
	Fleet func(ctx context.Context, g GlobalOptions, debugOut io.Writer) (*FleetAWS, error)
}

// RealAWS loads the AWS configuration and builds the SDK clients.
func RealAWS(ctx context.Context, g GlobalOptions, debugOut io.Writer) (*AWS, error) {
	cfg, err := awsclient.Load(ctx, awsclient.Options{Profile: g.Profile, Region: g.Region, Debug: g.Debug, DebugOut: debugOut,
		AttemptTimeout: attemptTimeout(g.Timeout), Progress: g.progress, Redactor: g.redactor})
	if err != nil {
		return nil, err
	}
	return awsOf(awsclient.New(cfg)), nil
}

// awsOf is the AWS of SDK clients built from one configuration.
func awsOf(c *awsclient.Clients) *AWS {
	return &AWS{
		Region: c.Config.Region, ECS: c.ECS, EC2: c.EC2, IAM: c.IAM, STS: c.STS, Settings: c.ECS,
		NewECS:      accountsetting.NewECSFactory(c.Config),
		AutoScaling: c.AutoScaling, CloudTrail: c.CloudTrail,
		Rollout: RolloutClients{ECS: c.ECS, ASG: c.AutoScaling},
	}
}

// clients are the AWS-backed services commands call, built in one place
// (connect) from the AWS clients: the target's assessment session (reads,
// the judge's input, acting as a role) and what rollout changes with.
type clients struct {
	region  string
	session *assess.Session
	// shared is the account-wide reads the read commands' clusters share
	// in this target (--all-clusters reads them once, not per cluster).
	shared  *assess.Shared
	rollout RolloutClients
}

// env is what every command takes from outside: its streams, the output
// format, the catalog, the clock, and how to reach AWS. NewRootCmd builds it
// once per run, after the global flags are parsed; tests build it directly.
type env struct {
	io      *IOStreams
	output  string
	catalog *catalog.Catalog
	now     func() time.Time
	// clients connects to AWS. Commands call it in Execute, after Validate,
	// so a usage error needs no credentials.
	clients func(ctx context.Context) (*clients, error)
	// fan runs the command across accounts and Regions (nil in tests of one target).
	fan *fanOut
}

// newEnv builds the env of one run from the dependencies and global flags;
// st, when not nil, learns the Region for error messages.
func newEnv(deps Deps, g GlobalOptions, st *runState) env {
	s := *deps.IO
	s.NoColor = s.NoColor || g.NoColor
	s.progress = &progressState{quiet: g.Output != outputTable}
	g.progress = &s
	if st != nil {
		g.redactor = st.redactor
	}
	e := env{io: &s, output: g.Output, catalog: deps.Catalog, now: deps.Now}
	if e.catalog == nil {
		e.catalog = catalog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.clients = func(ctx context.Context) (*clients, error) {
		c, err := deps.AWS(ctx, g, deps.IO.ErrOut)
		if err != nil {
			return nil, err
		}
		if st != nil {
			st.connected(c)
		}
		return connect(c, deps.Concurrency, deps.AssumeWait), nil
	}
	return e
}

// connect builds the clients and, before any AWS call, checks the input
// that depends on the Region (a role ARN of another partition, a cluster
// ARN of another Region); such a mistake is a usage error.
func (e env) connect(ctx context.Context, v regionValidator) (*clients, error) {
	c, err := e.clients(ctx)
	if err != nil {
		return nil, err
	}
	if v != nil {
		if err := v.ValidateRegion(c.region); err != nil {
			return nil, asUsage(err)
		}
	}
	return c, nil
}

// regionValidator is a command whose input can be wrong for a Region.
type regionValidator interface {
	ValidateRegion(region string) error
}

// connect builds the services commands call from the AWS clients.
func connect(c *AWS, concurrency int, assumeWait time.Duration) *clients {
	loader := inventory.NewLoader(c.ECS, c.EC2, c.IAM, concurrency)
	stsc := &accountsetting.OnceCaller{STSAPI: c.STS}
	return &clients{
		region: c.Region,
		session: &assess.Session{
			Region: c.Region, Loader: loader, Signals: loader.Signals(c.AutoScaling, c.CloudTrail),
			Roles: accountsetting.Resolver{
				STS: stsc, ECS: c.Settings, PrincipalArnFirst: true,
				Assumer: accountsetting.Assumer{STS: stsc, NewECS: c.NewECS, SessionName: "trunkctl", PropagationWait: assumeWait, IAM: roleGetter(c.IAM)},
			},
			Defaults: c.Settings,
		},
		shared:  &assess.Shared{},
		rollout: c.Rollout,
	}
}

// command is the machine every subcommand is: its options hold flag values
// and dependencies; Validate checks them and changes nothing; Execute
// returns what it found or did (R), and RecommendActions says the next step
// from that result.
type command[R any] interface {
	Validate() error
	Execute(ctx context.Context) (R, error)
	RecommendActions(R)
}

// run validates (a failure is a usage error), executes, and recommends the
// next step even when the checks found something unhealthy.
func run[R any](ctx context.Context, c command[R]) error {
	if err := c.Validate(); err != nil {
		return asUsage(err)
	}
	res, err := c.Execute(ctx)
	if err != nil && ExitCodeOf(err) != ExitUnhealthy {
		return err
	}
	c.RecommendActions(res)
	return err
}

// roleGetter is the IAM client when it can say whether a role exists.
func roleGetter(c inventory.IAMAPI) accountsetting.RoleGetter {
	g, _ := c.(accountsetting.RoleGetter)
	return g
}

// NewRootCmd builds the trunkctl command tree.
func NewRootCmd(deps Deps) *cobra.Command {
	root, _ := newRoot(deps)
	return root
}

// newRoot builds the command tree and the state Run reads after it ran.
func newRoot(deps Deps) (*cobra.Command, *runState) {
	var global GlobalOptions
	st := &runState{redactor: &awsclient.Redactor{}}
	var fan FleetOptions
	envOf := func() env {
		e := newEnv(deps, global, st)
		e.fan = newFanOut(deps, global, fan)
		return e
	}
	root := &cobra.Command{
		Use:   "trunkctl",
		Short: "Verify, enable and inspect ECS ENI trunking (awsvpcTrunking)",
		Long: `trunkctl turns on ECS ENI trunking (awsvpcTrunking) per instance role and proves it
worked: who is opted in, which container instances got a trunk ENI, which branch
ENIs serve which tasks, what is wrong, and how many tasks fit per instance type.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       versionText(),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q for %q%s", args[0], cmd.CommandPath(), didYouMean(cmd.SuggestionsFor(args[0])))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := validateOutput(global.Output); err != nil {
				return err
			}
			for _, f := range []string{flagProfile, flagRegion} {
				if fl := cmd.Flags().Lookup(f); fl != nil && fl.Changed && strings.TrimSpace(fl.Value.String()) == "" {
					return usageErrorf("--%s is empty; leave it out to use the default", f)
				}
			}
			if err := validateRegionFlag(global.Region, fan.Regions); err != nil {
				return err
			}
			if global.Timeout < 0 {
				return usageErrorf("--%s must not be negative", flagTimeout)
			}
			st.profile = global.Profile
			st.startTimeout(cmd, global.Timeout, cmd.Flags().Changed(flagTimeout))
			return validateFleet(cmd, fan)
		},
	}
	root.SuggestionsMinimumDistance = 2
	pf := root.PersistentFlags()
	pf.StringVar(&global.Profile, flagProfile, "", "AWS profile from the shared config (else AWS_PROFILE or default)")
	pf.StringVar(&global.Region, flagRegion, "", "AWS Region (else AWS_REGION or the profile's region)")
	pf.StringVarP(&global.Output, flagOutput, "o", outputTable, "output format: table, wide (every column; instances and enis), json or yaml")
	pf.BoolVar(&global.NoColor, flagNoColor, false, "no colour in tables (also NO_COLOR)")
	pf.BoolVar(&global.Debug, flagDebug, false, "log every AWS request and response to stderr, secrets redacted")
	pf.DurationVar(&global.Timeout, flagTimeout, 0, "bound the whole run, e.g. 2m (default: 5m for reads, none for writes; 0: none)")
	_ = root.RegisterFlagCompletionFunc(flagOutput, cobra.FixedCompletions([]string{outputTable, outputWide, outputJSON, outputYAML}, cobra.ShellCompDirectiveNoFileComp))
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		if ferr := notFanned(cmd, err); ferr != nil {
			return ferr
		}
		return asUsage(err)
	})
	root.AddCommand(
		fleetCmd(newStatusCmd(envOf), &fan),
		fleetCmd(newEnableCmd(envOf, accountsetting.Enabled), &fan),
		fleetCmd(newEnableCmd(envOf, accountsetting.Disabled), &fan),
		fleetCmd(newInstancesCmd(envOf), &fan),
		newEnisCmd(envOf),
		newCapacityCmd(envOf),
		fleetCmd(newDoctorCmd(envOf), &fan),
		newReportCmd(envOf),
		newRolloutCmd(envOf),
		newVersionCmd(envOf),
	)
	if deps.IO != nil {
		// Before the completion command is made: it keeps the stream it
		// finds then.
		root.SetOut(deps.IO.Out)
		root.SetErr(deps.IO.ErrOut)
	}
	endHelpWithExitCodes(root)
	return root, st
}

// unknownCommand reports a first argument that names no command, with the
// nearest command names.
func unknownCommand(root *cobra.Command, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") ||
		args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd {
		return nil
	}
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find(args); err != nil || c != root {
		return nil
	}
	return usageErrorf("unknown command %q for %q%s", args[0], root.CommandPath(), didYouMean(root.SuggestionsFor(args[0])))
}

// noArgs is cobra.NoArgs as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}

// Run executes trunkctl with args and returns the exit code. It never exits.
func Run(ctx context.Context, args []string, deps Deps) ExitCode {
	raw := deps.IO
	probe, _ := newRoot(deps)
	deps.IO = gateInterrupts(ctx, probe, args, deps.IO)
	root, st := newRoot(deps)
	root.SetArgs(args)
	root.SetIn(deps.IO.In)
	root.SetOut(deps.IO.Out)
	root.SetErr(deps.IO.ErrOut)
	if err := unknownCommand(root, args); err != nil {
		// Before cobra parses flags: "stauts --role r" is a mistyped
		// command, not an unknown flag of the root.
		fmt.Fprintf(deps.IO.ErrOut, "Error: %s\nRun '%s --help' for usage.\n", err, root.CommandPath())
		return ExitUsage
	}
	cmd, err := root.ExecuteContextC(ctx)
	st.stopTimeout()
	if code, line, ok := interrupted(ctx); ok {
		if err != nil && silent(err) {
			// The command reported the interrupt itself (rollout's JSON
			// lines): stderr stays machine-readable.
			return code
		}
		var ee *exitError
		if errors.As(err, &ee) && ee.code == ExitInterrupted && ee.err != nil {
			// The command said what the interrupt left behind (rollout).
			line = fmt.Sprintf("trunkctl: interrupted by %s: %s", signalName(code), st.redact(st.explain(err)))
		}
		fmt.Fprintln(raw.ErrOut, line)
		return code
	}
	if err == nil {
		return ExitOK
	}
	code := ExitCodeOf(err)
	if !silent(err) {
		fmt.Fprintf(deps.IO.ErrOut, "Error: %s\n", st.redact(st.explain(err)))
		if code == ExitUsage && cmd != nil {
			fmt.Fprintf(deps.IO.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return code
}
