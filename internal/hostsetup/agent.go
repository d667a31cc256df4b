package hostsetup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trunkctl/trunkctl/internal/pkgverify"
)

// AgentReport says what happened to the agent.
type AgentReport struct {
	Checked          bool
	AlreadyInstalled bool
	UnitPath         string
	Distro           string
	PackageURL       string
	Signer           pkgverify.Signer
	Installed        bool
}

var aptEnv = []string{"DEBIAN_FRONTEND=noninteractive"}

// installCommands lists, in order, the commands that install Docker (when
// missing), the verified ecs-init package at pkgPath and, on Amazon Linux,
// the EC2 network utilities.
func installCommands(d Distro, needDocker bool, pkgPath string) []Command {
	pm := d.PackageManager
	var cmds []Command
	switch d.Format {
	case "deb":
		cmds = append(cmds, Command{Name: pm, Args: []string{"update"}, Env: aptEnv})
		if needDocker {
			cmds = append(cmds, Command{Name: pm, Args: []string{"install", "-y", "docker.io"}, Env: aptEnv})
		}
		// apt-get (unlike dpkg -i) resolves the package's dependencies.
		cmds = append(cmds, Command{Name: pm, Args: []string{"install", "-y", pkgPath}, Env: aptEnv})
	default:
		if needDocker {
			cmds = append(cmds, Command{Name: pm, Args: []string{"install", "-y", "docker"}})
		}
		cmds = append(cmds, Command{Name: pm, Args: []string{"install", "-y", pkgPath}})
		if d.NetUtils != "" {
			cmds = append(cmds, Command{Name: pm, Args: []string{"install", "-y", d.NetUtils}})
		}
	}
	return cmds
}

// ensureAgent leaves an installed ecs unit alone; otherwise it downloads
// ecs-init and its signature, verifies it, and only then installs Docker
// (when missing), the package and the network utilities. A package that
// does not verify installs nothing.
func (s *setup) ensureAgent(ctx context.Context, id Identity) error {
	a := &s.r.Agent
	a.Checked = true
	if unit := installedUnit(s.o.Root); unit != "" {
		a.AlreadyInstalled, a.UnitPath = true, unit
		s.d.Log.Info("ecs agent already installed; leaving it", "unit", unit, s.elapsed())
		return nil
	}
	distro, err := detectDistro(s.o.Root)
	if err != nil {
		return err
	}
	a.Distro = distro.Name
	arch, err := packageArch(distro.Format, id.Architecture)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("amazon-ecs-init-latest.%s.%s", arch, distro.Format)
	base := s.o.AgentBaseURL
	if base == "" {
		base = DefaultAgentBaseURL(id.Region)
	}
	pkgURL, err := packageURL(base, name)
	if err != nil {
		return &UsageError{Msg: fmt.Sprintf("--%s %q: %v", FlagAgentBaseURL, base, err)}
	}
	a.PackageURL = pkgURL
	_, dockerErr := s.d.Runner.LookPath("docker")
	needDocker := dockerErr != nil
	s.d.Log.Info("ecs agent not installed; installing", "os", distro.Name, "package", pkgURL, "install_docker", needDocker)

	if s.o.DryRun {
		for _, c := range installCommands(distro, needDocker, "<download-dir>/"+name) {
			if err := s.do(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}

	dir, err := os.MkdirTemp(s.o.TempDir, "hostbootstrap-")
	if err != nil {
		return fmt.Errorf("create a download directory: %w", err)
	}
	defer s.removeAll(dir)
	pkgPath := filepath.Join(dir, name)
	partPath := pkgPath + ".part"
	sigPath := pkgPath + ".asc"
	if err := s.retrying(ctx, "download the ecs-init signature", retryableDownload, func(ctx context.Context) error {
		_, err := download(ctx, s.d.HTTP, pkgURL+".asc", sigPath, MaxSignatureSize, s.o.DownloadTimeout)
		return err
	}); err != nil {
		return err
	}
	var n int64
	if err := s.retrying(ctx, "download the ecs-init package", retryableDownload, func(ctx context.Context) (err error) {
		n, err = download(ctx, s.d.HTTP, pkgURL, partPath, s.o.MaxPackageSize, s.o.DownloadTimeout)
		return err
	}); err != nil {
		return err
	}
	s.d.Log.Info("downloaded ecs-init", "url", pkgURL, "bytes", n, s.elapsed())
	signer, err := s.d.Verifier.VerifyFiles(pkgURL, partPath, sigPath)
	if err != nil {
		s.d.Log.Error("ecs-init package signature does not verify; installing nothing", "url", pkgURL, "error", err.Error())
		return err
	}
	a.Signer = signer
	s.d.Log.Info("verified ecs-init signature", "key_id", signer.KeyID, "fingerprint", signer.Fingerprint, "signer", signer.Identity)
	// Only a verified file gets the name the package manager is given.
	if err := os.Rename(partPath, pkgPath); err != nil {
		return err
	}
	// apt-get reads local packages as its unprivileged _apt user. The package
	// is public and the directory root's own, so readable is safe.
	if err := os.Chmod(pkgPath, 0o644); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	// Package managers fetch from repositories (Docker, the net utilities,
	// ecs-init's dependencies), so a network that is not up yet fails them too.
	for _, c := range installCommands(distro, needDocker, pkgPath) {
		if err := s.retrying(ctx, c.String(), func(error) bool { return true }, func(ctx context.Context) error { return s.do(ctx, c) }); err != nil {
			return fmt.Errorf("install the ECS agent: %w", err)
		}
	}
	a.Installed = true
	return nil
}
