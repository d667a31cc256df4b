package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The dates must be the ones shared/data/README.md gives for the files that
// TestEmbeddedDataMatchesSharedData holds equal to the embedded copies.
func TestEmbeddedDataDatesAreTheSharedDataREADMEs(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("TRUNKCTL_REQUIRE_PEERS") == "1" {
			t.Fatal(err)
		}
		t.Skipf("shared data not found at %s (it sits beside the repository in CI)", path)
	}
	d := EmbeddedDataDates()
	for _, want := range []string{"last changed " + d.ECSTaskLimits, "generated " + d.EC2NetworkLimits} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("shared/data/README.md does not say %q: update EmbeddedDataDates", want)
		}
	}
}
