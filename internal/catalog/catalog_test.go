package catalog

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

func TestLookup(t *testing.T) {
	c := Default()
	tests := []struct {
		name     string
		typ      string
		support  Support
		without  int
		with     int
		inTable  bool
		reasonOf string
	}{
		{name: "c5.large fits 2 tasks without trunking and 10 with", typ: "c5.large", support: Supported, without: 2, with: 10, inTable: true},
		{name: "c5.18xlarge fits 120 with trunking", typ: "c5.18xlarge", support: Supported, without: 14, with: 120, inTable: true},
		{name: "lookups ignore case and space", typ: " C5.XLARGE ", support: Supported, without: 3, with: 20, inTable: true},
		{name: "a documented unsupported type is unsupported", typ: "c5.metal", support: Unsupported, without: 14, reasonOf: "documents"},
		{name: "a type of an unsupported family is unsupported", typ: "c5n.large", support: Unsupported, without: 2, reasonOf: "documents"},
		{name: "a table row of an unsupported family is unknown, not guessed", typ: "m5n.large", support: Unknown, without: 2, inTable: true, reasonOf: "calls it unsupported"},
		{name: "an impossible published limit is unknown", typ: "i4i.large", support: Unknown, without: 2, inTable: true, reasonOf: "impossible"},
		{name: "a newer family missing from the table trunks with an unpublished limit", typ: "c7i.large", support: LimitUnpublished, without: 2, reasonOf: "not published"},
		{name: "a Graviton 4 type EC2 calls trunk-compatible trunks with an unpublished limit", typ: "c8g.large", support: LimitUnpublished, without: 2, reasonOf: "can have a trunk ENI"},
		{name: "a Xen type EC2 cannot trunk is unsupported", typ: "c4.large", support: Unsupported, without: 2, reasonOf: "EC2 cannot"},
		{name: "burstable types are unsupported", typ: "t3.micro", support: Unsupported, without: 1, reasonOf: "documents"},
		{name: "a made-up type is unknown", typ: "zz9.huge", support: Unknown, reasonOf: "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := c.Lookup(tt.typ)
			if it.Support != tt.support || it.TasksWithoutTrunking != tt.without || it.TasksWithTrunking != tt.with || it.InPublishedTable != tt.inTable {
				t.Fatalf("Lookup(%q) = %+v", tt.typ, it)
			}
			if tt.reasonOf != "" && !strings.Contains(it.Reason, tt.reasonOf) {
				t.Fatalf("reason %q does not mention %q", it.Reason, tt.reasonOf)
			}
		})
	}
}

func TestFamilyIsSortedBySize(t *testing.T) {
	got := Default().Family("c5")
	var names []string
	for _, it := range got {
		names = append(names, it.Name)
	}
	joined := strings.Join(names, " ")
	if !strings.HasPrefix(joined, "c5.large c5.xlarge c5.2xlarge") || !strings.Contains(joined, "c5.18xlarge") {
		t.Fatalf("Family(c5) = %s", joined)
	}
}

func TestEveryPublishedRowIsAccountedFor(t *testing.T) {
	c := Default()
	var supported, unknown int
	for _, it := range c.All() {
		if !it.InPublishedTable {
			continue
		}
		switch it.Support {
		case Supported:
			supported++
			if it.TasksWithTrunking <= 0 {
				t.Errorf("%s: supported with a trunked limit of %d", it.Name, it.TasksWithTrunking)
			}
		case Unknown:
			unknown++
		default:
			t.Errorf("%s is in the table but %s", it.Name, it.Support)
		}
	}
	if supported+unknown != 435 {
		t.Fatalf("%d supported + %d unknown rows, want the 435 published", supported, unknown)
	}
}

func TestParseRejectsBadData(t *testing.T) {
	good := "instance_type,max_network_interfaces,ipv4_per_interface,trunking_compatible,eks_branch_interfaces,hypervisor,bare_metal\nc5.large,3,10,true,9,nitro,false\n"
	for name, ecs := range map[string]string{
		"a wrong header":     "type,a,b,c\n",
		"a non-numeric cell": "instance_type,tasks_without_trunking,tasks_with_trunking,category\nc5.large,two,10,x\n",
		"a short row":        "instance_type,tasks_without_trunking,tasks_with_trunking,category\nc5.large,2\n",
	} {
		if _, err := Parse(strings.NewReader(ecs), strings.NewReader(good)); err == nil {
			t.Errorf("%s was accepted", name)
		}
	}
}

// The embedded copies must match shared/data; a deliberate divergence must be
// recorded here with its reason.
func TestEmbeddedDataMatchesSharedData(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data")
	if _, err := os.Stat(dir); err != nil {
		peer.Missing(t, "shared data at "+dir, "it sits beside the repository in CI")
	}
	for file, embedded := range map[string][]byte{"ecs-eni-trunking-limits.csv": ecsTableCSV, "ec2-network-limits.csv": ec2TableCSV} {
		shared, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(shared, embedded) {
			t.Errorf("internal/catalog/data/%s differs from shared/data/%s: copy it again, or note the reason here", file, file)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	c := Default()
	for b.Loop() {
		_ = c.Lookup("c5.large")
	}
}

func TestAnUnknownTypeGetsTheNearestKnownNames(t *testing.T) {
	c := Default()
	tests := []struct {
		name, in string
		want     []string
	}{
		{"two swapped letters", "c5.lrage", []string{"c5.large"}},
		{"a missing letter", "m5.xlarg", []string{"m5.xlarge"}},
		{"upper case and spaces are forgiven before suggesting", " C5.LRAGE ", []string{"c5.large"}},
		{"a known type needs no suggestion", "c5.large", nil},
		{"nonsense gets none", "zz9.enormous", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Suggest(tt.in)
			if len(tt.want) == 0 {
				if len(got) != 0 {
					t.Fatalf("Suggest(%q) = %v, want none", tt.in, got)
				}
				return
			}
			if len(got) == 0 || got[0] != tt.want[0] {
				t.Fatalf("Suggest(%q) = %v, want %v first", tt.in, got, tt.want)
			}
		})
	}
}

func TestLookupOfATypoSaysDidYouMean(t *testing.T) {
	it := Default().Lookup("c5.lrage")
	if it.Support != Unknown || !strings.Contains(it.Reason, "did you mean c5.large") || it.Suggestions[0] != "c5.large" {
		t.Fatalf("got %+v", it)
	}
}

func TestAnUnknownFamilyGetsTheNearestFamilies(t *testing.T) {
	got := Default().SuggestFamily("c5x")
	if len(got) == 0 || !slices.Contains(got, "c5") {
		t.Fatalf("SuggestFamily(c5x) = %v", got)
	}
}

func TestEditDistanceCountsASwapAsOneMistake(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"lrage", "large", 1}, {"large", "large", 0}, {"", "abc", 3}, {"m5", "m6i", 2}} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
