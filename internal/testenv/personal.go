package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/storetest"
	"github.com/candorhq/candor/subjects"
)

// FillPersonal is the [storetest.Filler] of Candor's own stores. It wires
// the real vault, subjects service, consent ledger and collection onto s,
// writes ten subjects with e-mail addresses, phone numbers, cities and a
// guardian's consent, then one event each with the same e-mail address and
// phone number typed into free text (redacted, and the rest sealed), and
// closes the parts so the audit log is flushed.
func FillPersonal(t *testing.T, s candor.Store) storetest.Personal {
	t.Helper()
	ctx := context.Background()
	e, err := Wire(s, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	actor := Admin
	tag := fmt.Sprintf("%x", time.Now().UnixNano())
	var plain [][]byte
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
		plain = append(plain, []byte(email), []byte(phone), []byte(city))
		ids = append(ids, id)
	}
	col := collect.New(collect.Options{Policy: e.Policy, Store: s, Subjects: e.Subjects, Ledger: e.Ledger, Gate: e.Gate, Sealer: e.Vault, Index: e.Vault.BlindIndex})
	for i := range 10 {
		msg := fmt.Sprintf(`{"type":"track","userId":"u%d","event":"Products Searched","messageId":"pm%d-%s","properties":{"query":"mail %s or call %s"},"context":{"page":{"url":"https://shop.example/?e=%s"}}}`,
			i, i, tag, plain[3*i], plain[3*i+1], plain[3*i])
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
	// The notice's canonical form (binary) holds the controller's contact
	// address in the clear.
	return storetest.Personal{Plaintext: plain, SubjectID: ids[0], Clear: []byte(e.Policy.Organization.Contact)}
}
