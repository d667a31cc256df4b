package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// interruptCodes end the exit codes of every command that calls AWS.
const interruptCodes = "130 interrupted (SIGINT), 143 terminated (SIGTERM)"

// exitCodes are the exit codes each command's help ends with, by command
// name; a command not listed has the plain ones.
var exitCodes = map[string]string{
	"trunkctl":  "0 ok, 1 error, 2 usage, 3 checked and not enabled or unhealthy, " + interruptCodes,
	"status":    "0 every role is enabled, 3 any is not, 1 error, 2 usage, " + interruptCodes,
	"enable":    "0 every role reads back enabled, 3 one does not, 1 error, 2 usage, " + interruptCodes,
	"disable":   "0 every role reads back disabled, 3 one does not, 1 error, 2 usage, " + interruptCodes,
	"instances": "0 every instance is healthy and doctor finds no error, 3 otherwise, 1 error (e.g. no such cluster), 2 usage, " + interruptCodes,
	"doctor":    "0 no error finding and every instance healthy, 3 otherwise, 1 error, 2 usage, " + interruptCodes,
	"enis":      "0 ok, 1 error, 2 usage, " + interruptCodes,
	"report":    "0 doctor finds no error, 3 it finds one (the picture is still written), 1 error (e.g. no such cluster), 2 usage, " + interruptCodes,
	"rollout": "0 every instance that can have a trunk has one (or a dry run), 3 finished with skipped instances, " +
		"1 an error or a stop, 2 usage, 130 interrupted (SIGINT; it says what it left DRAINING), 143 terminated (SIGTERM)",
	"capacity":   "0 ok, 2 usage (an unknown family, a mistyped type)",
	"version":    "0 ok, 2 usage",
	"completion": "0 ok, 2 usage (a shell trunkctl does not complete)",
	"help":       "0 ok, 2 usage",
}

// plainExitCodes are the exit codes of a command exitCodes does not list.
const plainExitCodes = "0 ok, 1 error, 2 usage, " + interruptCodes

// endHelpWithExitCodes makes every command's help, cobra's help and
// completion commands included, end with its exit codes, and makes
// `completion SHELL` refuse a shell it cannot complete. It wraps cobra's
// help function rather than setting a help template: a template makes cobra
// run text/template, which keeps the linker from dropping unused methods
// (the binary grew from 15.6 MB to 60 MB).
func endHelpWithExitCodes(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	help := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		help(c, args)
		fmt.Fprintf(c.OutOrStdout(), "\nExit codes: %s.\n", exitCodesOf(c))
	})
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			refuseUnknownShells(c)
		}
	}
}

// exitCodesOf are the exit codes of a command.
func exitCodesOf(c *cobra.Command) string {
	if codes, ok := exitCodes[c.Name()]; ok {
		return codes
	}
	if c.HasParent() && c.Parent().Name() == "completion" {
		return "0 ok"
	}
	return plainExitCodes
}

// refuseUnknownShells makes `completion tcsh` a usage error instead of the
// completion command's help and exit 0.
func refuseUnknownShells(c *cobra.Command) {
	var shells []string
	for _, sub := range c.Commands() {
		shells = append(shells, sub.Name())
	}
	c.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageErrorf("trunkctl does not complete %s; it completes %s", args[0], strings.Join(shells, ", "))
		}
		return nil
	}
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
}

// checkRoleNames checks --role-name values: names, not ARNs.
func checkRoleNames(names []string) error {
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, ":/") {
			return usageErrorf("--%s takes a role name, not an ARN: %q", flagRoleName, n)
		}
	}
	return nil
}
