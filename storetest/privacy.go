package storetest

import (
	"bytes"
	"context"
	"testing"

	"github.com/candorhq/candor"
)

// Valuer lists every text and binary value a store holds, in every table.
type Valuer interface {
	Values(ctx context.Context) ([][]byte, error)
}

// Filler writes personal data into a store the way Candor does: subjects
// with e-mail addresses, phone numbers and traits through the vault and the
// subjects service, consents through the ledger, events with personal data
// typed into free text through collection. It closes what it opened (so the
// audit log is flushed) before it returns. The suite cannot build those
// parts itself, since it depends on the root package only: a store's tests
// pass one (Candor's own stores pass internal/testenv.FillPersonal).
type Filler func(t *testing.T, s candor.Store) Personal

// Personal is what a [Filler] wrote.
type Personal struct {
	// Plaintext holds the personal data values written, none of which may
	// rest in the clear.
	Plaintext [][]byte
	// SubjectID is a subject written, whose id rests in several tables.
	SubjectID string
	// Clear is a value that rests in the clear in a binary column (the
	// controller's contact address in the stored notice's canonical form).
	Clear []byte
}

// testNoPlaintext has fill write personal data through Candor's real parts,
// then reads every value of every table and looks for the plaintext.
func testNoPlaintext(t *testing.T, s candor.Store, fill Filler) {
	v, ok := s.(Valuer)
	if !ok {
		t.Fatalf("%T does not list its values", s)
	}
	p := fill(t, s)
	if len(p.Plaintext) == 0 || p.SubjectID == "" || len(p.Clear) == 0 {
		t.Fatalf("the filler wrote nothing to look for: %+v", p)
	}
	values, err := v.Values(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen, clear := 0, false
	for _, val := range values {
		clear = clear || bytes.Contains(val, p.Clear)
		for _, n := range p.Plaintext {
			if bytes.Contains(val, n) {
				t.Errorf("a stored value holds the plaintext %q", n)
			}
		}
		if bytes.Contains(val, []byte(p.SubjectID)) {
			seen++
		}
	}
	// The scan read the tables: the subject's id is in several of them.
	if seen < 3 {
		t.Errorf("the values hold the subject id only %d times: the scan did not read the tables", seen)
	}
	// Finding a value that rests in the clear in a binary column proves
	// binary columns are read as bytes, where a plaintext e-mail would show.
	if !clear {
		t.Errorf("%q, stored in the clear in a binary column, was not found: binary columns were not read", p.Clear)
	}
}
