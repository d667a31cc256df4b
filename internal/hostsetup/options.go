package hostsetup

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/trunkctl/trunkctl/internal/contract"
	"github.com/trunkctl/trunkctl/internal/ecsconfig"
)

// Flag names: a contract with user data (the CDK's launch template runs
// `hostbootstrap --cluster NAME ...`). Keep them stable.
const (
	FlagCluster         = "cluster"
	FlagSet             = "set"
	FlagAllowTaskIMDS   = "allow-task-imds"
	FlagRequireTrunking = "require-trunking"
	FlagRoot            = "root"
	FlagDryRun          = "dry-run"
	FlagWait            = "wait"
	FlagAgentBaseURL    = "agent-base-url"
	FlagDownloadTimeout = "download-timeout"
	FlagRetryFor        = "retry-for"
)

// Defaults that are not flags.
const (
	DefaultIntrospectionURL = "http://localhost:51678/v1/metadata"
	DefaultDownloadTimeout  = 5 * time.Minute
	DefaultCommandTimeout   = 15 * time.Minute
	DefaultPollInterval     = 2 * time.Second
	// DefaultMaxPackageSize bounds the ecs-init download (the package
	// carries the agent image, tens of MB).
	DefaultMaxPackageSize = 512 << 20
	// MaxSignatureSize bounds the .asc download.
	MaxSignatureSize = 64 << 10
)

// Options is everything Run needs to know besides its dependencies.
type Options struct {
	Cluster         string
	Settings        []ecsconfig.Setting // from --set, in order
	AllowTaskIMDS   bool
	RequireTrunking bool
	Root            string // every host path is under Root
	DryRun          bool
	Wait            time.Duration // 0: do not wait
	AgentBaseURL    string        // "": the regional amazon-ecs-agent bucket
	DownloadTimeout time.Duration
	// RetryFor bounds retrying failed downloads and package installs
	// (--retry-for, default DefaultRetryFor); zero means try once.
	RetryFor time.Duration
	// RetryMaxBackoff caps one wait between retries (DefaultRetryMaxBackoff).
	RetryMaxBackoff time.Duration

	// Not flags; tests change them.
	IntrospectionURL string
	PollInterval     time.Duration
	CommandTimeout   time.Duration
	MaxPackageSize   int64
	// TempDir holds downloads while they are verified ("" = os.TempDir()).
	TempDir string
}

