package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestEveryCommandsHelpEndsWithItsExitCodes(t *testing.T) {
	root, _ := newRoot(Deps{IO: &IOStreams{}})
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(root, nil)
	if len(paths) < 12 {
		t.Fatalf("only %d commands found: %v", len(paths), paths)
	}
	for _, path := range paths {
		t.Run("trunkctl "+strings.Join(path, " "), func(t *testing.T) {
			s, out, errOut := streams(false)
			code := Run(context.Background(), append(append([]string{}, path...), "--help"), Deps{IO: s})
			lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
			last := lines[len(lines)-1]
			if code != ExitOK || errOut.Len() != 0 || !strings.HasPrefix(last, "Exit codes: 0 ") || !strings.HasSuffix(last, ".") {
				t.Fatalf("exit %d, stderr %q, last line %q", code, errOut, last)
			}
			if strings.Count(out.String(), "Exit codes") != 1 {
				t.Fatalf("the exit codes are said %d times:\n%s", strings.Count(out.String(), "Exit codes"), out)
			}
			if len(path) == 1 {
				switch path[0] {
				case "status", "enable", "disable", "instances", "doctor", "rollout":
					if !strings.Contains(last, " 3 ") || !strings.Contains(last, "130 interrupted") {
						t.Fatalf("%s can exit 3 and 130; its help says %q", path[0], last)
					}
				}
			}
		})
	}
}

func TestGlobalFlagHelpIsShortAndTrue(t *testing.T) {
	root, _ := newRoot(Deps{IO: &IOStreams{}})
	pf := root.PersistentFlags()
	if u := pf.Lookup(flagOutput).Usage; !strings.Contains(u, "wide (every column; instances and enis)") {
		t.Errorf("--output help %q does not say which commands have wide", u)
	}
	for _, f := range []string{flagTimeout, flagOutput, flagProfile, flagRegion} {
		if u := pf.Lookup(f).Usage; len(u) > 100 {
			t.Errorf("--%s help is %d characters: %q", f, len(u), u)
		}
	}
}

func TestCompletionOfAShellItCannotCompleteIsAUsageError(t *testing.T) {
	s, out, errOut := streams(false)
	code := Run(context.Background(), []string{"completion", "tcsh"}, Deps{IO: s})
	if code != ExitUsage || out.Len() != 0 || !strings.Contains(errOut.String(), "trunkctl does not complete tcsh; it completes bash, fish, powershell, zsh") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	s, out, _ = streams(false)
	if code := Run(context.Background(), []string{"completion", "bash"}, Deps{IO: s}); code != ExitOK || !strings.Contains(out.String(), "bash completion") {
		t.Fatalf("completion bash: exit %d, stdout starts %q", code, out.String()[:min(80, out.Len())])
	}
}

func TestStatusTakesRoleNameAsEnableDoes(t *testing.T) {
	_, byRole, _ := runCmd(t, newWorld(t), false, "status", "--role", "EcsInstanceRole", "-o", "json")
	code, byName, errOut := runCmd(t, newWorld(t), false, "status", "--role-name", "EcsInstanceRole", "-o", "json")
	if code != ExitUnhealthy || byName != byRole || !strings.Contains(byName, roleArn) {
		t.Fatalf("exit %d, stderr %s\n--role-name:\n%s\n--role:\n%s", code, errOut, byName, byRole)
	}
	code, _, errOut = runCmd(t, newWorld(t), false, "status", "--role-name", roleArn)
	if code != ExitUsage || !strings.Contains(errOut, "--role-name takes a role name, not an ARN") {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
}
