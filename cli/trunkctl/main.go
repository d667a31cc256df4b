// Command trunkctl verifies, enables and inspects ECS ENI trunking.
package main

import (
	"context"
	"os"

	"github.com/trunkctl/trunkctl/cli"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

func main() {
	ctx, stop := cli.SignalContext(context.Background())
	code := cli.Run(ctx, os.Args[1:], cli.Deps{
		IO:          cli.SystemStreams(),
		AWS:         cli.RealAWS,
		Concurrency: inventory.DefaultConcurrency,
		AssumeWait:  0,
	})
	stop()
	os.Exit(int(code))
}
