// Command cdk is the CDK app that cdk.json runs: EniTrunkingStack,
// TrunkClusterStack and, with -c orgUnitIds=..., OrgTrunkingStack (the
// organization's StackSet), checked by cdk-nag's AwsSolutions pack. The Lambda and
// hostbootstrap assets are built from this module with the local Go
// toolchain during synth. See docs/cdk.md.
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/stacks"
)

func main() {
	defer jsii.Close()
	app := stacks.NewApp(nil)
	if err := stacks.Build(app); err != nil {
		fmt.Fprintln(os.Stderr, "cdk:", err)
		os.Exit(2)
	}
	stacks.AddNagChecks(app)
	app.Synth(nil)
}