// withDefaults fills the fields a caller may leave zero.
func (o Options) withDefaults() Options {
	if o.Root == "" {
		o.Root = "/"
	}
	if o.IntrospectionURL == "" {
		o.IntrospectionURL = DefaultIntrospectionURL
	}
	if o.DownloadTimeout <= 0 {
		o.DownloadTimeout = DefaultDownloadTimeout
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = DefaultCommandTimeout
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MaxPackageSize <= 0 {
		o.MaxPackageSize = DefaultMaxPackageSize
	}
	if o.RetryMaxBackoff <= 0 {
		o.RetryMaxBackoff = DefaultRetryMaxBackoff
	}
	return o
}

// managedBy names what sets key when it is not --set's to touch.
func managedBy(key string) (string, bool) {
	switch key {
	case contract.ECSCluster:
		return "--" + FlagCluster, true
	case contract.ECSEnableTaskENI, contract.ECSEnableHighDensityENI:
		return "hostbootstrap (trunking needs it true)", true
	case contract.ECSAWSVPCBlockIMDS:
		return "--" + FlagAllowTaskIMDS, true
	}
	return "", false
}

var (
	clusterNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	clusterARNRe  = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]{1,255}$`)
)

type settingsFlag struct{ s *[]ecsconfig.Setting }

func (f settingsFlag) String() string {
	if f.s == nil {
		return ""
	}
	var parts []string
	for _, s := range *f.s {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, ",")
}

func (f settingsFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	s := ecsconfig.Setting{Key: k, Value: val}
	if err := ecsconfig.Validate(s); err != nil {
		return err
	}
	if by, ok := managedBy(k); ok {
		return fmt.Errorf("%s is set by %s, not --%s", k, by, FlagSet)
	}
	for _, old := range *f.s {
		if old.Key == k {
			return fmt.Errorf("%s is given twice", k)
		}
	}
	*f.s = append(*f.s, s)
	return nil
}

// ErrHelp is returned by ParseFlags for -h/--help after printing usage.
var ErrHelp = flag.ErrHelp

// ParseFlags reads the command line (without the program name). Usage text
// and flag errors go to stderr; every error but ErrHelp is a *UsageError.
func ParseFlags(args []string, stderr io.Writer) (Options, error) {
	o := Options{}
	fs := flag.NewFlagSet("hostbootstrap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Cluster, FlagCluster, "", "ECS cluster `name` (or ARN) to join; required")
	fs.Var(settingsFlag{&o.Settings}, FlagSet, "extra ecs.config `KEY=VALUE` (KEY matching "+ecsconfig.KeyPattern+"); repeatable")
	fs.BoolVar(&o.AllowTaskIMDS, FlagAllowTaskIMDS, false, "let awsvpc tasks reach instance metadata (writes ECS_AWSVPC_BLOCK_IMDS=false instead of true)")
	fs.BoolVar(&o.RequireTrunking, FlagRequireTrunking, false, "exit 3 without changing anything when the instance type does not support ENI trunking")
	fs.StringVar(&o.Root, FlagRoot, "/", "`dir` under which every host path (/etc/ecs, /etc/os-release, unit files) is found")
	fs.BoolVar(&o.DryRun, FlagDryRun, false, "print the plan and change nothing")
	fs.DurationVar(&o.Wait, FlagWait, 0, "after starting the agent, wait up to this `duration` for registration and the trunk ENI (e.g. 5m; 0: do not wait)")
	fs.StringVar(&o.AgentBaseURL, FlagAgentBaseURL, "", "`URL` of the directory holding amazon-ecs-init-latest.<arch>.<rpm|deb> and .asc (default https://s3.<region>.<dns suffix>/amazon-ecs-agent-<region>/)")
	fs.DurationVar(&o.DownloadTimeout, FlagDownloadTimeout, DefaultDownloadTimeout, "bound on each package download")
	fs.DurationVar(&o.RetryFor, FlagRetryFor, DefaultRetryFor, "keep retrying failed downloads and package installs, with backoff, this `long` (a network that comes up late); 0: try once")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: hostbootstrap --%s NAME [flags]\n\n"+
			"Makes this EC2 instance a trunk-ready ECS container instance: reads IMDSv2, checks the\n"+
			"instance type, merges /etc/ecs/ecs.config, installs a signature-checked ecs-init when\n"+
			"missing and runs systemctl enable --now --no-block ecs. Safe to run again.\n\n"+
			"Exit codes: 0 done, 1 failed, 2 usage, 3 not trunk-capable with --%s,\n"+
			"4 package signature did not verify.\n\nFlags:\n", FlagCluster, FlagRequireTrunking)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, ErrHelp
		}
		return o, &UsageError{Msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return o, &UsageError{Msg: fmt.Sprintf("unexpected argument %q (flags only; see --help)", fs.Arg(0))}
	}
	if err := o.Validate(); err != nil {
		return o, err
	}
	return o, nil
}

// Validate checks option values; errors are *UsageError.
func (o *Options) Validate() error {
	usage := func(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }
	switch {
	case o.Cluster == "":
		return usage("--%s is required", FlagCluster)
	case !clusterNameRe.MatchString(o.Cluster) && !clusterARNRe.MatchString(o.Cluster):
		return usage("--%s %q is not a cluster name (1-255 letters, digits, - and _) or cluster ARN", FlagCluster, o.Cluster)
	case o.Wait < 0:
		return usage("--%s must not be negative", FlagWait)
	case o.DownloadTimeout < 0:
		return usage("--%s must not be negative", FlagDownloadTimeout)
	case o.RetryFor < 0:
		return usage("--%s must not be negative", FlagRetryFor)
	}
	if o.Root == "" {
		o.Root = "/"
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return usage("--%s %q: %v", FlagRoot, o.Root, err)
	}
	o.Root = root
	// A root that is not there is a mistyped flag; finding out after IMDS
	// and the catalog check would look like a host problem.
	switch fi, err := os.Stat(root); {
	case errors.Is(err, fs.ErrNotExist):
		return usage("--%s %q does not exist", FlagRoot, root)
	case err != nil:
		return usage("--%s %q: %v", FlagRoot, root, err)
	case !fi.IsDir():
		return usage("--%s %q is not a directory", FlagRoot, root)
	}
	if o.AgentBaseURL != "" {
		if err := checkDownloadURL(o.AgentBaseURL); err != nil {
			return usage("--%s: %v", FlagAgentBaseURL, err)
		}
	}
	return nil
}

// checkDownloadURL allows https anywhere and plain http only to loopback
// (for tests): the signature check is the real guard, but there is no
// reason to hand a network attacker the package at all.
func checkDownloadURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: plain http is allowed only to loopback addresses; use https", raw)
	default:
		return fmt.Errorf("%q: scheme %q is not https", raw, u.Scheme)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
