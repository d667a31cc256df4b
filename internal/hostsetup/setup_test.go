package hostsetup

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/ecsconfig"
	"github.com/trunkctl/trunkctl/internal/pkgverify/pkgverifytest"
	"github.com/trunkctl/trunkctl/internal/testutil/imdsmock"
)

const wantConfig = "ECS_CLUSTER=prod\nECS_ENABLE_TASK_ENI=true\nECS_ENABLE_HIGH_DENSITY_ENI=true\nECS_AWSVPC_BLOCK_IMDS=true\n"

func TestAnECSOptimizedHostGetsItsConfigAndANonBlockingStartWithoutAnInstall(t *testing.T) {
	h := ecsOptimized(t)
	h.write(ConfigPath, "# from the AMI\nECS_CLUSTER=default\nECS_LOGLEVEL=info\n")
	runner := newRunner("docker")
	runner.fail["systemctl is-active --quiet ecs"] = true // first boot: ecs waits for cloud-final
	e := newEnv(t, h, imdsmock.Instance{InstanceType: "c5.large"}, runner)
	o := e.options()
	o.AgentBaseURL = "http://127.0.0.1:1/must-not-be-used/"

	r, err := e.run(o)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, e.log.String())
	}
	equalLines(t, "commands", e.runner.ran(), []string{
		"systemctl is-active --quiet ecs",
		"systemctl enable --now --no-block ecs",
	})
	want := "# from the AMI\nECS_CLUSTER=prod\nECS_LOGLEVEL=info\nECS_ENABLE_TASK_ENI=true\nECS_ENABLE_HIGH_DENSITY_ENI=true\nECS_AWSVPC_BLOCK_IMDS=true\n"
	if got := h.readConfig(); got != want {
		t.Errorf("ecs.config:\n%s\nwant:\n%s", got, want)
	}
	if !r.Agent.AlreadyInstalled || r.Agent.Installed || r.ServiceRestarted {
		t.Errorf("agent report %+v restarted=%v", r.Agent, r.ServiceRestarted)
	}
	if r.Identity.InstanceType != "c5.large" || r.Trunking.TasksWithTrunking != 10 {
		t.Errorf("identity %+v trunking %+v", r.Identity, r.Trunking)
	}
}

func TestARunningAgentIsRestartedWhenTheConfigChanged(t *testing.T) {
	h := ecsOptimized(t)
	runner := newRunner("docker")
	e := newEnv(t, h, imdsmock.Instance{}, runner)
	if _, err := e.run(e.options()); err != nil { // agent not active yet: no restart
		t.Fatal(err)
	}
	runner.commands = nil
	o := e.options()
	o.Cluster = "other"
	r, err := e.run(o)
	if err != nil {
		t.Fatal(err)
	}
	equalLines(t, "commands", runner.ran(), []string{
		"systemctl is-active --quiet ecs",
		"systemctl enable --now --no-block ecs",
		"systemctl restart --no-block ecs",
	})
	if !r.ServiceRestarted {
		t.Error("report does not say the agent was restarted")
	}
}

func TestAnInactiveAgentIsNotRestarted(t *testing.T) {
	h := ecsOptimized(t)
	runner := newRunner("docker")
	runner.fail["systemctl is-active --quiet ecs"] = true
	e := newEnv(t, h, imdsmock.Instance{}, runner)
	if _, err := e.run(e.options()); err != nil {
		t.Fatal(err)
	}
	equalLines(t, "commands", runner.ran(), []string{
		"systemctl is-active --quiet ecs",
		"systemctl enable --now --no-block ecs",
	})
}

func TestARerunWithTheSameInputsChangesNothing(t *testing.T) {
	h := ecsOptimized(t)
	runner := newRunner("docker")
	e := newEnv(t, h, imdsmock.Instance{}, runner)
	o := e.options()
	o.Settings = append(o.Settings, settingOf("ECS_LOGLEVEL=debug"))
	if _, err := e.run(o); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, h.root)
	runner.commands = nil

	r, err := e.run(o)
	if err != nil {
		t.Fatal(err)
	}
	if r.ConfigWritten || len(r.ConfigChanged) != 0 {
		t.Errorf("second run changed ecs.config: %v", r.ConfigChanged)
	}
	if after := snapshot(t, h.root); !maps.Equal(before, after) {
		t.Errorf("second run changed the file system:\nbefore %v\nafter  %v", before, after)
	}
	// enable --now on an enabled, running unit is a no-op; nothing else runs.
	equalLines(t, "commands", runner.ran(), []string{"systemctl enable --now --no-block ecs"})
}

