package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

// The dates must be the ones shared/data/README.md gives for the files that
// TestEmbeddedDataMatchesSharedData holds equal to the embedded copies.
func TestEmbeddedDataDatesAreTheSharedDataREADMEs(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		peer.Missing(t, "shared data at "+path, "it sits beside the repository in CI: "+err.Error())
	}
	d := EmbeddedDataDates()
	for _, want := range []string{"last changed " + d.ECSTaskLimits, "generated " + d.EC2NetworkLimits} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("shared/data/README.md does not say %q: update EmbeddedDataDates", want)
		}
	}
}
