package contract

import (
	"slices"
	"testing"
)

func TestOnDeleteValidAcceptsExactlyTheTwoValues(t *testing.T) {
	for _, tt := range []struct {
		in   OnDelete
		want bool
	}{
		{OnDeleteRetain, true},
		{OnDeleteDisable, true},
		{"", false},
		{"Retain", false},
		{"delete", false},
	} {
		if got := tt.in.Valid(); got != tt.want {
			t.Errorf("OnDelete(%q).Valid() = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestTrunkingAgentConfigTurnsOnTaskENIsAndTrunkingAndChoosesIMDSBlocking(t *testing.T) {
	for _, tt := range []struct {
		block bool
		want  []AgentVariable
	}{
		{true, []AgentVariable{{ECSEnableTaskENI, "true"}, {ECSEnableHighDensityENI, "true"}, {ECSAWSVPCBlockIMDS, "true"}}},
		{false, []AgentVariable{{ECSEnableTaskENI, "true"}, {ECSEnableHighDensityENI, "true"}, {ECSAWSVPCBlockIMDS, "false"}}},
	} {
		if got := TrunkingAgentConfig(tt.block); !slices.Equal(got, tt.want) {
			t.Errorf("TrunkingAgentConfig(%v) = %v, want %v", tt.block, got, tt.want)
		}
	}
}