func TestPlainAmazonLinux2023InstallsDockerTheVerifiedAgentAndNetUtilsThenStartsECS(t *testing.T) {
	h := newHost(t)
	h.write("etc/os-release", osReleaseAL2023)
	runner := newRunner() // no docker
	var installedContent []byte
	runner.onRun = func(c Command) {
		if len(c.Args) == 3 && strings.HasSuffix(c.Args[2], ".rpm") {
			installedContent, _ = os.ReadFile(c.Args[2])
		}
	}
	e := newEnv(t, h, imdsmock.Instance{Architecture: "x86_64"}, runner)
	o, srv, files := e.servePackage("amazon-ecs-init-latest.x86_64.rpm", nil)

	r, err := e.run(o)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, e.log.String())
	}
	equalLines(t, "commands", runner.ran(), []string{
		"dnf install -y docker",
		"dnf install -y <dl>/amazon-ecs-init-latest.x86_64.rpm",
		"dnf install -y amazon-ec2-net-utils",
		"systemctl enable --now --no-block ecs",
	})
	if !bytes.Equal(installedContent, files["amazon-ecs-init-latest.x86_64.rpm"]) {
		t.Errorf("the package manager was given %q, not the verified package", installedContent)
	}
	equalLines(t, "downloads", srv.requested(), []string{
		"/agent/amazon-ecs-init-latest.x86_64.rpm.asc",
		"/agent/amazon-ecs-init-latest.x86_64.rpm",
	})
	if h.readConfig() != wantConfig {
		t.Errorf("ecs.config: %q", h.readConfig())
	}
	if !r.Agent.Installed || !strings.HasPrefix(r.Agent.Signer.Identity, "Test ECS") {
		t.Errorf("agent report %+v", r.Agent)
	}
	if entries, _ := os.ReadDir(o.TempDir); len(entries) != 0 {
		t.Errorf("download directory left behind: %v", entries)
	}
}

func TestAmazonLinux2WithDockerUsesYumAndEc2NetUtils(t *testing.T) {
	h := newHost(t)
	h.write("etc/os-release", osReleaseAL2)
	runner := newRunner("docker")
	e := newEnv(t, h, imdsmock.Instance{Architecture: "arm64", InstanceType: "m6g.large"}, runner)
	o, _, _ := e.servePackage("amazon-ecs-init-latest.aarch64.rpm", nil)
	if _, err := e.run(o); err != nil {
		t.Fatalf("Run: %v\n%s", err, e.log.String())
	}
	equalLines(t, "commands", runner.ran(), []string{
		"yum install -y <dl>/amazon-ecs-init-latest.aarch64.rpm",
		"yum install -y ec2-net-utils",
		"systemctl enable --now --no-block ecs",
	})
}

func TestUbuntuInstallsDockerAndTheDebWithAptGet(t *testing.T) {
	h := newHost(t)
	h.write("etc/os-release", osReleaseUbuntu)
	runner := newRunner()
	e := newEnv(t, h, imdsmock.Instance{Architecture: "arm64", InstanceType: "c6g.xlarge"}, runner)
	o, _, _ := e.servePackage("amazon-ecs-init-latest.arm64.deb", nil)
	if _, err := e.run(o); err != nil {
		t.Fatalf("Run: %v\n%s", err, e.log.String())
	}
	equalLines(t, "commands", runner.ran(), []string{
		"DEBIAN_FRONTEND=noninteractive apt-get update",
		"DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io",
		"DEBIAN_FRONTEND=noninteractive apt-get install -y <dl>/amazon-ecs-init-latest.arm64.deb",
		"systemctl enable --now --no-block ecs",
	})
}

