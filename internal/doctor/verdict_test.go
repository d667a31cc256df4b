package doctor

import (
	"testing"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

func TestCompareVersionsOrdersDottedNumbers(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.28.1", "1.28.1", 0}, {"1.28.0", "1.28.1", -1}, {"1.29.1", "1.28.1", 1},
		{"1.100.0", "1.29.1", 1}, {"v1.28.1", "1.28.1", 0}, {"1.28", "1.28.1", -1}, {"1.30.0-beta", "1.29.1", 1},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestUsageTakesTheLimitThatAppliesToTheInstance(t *testing.T) {
	it := catalog.Default().Lookup("c5.large")
	if u := UsageOf(inventory.ContainerInstance{TrunkENI: "eni-1"}, it, 3); u.Limit != 10 || u.AWSVPCTasks != 3 {
		t.Fatalf("trunked usage = %+v, want limit 10", u)
	}
	if u := UsageOf(inventory.ContainerInstance{}, it, 1); u.Limit != 2 {
		t.Fatalf("untrunked usage = %+v, want limit 2", u)
	}
}

func FuzzCompareVersions(f *testing.F) {
	for _, s := range []string{"1.28.1", "v1.29.1", "1.30.0-beta+x", "", "..", "1.a.3", "99999999999999999999.1"} {
		f.Add(s, "1.28.1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != -ba {
			t.Fatalf("CompareVersions(%q, %q) = %d but reversed = %d", a, b, ab, ba)
		}
		if CompareVersions(a, a) != 0 {
			t.Fatalf("%q does not equal itself", a)
		}
	})
}
