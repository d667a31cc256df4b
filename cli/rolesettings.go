package cli

import (
	"fmt"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
)

// statusExit turns role results into the exit contract: errors first (1),
// then any role whose value is not want (3).
func statusExit(s *IOStreams, rs []accountsetting.RoleSetting, want string) error {
	failed, off := 0, 0
	for _, r := range rs {
		switch {
		case r.Error != "":
			failed++
			s.Warnf("%s: %s", r.RoleArn, r.Error)
		case r.Mismatch != nil:
			off++
			s.Warnf("%s", r.Mismatch)
		case r.EffectiveValue != want:
			off++
		}
	}
	switch {
	case failed > 0:
		return &exitError{code: ExitError, err: fmt.Errorf("could not read %d of %d role(s)", failed, len(rs))}
	case off > 0:
		return unhealthy()
	}
	return nil
}

// printRoles prints role settings as a table.
func printRoles(s *IOStreams, rs []accountsetting.RoleSetting) error {
	t := newTable(s, "ROLE", "SETTING", "SOURCE", "VIA", "VALUE")
	for _, r := range rs {
		value := r.EffectiveValue
		switch {
		case r.Error != "":
			value = s.color(colorRed, "error")
		case value == accountsetting.Enabled:
			value = s.color(colorGreen, value)
		default:
			value = s.color(colorRed, value)
		}
		t.add(r.RoleArn, r.Setting, string(r.Source), string(r.Via), value)
	}
	return t.render()
}

// warn prints what a read left out.
func warn(s *IOStreams, warnings []string) {
	for _, w := range warnings {
		s.Warnf("%s", w)
	}
}
