package hostsetup

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Distro is an operating system hostbootstrap can install the agent on.
type Distro struct {
	Name string // e.g. "Amazon Linux 2023"
	// Format is the package format: "rpm" or "deb".
	Format string
	// PackageManager installs packages: dnf, yum or apt-get.
	PackageManager string
	// NetUtils is the network utilities package Amazon Linux wants next to
	// ecs-init ("" when none).
	NetUtils string
}

var (
	amazonLinux2023 = Distro{Name: "Amazon Linux 2023", Format: "rpm", PackageManager: "dnf", NetUtils: "amazon-ec2-net-utils"}
	amazonLinux2    = Distro{Name: "Amazon Linux 2", Format: "rpm", PackageManager: "yum", NetUtils: "ec2-net-utils"}
)

// parseOSRelease reads the KEY=VALUE lines of os-release(5).
func parseOSRelease(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}

// detectDistro reads <root>/etc/os-release (or <root>/usr/lib/os-release).
func detectDistro(root string) (Distro, error) {
	var data []byte
	var err error
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		if data, err = os.ReadFile(filepath.Join(root, p)); err == nil {
			break
		}
	}
	if err != nil {
		return Distro{}, fmt.Errorf("cannot tell the operating system: %w", err)
	}
	rel := parseOSRelease(data)
	id, version := rel["ID"], rel["VERSION_ID"]
	switch {
	case id == "amzn" && version == "2023":
		return amazonLinux2023, nil
	case id == "amzn" && version == "2":
		return amazonLinux2, nil
	case id == "ubuntu" || id == "debian":
		name := rel["PRETTY_NAME"]
		if name == "" {
			name = id + " " + version
		}
		return Distro{Name: name, Format: "deb", PackageManager: "apt-get"}, nil
	}
	return Distro{}, fmt.Errorf("hostbootstrap cannot install the ECS agent on %q (ID=%s VERSION_ID=%s): "+
		"it supports Amazon Linux 2023, Amazon Linux 2, Ubuntu and Debian; use an ECS-optimized AMI or install ecs-init first",
		rel["PRETTY_NAME"], id, version)
}

// packageArch maps the IMDS architecture to the ecs-init package's.
func packageArch(format, imdsArch string) (string, error) {
	switch {
	case format == "rpm" && imdsArch == "x86_64":
		return "x86_64", nil
	case format == "rpm" && (imdsArch == "arm64" || imdsArch == "aarch64"):
		return "aarch64", nil
	case format == "deb" && imdsArch == "x86_64":
		return "amd64", nil
	case format == "deb" && (imdsArch == "arm64" || imdsArch == "aarch64"):
		return "arm64", nil
	}
	return "", fmt.Errorf("no ecs-init %s package for architecture %q", format, imdsArch)
}

// unitPaths are where an installed ecs.service lives, under the root.
var unitPaths = []string{
	"etc/systemd/system/ecs.service",
	"usr/lib/systemd/system/ecs.service",
	"lib/systemd/system/ecs.service",
}

// installedUnit returns the path of the ecs unit file, or "".
func installedUnit(root string) string {
	for _, p := range unitPaths {
		full := filepath.Join(root, p)
		if fi, err := os.Stat(full); err == nil && !fi.IsDir() {
			return full
		}
	}
	return ""
}
