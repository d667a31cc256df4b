// Command hostbootstrap makes a fresh EC2 instance a trunk-ready ECS
// container instance. Run it from user data:
//
//	hostbootstrap --cluster NAME [--require-trunking] [--set KEY=VALUE ...] [--wait 5m]
//
// The logic is in internal/hostsetup; this file only wires the real
// outside world to it. See docs/hostbootstrap.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/trunkctl/trunkctl/internal/buildinfo"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/hostsetup"
	"github.com/trunkctl/trunkctl/internal/pkgverify"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, time.Now()))
}

func run(args []string, stdout, stderr io.Writer, start time.Time) int {
	if slices.Contains(args, "--version") || slices.Contains(args, "-version") {
		fmt.Fprint(stdout, "hostbootstrap version "+buildinfo.Read().Text())
		return hostsetup.ExitOK
	}
	opts, err := hostsetup.ParseFlags(args, stderr)
	if errors.Is(err, hostsetup.ErrHelp) {
		return hostsetup.ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "hostbootstrap: %v\n", err)
		return hostsetup.ExitCode(err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	verifier, err := pkgverify.AmazonECS()
	if err != nil {
		log.Error("embedded Amazon ECS key", "error", err.Error())
		return hostsetup.ExitFailed
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, err := hostsetup.Run(ctx, opts, hostsetup.Deps{
		IMDS:     hostsetup.NewIMDSClient(),
		Runner:   hostsetup.ExecRunner{Log: log},
		HTTP:     hostsetup.NewHTTPClient(),
		Verifier: verifier,
		Catalog:  catalog.Default(),
		Log:      log,
		Start:    start,
	})
	if err != nil {
		log.Error("hostbootstrap failed", "error", err.Error(), "exit_code", hostsetup.ExitCode(err))
	}
	report.WriteSummary(stdout, err)
	return hostsetup.ExitCode(err)
}
