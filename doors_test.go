package candor_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// doors are the method names that turn ciphertext back into plaintext.
// Only gate/ and vault/ may call them (invariant 3: personal data leaves
// storage only through the gate).
var doors = map[string]bool{
	"Unseal":          true, // a subject's data: gate.Unsealer, vault.Vault
	"OpenSecret":      true, // the old name of OpenStaffSecret
	"OpenStaffSecret": true, // a staff member's TOTP secret: see allowed
	"Unsealer":        true, // holding the gate's interface is holding the door
}

// allowed lists the uses of a door outside gate/ and vault/, by file and
// method name, each with its reason.
var allowed = map[string]string{
	// The staff service checks a TOTP code against the staff member's own
	// secret, which is sealed under the staff-secrets system key, never
	// under a person's key: it is no personal data of a subject.
	"cmd/candor/staff.go OpenStaffSecret": "staff TOTP secret",
}

// TestOnlyTheGateUnseals parses every non-test Go file of the module and
// fails on any call or method value of Unseal (or of the staff-secret
// opener) and on any interface that declares Unseal, outside gate/ and
// vault/.
func TestOnlyTheGateUnseals(t *testing.T) {
	for _, v := range doorViolations(t, ".") {
		t.Error(v)
	}
}

// TestDoorCheckFindsViolations shows the check bites: a file outside the
// gate that calls Unseal, takes it as a method value, or declares it in an
// interface is reported.
func TestDoorCheckFindsViolations(t *testing.T) {
	dir := t.TempDir()
	src := `package leak

import "context"

type opener interface {
	Unseal(ctx context.Context, subjectID, field string, ct []byte) ([]byte, error)
}

func read(o opener) {
	o.Unseal(context.Background(), "sub_1", "email", nil)
	f := o.Unseal
	_ = f
}
`
	if err := os.MkdirAll(filepath.Join(dir, "leak"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "leak", "leak.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := doorViolations(t, dir)
	if len(got) != 3 {
		t.Fatalf("got %d violations, want 3 (interface, call, method value): %q", len(got), got)
	}
	// The same file inside gate/ is allowed.
	if err := os.Rename(filepath.Join(dir, "leak"), filepath.Join(dir, "gate")); err != nil {
		t.Fatal(err)
	}
	if got := doorViolations(t, dir); len(got) != 0 {
		t.Fatalf("inside gate/: %q", got)
	}
}

func doorViolations(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if rel == "gate" || rel == "vault" {
				return filepath.SkipDir
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
			switch n := n.(type) {
			case *ast.SelectorExpr:
				// A call o.Unseal(…) and a method value o.Unseal are
				// both selector expressions.
				if name := n.Sel.Name; doors[name] {
					if _, ok := allowed[rel+" "+name]; !ok {
						out = append(out, fset.Position(n.Pos()).String()+": uses "+name+" outside gate/ and vault/")
					}
				}
			case *ast.InterfaceType:
				for _, m := range n.Methods.List {
					for _, id := range m.Names {
						if id.Name == "Unseal" {
							out = append(out, fset.Position(id.Pos()).String()+": an interface declares Unseal outside gate/ and vault/")
						}
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
	return out
}
