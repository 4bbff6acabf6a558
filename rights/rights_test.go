package rights_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/rights"
	"github.com/candorhq/candor/subjects"
	"github.com/candorhq/candor/vault"
)

var ctx = context.Background()

var dpo = candor.Actor{ID: "staff:dpo", Role: "dpo"}

type fixture struct {
	*testenv.Env
	r   *rights.Service
	now time.Time
}

func newFixture(t testing.TB) *fixture {
	e := testenv.New(t, nil)
	f := &fixture{Env: e, now: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	f.r = rights.New(rights.Options{Policy: e.Policy, Store: e.Store, Vault: e.Vault, Ledger: e.Ledger, Subjects: e.Subjects, Auditor: e.Audit, Gate: e.Gate,
		Now: func() time.Time { return f.now }})
	return f
}

// TestErase: erasure destroys the key, journals it, deletes every row, and
// the person is unknown from the next decision on.
func TestErase(t *testing.T) {
	f := newFixture(t)
	id := f.MustSubject(t, subjects.Input{UserID: "erase-me", Email: "erase.me@example.com", Phone: "13912345678", Traits: map[string]any{"city": "Xiamen"}}, consent.ScopeAll)
	col := collect.New(collect.Options{Policy: f.Policy, Store: f.Store, Subjects: f.Subjects, Ledger: f.Ledger, Gate: f.Gate, Sealer: f.Vault, Index: f.Vault.BlindIndex})
	for i := range 5 {
		msg := json.RawMessage(`{"type":"track","userId":"erase-me","event":"Product Viewed","messageId":"e` + string(rune('0'+i)) + `"}`)
		if _, err := col.Collect(ctx, testenv.Admin, collect.Call{Messages: []json.RawMessage{msg}}, collect.Signals{}); err != nil {
			t.Fatal(err)
		}
	}
	col.Close()
	traits, _ := f.Store.Traits(ctx, id, nil)
	if len(traits) == 0 {
		t.Fatal("no traits to erase")
	}
	req, err := f.r.File(ctx, dpo, rights.Input{Type: candor.RightErase, SubjectID: id, Verified: true, Suppress: true})
	if err != nil {
		t.Fatal(err)
	}
	if req.Status != candor.RequestDone || req.Details.Result["events"] != 5 || req.Details.Result["suppressed"] != 2 || req.Details.VerifiedBy != dpo.ID {
		t.Fatalf("request %+v", req)
	}
	if _, err := f.Store.Subject(ctx, id); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Fatal("the subject is still there")
	}
	if _, err := f.Subjects.Find(ctx, candor.IdentEmail, "erase.me@example.com"); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Fatal("the e-mail still finds someone")
	}
	if d, _ := f.Gate.Decide(ctx, id, "marketing.email"); d.Allow || d.Code != "unknown_subject" {
		t.Fatalf("decision after erasure: %+v", d)
	}
	// A ciphertext copied before (a backup) cannot be opened: the key is gone.
	if _, err := f.Vault.Unseal(ctx, id, traits[0].Field, traits[0].Sealed); !errors.Is(err, vault.ErrShredded) {
		t.Fatalf("unseal after erasure: %v, want ErrShredded", err)
	}
	es, _ := f.Store.Keys().Erasures(ctx, "", 10)
	if len(es) != 1 || es[0].SubjectID != id || es[0].RequestID != req.ID {
		t.Fatalf("journal %+v", es)
	}
	if ok, _ := f.Store.Keys().Suppressed(ctx, candor.IdentEmail, f.Vault.BlindIndex(candor.IdentEmail, "erase.me@example.com")); !ok {
		t.Fatal("the e-mail is not on the suppression list")
	}
	// Replay finds nothing left to do; a second erasure is refused as the
	// subject is gone.
	if n, err := rights.ReplayErasures(ctx, f.Store); err != nil || n != 0 {
		t.Fatalf("replay %d %v", n, err)
	}
	if _, err := f.r.File(ctx, dpo, rights.Input{Type: candor.RightErase, SubjectID: id, Verified: true}); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Fatalf("erasing again: %v", err)
	}
}

