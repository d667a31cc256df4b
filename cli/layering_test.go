package cli

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// No file in cli/ calls an AWS client or the judge: commands parse flags,
// validate, call a use-case (internal/assess, internal/rollout, ...) and
// print. An SDK call is a call whose argument is an SDK operation's
// &service.XxxInput{...}; the judge is doctor.Judge / JudgeInstance.
func TestCLICallsNoAWSClientAndNoJudge(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		sdk := map[string]bool{}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(path, "github.com/aws/aws-sdk-go-v2/service/") {
				continue
			}
			local := filepath.Base(path)
			if imp.Name != nil {
				local = imp.Name.Name
			}
			sdk[local] = true
		}
		f, err = parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "doctor" && strings.HasPrefix(sel.Sel.Name, "Judge") {
					t.Errorf("%s: calls the judge (doctor.%s); use the assessment (internal/assess)", fset.Position(call.Pos()), sel.Sel.Name)
				}
			}
			for _, arg := range call.Args {
				u, ok := arg.(*ast.UnaryExpr)
				if !ok || u.Op != token.AND {
					continue
				}
				lit, ok := u.X.(*ast.CompositeLit)
				if !ok {
					continue
				}
				if sel, ok := lit.Type.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && sdk[id.Name] && strings.HasSuffix(sel.Sel.Name, "Input") {
						t.Errorf("%s: calls an AWS client (%s.%s); move the call below cli/", fset.Position(call.Pos()), id.Name, sel.Sel.Name)
					}
				}
			}
			return true
		})
	}
	if checked < 20 {
		t.Fatalf("checked only %d files", checked)
	}
}

// validator is the part of a command this test calls.
type validator interface{ Validate() error }

// Validate checks flags and changes nothing: options hold flag values,
// results are return values.
func TestValidateDoesNotChangeTheOptions(t *testing.T) {
	s, _, _ := streams(true)
	e := env{io: s, output: outputTable}
	for name, c := range map[string]validator{
		"enable":    &enableOpts{env: e, value: "enabled", roles: []string{"a"}, roleNames: []string{"b"}, yes: true},
		"status":    &statusOpts{env: e, roles: []string{"a"}, roleNames: []string{"b"}},
		"rollout":   &rolloutOpts{env: e, cluster: "prod", maxUnavailable: "10%", drainTimeout: time.Minute, timeout: time.Minute, standalone: "wait", method: "drain", yes: true},
		"doctor":    &doctorOpts{env: e, cluster: "prod", stuckAfter: time.Minute},
		"instances": &instancesOpts{env: e, cluster: "prod"},
		"enis":      &enisOpts{env: e, cluster: "prod"},
	} {
		before := fmt.Sprintf("%#v", c)
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if after := fmt.Sprintf("%#v", c); after != before {
			t.Errorf("%s: Validate changed the options:\nbefore %s\nafter  %s", name, before, after)
		}
	}
}
