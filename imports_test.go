package candor_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// leaves are packages that must import no part of Candor but the root
// package (and the leaves named beside them): the store adapters and the
// conformance suite, so that a store is certified against the contract
// alone and never reaches into a capability; and the outbound adapters.
var leaves = map[string][]string{
	"sqlite":    nil,
	"postgres":  nil,
	"storetest": nil,
	"webhook":   nil,
	"smtp":      nil,
	"sms":       {"webhook"},
}

// TestLeavesImportOnlyTheRoot parses the non-test files of each leaf and
// fails on an import of any other Candor package.
func TestLeavesImportOnlyTheRoot(t *testing.T) {
	const module = "github.com/candorhq/candor"
	for dir, also := range leaves {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				rest, ok := strings.CutPrefix(path, module+"/")
				if ok && !slices.Contains(also, rest) {
					t.Errorf("%s imports %s: a leaf imports only the root package", f, path)
				}
			}
		}
	}
}