// TestReplayAfterRestore: rows that come back (a restored backup) are
// deleted again by the replay.
func TestReplayAfterRestore(t *testing.T) {
	f := newFixture(t)
	id := f.MustSubject(t, subjects.Input{UserID: "back"}, consent.ScopeAll)
	if err := f.Store.Keys().ShredSubjectKeyAndJournal(ctx, candor.Erasure{SubjectID: id, At: f.now, RequestID: "req_x"}); err != nil {
		t.Fatal(err)
	}
	// The rows are still there, as after a restore of an older backup.
	if n, err := rights.ReplayErasures(ctx, f.Store); err != nil || n != 1 {
		t.Fatalf("replay %d %v", n, err)
	}
	if _, err := f.Store.Subject(ctx, id); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Fatal("a journalled subject survived the replay")
	}
}

// TestRestrictObjectWithdraw: each takes effect from the next decision,
// and is lifted when the person asks.
func TestRestrictObjectWithdraw(t *testing.T) {
	f := newFixture(t)
	id := f.MustSubject(t, subjects.Input{UserID: "limits"}, consent.ScopeAll)
	allow := func(purpose string) bool {
		d, err := f.Gate.Decide(ctx, id, purpose)
		if err != nil {
			t.Fatal(err)
		}
		return d.Allow
	}
	file := func(in rights.Input) {
		t.Helper()
		in.SubjectID, in.Verified = id, true
		r, err := f.r.File(ctx, dpo, in)
		if err != nil || r.Status != candor.RequestDone {
			t.Fatalf("%+v: %+v %v", in, r, err)
		}
	}
	file(rights.Input{Type: candor.RightObject, Purposes: []string{"marketing.email", "service"}})
	if allow("marketing.email") || allow("service") || !allow("analytics") || !allow("legal") {
		t.Fatal("an objection did not take effect exactly")
	}
	file(rights.Input{Type: candor.RightObject, Purposes: []string{"marketing.email"}, Lift: true})
	if !allow("marketing.email") || allow("service") {
		t.Fatal("lifting one objection")
	}
	file(rights.Input{Type: candor.RightRestrict})
	if allow("analytics") || allow("marketing.email") || !allow("legal") {
		t.Fatal("a restriction lets processing through")
	}
	file(rights.Input{Type: candor.RightRestrict, Lift: true})
	if !allow("analytics") {
		t.Fatal("the restriction was not lifted")
	}
	file(rights.Input{Type: candor.RightWithdraw})
	if allow("analytics") || allow("marketing.email") || allow("personalization") {
		t.Fatal("withdrawing all consents left one")
	}
}

