package inventory

import (
	"reflect"
	"testing"
)

func TestIDBatchDedupesAndCutsFullBatches(t *testing.T) {
	b := newIDBatch(2)
	if full := b.add([]string{"a", "", "a", "b", "c"}); !reflect.DeepEqual(full, [][]string{{"a", "b"}}) {
		t.Fatalf("full = %v", full)
	}
	if full := b.add([]string{"b", "d", "e"}); !reflect.DeepEqual(full, [][]string{{"c", "d"}}) {
		t.Fatalf("full = %v", full)
	}
	if r := b.rest(); !reflect.DeepEqual(r, []string{"e"}) || b.rest() != nil {
		t.Fatalf("rest = %v", r)
	}
	if b.distinct() != 5 {
		t.Fatalf("distinct = %d", b.distinct())
	}
}
