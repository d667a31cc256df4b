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
	"github.com/trunkctl/trunkctl/internal/awsclient"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory"
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
)

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
}

// GlobalOptions are the flags every command takes.
type GlobalOptions struct {
	Profile string
	Region  string
	Output  string
	NoColor bool
	Debug   bool
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
}

// RealAWS loads the AWS configuration and builds the SDK clients.
func RealAWS(ctx context.Context, g GlobalOptions, debugOut io.Writer) (*AWS, error) {
	cfg, err := awsclient.Load(ctx, awsclient.Options{Profile: g.Profile, Region: g.Region, Debug: g.Debug, DebugOut: debugOut})
	if err != nil {
		return nil, err
	}
	c := awsclient.New(cfg)
	return &AWS{
		Region: cfg.Region, ECS: c.ECS, EC2: c.EC2, IAM: c.IAM, STS: c.STS, Settings: c.ECS,
		NewECS: accountsetting.NewECSFactory(cfg),
	}, nil
}

// app is the state shared by the commands of one run.
type app struct {
	deps   Deps
	global GlobalOptions
}

func (a *app) streams() *IOStreams {
	s := *a.deps.IO
	s.NoColor = s.NoColor || a.global.NoColor
	return &s
}

func (a *app) aws(ctx context.Context) (*AWS, error) {
	return a.deps.AWS(ctx, a.global, a.deps.IO.ErrOut)
}

func (a *app) loader(c *AWS) *inventory.Loader {
	return inventory.NewLoader(c.ECS, c.EC2, c.IAM, a.deps.Concurrency)
}

func (a *app) resolver(c *AWS) accountsetting.Resolver {
	return accountsetting.Resolver{
		STS: c.STS, ECS: c.Settings,
		Assumer: accountsetting.Assumer{STS: c.STS, NewECS: c.NewECS, SessionName: "trunkctl", PropagationWait: a.deps.AssumeWait},
	}
}

func (a *app) now() time.Time {
	if a.deps.Now != nil {
		return a.deps.Now()
	}
	return time.Now()
}

func (a *app) catalog() *catalog.Catalog {
	if a.deps.Catalog != nil {
		return a.deps.Catalog
	}
	return catalog.Default()
}

// command is the machine every subcommand is.
type command interface {
	Validate() error
	Execute(ctx context.Context) error
	RecommendActions() error
}

// run validates (a failure is a usage error), executes, and recommends the
// next step even when the checks found something unhealthy.
func run(ctx context.Context, c command) error {
	if err := c.Validate(); err != nil {
		return asUsage(err)
	}
	err := c.Execute(ctx)
	if err != nil && ExitCodeOf(err) != ExitUnhealthy {
		return err
	}
	if rerr := c.RecommendActions(); rerr != nil && err == nil {
		return rerr
	}
	return err
}

// runWithAWS runs o like run, building the AWS clients only after Validate
// passes (a usage error needs no credentials) and handing them to wire.
func (a *app) runWithAWS(ctx context.Context, o command, wire func(*AWS)) error {
	return run(ctx, lazyCmd{validate: o.Validate, recommend: o.RecommendActions, execute: func(ctx context.Context) error {
		c, err := a.aws(ctx)
		if err != nil {
			return err
		}
		wire(c)
		return o.Execute(ctx)
	}})
}

// lazyCmd adapts functions to the command interface.
type lazyCmd struct {
	validate  func() error
	execute   func(context.Context) error
	recommend func() error
}

func (l lazyCmd) Validate() error                   { return l.validate() }
func (l lazyCmd) Execute(ctx context.Context) error { return l.execute(ctx) }
func (l lazyCmd) RecommendActions() error           { return l.recommend() }

// NewRootCmd builds the trunkctl command tree.
func NewRootCmd(deps Deps) *cobra.Command {
	a := &app{deps: deps}
	root := &cobra.Command{
		Use:   "trunkctl",
		Short: "Verify, enable and inspect ECS ENI trunking (awsvpcTrunking)",
		Long: `trunkctl turns on ECS ENI trunking (awsvpcTrunking) per instance role and proves it
worked: who is opted in, which container instances got a trunk ENI, which branch
ENIs serve which tasks, what is wrong, and how many tasks fit per instance type.

Exit codes: 0 ok, 1 error, 2 usage, 3 checked and not enabled or unhealthy.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       versionText(),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return validateOutput(a.global.Output)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.global.Profile, flagProfile, "", "AWS profile from the shared config (else AWS_PROFILE or default)")
	pf.StringVar(&a.global.Region, flagRegion, "", "AWS Region (else AWS_REGION or the profile's region)")
	pf.StringVarP(&a.global.Output, flagOutput, "o", outputTable, "output format: table or json")
	pf.BoolVar(&a.global.NoColor, flagNoColor, false, "no colour in tables (also NO_COLOR)")
	pf.BoolVar(&a.global.Debug, flagDebug, false, "log every AWS request and response to stderr")
	_ = root.RegisterFlagCompletionFunc(flagOutput, cobra.FixedCompletions([]string{outputTable, outputJSON}, cobra.ShellCompDirectiveNoFileComp))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return asUsage(err) })
	root.AddCommand(
		newStatusCmd(a),
		newEnableCmd(a, accountsetting.Enabled),
		newEnableCmd(a, accountsetting.Disabled),
		newInstancesCmd(a),
		newEnisCmd(a),
		newCapacityCmd(a),
		newDoctorCmd(a),
		newVersionCmd(a),
	)
	return root
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
	root := NewRootCmd(deps)
	root.SetArgs(args)
	root.SetIn(deps.IO.In)
	root.SetOut(deps.IO.Out)
	root.SetErr(deps.IO.ErrOut)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitCodeOf(err)
	if !silent(err) {
		fmt.Fprintf(deps.IO.ErrOut, "Error: %s\n", err)
		if code == ExitUsage && cmd != nil {
			fmt.Fprintf(deps.IO.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return code
}

// isUsage reports whether err is a usage error, for tests.
func isUsage(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.code == ExitUsage
}
