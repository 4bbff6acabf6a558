package candor_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/candorhq/candor"
)

// The vocabulary is stored and hashed: each action is one distinct dotted
// word the console's filter accepts, and every kind of rights request has
// its listed action.
func TestAuditVocabulary(t *testing.T) {
	seen := map[candor.AuditAction]bool{}
	for _, a := range candor.AuditActions {
		if seen[a] {
			t.Errorf("action %q listed twice", a)
		}
		seen[a] = true
		if len(a) == 0 || len(a) > 64 || !validWord(string(a)) {
			t.Errorf("action %q is not a dotted lower-case word of at most 64 characters", a)
		}
	}
	for _, kind := range []string{candor.RightAccess, candor.RightExport, candor.RightRectify, candor.RightErase, candor.RightRestrict, candor.RightObject, candor.RightWithdraw} {
		if a := candor.RightsAction(kind); !seen[a] {
			t.Errorf("RightsAction(%q) = %q, not in AuditActions", kind, a)
		}
	}
	if got, want := candor.RightsAction(candor.RightErase), candor.AuditAction("rights.erase"); got != want {
		t.Errorf("RightsAction(erase) = %q, want %q", got, want)
	}
	for _, d := range []candor.AuditDecision{"allow", "deny", "ok", "not_found"} {
		if !slices.Contains(candor.AuditDecisions, d) {
			t.Errorf("decision %q missing", d)
		}
	}
}

func validWord(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Every audit entry Candor writes names its action and decision by a
// constant of the vocabulary, never by a string literal (which would
// compile, being untyped, and could drift from the list).
func TestAuditEntriesUseTheVocabulary(t *testing.T) {
	fset := token.NewFileSet()
	var bad []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "storetest") {
				return filepath.SkipDir // storetest writes made-up entries to test the stores
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok || !strings.HasSuffix(typeName(cl.Type), "AuditEntry") {
				return true
			}
			for _, el := range cl.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				if k, ok := kv.Key.(*ast.Ident); ok && (k.Name == "Action" || k.Name == "Decision") {
					if _, lit := kv.Value.(*ast.BasicLit); lit {
						bad = append(bad, fset.Position(kv.Pos()).String())
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("%s: an audit action or decision written as a literal; use its constant", b)
	}
}

// typeName renders a composite literal's type expression: AuditEntry or
// candor.AuditEntry.
func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return typeName(e.X) + "." + e.Sel.Name
	}
	return ""
}
