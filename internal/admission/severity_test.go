package admission

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestEveryReasonClassified reads translate's source for the reasons its
// problems can have: the literal reason of each t.problem call, and
// <Kind>NotFound for each notFound(Kind, ...) error. Each must be in
// exactly one list of severity.go, so that a reason added to translate
// gets a decision here.
func TestEveryReasonClassified(t *testing.T) {
	files, err := filepath.Glob("../translate/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("translate's sources: %v", err)
	}
	found := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				if fn.Sel.Name != "problem" || len(call.Args) < 3 {
					return true
				}
				switch arg := call.Args[2].(type) {
				case *ast.BasicLit:
					found[unquote(t, arg)] = fset.Position(call.Pos()).String()
				case *ast.CallExpr:
					// annotationReason(err): InvalidAnnotation or a
					// notFound kind's reason, both found elsewhere.
					if id, ok := arg.Fun.(*ast.Ident); !ok || id.Name != "annotationReason" {
						t.Errorf("%s: reason is neither a literal nor annotationReason(err)", fset.Position(call.Pos()))
					}
				default:
					t.Errorf("%s: reason is neither a literal nor annotationReason(err)", fset.Position(call.Pos()))
				}
			case *ast.Ident:
				if fn.Name == "notFound" && len(call.Args) > 0 {
					if lit, ok := call.Args[0].(*ast.BasicLit); ok {
						found[unquote(t, lit)+"NotFound"] = fset.Position(call.Pos()).String()
					}
				}
			}
			return true
		})
	}
	found["InvalidAnnotation"] = "annotationReason"
	if len(found) < 20 {
		t.Fatalf("only %d reasons found in translate: %v", len(found), found)
	}
	deny, warn := denyingReasons(), warningReasons()
	for _, list := range [][]string{deny, warn} {
		if sorted := slices.Compact(slices.Sorted(slices.Values(list))); len(sorted) != len(list) {
			t.Errorf("a reason is listed twice: %v", list)
		}
	}
	for r, where := range found {
		if slices.Contains(deny, r) == slices.Contains(warn, r) {
			t.Errorf("reason %s (%s) must be in exactly one of denyingReasons and warningReasons", r, where)
		}
	}
	for _, r := range append(slices.Clone(deny), warn...) {
		if _, ok := found[r]; !ok {
			t.Errorf("reason %s is classified but translate never reports it", r)
		}
	}
}

func TestDenies(t *testing.T) {
	for r, want := range map[string]bool{"InvalidAnnotation": true, "PathConflict": true, "ServiceNotFound": false, "SecretNotFound": false, "NoSuchReason": false} {
		if denies(r) != want {
			t.Errorf("denies(%s) = %v", r, !want)
		}
	}
}

func unquote(t *testing.T, lit *ast.BasicLit) string {
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
