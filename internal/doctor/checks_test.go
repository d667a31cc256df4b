package doctor_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/doctor"
)

// Every Check constant the package declares is in Checks, once: the list
// doctor's help is generated from cannot miss a check the judge has.
func TestChecksListsEveryCheckConstantOnce(t *testing.T) {
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]string{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Check") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					declared[v] = name.Name
				}
			}
			return true
		})
	}
	if len(declared) < 10 {
		t.Fatalf("found only %d Check constants: %v", len(declared), declared)
	}
	listed := map[string]int{}
	for _, c := range doctor.Checks() {
		listed[c.Name]++
		if c.Doc == "" {
			t.Errorf("check %s has no description", c.Name)
		}
	}
	for v, name := range declared {
		if listed[v] != 1 {
			t.Errorf("%s (%q) is listed %d times in doctor.Checks, want once", name, v, listed[v])
		}
	}
	for v := range listed {
		if _, ok := declared[v]; !ok {
			t.Errorf("doctor.Checks lists %q, which no Check constant declares", v)
		}
	}
}
