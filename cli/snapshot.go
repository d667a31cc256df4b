package cli

import (
	"strings"

	"github.com/trunkctl/trunkctl/internal/inventory"
)

// warnSnapshot says on stderr what the read of a cluster left out.
func warnSnapshot(s *IOStreams, snap *inventory.Snapshot) {
	for _, w := range snap.Warnings {
		s.Warnf("%s", w)
	}
	if len(snap.StoppedTasks) > 0 {
		s.Warnf("%d task(s) stopped while being listed", len(snap.StoppedTasks))
	}
}

// warnNoProfile names the EC2 instances without an instance profile.
func warnNoProfile(s *IOStreams, snap *inventory.Snapshot) {
	if len(snap.NoProfile) > 0 {
		s.Warnf("%d EC2 instance(s) have no instance profile: %s", len(snap.NoProfile), strings.Join(snap.NoProfile, ", "))
	}
}
