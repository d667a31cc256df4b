// Package hostsetup makes an EC2 instance a trunk-ready ECS container
// instance: it reads the instance identity over IMDSv2, checks the
// instance type against the trunking catalog, merges /etc/ecs/ecs.config,
// installs a signature-checked ecs-init when the agent is missing, starts
// the agent without blocking cloud-init, and optionally waits for
// registration and the trunk ENI. It is the logic of cmd hostbootstrap;
// everything outside the process (IMDS, commands, downloads, the file
// system root) is injected.
package hostsetup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/contract"
	"github.com/trunkctl/trunkctl/internal/ecsconfig"
	"github.com/trunkctl/trunkctl/internal/pkgverify"
)

// ConfigPath is ecs.config's place under the root.
const ConfigPath = "etc/ecs/ecs.config"

// identityTimeout bounds reading IMDS at the start.
const identityTimeout = 30 * time.Second

// Deps are the outside world.
type Deps struct {
	IMDS     IMDSAPI
	Runner   Runner
	HTTP     *http.Client // package downloads
	Verifier *pkgverify.Verifier
	Catalog  *catalog.Catalog
	Log      *slog.Logger
	// Start is when the process started, for the elapsed times in the log
	// (zero: when Run starts).
	Start time.Time
	// Sleep waits between retries (nil: a timer); tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Report is what Run did (or, in a dry run, would do), for the summary.
type Report struct {
	DryRun   bool
	Identity Identity
	Trunking catalog.InstanceType

	ConfigPath string
	// ConfigChanged lists the keys whose lines changed (or would change).
	ConfigChanged []string
	ConfigWritten bool

	Agent AgentReport

	// Commands are the state-changing commands run (or planned), in order.
	Commands []string
	// ServiceRestarted is set when a running agent was restarted to pick up
	// a changed ecs.config.
	ServiceRestarted bool

	Wait *WaitReport

	// Warnings repeats the warnings logged, for the summary.
	Warnings []string
}

// Run does the whole job. It always returns a report of what happened so
// far; the error's ExitCode is the process exit code.
func Run(ctx context.Context, o Options, d Deps) (*Report, error) {
	r := &Report{DryRun: o.DryRun}
	if err := o.Validate(); err != nil {
		return r, err
	}
	o = o.withDefaults()
	if d.Start.IsZero() {
		d.Start = time.Now()
	}
	if d.Log == nil {
		d.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	s := &setup{o: o, d: d, r: r}
	return r, s.run(ctx)
}

type setup struct {
	o Options
	d Deps
	r *Report
}

func (s *setup) elapsed() slog.Attr {
	return slog.Int64("elapsed_ms", time.Since(s.d.Start).Milliseconds())
}

func (s *setup) warn(msg string, args ...any) {
	s.r.Warnings = append(s.r.Warnings, msg)
	s.d.Log.Warn(msg, args...)
}

func (s *setup) run(ctx context.Context) error {
	// 1. Who am I?
	// IMDS can answer slowly early in boot; the SDK's client gives each
	// request half a second and three attempts, so keep trying until
	// identityTimeout before giving up.
	ictx, cancel := context.WithTimeout(ctx, identityTimeout)
	var id Identity
	err := s.retryingFor(ictx, "read the instance identity from IMDS", identityTimeout, 2*time.Second, retryableIMDS, func(ctx context.Context) (err error) {
		id, err = readIdentity(ctx, s.d.IMDS)
		return err
	})
	var baseline []string
	var primaryMAC string
	if err == nil && s.o.Wait > 0 {
		// What the interfaces were before the agent ran tells the trunk apart.
		baseline, _ = interfaces(ictx, s.d.IMDS)
		primaryMAC, _ = getMetadata(ictx, s.d.IMDS, "mac")
	}
	cancel()
	if err != nil {
		return err
	}
	s.r.Identity = id
	s.d.Log.Info("read instance identity", "instance_id", id.InstanceID, "instance_type", id.InstanceType,
		"region", id.Region, "architecture", id.Architecture, s.elapsed())

	// 2. Can it get a trunk?
	if err := s.checkTrunking(id); err != nil {
		return err
	}

	// 3. ecs.config.
	agentWasInstalled := installedUnit(s.o.Root) != ""
	if err := s.writeConfig(); err != nil {
		return err
	}

	// 4. The agent.
	if err := s.ensureAgent(ctx, id); err != nil {
		return err
	}

	// 5. Start it without blocking cloud-init.
	if err := s.startService(ctx, agentWasInstalled); err != nil {
		return err
	}
	if s.o.DryRun {
		s.d.Log.Info("dry run: nothing was changed", s.elapsed())
		return nil
	}

	// 6. Optionally wait for registration and the trunk.
	if s.o.Wait > 0 {
		w, err := s.waitForTrunk(ctx, baseline, primaryMAC)
		s.r.Wait = w
		if err != nil {
			return err
		}
	}
	s.d.Log.Info("done", s.elapsed())
	return nil
}

func (s *setup) checkTrunking(id Identity) error {
	it := s.d.Catalog.Lookup(id.InstanceType)
	s.r.Trunking = it
	switch it.Support {
	case catalog.Supported:
		s.d.Log.Info("instance type supports ENI trunking", "instance_type", id.InstanceType,
			"tasks_with_trunking", it.TasksWithTrunking, "tasks_without_trunking", it.TasksWithoutTrunking)
	case catalog.Unsupported:
		if s.o.RequireTrunking {
			return &NotTrunkCapableError{InstanceType: id.InstanceType, Reason: it.Reason}
		}
		s.warn("instance type does not support ENI trunking; tasks will get one ENI each",
			"instance_type", id.InstanceType, "reason", it.Reason)
	case catalog.LimitUnpublished:
		s.d.Log.Info("instance type supports ENI trunking; ECS publishes no task limit for it", "instance_type", id.InstanceType,
			"tasks_without_trunking", it.TasksWithoutTrunking, "reason", it.Reason)
	default:
		s.warn("instance type is not in ECS's published trunking table; trunking may or may not work",
			"instance_type", id.InstanceType, "reason", it.Reason)
	}
	return nil
}

// settings is what hostbootstrap puts in ecs.config, in file order: the
// cluster, the trunking variables the launch templates write too (the IMDS
// choice written either way, so that a re-run with the other choice takes
// effect), then --set.
func (s *setup) settings() []ecsconfig.Setting {
	out := []ecsconfig.Setting{{Key: contract.ECSCluster, Value: s.o.Cluster}}
	for _, v := range contract.TrunkingAgentConfig(!s.o.AllowTaskIMDS) {
		out = append(out, ecsconfig.Setting{Key: v.Key, Value: v.Value})
	}
	return append(out, s.o.Settings...)
}

func (s *setup) writeConfig() error {
	path := filepath.Join(s.o.Root, ConfigPath)
	s.r.ConfigPath = path
	data, _, err := ecsconfig.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	f, err := ecsconfig.Parse(data)
	if err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	changed, err := f.Merge(s.settings())
	if err != nil {
		return &UsageError{Msg: err.Error()}
	}
	s.r.ConfigChanged = changed
	switch {
	case len(changed) == 0:
		s.d.Log.Info("ecs.config already up to date", "path", path, s.elapsed())
	case s.o.DryRun:
		s.d.Log.Info("dry run: would update ecs.config", "path", path, "keys", changed)
	default:
		if err := ecsconfig.WriteFileAtomic(path, f.Bytes()); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		s.r.ConfigWritten = true
		s.d.Log.Info("ecs.config written", "path", path, "keys", changed, s.elapsed())
	}
	return nil
}

// do runs a state-changing command, or records it in a dry run.
func (s *setup) do(ctx context.Context, c Command) error {
	s.r.Commands = append(s.r.Commands, c.String())
	if s.o.DryRun {
		s.d.Log.Info("dry run: would run", "command", c.String())
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.CommandTimeout)
	defer cancel()
	s.d.Log.Info("running", "command", c.String(), s.elapsed())
	if err := s.d.Runner.Run(ctx, c); err != nil {
		return err
	}
	return nil
}

var (
	enableECS  = Command{Name: "systemctl", Args: []string{"enable", "--now", "--no-block", "ecs"}}
	restartECS = Command{Name: "systemctl", Args: []string{"restart", "--no-block", "ecs"}}
	isActive   = Command{Name: "systemctl", Args: []string{"is-active", "--quiet", "ecs"}}
)

// startService enables and starts ecs without waiting for the start job:
// from user data a blocking start deadlocks, because ecs.service is ordered
// after cloud-final. A running agent only reads ecs.config when it starts,
// so one that was already running is restarted when the file changed.
func (s *setup) startService(ctx context.Context, agentWasInstalled bool) error {
	wasActive := false
	if agentWasInstalled && len(s.r.ConfigChanged) > 0 && !s.o.DryRun {
		// A query, not a change: not recorded as a command.
		wasActive = s.d.Runner.Run(ctx, isActive) == nil
	}
	if err := s.do(ctx, enableECS); err != nil {
		return fmt.Errorf("start the ecs service: %w", err)
	}
	if wasActive {
		if err := s.do(ctx, restartECS); err != nil {
			return fmt.Errorf("restart the ecs service to apply ecs.config: %w", err)
		}
		s.r.ServiceRestarted = true
	}
	return nil
}

// WriteSummary prints the human summary for stdout.
func (r *Report) WriteSummary(w io.Writer, runErr error) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-13s %s\n", label, fmt.Sprintf(format, args...))
	}
	if r.DryRun {
		fmt.Fprintln(w, "hostbootstrap plan (dry run: nothing was changed)")
	}
	if id := r.Identity; id.InstanceID != "" {
		line("instance", "%s %s %s in %s", id.InstanceID, id.InstanceType, id.Architecture, id.Region)
		t := r.Trunking
		switch t.Support {
		case catalog.Supported:
			line("trunking", "supported: %d awsvpc tasks with trunking, %d without", t.TasksWithTrunking, t.TasksWithoutTrunking)
		case "":
		default:
			line("trunking", "%s: %s", t.Support, t.Reason)
		}
	}
	if r.ConfigPath != "" {
		switch {
		case len(r.ConfigChanged) == 0:
			line("ecs.config", "%s unchanged", r.ConfigPath)
		case r.DryRun:
			line("ecs.config", "%s would set %s", r.ConfigPath, strings.Join(r.ConfigChanged, ", "))
		case r.ConfigWritten:
			line("ecs.config", "%s set %s", r.ConfigPath, strings.Join(r.ConfigChanged, ", "))
		}
	}
	if a := r.Agent; a.Checked {
		switch {
		case a.AlreadyInstalled:
			line("agent", "already installed (%s); left as it is", a.UnitPath)
		case a.Installed:
			line("agent", "installed %s, signed by %s (key %s)", a.PackageURL, a.Signer.Identity, a.Signer.KeyID)
		case r.DryRun && a.PackageURL != "":
			line("agent", "would download %s and %s.asc and verify it against key %s", a.PackageURL, a.PackageURL, pkgverify.AmazonECSFingerprint)
		}
	}
	verb := "ran"
	if r.DryRun {
		verb = "would run"
	}
	for _, c := range r.Commands {
		line(verb, "%s", c)
	}
	if r.ServiceRestarted {
		line("service", "restarted ecs to apply the changed ecs.config")
	}
	if wr := r.Wait; wr != nil {
		if wr.ContainerInstanceArn != "" {
			line("registered", "%s (cluster %s, agent %s)", wr.ContainerInstanceArn, wr.Cluster, wr.AgentVersion)
		} else {
			line("registered", "not yet")
		}
		if wr.TrunkMAC != "" {
			line("trunk ENI", "%s", strings.TrimSpace(wr.TrunkInterfaceID+" mac "+wr.TrunkMAC))
		} else if wr.ContainerInstanceArn != "" {
			line("trunk ENI", "not seen; interfaces %s", strings.Join(wr.Interfaces, ", "))
		}
	}
	for _, warn := range r.Warnings {
		line("warning", "%s", warn)
	}
	if runErr == nil {
		line("result", "done")
	} else {
		line("result", "failed (exit %d): %s", ExitCode(runErr), firstLine(runErr.Error()))
	}
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// removeAll is os.RemoveAll with the error logged, for deferred cleanup.
func (s *setup) removeAll(dir string) {
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.d.Log.Warn("could not remove temporary directory", "dir", dir, "error", err.Error())
	}
}
