package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/imdsmock"
)

// BinEnv points the benchmark at a built binary (make bench sets it to
// dist/hostbootstrap-linux-<host arch>); without it the benchmark builds one.
const BinEnv = "TRUNKCTL_HOSTBOOTSTRAP_BIN"

const benchRuns = 20

// BenchmarkStartToConfigWritten runs the real binary benchRuns times on a
// host that already has the agent, against amazon-ec2-metadata-mock on
// loopback, and reports the median time from starting the process to the
// "ecs.config written" log line (target <= 50 ms), and to exit. Each run
// starts from the AMI's default ecs.config, so each run writes it.
// Run it with -benchtime 1x: one iteration is the whole series.
func BenchmarkStartToConfigWritten(b *testing.B) {
	bin := os.Getenv(BinEnv)
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "hostbootstrap")
		build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", bin, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("build: %v\n%s", err, out)
		}
	}
	m := imdsmock.Start(b, imdsmock.Instance{InstanceType: "c5.xlarge"})
	systemctlDir := b.TempDir()
	if err := os.WriteFile(filepath.Join(systemctlDir, "systemctl"), []byte("#!/bin/sh\n[ \"$1\" = is-active ] && exit 3\nexit 0\n"), 0o755); err != nil {
		b.Fatal(err)
	}
	root := b.TempDir()
	unit := filepath.Join(root, "usr/lib/systemd/system/ecs.service")
	if err := os.MkdirAll(filepath.Dir(unit), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(unit, []byte("[Unit]\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg := filepath.Join(root, "etc/ecs/ecs.config")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+systemctlDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	for k, v := range m.EnvVars() {
		env = append(env, k+"="+v)
	}

	for i := 0; i < b.N; i++ {
		var toConfig, toExit []time.Duration
		for run := 0; run < benchRuns; run++ {
			if err := os.WriteFile(cfg, []byte("ECS_CLUSTER=default\n"), 0o644); err != nil {
				b.Fatal(err)
			}
			c, e := runOnce(b, bin, env, root)
			toConfig, toExit = append(toConfig, c), append(toExit, e)
		}
		med, p90, maxC := stats(toConfig)
		medExit, _, _ := stats(toExit)
		fmt.Printf("hostbootstrap start -> ecs.config written, %d runs: median %.1f ms, p90 %.1f ms, max %.1f ms (target <= 50 ms); start -> exit median %.1f ms\n",
			benchRuns, ms(med), ms(p90), ms(maxC), ms(medExit))
		b.ReportMetric(ms(med), "ms-to-config-median")
		b.ReportMetric(ms(p90), "ms-to-config-p90")
		b.ReportMetric(ms(medExit), "ms-to-exit-median")
	}
	if fi, err := os.Stat(bin); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "MB-binary")
	}
}

// runOnce starts the binary and times the arrival of the "ecs.config
// written" log line on stderr, and the exit.
func runOnce(b *testing.B, bin string, env []string, root string) (toConfig, toExit time.Duration) {
	cmd := exec.Command(bin, "--cluster", "bench", "--root", root)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if toConfig == 0 && strings.Contains(sc.Text(), `"msg":"ecs.config written"`) {
			toConfig = time.Since(start)
		}
		log.WriteString(sc.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("hostbootstrap: %v\n%s\n%s", err, stdout.String(), log.String())
	}
	toExit = time.Since(start)
	if toConfig == 0 {
		b.Fatalf("no 'ecs.config written' line:\n%s", log.String())
	}
	return toConfig, toExit
}

func stats(ds []time.Duration) (median, p90, slowest time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		median = s[n/2]
	} else {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return median, s[(n*9+9)/10-1], s[n-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
