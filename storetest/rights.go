package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
)

func testObjectionsAndErasure(t *testing.T, s candor.Store) {
	if err := s.WriteSubject(ctx, subject("sub_er", ident("email", "b-er"))); err != nil {
		t.Fatal(err)
	}
	code(t, s.SetObjection(ctx, "sub_nobody", "marketing.email", true, at(1)), candor.ENOTFOUND)
	v0, _ := s.SubjectVersion(ctx, "sub_er")
	for _, o := range []struct {
		purpose string
		on      bool
	}{{"marketing.email", true}, {"analytics", true}, {"marketing.email", true}, {"analytics", false}} {
		if err := s.SetObjection(ctx, "sub_er", o.purpose, o.on, at(2)); err != nil {
			t.Fatal(err)
		}
	}
	sub, err := s.Subject(ctx, "sub_er")
	if err != nil || fmt.Sprint(sub.Objections) != "[marketing.email]" {
		t.Fatalf("objections %v %v", sub, err)
	}
	if sub.Version <= v0 {
		t.Error("an objection did not bump the version")
	}
	if err := s.AppendConsents(ctx, []candor.Consent{{ID: "c-er", ReceiptID: "r", SubjectID: "sub_er", Purpose: "p", State: candor.ConsentGranted, NoticeHash: "n", Channel: "api", Actor: "a", At: at(3)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendMessages(ctx, []candor.Message{{ID: "m-er", Event: event("m-er", "sub_er", "Product Viewed", 4), Name: "Product Viewed", At: at(4)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSubject(ctx, subject("sub_keep")); err != nil {
		t.Fatal(err)
	}
	existed, err := s.DeleteSubject(ctx, "sub_er")
	if err != nil || !existed {
		t.Fatalf("delete: %v %v", existed, err)
	}
	if existed, err := s.DeleteSubject(ctx, "sub_er"); err != nil || existed {
		t.Fatalf("delete again: %v %v", existed, err)
	}
	_, err = s.Subject(ctx, "sub_er")
	code(t, err, candor.ENOTFOUND)
	if _, err := s.FindSubject(ctx, "email", []byte("b-er")); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Error("the identifier outlived its subject")
	}
	if tr, _ := s.Traits(ctx, "sub_er", nil); len(tr) != 0 {
		t.Error("traits outlived their subject")
	}
	if c, _ := s.Consents(ctx, "sub_er"); len(c) != 0 {
		t.Error("consents outlived their subject")
	}
	if e, _ := s.SubjectEvents(ctx, "sub_er", time.Time{}, 10); len(e) != 0 {
		t.Error("events outlived their subject")
	}
	if _, err := s.Subject(ctx, "sub_keep"); err != nil {
		t.Error("deleting one subject touched another")
	}
	// Many at once, some already gone.
	for _, id := range []string{"sub_m1", "sub_m2"} {
		if err := s.WriteSubject(ctx, subject(id)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteSubjects(ctx, []string{"sub_m1", "sub_er", "sub_m2", "sub_none"}); err != nil || n != 2 {
		t.Fatalf("delete many: %d %v", n, err)
	}
	if n, _ := s.CountSubjects(ctx); n != 1 {
		t.Fatalf("%d subjects left, want sub_keep", n)
	}
	if n, err := s.DeleteSubjects(ctx, nil); err != nil || n != 0 {
		t.Fatalf("delete none: %d %v", n, err)
	}

	ks := s.Keys()
	if err := ks.PutSubjectKey(ctx, "sub_er", []byte("wrapped"), at(0)); err != nil {
		t.Fatal(err)
	}
	if err := ks.ShredSubjectKeyAndJournal(ctx, candor.Erasure{SubjectID: "sub_er", At: at(5), RequestID: "req_1"}); err != nil {
		t.Fatal(err)
	}
	if err := ks.ShredSubjectKeyAndJournal(ctx, candor.Erasure{SubjectID: "sub_er", At: at(9), RequestID: "req_2"}); err != nil {
		t.Fatal(err)
	}
	if err := ks.ShredSubjectKeyAndJournal(ctx, candor.Erasure{SubjectID: "sub_nokey", At: at(6), RequestID: "req_3"}); err != nil {
		t.Fatal(err)
	}
	k, err := ks.SubjectKey(ctx, "sub_er")
	if err != nil || k.Wrapped != nil || k.ShreddedAt == nil {
		t.Fatalf("key after erasure: %+v %v", k, err)
	}
	es, err := ks.Erasures(ctx, "", 10)
	if err != nil || len(es) != 2 || es[0].SubjectID != "sub_er" || es[0].RequestID != "req_1" || !es[0].At.Equal(at(5)) || es[1].SubjectID != "sub_nokey" {
		t.Fatalf("journal %+v %v", es, err)
	}
	if page, _ := ks.Erasures(ctx, "sub_er", 10); len(page) != 1 {
		t.Fatalf("journal after sub_er: %+v", page)
	}
	if err := ks.Suppress(ctx, "email", []byte("b-er"), at(5)); err != nil {
		t.Fatal(err)
	}
	if err := ks.Suppress(ctx, "email", []byte("b-er"), at(6)); err != nil {
		t.Fatal(err)
	}
	if ok, err := ks.Suppressed(ctx, "email", []byte("b-er")); err != nil || !ok {
		t.Fatalf("suppressed: %v %v", ok, err)
	}
	if ok, _ := ks.Suppressed(ctx, "phone", []byte("b-er")); ok {
		t.Fatal("suppression leaked to another kind")
	}
}

func testRequests(t *testing.T, s candor.Store) {
	base := candor.RightsRequest{Type: candor.RightErase, SubjectID: "sub_r", Status: candor.RequestReceived, Jurisdiction: "PIPL",
		ReceivedAt: at(0), UpdatedAt: at(0), StateSince: at(0), Actor: "staff:a", Details: candor.RequestDetails{Suppress: true, Purposes: []string{"x"}}}
	for i, due := range []int{30, 10, 20} {
		r := base
		r.ID, r.DueAt = fmt.Sprint(candor.PrefixRequest, i), at(due)
		if err := s.PutRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	dup := base
	dup.ID = "req_0"
	code(t, s.PutRequest(ctx, dup), candor.ECONFLICT)
	r, err := s.Request(ctx, "req_1")
	if err != nil || r.Type != candor.RightErase || !r.DueAt.Equal(at(10)) || !r.Details.Suppress || r.Details.Purposes[0] != "x" || r.Actor != "staff:a" {
		t.Fatalf("request %+v %v", r, err)
	}
	_, err = s.Request(ctx, "req_nope")
	code(t, err, candor.ENOTFOUND)
	r.Status, r.UpdatedAt, r.StateSince = candor.RequestDone, at(5), at(5)
	r.Details.Result = map[string]int64{"events": 3}
	if err := s.UpdateRequest(ctx, *r, candor.RequestReceived); err != nil {
		t.Fatal(err)
	}
	code(t, s.UpdateRequest(ctx, *r, candor.RequestReceived), candor.ECONFLICT)
	r.ID = "req_nope"
	code(t, s.UpdateRequest(ctx, *r, candor.RequestReceived), candor.ENOTFOUND)
	if got, _ := s.Request(ctx, "req_1"); got.Status != candor.RequestDone || got.Details.Result["events"] != 3 {
		t.Fatalf("updated %+v", got)
	}
	open, err := s.Requests(ctx, candor.RequestFilter{Status: []string{candor.RequestReceived, candor.RequestInProgress}})
	if err != nil || len(open) != 2 || open[0].ID != "req_2" || open[1].ID != "req_0" {
		t.Fatalf("open requests by due date: %+v %v", open, err)
	}
	overdue, _ := s.Requests(ctx, candor.RequestFilter{Status: []string{candor.RequestReceived}, DueBefore: at(25)})
	if len(overdue) != 1 || overdue[0].ID != "req_2" {
		t.Fatalf("overdue %+v", overdue)
	}
	if all, _ := s.Requests(ctx, candor.RequestFilter{SubjectID: "sub_r"}); len(all) != 3 {
		t.Fatalf("by subject %+v", all)
	}
}

func testDisclosures(t *testing.T, s candor.Store) {
	if err := s.WriteSubject(ctx, subject("sub_d")); err != nil {
		t.Fatal(err)
	}
	ds := []candor.Disclosure{
		{ID: "d2", SubjectID: "sub_d", Recipient: "acme-ads", Purpose: "sharing.ads", Fields: []string{"city", "age_band"}, At: at(2), Reference: "job:audience"},
		{ID: "d1", SubjectID: "sub_d", Recipient: "shunda-express", Purpose: "service", Fields: []string{"name"}, At: at(1), Reference: "order"},
	}
	if err := s.AppendDisclosures(ctx, ds); err != nil {
		t.Fatal(err)
	}
	code(t, s.AppendDisclosures(ctx, []candor.Disclosure{{ID: "d3", SubjectID: "sub_d", Recipient: "x", Purpose: "p", At: at(3)},
		{ID: "d4", SubjectID: "sub_nobody", Recipient: "x", Purpose: "p", At: at(3)}}), candor.ENOTFOUND)
	got, err := s.Disclosures(ctx, "sub_d")
	if err != nil || len(got) != 2 || got[0].ID != "d1" || fmt.Sprint(got[1].Fields) != "[city age_band]" || got[1].Recipient != "acme-ads" || !got[1].At.Equal(at(2)) {
		t.Fatalf("disclosures %+v %v", got, err)
	}
	if _, err := s.DeleteSubject(ctx, "sub_d"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Disclosures(ctx, "sub_d"); len(got) != 0 {
		t.Fatal("disclosures outlived their subject")
	}
}

func testChallenges(t *testing.T, s candor.Store) {
	c := candor.Challenge{ID: "chl_1", Kind: "email", Blind: []byte("b-1"), CodeHash: []byte("h"), CreatedAt: at(0), ExpiresAt: at(600)}
	if err := s.PutChallenge(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Challenge(ctx, "chl_1")
	if err != nil || got.Kind != "email" || string(got.Blind) != "b-1" || string(got.CodeHash) != "h" || !got.ExpiresAt.Equal(at(600)) || got.Tries != 0 || got.Used {
		t.Fatalf("challenge %+v %v", got, err)
	}
	_, err = s.Challenge(ctx, "chl_none")
	code(t, err, candor.ENOTFOUND)
	for i := range 4 {
		if ok, err := s.SpendChallenge(ctx, "chl_1", false, 3); err != nil || ok != (i < 3) {
			t.Fatalf("failed try %d: %v %v", i, ok, err)
		}
	}
	if ok, _ := s.SpendChallenge(ctx, "chl_1", true, 3); ok {
		t.Fatal("a locked challenge was spent")
	}
	c.ID = "chl_2"
	c.CreatedAt = at(100)
	if err := s.PutChallenge(ctx, c); err != nil {
		t.Fatal(err)
	}
	// Two successes racing: one wins.
	results := make(chan bool, 2)
	for range 2 {
		go func() {
			ok, _ := s.SpendChallenge(ctx, "chl_2", true, 5)
			results <- ok
		}()
	}
	if a, b := <-results, <-results; a == b {
		t.Fatalf("single use: %v %v", a, b)
	}
	if n, err := s.CountChallenges(ctx, "email", []byte("b-1"), at(50)); err != nil || n != 1 {
		t.Fatalf("count since 50: %d %v", n, err)
	}
	if n, _ := s.CountChallenges(ctx, "email", []byte("b-1"), at(0)); n != 2 {
		t.Fatalf("count since 0: %d", n)
	}
}

// testChangeChallenges: the challenges of a change of address are counted
// per person whatever the address, and per session; a sign-in challenge
// (no subject) counts for nobody.
func testChangeChallenges(t *testing.T, s candor.Store) {
	put := func(id, subject, session string, sec int) {
		t.Helper()
		c := candor.Challenge{ID: id, Kind: "email", Blind: []byte("blind-" + id), CodeHash: []byte("h"), CreatedAt: at(sec), ExpiresAt: at(sec + 600), SubjectID: subject}
		if session != "" {
			c.Session = []byte(session)
		}
		if err := s.PutChallenge(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	put("chl_c1", "sub_a", "sess-1", 0)
	put("chl_c2", "sub_a", "sess-1", 10)
	put("chl_c3", "sub_a", "sess-2", 20)
	put("chl_c4", "sub_b", "sess-3", 20)
	put("chl_c5", "", "", 20) // a sign-in
	got, err := s.Challenge(ctx, "chl_c2")
	if err != nil || got.SubjectID != "sub_a" || string(got.Session) != "sess-1" {
		t.Fatalf("challenge %+v %v", got, err)
	}
	if got, err := s.Challenge(ctx, "chl_c5"); err != nil || got.SubjectID != "" || got.Session != nil {
		t.Fatalf("a sign-in challenge %+v %v", got, err)
	}
	for _, c := range []struct {
		subject, session string
		since            int
		n, inSession     int
	}{
		{"sub_a", "sess-1", 0, 3, 2},
		{"sub_a", "sess-2", 0, 3, 1},
		{"sub_a", "sess-1", 10, 2, 1},
		{"sub_a", "", 0, 3, 0},
		{"sub_a", "sess-3", 0, 3, 0},
		{"sub_b", "sess-3", 0, 1, 1},
		{"sub_c", "sess-1", 0, 0, 0},
		{"", "", 0, 0, 0},
	} {
		var session []byte
		if c.session != "" {
			session = []byte(c.session)
		}
		n, inSession, err := s.CountChangeChallenges(ctx, c.subject, session, at(c.since))
		if err != nil || n != c.n || inSession != c.inSession {
			t.Errorf("CountChangeChallenges(%q, %q, %d) = %d, %d, %v; want %d, %d", c.subject, c.session, c.since, n, inSession, err, c.n, c.inSession)
		}
	}
}

// testChallengeLimits: a challenge beyond a limit is refused (EBUSY, the
// scope as reason) and not stored; limits count per identifier, per
// subject and per session within their window; and concurrent puts, from
// as many callers as there are, never exceed a limit.
func testChallengeLimits(t *testing.T, s candor.Store) {
	n := 0
	put := func(blind, subject, session string, sec int, limits ...candor.ChallengeLimit) error {
		n++
		c := candor.Challenge{ID: fmt.Sprintf("chl_l%d", n), Kind: "phone", Blind: []byte(blind), CodeHash: []byte("h"), CreatedAt: at(sec), ExpiresAt: at(sec + 600), SubjectID: subject}
		if session != "" {
			c.Session = []byte(session)
		}
		return s.PutChallenge(ctx, c, limits...)
	}
	ident := func(max, since int) candor.ChallengeLimit {
		return candor.ChallengeLimit{Scope: candor.ChallengeScopeIdentifier, Max: max, Since: at(since)}
	}
	for i := range 3 {
		if err := put("victim", "", "", 10+i, ident(3, 0)); err != nil {
			t.Fatal(err)
		}
	}
	err := put("victim", "", "", 20, ident(3, 0))
	code(t, err, candor.EBUSY)
	if ce, ok := err.(*candor.Error); !ok || ce.Reason != candor.ChallengeScopeIdentifier {
		t.Errorf("the refusal %v does not name its scope", err)
	}
	if c, _ := s.CountChallenges(ctx, "phone", []byte("victim"), at(0)); c != 3 {
		t.Errorf("%d challenges stored for the identifier, want 3: the refused one was stored", c)
	}
	if err := put("victim", "", "", 20, ident(3, 11)); err != nil { // the window moved on
		t.Errorf("a put within the moved window: %v", err)
	}
	if err := put("other", "", "", 20, ident(3, 0)); err != nil {
		t.Errorf("another identifier: %v", err)
	}
	subject := candor.ChallengeLimit{Scope: candor.ChallengeScopeSubject, Max: 2, Since: at(0)}
	session := candor.ChallengeLimit{Scope: candor.ChallengeScopeSession, Max: 1, Since: at(0)}
	if err := put("new-1", "sub_l", "sess-1", 30, subject, session); err != nil {
		t.Fatal(err)
	}
	code(t, put("new-2", "sub_l", "sess-1", 31, subject, session), candor.EBUSY) // the session's one is used
	if err := put("new-3", "sub_l", "sess-2", 32, subject, session); err != nil {
		t.Fatal(err)
	}
	code(t, put("new-4", "sub_l", "sess-3", 33, subject, session), candor.EBUSY) // the person's two are used
	if err := put("new-5", "sub_other", "sess-1", 33, subject, session); err != nil {
		t.Errorf("another person: %v", err)
	}
	code(t, put("new-6", "", "", 33, subject), candor.EINVALID) // a sign-in has no subject to count

	// Concurrent puts: exactly the limit gets through.
	const callers, max = 24, 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored, busy := 0, 0
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := candor.Challenge{ID: fmt.Sprintf("chl_race%d", i), Kind: "phone", Blind: []byte("flooded"), CodeHash: []byte("h"), CreatedAt: at(40), ExpiresAt: at(640)}
			err := s.PutChallenge(ctx, c, ident(max, 0))
			mu.Lock()
			defer mu.Unlock()
			switch candor.ErrorCode(err) {
			case "":
				stored++
			case candor.EBUSY:
				busy++
			default:
				t.Errorf("concurrent put: %v", err)
			}
		}()
	}
	wg.Wait()
	if stored != max || busy != callers-max {
		t.Errorf("%d concurrent puts under a limit of %d: %d stored, %d refused", callers, max, stored, busy)
	}
}

func testDeliveries(t *testing.T, s candor.Store) {
	ds := []candor.Delivery{
		{ID: "dlv_1", RequestID: "req_1", Recipient: "acme-ads", Event: "erasure", Body: []byte(`{"a":1}`), Status: candor.DeliveryPending, NextAt: at(0), UpdatedAt: at(0)},
		{ID: "dlv_2", RequestID: "req_1", Recipient: "global-parcel", Event: "erasure", Body: []byte(`{}`), Status: candor.DeliveryPending, NextAt: at(50), UpdatedAt: at(0)},
	}
	if err := s.PutDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueDeliveries(ctx, at(10), 10)
	if err != nil || len(due) != 1 || due[0].ID != "dlv_1" || string(due[0].Body) != `{"a":1}` {
		t.Fatalf("due %+v %v", due, err)
	}
	if ok, err := s.ClaimDelivery(ctx, "dlv_1", 0, at(40)); err != nil || !ok {
		t.Fatalf("claim %v %v", ok, err)
	}
	if ok, _ := s.ClaimDelivery(ctx, "dlv_1", 0, at(40)); ok {
		t.Fatal("claimed twice")
	}
	if due, _ := s.DueDeliveries(ctx, at(10), 10); len(due) != 0 {
		t.Fatalf("a claimed delivery is due: %+v", due)
	}
	done := ds[0]
	done.Status, done.Attempts, done.LastError, done.UpdatedAt = candor.DeliveryDelivered, 1, "", at(41)
	if err := s.FinishAttempt(ctx, done); err != nil {
		t.Fatal(err)
	}
	all, err := s.Deliveries(ctx, "req_1")
	if err != nil || len(all) != 2 || all[0].Status != candor.DeliveryDelivered || all[0].Attempts != 1 || all[1].Status != candor.DeliveryPending {
		t.Fatalf("deliveries %+v %v", all, err)
	}
	if due, _ := s.DueDeliveries(ctx, at(100), 10); len(due) != 1 || due[0].ID != "dlv_2" {
		t.Fatalf("due later %+v", due)
	}
}

// testTimeOrder: times with and without fractions of a second compare as
// times, not as text.
func testTimeOrder(t *testing.T, s candor.Store) {
	half := at(1).Add(500 * time.Millisecond)
	if err := s.PutDeliveries(ctx, []candor.Delivery{{ID: "dlv_t", RequestID: "req_t", Recipient: "r", Event: "erasure", Body: []byte("{}"),
		Status: candor.DeliveryPending, NextAt: half, UpdatedAt: at(0)}}); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueDeliveries(ctx, at(1), 10); len(due) != 0 {
		t.Fatal("due at 1s: a delivery due at 1.5s")
	}
	if due, _ := s.DueDeliveries(ctx, at(2), 10); len(due) != 1 {
		t.Fatal("not due at 2s: a delivery due at 1.5s")
	}
	r := candor.RightsRequest{ID: "req_t", Type: "erase", SubjectID: "s", Status: candor.RequestReceived, Jurisdiction: "PIPL",
		ReceivedAt: at(0), DueAt: half, UpdatedAt: at(0), StateSince: at(0), Actor: "a"}
	if err := s.PutRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Requests(ctx, candor.RequestFilter{DueBefore: at(1)}); len(got) != 0 {
		t.Fatal("overdue at 1s: a request due at 1.5s")
	}
}

func testMergeSubject(t *testing.T, s candor.Store) {
	from := subject("sub_from", ident("anonymous_id", "b-anon"))
	from.Traits = []candor.Trait{{Field: "city", Sealed: []byte("from-city")}, {Field: "gender", Sealed: []byte("from-gender")}}
	if err := s.WriteSubject(ctx, from); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSubject(ctx, subject("sub_into", ident("user_id", "b-user"))); err != nil { // has a city of its own
		t.Fatal(err)
	}
	if err := s.AppendConsents(ctx, []candor.Consent{{ID: "c-from", ReceiptID: "r", SubjectID: "sub_from", Purpose: "analytics", State: candor.ConsentDenied,
		NoticeHash: "n", Channel: "banner", Actor: "a", At: at(3)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendMessages(ctx, []candor.Message{{ID: "m-from", Event: event("m-from", "sub_from", "Product Viewed", 4), Name: "Product Viewed", At: at(4)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendDisclosures(ctx, []candor.Disclosure{{ID: "d-from", SubjectID: "sub_from", Recipient: "acme-ads", Purpose: "sharing.ads", Fields: []string{"city"}, At: at(4)}}); err != nil {
		t.Fatal(err)
	}
	v0, _ := s.SubjectVersion(ctx, "sub_into")
	m := candor.SubjectMerge{From: "sub_from", Into: "sub_into", At: at(9),
		Identifiers: []candor.Identifier{{Kind: "anonymous_id", Blind: []byte("b-anon"), Sealed: []byte("resealed-anon")}},
		Traits:      []candor.Trait{{Field: "city", Sealed: []byte("resealed-city"), UpdatedAt: at(0)}, {Field: "gender", Sealed: []byte("resealed-gender"), UpdatedAt: at(0), Source: "identify"}},
		Events:      []candor.EventRecord{{ID: "ev-m-from", Sealed: []byte("resealed-event")}},
		Consents:    []candor.Consent{{ID: "c-merged", ReceiptID: "r2", SubjectID: "sub_into", Purpose: "analytics", State: candor.ConsentDenied, NoticeHash: "n", Channel: "merge", Actor: "a", At: at(3)}},
	}
	code(t, s.MergeSubject(ctx, candor.SubjectMerge{From: "sub_from", Into: "sub_nobody", At: at(9)}), candor.ENOTFOUND)
	if err := s.MergeSubject(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Subject(ctx, "sub_from"); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Fatal("From survived the merge")
	}
	if owner, _ := s.FindSubject(ctx, "anonymous_id", []byte("b-anon")); owner != "sub_into" {
		t.Fatalf("the anonymous id belongs to %q", owner)
	}
	ids, _ := s.Identifiers(ctx, "sub_into")
	if len(ids) != 2 {
		t.Fatalf("identifiers %+v", ids)
	}
	traits, _ := s.Traits(ctx, "sub_into", nil)
	got := map[string]string{}
	for _, tr := range traits {
		got[tr.Field] = string(tr.Sealed)
	}
	if got["city"] != "sealed-city-sub_into" || got["gender"] != "resealed-gender" {
		t.Fatalf("traits %v: Into's own city must stay, From's gender come", got)
	}
	for _, tr := range traits {
		if tr.Field == "gender" && tr.Source != "identify" {
			t.Fatalf("a trait's source was not kept: %+v", tr)
		}
	}
	evs, _ := s.SubjectEvents(ctx, "sub_into", time.Time{}, 10)
	if len(evs) != 1 || string(evs[0].Sealed) != "resealed-event" {
		t.Fatalf("events %+v", evs)
	}
	cs, _ := s.Consents(ctx, "sub_into")
	if len(cs) != 1 || cs[0].ID != "c-merged" || cs[0].Channel != "merge" {
		t.Fatalf("consents %+v", cs)
	}
	ds, _ := s.Disclosures(ctx, "sub_into")
	if len(ds) != 1 || ds[0].Recipient != "acme-ads" {
		t.Fatalf("disclosures %+v", ds)
	}
	if v, _ := s.SubjectVersion(ctx, "sub_into"); v <= v0 {
		t.Fatal("the merge did not bump Into's version")
	}
}