func TestADryRunPrintsThePlanAndChangesNothing(t *testing.T) {
	h := newHost(t)
	h.write("etc/os-release", osReleaseAL2023)
	h.write(ConfigPath, "ECS_CLUSTER=default\n")
	srv := newPackageServer(t, map[string][]byte{})
	runner := newRunner()
	e := newEnv(t, h, imdsmock.Instance{}, runner)
	o := e.options()
	o.DryRun = true
	o.AgentBaseURL = srv.URL
	before := snapshot(t, h.root)

	r, err := e.run(o)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, e.log.String())
	}
	if after := snapshot(t, h.root); !maps.Equal(before, after) {
		t.Errorf("dry run changed the file system:\nbefore %v\nafter  %v", before, after)
	}
	if len(runner.commands) != 0 || len(srv.requested()) != 0 {
		t.Errorf("dry run ran %v and downloaded %v", runner.ran(), srv.requested())
	}
	if entries, _ := os.ReadDir(o.TempDir); len(entries) != 0 {
		t.Errorf("dry run created %v", entries)
	}
	var out bytes.Buffer
	r.WriteSummary(&out, nil)
	plan := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{
		"dry run", "would set ECS_CLUSTER, ECS_ENABLE_TASK_ENI", "would run dnf install -y docker",
		"would run dnf install -y <download-dir>/amazon-ecs-init-latest.x86_64.rpm",
		"would run dnf install -y amazon-ec2-net-utils", "would run systemctl enable --now --no-block ecs",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, out.String())
		}
	}
}

func TestABadSignatureInstallsNothingAndExitsWithItsOwnCode(t *testing.T) {
	other := pkgverifytest.NewKey(t, "Impostor")
	const name = "amazon-ecs-init-latest.x86_64.rpm"
	tests := []struct {
		name   string
		tamper func(files map[string][]byte)
	}{
		{"a tampered package", func(f map[string][]byte) { f[name] = append(f[name], "evil"...) }},
		{"a tampered signature", func(f map[string][]byte) {
			f[name+".asc"] = bytes.Replace(f[name+".asc"], []byte("\n"), []byte("\nAAAA"), 3)
		}},
		{"a signature by another key", func(f map[string][]byte) { f[name+".asc"] = other.Sign(t, f[name]) }},
		{"an empty signature", func(f map[string][]byte) { f[name+".asc"] = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is rejected", func(t *testing.T) {
			h := newHost(t)
			h.write("etc/os-release", osReleaseAL2023)
			runner := newRunner()
			e := newEnv(t, h, imdsmock.Instance{}, runner)
			o, _, _ := e.servePackage(name, tt.tamper)
			_, err := e.run(o)
			if got := ExitCode(err); got != ExitSignature {
				t.Fatalf("exit code %d (%v), want %d", got, err, ExitSignature)
			}
			if len(runner.commands) != 0 {
				t.Errorf("ran %v after a bad signature", runner.ran())
			}
			if entries, _ := os.ReadDir(o.TempDir); len(entries) != 0 {
				t.Errorf("download directory left behind: %v", entries)
			}
		})
	}
}

func TestTheRealAmazonKeyRejectsATestSignedPackage(t *testing.T) {
	h := newHost(t)
	h.write("etc/os-release", osReleaseAL2023)
	files, _ := signedPackage(t, pkgverifytest.NewKey(t, "Impostor"), "amazon-ecs-init-latest.x86_64.rpm")
	srv := newPackageServer(t, files)
	runner := newRunner()
	e := newEnv(t, h, imdsmock.Instance{}, runner) // e.verifier is the embedded Amazon key
	o := e.options()
	o.AgentBaseURL = srv.URL
	if _, err := e.run(o); ExitCode(err) != ExitSignature || len(runner.commands) != 0 {
		t.Fatalf("err %v, commands %v", err, runner.ran())
	}
}

func TestAnUnsupportedTypeWithRequireTrunkingExits3AndChangesNothing(t *testing.T) {
	h := ecsOptimized(t)
	runner := newRunner("docker")
	e := newEnv(t, h, imdsmock.Instance{InstanceType: "t3.medium"}, runner)
	o := e.options()
	o.RequireTrunking = true
	before := snapshot(t, h.root)
	_, err := e.run(o)
	if ExitCode(err) != ExitNotTrunkCapable {
		t.Fatalf("exit %d (%v), want %d", ExitCode(err), err, ExitNotTrunkCapable)
	}
	if after := snapshot(t, h.root); !maps.Equal(before, after) || len(runner.commands) != 0 {
		t.Errorf("changed files or ran %v", runner.ran())
	}
}