// TestStatesAndDeadlines: unverified requests wait; due dates follow the
// strictest jurisdiction; overdue and stuck requests are found; a refusal
// needs a reason.
func TestStatesAndDeadlines(t *testing.T) {
	f := newFixture(t)
	id := f.MustSubject(t, subjects.Input{UserID: "states"}, "")
	r, err := f.r.File(ctx, dpo, rights.Input{Type: candor.RightRestrict, SubjectID: id})
	if err != nil {
		t.Fatal(err)
	}
	// The demo policy has PIPL and GDPR: PIPL's 15 days come first.
	if r.Status != candor.RequestVerifying || r.Jurisdiction != "PIPL" || !r.DueAt.Equal(f.now.AddDate(0, 0, 15)) {
		t.Fatalf("filed %+v", r)
	}
	if d, _ := f.Gate.Decide(ctx, id, "service"); !d.Allow {
		t.Fatal("an unverified request took effect")
	}
	if due, j := f.r.Due(f.now); j != "PIPL" || !due.Equal(f.now.AddDate(0, 0, 15)) {
		t.Fatalf("due %v %s", due, j)
	}
	f.now = f.now.Add(4 * 24 * time.Hour)
	if stuck, _ := f.r.Stuck(ctx); len(stuck) != 1 {
		t.Fatalf("watchdog found %d stuck", len(stuck))
	}
	// The watchdog flags it in the log, by id.
	logged := &testenv.Buffer{}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.r.Watchdog(wctx, time.Hour, slog.New(slog.NewJSONHandler(logged, nil))) }()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logged.String(), r.ID); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			break
		}
	}
	stop()
	<-done
	if !strings.Contains(logged.String(), `"msg":"request stuck"`) || !strings.Contains(logged.String(), r.ID) {
		t.Fatalf("watchdog log: %s", logged.String())
	}
	if over, _ := f.r.Overdue(ctx); len(over) != 0 {
		t.Fatal("overdue too early")
	}
	f.now = f.now.Add(12 * 24 * time.Hour)
	if over, _ := f.r.Overdue(ctx); len(over) != 1 {
		t.Fatal("not overdue after 16 days")
	}
	// A second request: verified by staff later, then carried out.
	r2, err := f.r.File(ctx, dpo, rights.Input{Type: candor.RightObject, SubjectID: id, Purposes: []string{"analytics"}})
	if err != nil || r2.Status != candor.RequestVerifying {
		t.Fatal(r2, err)
	}
	if done, err := f.r.Verify(ctx, dpo, r2.ID); err != nil || done.Status != candor.RequestDone || done.Details.VerifiedBy != dpo.ID {
		t.Fatalf("verify: %+v %v", done, err)
	}
	if _, err := f.r.Verify(ctx, dpo, r2.ID); candor.ErrorCode(err) != candor.ECONFLICT {
		t.Fatalf("verifying a done request: %v", err)
	}
	if _, err := f.r.Refuse(ctx, dpo, r.ID, "  "); candor.ErrorCode(err) != candor.EINVALID {
		t.Fatalf("refusal without a reason: %v", err)
	}
	ref, err := f.r.Refuse(ctx, dpo, r.ID, "We could not confirm that the request came from you.")
	if err != nil || ref.Status != candor.RequestRefused || ref.Details.Reason != "" || len(ref.Details.ReasonSealed) == 0 {
		t.Fatalf("refused %+v %v", ref, err)
	}
	if _, err := f.r.Refuse(ctx, dpo, r.ID, "again"); candor.ErrorCode(err) != candor.ECONFLICT {
		t.Fatalf("refusing twice: %v", err)
	}
	for _, in := range []rights.Input{{Type: "rectify", SubjectID: id}, {Type: "teleport", SubjectID: id}, {Type: "object", SubjectID: id},
		{Type: "object", SubjectID: id, Purposes: []string{"nope"}}} {
		if _, err := f.r.File(ctx, dpo, in); candor.ErrorCode(err) != candor.EINVALID {
			t.Errorf("%+v: %v, want invalid", in, err)
		}
	}
	if _, err := f.r.File(ctx, dpo, rights.Input{Type: "erase", SubjectID: "sub_nobody"}); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Errorf("unknown subject: %v", err)
	}
}

// TestReportRecipients: the access report names what the sharing ledger
// says was disclosed, with the recipient's name and country; only admin and
// dpo may read it, and a refusal is audited.
func TestReportRecipients(t *testing.T) {
	f := newFixture(t)
	id := f.MustSubject(t, subjects.Input{UserID: "shared", Traits: map[string]any{"city": "Ningbo", "age_band": "25-34"}}, consent.ScopeAll)
	if err := f.Store.AppendDisclosures(ctx, []candor.Disclosure{{ID: "dis_1", SubjectID: id, Recipient: "acme-ads", Purpose: "sharing.ads",
		Fields: []string{"city", "age_band"}, At: f.now, Reference: "job:audience"}}); err != nil {
		t.Fatal(err)
	}
	rep, err := f.Gate.Report(ctx, dpo, id, "req_test")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Recipients) != 1 || rep.Recipients[0].Country != "CN" || rep.Recipients[0].Name == "" || len(rep.Recipients[0].Fields) != 2 {
		t.Fatalf("recipients %+v", rep.Recipients)
	}
	if _, err := f.Gate.Report(ctx, candor.Actor{ID: "staff:m", Role: "marketer"}, id, ""); candor.ErrorCode(err) != candor.EFORBIDDEN {
		t.Fatalf("a marketer read a report: %v", err)
	}
	f.Audit.Close()
	entries, err := f.Store.AuditEntries(ctx, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var allowed, denied bool
	for _, e := range entries {
		if e.Purpose == candor.PurposeRights && e.SubjectID == id {
			allowed = allowed || (e.Decision == "allow" && e.RightsRequest == "req_test")
			denied = denied || e.Decision == "deny"
		}
	}
	if !allowed || !denied {
		t.Fatalf("audit: allowed %v denied %v", allowed, denied)
	}
}

