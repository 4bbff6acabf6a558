package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/subjects"
)

// Valuer lists every text and binary value a store holds, in every table.
type Valuer interface {
	Values(ctx context.Context) ([][]byte, error)
}

// testNoPlaintext writes subjects through the real vault, subjects service
// and consent ledger, then reads every value of every table and looks for
// their e-mail addresses, phone numbers and cities.
func testNoPlaintext(t *testing.T, s candor.Store) {
	v, ok := s.(Valuer)
	if !ok {
		t.Fatalf("%T does not list its values", s)
	}
	e, err := testenv.Wire(s, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	actor := testenv.Admin
	tag := fmt.Sprintf("%x", time.Now().UnixNano())
	var needles [][]byte
	var ids []string
	for i := range 10 {
		email := fmt.Sprintf("plain.%d.%s@example.com", i, tag)
		phone := fmt.Sprintf("1390%07d", 1234567+i)
		city := fmt.Sprintf("Wuzhen%s%d", tag, i)
		id, _, err := e.Subjects.Upsert(ctx, actor, "", subjects.Input{UserID: fmt.Sprint("u", i), Email: email, Phone: phone,
			Traits: map[string]any{"city": city, "name": "Plain Name"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Ledger.Record(ctx, actor, "", id, consent.Choice{NoticeVersion: e.Version, Scope: consent.ScopeAll,
			Guardian: &consent.Guardian{Relation: "parent", Method: "id_check", Reference: "guardian of " + email}}); err != nil {
			t.Fatal(err)
		}
		needles = append(needles, []byte(email), []byte(phone), []byte(city))
		ids = append(ids, id)
	}
	// Events with the same e-mail addresses and phone numbers typed into
	// free text: redacted, and the rest sealed.
	col := collect.New(collect.Options{Policy: e.Policy, Store: s, Subjects: e.Subjects, Ledger: e.Ledger, Gate: e.Gate, Sealer: e.Vault, Index: e.Vault.BlindIndex})
	for i := range 10 {
		msg := fmt.Sprintf(`{"type":"track","userId":"u%d","event":"Products Searched","messageId":"pm%d-%s","properties":{"query":"mail %s or call %s"},"context":{"page":{"url":"https://shop.example/?e=%s"}}}`,
			i, i, tag, needles[3*i], needles[3*i+1], needles[3*i])
		res, err := col.Collect(ctx, actor, collect.Call{Messages: []json.RawMessage{json.RawMessage(msg)}}, collect.Signals{})
		if err != nil || res.Accepted != 1 {
			t.Fatalf("collect: %+v %v", res, err)
		}
	}
	col.Close()
	if evs, err := s.SubjectEvents(ctx, ids[0], time.Time{}, 10); err != nil || len(evs) != 1 {
		t.Fatalf("the event was not stored: %v %v", evs, err)
	}
	e.Close() // flush the audit log
	values, err := v.Values(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen, notice := 0, false
	for _, val := range values {
		notice = notice || bytes.Contains(val, []byte(e.Policy.Organization.Contact))
		for _, n := range needles {
			if bytes.Contains(val, n) {
				t.Errorf("a stored value holds the plaintext %q", n)
			}
		}
		if bytes.Contains(val, []byte(ids[0])) {
			seen++
		}
	}
	// The scan read the tables: the first subject's id is in several of them.
	if seen < 3 {
		t.Errorf("the values hold the subject id only %d times: the scan did not read the tables", seen)
	}
	// The notice's canonical form (binary) holds the controller's contact
	// address in the clear: finding it proves binary columns are read as
	// bytes, where a plaintext e-mail would show.
	if !notice {
		t.Error("the controller's contact address in the stored notice was not found: binary columns were not read")
	}
}
