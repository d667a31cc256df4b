package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/catalog"
)

func TestCapacityShowsTasksWithoutAndWithTrunkingAndUnknownForMissingTypes(t *testing.T) {
	s, out, _ := streams(false)
	o := &capacityOpts{types: []string{"c5.large", "c5n.large", "m7i.xlarge", "zz9.huge"}, env: env{io: s, output: outputJSON, catalog: catalog.Default()}}
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	golden(t, "capacity.golden.json", out.Bytes())
}

func TestCapacityOfAFamilyListsItsTypesSmallestFirst(t *testing.T) {
	s, out, _ := streams(false)
	o := &capacityOpts{family: "c5", env: env{io: s, output: outputTable, catalog: catalog.Default()}}
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "c5.large\t2\t10\tsupported\nc5.xlarge\t3\t20\tsupported\n") {
		t.Fatalf("output = %q", out)
	}
}

func TestCapacityNeedsTypesOrAFamily(t *testing.T) {
	s, _, _ := streams(false)
	for _, o := range []*capacityOpts{{}, {types: []string{"c5"}}} {
		o.io, o.catalog = s, catalog.Default()
		if err := run(context.Background(), o); !isUsage(err) {
			t.Errorf("%+v: err = %v, want a usage error", o, err)
		}
	}
	o := &capacityOpts{family: "zz9", env: env{io: s, output: outputTable, catalog: catalog.Default()}}
	if err := run(context.Background(), o); ExitCodeOf(err) != ExitError {
		t.Errorf("unknown family: err = %v", err)
	}
}