// TestRectify: a corrected trait is checked, stored and audited; each
// recipient that received the field is queued a notice naming it, without
// the value; identifiers, undeclared traits and unverified requests are
// refused.
func TestRectify(t *testing.T) {
	f := newFixture(t)
	// The recipients have webhooks (loopback: nothing is sent here).
	pol := *f.Policy
	pol.Recipients = append([]candor.Recipient{}, pol.Recipients...)
	for i := range pol.Recipients {
		pol.Recipients[i].Webhook = "http://127.0.0.1:9/" + pol.Recipients[i].ID
	}
	pol.Index()
	f.r = rights.New(rights.Options{Policy: &pol, Store: f.Store, Vault: f.Vault, Ledger: f.Ledger, Subjects: f.Subjects, Auditor: f.Audit, Gate: f.Gate,
		Now: func() time.Time { return f.now }})
	id := f.MustSubject(t, subjects.Input{UserID: "fix-me", Email: "fix.me@example.com", Traits: map[string]any{"city": "Xiamen", "name": "Old Name"}}, consent.ScopeAll)
	if err := f.Store.AppendDisclosures(ctx, []candor.Disclosure{
		{ID: "dis_r1", SubjectID: id, Recipient: "acme-ads", Purpose: "sharing.ads", Fields: []string{"city"}, At: f.now},
		{ID: "dis_r2", SubjectID: id, Recipient: "shunda-express", Purpose: "service", Fields: []string{"name"}, At: f.now},
	}); err != nil {
		t.Fatal(err)
	}
	r, err := f.r.File(ctx, dpo, rights.Input{Type: candor.RightRectify, SubjectID: id, Verified: true, Traits: map[string]any{"city": "Ningbo"}})
	if err != nil || r.Status != candor.RequestDone || r.Details.Result["recipients"] != 1 || r.Details.Notes["fields"] != "city" {
		t.Fatalf("rectify: %+v %v", r, err)
	}
	got, err := f.Gate.Read(ctx, gate.ReadRequest{Actor: testenv.Admin, Purpose: "personalization", SubjectID: id, Fields: []string{"city"}})
	if err != nil || got.Fields["city"] != "Ningbo" {
		t.Fatalf("after rectification: %+v %v", got, err)
	}
	if rep, err := f.Gate.Report(ctx, dpo, id, r.ID); err != nil || !hasSource(rep, "city", "rectification") || !hasSource(rep, "name", "api") {
		t.Fatalf("the report's sources: %+v %v", rep.Fields, err)
	}
	ds, _ := f.Store.Deliveries(ctx, r.ID)
	if len(ds) != 1 || ds[0].Recipient != "acme-ads" || ds[0].Event != "rectification" || ds[0].SubjectID != "" {
		t.Fatalf("deliveries %+v", ds)
	}
	// acme-ads may not receive the city now (sharing.ads was not consented
	// on its own): it is told the field changed, not the value.
	if strings.Contains(string(ds[0].Body), "Ningbo") || !strings.Contains(string(ds[0].Body), `"fields":["city"]`) {
		t.Fatalf("the notice holds the value, or not the field: %s", ds[0].Body)
	}
	// The courier may receive the name now (service): it gets the value,
	// sealed under the person's key at rest, in the sharing ledger, audited.
	r2, err := f.r.File(ctx, dpo, rights.Input{Type: candor.RightRectify, SubjectID: id, Verified: true, Traits: map[string]any{"name": "New Name"}})
	if err != nil || r2.Details.Result["values_sent"] != 1 {
		t.Fatalf("rectify the name: %+v %v", r2, err)
	}
	ds, _ = f.Store.Deliveries(ctx, r2.ID)
	if len(ds) != 1 || ds[0].Recipient != "shunda-express" || ds[0].SubjectID != id || strings.Contains(string(ds[0].Body), "New Name") {
		t.Fatalf("the courier's delivery: %+v", ds)
	}
	plain, err := f.Vault.Unseal(ctx, id, rights.DeliveryField(ds[0].ID), ds[0].Body)
	if err != nil || !strings.Contains(string(plain), `"values":{"name":"New Name"}`) || !strings.Contains(string(plain), `"purpose":"service"`) {
		t.Fatalf("the sealed notice: %s %v", plain, err)
	}
	shared, _ := f.Store.Disclosures(ctx, id)
	recorded := false
	for _, d := range shared {
		recorded = recorded || (d.Recipient == "shunda-express" && d.Reference == r2.ID && d.Purpose == "service")
	}
	if len(shared) != 3 || !recorded {
		t.Fatalf("the sharing ledger: %+v", shared)
	}
	for _, in := range []rights.Input{
		{Type: candor.RightRectify, SubjectID: id, Traits: map[string]any{"city": "Wuxi"}},                    // not verified
		{Type: candor.RightRectify, SubjectID: id, Verified: true},                                            // nothing to correct
		{Type: candor.RightRectify, SubjectID: id, Verified: true, Traits: map[string]any{"shoe_size": "42"}}, // undeclared
	} {
		if _, err := f.r.File(ctx, dpo, in); candor.ErrorCode(err) != candor.EINVALID {
			t.Errorf("%+v: %v, want invalid", in.Traits, err)
		}
	}
	if open, _ := f.r.Open(ctx); len(open) != 0 {
		t.Fatalf("a refused rectification stayed open: %+v", open)
	}
	// An e-mail is an identifier too: the old one stops finding them, the
	// new one does; someone else's is refused.
	if _, err := f.r.File(ctx, dpo, rights.Input{Type: candor.RightRectify, SubjectID: id, Verified: true, Traits: map[string]any{"email": "Fixed.Me@Example.com"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Subjects.Find(ctx, candor.IdentEmail, "fixed.me@example.com"); got != id {
		t.Fatal("the corrected e-mail does not find them")
	}
	if _, err := f.Subjects.Find(ctx, candor.IdentEmail, "fix.me@example.com"); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Fatal("the old e-mail still finds them")
	}
	if rd, _ := f.Gate.Read(ctx, gate.ReadRequest{Actor: testenv.Admin, Purpose: "service", SubjectID: id, Fields: []string{"email"}}); rd.Fields["email"] != "fixed.me@example.com" {
		t.Fatalf("the e-mail trait: %+v", rd.Fields)
	}
	f.MustSubject(t, subjects.Input{UserID: "someone", Email: "someone@example.com"}, "")
	if _, err := f.r.File(ctx, dpo, rights.Input{Type: candor.RightRectify, SubjectID: id, Verified: true, Traits: map[string]any{"email": "someone@example.com"}}); candor.ErrorCode(err) != candor.ECONFLICT {
		t.Fatalf("taking someone else's e-mail: %v", err)
	}
	if got, _ := f.Subjects.Find(ctx, candor.IdentEmail, "fixed.me@example.com"); got != id {
		t.Fatal("a refused rectification removed the e-mail")
	}
}

func hasSource(rep *gate.Report, field, source string) bool {
	for _, f := range rep.Fields {
		if f.Field == field {
			return f.Source == source
		}
	}
	return false
}
