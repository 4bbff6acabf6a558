package rights_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/rights"
	"github.com/candorhq/candor/subjects"
)

// TestRefusalReasonSealed: a refusal reason typed by staff is scanned for
// personal data, rests sealed under the person's key (not in the store in
// plaintext), is read back through the gate with an audit entry, by staff
// and by the person, and is unreadable once the person is erased.
func TestRefusalReasonSealed(t *testing.T) {
	f := newFixture(t)
	id := f.MustSubject(t, subjects.Input{UserID: "refused", Email: "refused@example.com"}, "")
	req, err := f.r.File(ctx, dpo, rights.Input{Type: candor.RightRestrict, SubjectID: id})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "Unconfirmed identity: a reply came from quoted.words@elsewhere.example"
	ref, err := f.r.Refuse(ctx, dpo, req.ID, secret)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Details.Reason != "" || len(ref.Details.ReasonSealed) == 0 {
		t.Fatalf("not sealed: %+v", ref.Details)
	}
	stored, err := f.Store.Request(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, actor := range []candor.Actor{dpo, gate.SubjectActor(id)} {
		got, err := f.Gate.RefusalReason(ctx, actor, stored)
		if err != nil {
			t.Fatalf("%s: %v", actor.ID, err)
		}
		if want := "Unconfirmed identity: a reply came from [email]"; got != want {
			t.Fatalf("%s: reason %q, want %q", actor.ID, got, want)
		}
	}
	// The row the store holds carries no plaintext of it.
	if b, _ := json.Marshal(stored.Details); strings.Contains(string(b), "Unconfirmed identity") {
		t.Fatalf("stored details hold the reason: %s", b)
	}
	if _, err := f.r.Erase(ctx, dpo, id, "", false); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Gate.RefusalReason(ctx, dpo, stored); candor.ErrorCode(err) != candor.EGONE || got != "" {
		t.Fatalf("after erasure: %q, %v", got, err)
	}
	f.Audit.Close()
	entries, _ := f.Store.AuditEntries(ctx, 1, 1000)
	reads := 0
	for _, e := range entries {
		if e.Action == "read" && e.RightsRequest == req.ID && e.Purpose == candor.PurposeRights {
			reads++
		}
	}
	// The dpo, the person, and the attempt after the erasure (the entry is
	// written before the reason is opened).
	if reads != 3 {
		t.Fatalf("%d audited reads of the reason, want 3", reads)
	}
}
