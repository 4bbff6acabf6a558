// Package storetest is the conformance suite every Candor store must pass:
// each store method, its error codes and ordering, concurrent writers, the
// append-only rules, and that no personal data rests in the clear. A
// store's own tests call [Run] with a function that opens a fresh, empty
// store and one that fills it with personal data through Candor's real parts.
// The suite depends on the root package only.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
)

// Opener opens a fresh, empty store for one test; it registers its own cleanup.
type Opener func(t *testing.T) candor.Store

// Run runs the whole suite.
func Run(t *testing.T, open Opener, fill Filler) {
	tests := []struct {
		name string
		fn   func(*testing.T, candor.Store)
	}{
		{"Subjects", testSubjects},
		{"IdentifierConflict", testIdentifierConflict},
		{"ReplaceIdentifier", testReplaceIdentifier},
		{"IdentifierOrigin", testIdentifierOrigin},
		{"SingleKind", testSingleKind},
		{"MergeOnlyAnonymous", testMergeOnlyAnonymous},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Consents", testConsents},
		{"Notices", testNotices},
		{"APIKeys", testAPIKeys},
		{"KeyStore", testKeyStore},
		{"AuditAnchor", testAuditAnchor},
		{"Revocations", testRevocations},
		{"Audit", testAudit},
		{"AuditConcurrent", testAuditConcurrent},
		{"AuditSearch", testAuditSearch},
		{"AuditTraceAndRightsRequest", testAuditTraceAndRightsRequest},
		{"Events", testEvents},
		{"EventsConcurrent", testEventsConcurrent},
		{"Minimization", testMinimization},
		{"ObjectionsAndErasure", testObjectionsAndErasure},
		{"Requests", testRequests},
		{"Disclosures", testDisclosures},
		{"Challenges", testChallenges},
		{"ChangeChallenges", testChangeChallenges},
		{"ChallengeLimits", testChallengeLimits},
		{"Deliveries", testDeliveries},
		{"TimeOrder", testTimeOrder},
		{"MergeSubject", testMergeSubject},
		{"Staff", testStaff},
		{"StaffTOTPStep", testStaffTOTPStep},
		{"StaffRecovery", testStaffRecovery},
		{"Sessions", testSessions},
		{"ConsentDays", testConsentDays},
		{"Runs", testRuns},
		{"Segments", testSegments},
		{"Campaigns", testCampaigns},
		{"CampaignMeasures", testCampaignMeasures},
		{"SendBatches", testSendBatches},
		{"Bulk", testBulk},
		{"Recent", testRecent},
		{"NoPlaintext", func(t *testing.T, s candor.Store) { testNoPlaintext(t, s, fill) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

func code(t *testing.T, err error, want string) {
	t.Helper()
	if got := candor.ErrorCode(err); got != want {
		t.Fatalf("error %v: code %q, want %q", err, got, want)
	}
}

func at(s int) time.Time { return time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC) }

func subject(id string, idents ...candor.Identifier) candor.SubjectWrite {
	return candor.SubjectWrite{SubjectID: id, Create: true, Identifiers: idents, At: at(0),
		Traits: []candor.Trait{{Field: "city", Sealed: []byte("sealed-city-" + id)}}}
}

func ident(kind, blind string) candor.Identifier {
	return candor.Identifier{Kind: kind, Blind: []byte(blind), Sealed: []byte("sealed-" + blind)}
}

func testSubjects(t *testing.T, s candor.Store) {
	_, err := s.Subject(ctx, "sub_nobody")
	code(t, err, candor.ENOTFOUND)
	code(t, s.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_a", At: at(0)}), candor.ENOTFOUND)
	if err := s.WriteSubject(ctx, subject("sub_a", ident("email", "b-a"))); err != nil {
		t.Fatal(err)
	}
	code(t, s.WriteSubject(ctx, subject("sub_a")), candor.ECONFLICT)
	// Merge: replace one trait, add another and an identifier.
	if err := s.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_a", At: at(5), Identifiers: []candor.Identifier{ident("email", "b-a"), ident("phone", "p-a")},
		Traits: []candor.Trait{{Field: "city", Sealed: []byte("new-city")}, {Field: "name", Sealed: []byte("sealed-name")}}}); err != nil {
		t.Fatal(err)
	}
	sub, err := s.Subject(ctx, "sub_a")
	if err != nil || !sub.CreatedAt.Equal(at(0)) || !sub.UpdatedAt.Equal(at(5)) || sub.Restricted {
		t.Fatalf("subject %+v %v", sub, err)
	}
	traits, err := s.Traits(ctx, "sub_a", nil)
	if err != nil || len(traits) != 2 || traits[0].Field != "city" || string(traits[0].Sealed) != "new-city" || traits[1].Field != "name" {
		t.Fatalf("traits %+v %v", traits, err)
	}
	if one, _ := s.Traits(ctx, "sub_a", []string{"name", "missing"}); len(one) != 1 || one[0].Field != "name" {
		t.Errorf("traits by field: %+v", one)
	}
	if none, err := s.Traits(ctx, "sub_a", []string{}); err != nil || len(none) != 0 {
		t.Errorf("traits of no field: %+v %v", none, err)
	}
	ids, err := s.Identifiers(ctx, "sub_a")
	if err != nil || len(ids) != 2 || ids[0].Kind != "email" || ids[1].Kind != "phone" {
		t.Fatalf("identifiers %+v %v", ids, err)
	}
	if id, err := s.FindSubject(ctx, "phone", []byte("p-a")); err != nil || id != "sub_a" {
		t.Errorf("find: %s %v", id, err)
	}
	_, err = s.FindSubject(ctx, "email", []byte("p-a")) // same bytes, other kind
	code(t, err, candor.ENOTFOUND)
	v1, err := s.SubjectVersion(ctx, "sub_a")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetRestricted(ctx, "sub_a", true, at(9)); err != nil {
		t.Fatal(err)
	}
	if v2, _ := s.SubjectVersion(ctx, "sub_a"); v2 <= v1 {
		t.Errorf("restricting did not bump the version: %d then %d", v1, v2)
	}
	_, err = s.SubjectVersion(ctx, "sub_nobody")
	code(t, err, candor.ENOTFOUND)
	if sub, _ := s.Subject(ctx, "sub_a"); !sub.Restricted {
		t.Error("not restricted")
	}
	code(t, s.SetRestricted(ctx, "sub_nobody", true, at(9)), candor.ENOTFOUND)
	for i := range 5 {
		if err := s.WriteSubject(ctx, subject(fmt.Sprintf("sub_b%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.CountSubjects(ctx); err != nil || n != 6 {
		t.Errorf("count %d %v", n, err)
	}
	page, err := s.SubjectIDs(ctx, "sub_a", 3)
	if err != nil || fmt.Sprint(page) != "[sub_b0 sub_b1 sub_b2]" {
		t.Errorf("page %v %v", page, err)
	}
}

// testReplaceIdentifier: a rectified e-mail replaces the old one.
func testReplaceIdentifier(t *testing.T, s candor.Store) {
	if err := s.WriteSubject(ctx, subject("sub_ri", ident("email", "b-old"), ident("phone", "b-phone"))); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_ri", At: at(1), Replace: []string{"email"}, Identifiers: []candor.Identifier{ident("email", "b-new")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindSubject(ctx, "email", []byte("b-old")); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Fatal("the replaced e-mail still finds the subject")
	}
	if got, _ := s.FindSubject(ctx, "email", []byte("b-new")); got != "sub_ri" {
		t.Fatal("the new e-mail does not find the subject")
	}
	if got, _ := s.FindSubject(ctx, "phone", []byte("b-phone")); got != "sub_ri" {
		t.Fatal("replacing the e-mail removed the phone")
	}
}

func testIdentifierConflict(t *testing.T, s candor.Store) {
	if err := s.WriteSubject(ctx, subject("sub_x", ident("email", "shared"))); err != nil {
		t.Fatal(err)
	}
	err := s.WriteSubject(ctx, subject("sub_y", ident("phone", "y-phone"), ident("email", "shared")))
	code(t, err, candor.ECONFLICT)
	// Nothing of the refused write remains: one transaction.
	_, err = s.Subject(ctx, "sub_y")
	code(t, err, candor.ENOTFOUND)
	_, err = s.FindSubject(ctx, "phone", []byte("y-phone"))
	code(t, err, candor.ENOTFOUND)
}

// testConcurrentWriters: many writers racing to create subjects with the
// same identifier: exactly one wins, the others get ECONFLICT.
func testConcurrentWriters(t *testing.T, s candor.Store) {
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.WriteSubject(ctx, subject(fmt.Sprintf("sub_r%02d", i), ident("email", "racer")))
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch candor.ErrorCode(err) {
		case "":
			won++
		case candor.ECONFLICT:
		default:
			t.Errorf("racing writer: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d writers won, want 1", won)
	}
	if n, _ := s.CountSubjects(ctx); n != 1 {
		t.Errorf("%d subjects after the race, want 1", n)
	}
}

func testConsents(t *testing.T, s candor.Store) {
	if err := s.WriteSubject(ctx, subject("sub_c")); err != nil {
		t.Fatal(err)
	}
	recs := []candor.Consent{
		{ID: "c1", ReceiptID: "r1", SubjectID: "sub_c", Purpose: "p1", State: candor.ConsentGranted, NoticeHash: "sha256:n", Channel: "api", Explicit: true, Actor: "a", At: at(1)},
		{ID: "c2", ReceiptID: "r1", SubjectID: "sub_c", Purpose: "p2", State: candor.ConsentDenied, NoticeHash: "sha256:n", Channel: "api", GPC: true, Actor: "a", At: at(1)},
		{ID: "c3", ReceiptID: "r2", SubjectID: "sub_c", Purpose: "p1", State: candor.ConsentWithdrawn, NoticeHash: "sha256:n", Channel: "portal", Guardian: true, GuardianEvidence: []byte("sealed"), Actor: "a", At: at(2)},
	}
	v0, _ := s.SubjectVersion(ctx, "sub_c")
	if err := s.AppendConsents(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if v1, _ := s.SubjectVersion(ctx, "sub_c"); v1 <= v0 {
		t.Errorf("appending consents did not bump the version: %d then %d", v0, v1)
	}
	if recs[0].Seq == 0 || recs[1].Seq <= recs[0].Seq || recs[2].Seq <= recs[1].Seq {
		t.Errorf("seqs not increasing: %d %d %d", recs[0].Seq, recs[1].Seq, recs[2].Seq)
	}
	got, err := s.Consents(ctx, "sub_c")
	if err != nil || len(got) != 3 {
		t.Fatalf("consents %+v %v", got, err)
	}
	if g := got[2]; g.ID != "c3" || g.State != candor.ConsentWithdrawn || !g.Guardian || !bytes.Equal(g.GuardianEvidence, []byte("sealed")) || !g.At.Equal(at(2)) || g.Channel != "portal" {
		t.Errorf("round trip: %+v", g)
	}
	if !got[1].GPC || !got[0].Explicit {
		t.Errorf("flags lost: %+v", got[:2])
	}
	// A duplicate id fails the whole batch.
	err = s.AppendConsents(ctx, []candor.Consent{
		{ID: "c4", ReceiptID: "r3", SubjectID: "sub_c", Purpose: "p1", State: candor.ConsentGranted, NoticeHash: "n", Channel: "api", Actor: "a", At: at(3)},
		{ID: "c1", ReceiptID: "r3", SubjectID: "sub_c", Purpose: "p2", State: candor.ConsentGranted, NoticeHash: "n", Channel: "api", Actor: "a", At: at(3)},
	})
	code(t, err, candor.ECONFLICT)
	if got, _ := s.Consents(ctx, "sub_c"); len(got) != 3 {
		t.Errorf("a failed batch left %d entries", len(got)-3)
	}
	err = s.AppendConsents(ctx, []candor.Consent{{ID: "c9", ReceiptID: "r", SubjectID: "sub_nobody", Purpose: "p1", State: candor.ConsentGranted, NoticeHash: "n", Channel: "api", Actor: "a", At: at(3)}})
	code(t, err, candor.ENOTFOUND)
}

func testNotices(t *testing.T, s candor.Store) {
	n1 := candor.StoredNotice{Hash: "sha256:1", Version: "1", Canonical: []byte(`{"a":1}`), PurposeHashes: map[string]string{"p": "h1"}, CreatedAt: at(1)}
	n2 := candor.StoredNotice{Hash: "sha256:2", Version: "2", Canonical: []byte(`{"a":2}`), PurposeHashes: map[string]string{"p": "h2"}, CreatedAt: at(2)}
	for _, n := range []candor.StoredNotice{n1, n2, n1} {
		if err := s.PutNotice(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Notices(ctx)
	if err != nil || len(got) != 2 || got[0].Hash != "sha256:1" || got[1].PurposeHashes["p"] != "h2" || string(got[1].Canonical) != `{"a":2}` {
		t.Errorf("notices %+v %v", got, err)
	}
}

func testAPIKeys(t *testing.T, s candor.Store) {
	k := candor.APIKey{ID: "key_1", Name: "admin", Role: "admin", Hash: []byte("hash-1"), CreatedAt: at(1)}
	if err := s.PutAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	code(t, s.PutAPIKey(ctx, candor.APIKey{ID: "key_2", Name: "dup", Role: "write", Hash: []byte("hash-1"), CreatedAt: at(2)}), candor.ECONFLICT)
	got, err := s.APIKeyByHash(ctx, []byte("hash-1"))
	if err != nil || got.ID != "key_1" || got.Role != "admin" || got.RevokedAt != nil {
		t.Fatalf("by hash %+v %v", got, err)
	}
	_, err = s.APIKeyByHash(ctx, []byte("nope"))
	code(t, err, candor.ENOTFOUND)
	if err := s.RevokeAPIKey(ctx, "key_1", at(5)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.APIKeyByHash(ctx, []byte("hash-1")); got.RevokedAt == nil || !got.RevokedAt.Equal(at(5)) {
		t.Errorf("revoked %+v", got)
	}
	code(t, s.RevokeAPIKey(ctx, "key_x", at(5)), candor.ENOTFOUND)
	if all, _ := s.APIKeys(ctx); len(all) != 1 {
		t.Errorf("keys %+v", all)
	}
}

func testKeyStore(t *testing.T, s candor.Store) {
	ks := s.Keys()
	if err := ks.PutSubjectKey(ctx, "sub_k", []byte("wrapped-1"), at(1)); err != nil {
		t.Fatal(err)
	}
	code(t, ks.PutSubjectKey(ctx, "sub_k", []byte("other"), at(1)), candor.ECONFLICT)
	k, err := ks.SubjectKey(ctx, "sub_k")
	if err != nil || string(k.Wrapped) != "wrapped-1" || k.ShreddedAt != nil {
		t.Fatalf("key %+v %v", k, err)
	}
	_, err = ks.SubjectKey(ctx, "sub_none")
	code(t, err, candor.ENOTFOUND)
	if ok, err := ks.ReplaceSubjectKey(ctx, "sub_k", []byte("stale"), []byte("x")); ok || err != nil {
		t.Errorf("replace with a stale old value: %v %v", ok, err)
	}
	if ok, err := ks.ReplaceSubjectKey(ctx, "sub_k", []byte("wrapped-1"), []byte("wrapped-2")); !ok || err != nil {
		t.Errorf("replace: %v %v", ok, err)
	}
	ks.PutSubjectKey(ctx, "sub_l", []byte("wrapped-l"), at(1))
	if err := ks.ShredSubjectKey(ctx, "sub_k", at(2)); err != nil {
		t.Fatal(err)
	}
	k, err = ks.SubjectKey(ctx, "sub_k")
	if err != nil || k.Wrapped != nil || k.ShreddedAt == nil {
		t.Errorf("after shred %+v %v", k, err)
	}
	code(t, ks.PutSubjectKey(ctx, "sub_k", []byte("again"), at(3)), candor.ECONFLICT)
	code(t, ks.ShredSubjectKey(ctx, "sub_none", at(2)), candor.ENOTFOUND)
	if ok, _ := ks.ReplaceSubjectKey(ctx, "sub_k", nil, []byte("resurrect")); ok {
		t.Error("a shredded key was replaced")
	}
	live, err := ks.SubjectKeys(ctx, "", 10)
	if err != nil || len(live) != 1 || live[0].SubjectID != "sub_l" {
		t.Errorf("live keys %+v %v", live, err)
	}
	if l, sh, err := ks.CountSubjectKeys(ctx); l != 1 || sh != 1 || err != nil {
		t.Errorf("counts %d %d %v", l, sh, err)
	}
	if err := ks.PutSystemKey(ctx, "blind-index", []byte("s1"), at(1)); err != nil {
		t.Fatal(err)
	}
	code(t, ks.PutSystemKey(ctx, "blind-index", []byte("s2"), at(1)), candor.ECONFLICT)
	if b, err := ks.SystemKey(ctx, "blind-index"); err != nil || string(b) != "s1" {
		t.Errorf("system key %s %v", b, err)
	}
	_, err = ks.SystemKey(ctx, "nope")
	code(t, err, candor.ENOTFOUND)
	if ok, _ := ks.ReplaceSystemKey(ctx, "blind-index", []byte("s1"), []byte("s3")); !ok {
		t.Error("replace system key")
	}
	if names, _ := ks.SystemKeyNames(ctx); fmt.Sprint(names) != "[blind-index]" {
		t.Errorf("names %v", names)
	}
}

func seal(prevSeq int64, prevHash []byte, e *candor.AuditEntry) {
	e.Seq, e.PrevHash = prevSeq+1, prevHash
	e.Hash = []byte(fmt.Sprintf("h%d", e.Seq))
}

func testAudit(t *testing.T, s candor.Store) {
	if seq, h, err := s.AuditHead(ctx); seq != 0 || h != nil || err != nil {
		t.Errorf("empty head %d %x %v", seq, h, err)
	}
	es := []*candor.AuditEntry{
		{Time: at(1), Actor: "a", Action: "read", Purpose: "p", SubjectID: "sub_1", Fields: []string{"email", "phone"}, Decision: "allow", Reason: "granted", TraceID: "r1"},
		{Time: at(2), Actor: "a", Action: "read", Decision: "deny"},
	}
	if err := s.AppendAudit(ctx, es, seal); err != nil {
		t.Fatal(err)
	}
	if seq, h, _ := s.AuditHead(ctx); seq != 2 || string(h) != "h2" {
		t.Errorf("head %d %s", seq, h)
	}
	got, err := s.AuditEntries(ctx, 1, 10)
	if err != nil || len(got) != 2 || fmt.Sprint(got[0].Fields) != "[email phone]" || got[1].Fields != nil || string(got[1].PrevHash) != "h1" || !got[0].Time.Equal(at(1)) {
		t.Fatalf("entries %+v %v", got, err)
	}
	if got, _ := s.AuditEntries(ctx, 2, 10); len(got) != 1 || got[0].Seq != 2 {
		t.Errorf("from 2: %+v", got)
	}
	cp := candor.AuditCheckpoint{Seq: 2, Hash: []byte("h2"), Time: at(3), KeyID: "k", Signature: []byte("sig")}
	if err := s.PutCheckpoint(ctx, cp); err != nil {
		t.Fatal(err)
	}
	if cps, err := s.Checkpoints(ctx); err != nil || len(cps) != 1 || cps[0].KeyID != "k" || !cps[0].Time.Equal(at(3)) {
		t.Errorf("checkpoints %+v %v", cps, err)
	}
}

// testAuditConcurrent: appends racing from many goroutines form one chain.
func testAuditConcurrent(t *testing.T, s candor.Store) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				e := &candor.AuditEntry{Time: at(i), Actor: fmt.Sprint("g", g), Action: "read", Decision: "allow"}
				if err := s.AppendAudit(ctx, []*candor.AuditEntry{e}, func(ps int64, ph []byte, e *candor.AuditEntry) {
					e.Seq, e.PrevHash = ps+1, ph
					e.Hash = append(append([]byte{}, ph...), byte(ps+1))
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, err := s.AuditEntries(ctx, 1, 1000)
	if err != nil || len(got) != 160 {
		t.Fatalf("%d entries %v", len(got), err)
	}
	for i, e := range got {
		if e.Seq != int64(i+1) || (i > 0 && !bytes.Equal(e.PrevHash, got[i-1].Hash)) {
			t.Fatalf("chain forked at %d", e.Seq)
		}
	}
}

// testAuditAnchor: the anchor is absent at first, then holds the latest
// checkpoint put, and never moves backwards.
func testAuditAnchor(t *testing.T, s candor.Store) {
	ks := s.Keys()
	_, err := ks.AuditAnchor(ctx)
	code(t, err, candor.ENOTFOUND)
	cp := func(seq int64, sec int) candor.AuditCheckpoint {
		return candor.AuditCheckpoint{Seq: seq, Hash: []byte(fmt.Sprint("h", seq)), Time: at(sec).Add(123456 * time.Microsecond), KeyID: fmt.Sprint("k", seq), Signature: []byte(fmt.Sprint("sig", seq))}
	}
	same := func(got *candor.AuditCheckpoint, want candor.AuditCheckpoint) bool {
		return got != nil && got.Seq == want.Seq && bytes.Equal(got.Hash, want.Hash) && got.Time.Equal(want.Time) && got.KeyID == want.KeyID && bytes.Equal(got.Signature, want.Signature)
	}
	for _, step := range []struct {
		put  candor.AuditCheckpoint
		want candor.AuditCheckpoint
	}{
		{cp(10, 1), cp(10, 1)},
		{cp(25, 2), cp(25, 2)},
		{cp(20, 3), cp(25, 2)}, // backwards: kept
		{cp(25, 4), cp(25, 2)}, // the same seq again: kept
		{cp(26, 5), cp(26, 5)},
	} {
		if err := ks.PutAuditAnchor(ctx, step.put); err != nil {
			t.Fatal(err)
		}
		got, err := ks.AuditAnchor(ctx)
		if err != nil || !same(got, step.want) {
			t.Fatalf("after putting %d: anchor %+v %v, want %+v", step.put.Seq, got, err, step.want)
		}
	}
	// Racing writers: the highest wins.
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ks.PutAuditAnchor(ctx, cp(int64(100+i), 6)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, _ := ks.AuditAnchor(ctx); got == nil || got.Seq != 115 {
		t.Errorf("after racing writers: %+v", got)
	}
}

// testRevocations: the revocation journal keeps the first entry per key
// and answers by hash.
func testRevocations(t *testing.T, s candor.Store) {
	ks := s.Keys()
	if ok, err := ks.APIKeyRevoked(ctx, []byte("hash-r1")); ok || err != nil {
		t.Fatalf("empty journal: %v %v", ok, err)
	}
	for _, r := range []candor.Revocation{
		{KeyID: "key_b", Hash: []byte("hash-r2"), At: at(2)},
		{KeyID: "key_a", Hash: []byte("hash-r1"), At: at(1)},
		{KeyID: "key_a", Hash: []byte("hash-r1"), At: at(9)}, // again: the first stays
	} {
		if err := ks.JournalRevocation(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := ks.APIKeyRevoked(ctx, []byte("hash-r1")); !ok || err != nil {
		t.Errorf("journaled key: %v %v", ok, err)
	}
	if ok, _ := ks.APIKeyRevoked(ctx, []byte("hash-other")); ok {
		t.Error("an unjournaled key is revoked")
	}
	all, err := ks.Revocations(ctx, "", 10)
	if err != nil || len(all) != 2 || all[0].KeyID != "key_a" || !all[0].At.Equal(at(1)) || string(all[0].Hash) != "hash-r1" || all[1].KeyID != "key_b" {
		t.Fatalf("revocations %+v %v", all, err)
	}
	if page, _ := ks.Revocations(ctx, "key_a", 10); len(page) != 1 || page[0].KeyID != "key_b" {
		t.Errorf("page after key_a: %+v", page)
	}
}