func TestUnsupportedAndUnknownTypesOnlyWarnWithoutRequireTrunking(t *testing.T) {
	for _, typ := range []string{"t3.medium", "x9z.hyperlarge"} {
		t.Run(typ, func(t *testing.T) {
			h := ecsOptimized(t)
			e := newEnv(t, h, imdsmock.Instance{InstanceType: typ}, newRunner("docker"))
			r, err := e.run(e.options())
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Warnings) == 0 || !strings.Contains(e.log.String(), `"level":"WARN"`) {
				t.Errorf("no warning for %s: %v", typ, r.Warnings)
			}
			if h.readConfig() != wantConfig {
				t.Errorf("ecs.config not written: %q", h.readConfig())
			}
		})
	}
}

func TestAllowTaskIMDSWritesFalse(t *testing.T) {
	h := ecsOptimized(t)
	h.write(ConfigPath, "ECS_AWSVPC_BLOCK_IMDS=true\n")
	e := newEnv(t, h, imdsmock.Instance{}, newRunner("docker"))
	o := e.options()
	o.AllowTaskIMDS = true
	if _, err := e.run(o); err != nil {
		t.Fatal(err)
	}
	if got := h.readConfig(); !strings.HasPrefix(got, "ECS_AWSVPC_BLOCK_IMDS=false\n") {
		t.Errorf("ecs.config %q", got)
	}
}

func TestAnUnsupportedOperatingSystemIsAClearError(t *testing.T) {
	h := newHost(t)
	h.write("etc/os-release", "ID=\"centos\"\nVERSION_ID=\"7\"\nPRETTY_NAME=\"CentOS Linux 7\"\n")
	runner := newRunner()
	e := newEnv(t, h, imdsmock.Instance{}, runner)
	_, err := e.run(e.options())
	if ExitCode(err) != ExitFailed || !strings.Contains(err.Error(), "CentOS Linux 7") || !strings.Contains(err.Error(), "Amazon Linux 2023") {
		t.Fatalf("err %v", err)
	}
	if len(runner.commands) != 0 {
		t.Errorf("ran %v", runner.ran())
	}
}

func TestAFailingInstallCommandFailsTheRun(t *testing.T) {
	h := newHost(t)
	h.write("etc/os-release", osReleaseAL2023)
	runner := newRunner()
	runner.fail["dnf install -y docker"] = true
	e := newEnv(t, h, imdsmock.Instance{}, runner)
	o, _, _ := e.servePackage("amazon-ecs-init-latest.x86_64.rpm", nil)
	_, err := e.run(o)
	if ExitCode(err) != ExitFailed {
		t.Fatalf("err %v", err)
	}
	equalLines(t, "commands", runner.ran(), []string{"dnf install -y docker"})
}

func TestAPackageOverTheSizeLimitIsRefused(t *testing.T) {
	h := newHost(t)
	h.write("etc/os-release", osReleaseAL2023)
	runner := newRunner()
	e := newEnv(t, h, imdsmock.Instance{}, runner)
	o, _, _ := e.servePackage("amazon-ecs-init-latest.x86_64.rpm", nil)
	o.MaxPackageSize = 4
	_, err := e.run(o)
	if err == nil || !strings.Contains(err.Error(), "allowed") || len(runner.commands) != 0 {
		t.Fatalf("err %v, commands %v", err, runner.ran())
	}
}

func TestTheLogIsJSONLinesWithElapsedTimes(t *testing.T) {
	h := ecsOptimized(t)
	e := newEnv(t, h, imdsmock.Instance{}, newRunner("docker"))
	if _, err := e.run(e.options()); err != nil {
		t.Fatal(err)
	}
	sawWritten := false
	for _, l := range strings.Split(strings.TrimSpace(e.log.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if m["msg"] == "ecs.config written" {
			_, sawWritten = m["elapsed_ms"].(float64)
		}
	}
	if !sawWritten {
		t.Errorf("no 'ecs.config written' line with elapsed_ms:\n%s", e.log.String())
	}
}

func TestAMissingUnitUnderRootIsDetectedInEveryPlace(t *testing.T) {
	for _, p := range unitPaths {
		h := newHost(t)
		if installedUnit(h.root) != "" {
			t.Fatal("empty root has a unit")
		}
		h.write(p, "[Unit]\n")
		if got := installedUnit(h.root); got != filepath.Join(h.root, p) {
			t.Errorf("unit at %s found as %q", p, got)
		}
	}
}

func settingOf(kv string) (s ecsconfig.Setting) {
	s.Key, s.Value, _ = strings.Cut(kv, "=")
	return s
}
