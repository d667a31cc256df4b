package cli

import (
	"testing"
)

// The terminal tables of each command, kept as golden files; docs/cli.md
// shows them as example output.
func TestTerminalTablesMatchTheirGoldenFiles(t *testing.T) {
	tests := []struct {
		name  string
		world func(*testing.T) *world
		args  []string
		want  ExitCode
	}{
		{"status", newWorld, []string{"status", "--cluster", "prod"}, ExitUnhealthy},
		{"instances", newWorld, []string{"instances", "--cluster", "prod"}, ExitUnhealthy},
		{"enis", newWorld, []string{"enis", "--cluster", "prod"}, ExitOK},
		{"capacity", newWorld, []string{"capacity", "c5.large", "c5n.large", "m7i.xlarge", "--family", "m6g"}, ExitOK},
		{"doctor", newWorld, []string{"doctor", "--cluster", "prod"}, ExitUnhealthy},
		{"enable-dry-run", newWorld, []string{"enable", "--role", "EcsInstanceRole", "--dry-run"}, ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCmd(t, tt.world(t), true, tt.args...)
			if code != tt.want {
				t.Fatalf("exit = %d, want %d; stderr %s", code, tt.want, stderr)
			}
			golden(t, tt.name+".golden.txt", []byte("$ trunkctl "+joinArgs(tt.args)+"\n"+out+stderr))
		})
	}
}

func joinArgs(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s
}
