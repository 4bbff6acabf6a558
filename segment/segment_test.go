package segment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/postgres"
	"github.com/candorhq/candor/segment"
	"github.com/candorhq/candor/subjects"
)

var (
	ctx      = context.Background()
	admin    = testenv.Admin
	marketer = candor.Actor{ID: "test:marketer", Role: "marketer"}
	analyst  = candor.Actor{ID: "test:analyst", Role: "analyst"}
	writer   = candor.Actor{ID: "test:write", Role: candor.RoleWrite}
)

func onBothStores(t *testing.T, f func(t *testing.T, e *testenv.Env)) {
	t.Run("sqlite", func(t *testing.T) { f(t, testenv.New(t, nil)) })
	t.Run("postgres", func(t *testing.T) {
		url, prefix := testenv.Postgres(t)
		db, err := postgres.Open(ctx, url, postgres.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		e, err := testenv.Wire(db, t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		f(t, e)
	})
}

func service(e *testenv.Env) *segment.Service {
	return segment.New(segment.Options{Policy: e.Policy, Store: e.Store, Gate: e.Gate})
}

func track(t *testing.T, e *testenv.Env, userID, event string, ago time.Duration, props map[string]any) {
	t.Helper()
	m, _ := json.Marshal(map[string]any{"type": "track", "event": event, "userId": userID, "messageId": candor.NewID("m_"),
		"timestamp": time.Now().Add(-ago).UTC().Format(time.RFC3339Nano), "properties": props})
	res, err := e.App.Collector.Collect(ctx, writer, collect.Call{Messages: []json.RawMessage{m}}, collect.Signals{})
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("track %s: %+v %v", event, res, err)
	}
}

func count(t *testing.T, s *segment.Service, actor candor.Actor, purpose, rule string) segment.Count {
	t.Helper()
	c, err := s.CountRule(ctx, actor, "", purpose, json.RawMessage(rule), segment.Label("", "count"))
	if err != nil {
		t.Fatalf("count %s: %v", rule, err)
	}
	return c
}

func n(c segment.Count) int {
	if c.N == nil {
		return -1
	}
	return *c.N
}

// TestSegments: counts through the gate on both stores: traits, events
// over a window with property filters, frequency, monetary and recency,
// consent; a withdrawal is not counted; a snapshot loses an erased person
// and yields only people whose decision allows the purpose when read; a
// role without the purpose is refused, audited; small counts are hidden
// from a role that cannot read the people; a rule the reader's role may
// not use is refused on a saved segment.
func TestSegments(t *testing.T) {
	onBothStores(t, testSegments)
}

func testSegments(t *testing.T, e *testenv.Env) {
	s := service(e)
	var ids []string
	for i := range 14 {
		traits := map[string]any{"city": "Shanghai"}
		if i%2 == 1 {
			traits["city"] = "Beijing"
		}
		ids = append(ids, e.MustSubject(t, subjects.Input{UserID: fmt.Sprintf("u%d", i), Email: fmt.Sprintf("u%d@example.com", i), Traits: traits}, consent.ScopeAll))
	}
	// u0..u3 viewed tea in the last days; u0 twice; u4 viewed 60 days ago.
	for i := range 4 {
		track(t, e, fmt.Sprintf("u%d", i), "Product Viewed", time.Duration(i+1)*24*time.Hour, map[string]any{"category": "tea", "price": 30})
	}
	track(t, e, "u0", "Product Viewed", 2*time.Hour, map[string]any{"category": "coffee", "price": 12})
	track(t, e, "u4", "Product Viewed", 60*24*time.Hour, map[string]any{"category": "tea", "price": 30})
	// Orders: collected for analytics too (and service, legal).
	track(t, e, "u5", "Order Completed", 40*24*time.Hour, map[string]any{"revenue": 400})
	track(t, e, "u5", "Order Completed", 50*24*time.Hour, map[string]any{"revenue": 300})
	track(t, e, "u6", "Order Completed", 3*24*time.Hour, map[string]any{"revenue": 80})

	for _, c := range []struct {
		purpose, rule string
		want          int
	}{
		{"personalization", `{"trait":"city","op":"eq","value":"Shanghai"}`, 7},
		{"personalization", `{"trait":"city","op":"in","value":["Shanghai","Beijing"]}`, 14},
		{"personalization", `{"not":{"trait":"city","op":"prefix","value":"Shang"}}`, 7},
		{"personalization", `{"event":"Product Viewed","within":"30d"}`, 4},
		{"personalization", `{"event":"Product Viewed","within":"90d"}`, 5},
		{"personalization", `{"event":"Product Viewed","within":"30d","min":2}`, 1},
		{"personalization", `{"event":"Product Viewed","within":"30d","max":0}`, 10},
		{"personalization", `{"event":"Product Viewed","within":"30d","where":{"property":"category","op":"eq","value":"coffee"}}`, 1},
		{"personalization", `{"event":"Product Viewed","within":"30d","sum":"price","op":"gte","value":40}`, 1},
		{"personalization", `{"event":"Product Viewed","within":"90d","last_not_within":"30d"}`, 1},
		{"personalization", `{"event":"Product Viewed","within":"30d","last_within":"3d"}`, 2},
		{"personalization", `{"all":[{"event":"Product Viewed","within":"30d"},{"trait":"city","op":"eq","value":"Beijing"}]}`, 2},
		{"personalization", `{"all":[{"consent":"marketing.email"},{"trait":"city","op":"exists"}]}`, 14},
		{"analytics", `{"event":"Order Completed","within":"365d","sum":"revenue","op":"gte","value":500}`, 1},
		{"analytics", `{"event":"Order Completed","within":"365d","last_not_within":"30d"}`, 1},
		{"analytics", `{"event":"Order Completed","within":"30d","min":1}`, 1},
	} {
		if got := n(count(t, s, admin, c.purpose, c.rule)); got != c.want {
			t.Errorf("%s %s: %d, want %d", c.purpose, c.rule, got, c.want)
		}
	}
	// A withdrawal is counted no more.
	if _, err := e.Ledger.Record(ctx, admin, "", ids[0], consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"personalization": false}}); err != nil {
		t.Fatal(err)
	}
	if got := n(count(t, s, admin, "personalization", `{"event":"Product Viewed","within":"30d"}`)); got != 3 {
		t.Errorf("after u0 withdrew: %d, want 3", got)
	}
	// Fewer than 10: hidden from the marketer (who sees e-mail masked) on
	// marketing.email, shown to the admin; the marketer reads the people
	// of personalization (nothing of it masked) and sees the number.
	if c := count(t, s, marketer, "marketing.email", `{"all":[{"trait":"email","op":"exists"},{"consent":"personalization"}]}`); n(c) != 13 {
		t.Errorf("13 people to the marketer: %+v", c)
	}
	if c := count(t, s, marketer, "marketing.email", `{"all":[{"trait":"email","op":"exists"},{"not":{"consent":"personalization"}}]}`); c.N != nil || c.Below != 10 {
		t.Errorf("1 person to the marketer: %+v, want fewer than 10", c)
	}
	if c := count(t, s, marketer, "personalization", `{"trait":"city","op":"eq","value":"Beijing"}`); n(c) != 7 {
		t.Errorf("7 to the marketer on personalization: %+v", c)
	}
	if c := count(t, s, admin, "marketing.email", `{"not":{"consent":"personalization"}}`); n(c) != 1 {
		t.Errorf("1 person to the admin: %+v", c)
	}
	// A role without the purpose: refused, audited, nobody read.
	before, _, _ := e.Store.AuditHead(ctx)
	if _, err := s.CountRule(ctx, analyst, "", "personalization", json.RawMessage(`{"trait":"city","op":"exists"}`), "x"); candor.ErrorCode(err) != candor.EFORBIDDEN {
		t.Errorf("the analyst counts for personalization: %v", err)
	}
	if _, err := s.Create(ctx, analyst, "", segment.Input{Name: "x", Purpose: "personalization", Rule: json.RawMessage(`{"trait":"city","op":"exists"}`)}); candor.ErrorCode(err) != candor.EFORBIDDEN {
		t.Errorf("the analyst saves for personalization: %v", err)
	}
	entries, _ := e.Store.AuditEntries(ctx, before+1, 10)
	denied := 0
	for _, en := range entries {
		if en.Actor == analyst.ID && en.Decision == candor.DecisionDeny && en.Purpose == "personalization" {
			denied++
		}
	}
	if denied != 2 {
		t.Errorf("%d audited refusals of the analyst, want 2: %+v", denied, entries)
	}
	// A masked field beyond exists: refused for the marketer.
	if _, err := s.CountRule(ctx, marketer, "", "marketing.email", json.RawMessage(`{"trait":"email","op":"prefix","value":"u1"}`), "x"); candor.ErrorCode(err) != candor.EINVALID || fields(err) != "rule.op" {
		t.Errorf("a prefix on the masked e-mail: %v %s", err, fields(err))
	}
	// A segment the admin saved with a prefix on e-mail: the marketer may
	// not read it.
	adm, err := s.Create(ctx, admin, "", segment.Input{Name: "u1 family", Purpose: "marketing.email", Rule: json.RawMessage(`{"trait":"email","op":"prefix","value":"u1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CountSegment(ctx, marketer, "", adm); candor.ErrorCode(err) != candor.EFORBIDDEN {
		t.Errorf("the marketer counts the admin's e-mail prefix: %v", err)
	}
	if c, err := s.CountSegment(ctx, admin, "", adm); err != nil || n(c) != 5 { // u1, u10..u13
		t.Errorf("the admin's e-mail prefix: %+v %v", c, err)
	}

	// A snapshot: the Shanghai people now; one erased, one withdrawn.
	snap, err := s.Create(ctx, marketer, "", segment.Input{Name: "Shanghai", Purpose: "personalization", Snapshot: true, Rule: json.RawMessage(`{"trait":"city","op":"eq","value":"Shanghai"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Members != 6 { // u0 withdrew
		t.Fatalf("snapshot of %d", snap.Members)
	}
	if _, err := e.App.Rights.Erase(ctx, admin, ids[2], "", false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Ledger.Record(ctx, admin, "", ids[4], consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"personalization": false}}); err != nil {
		t.Fatal(err)
	}
	// A new Shanghai person is not in the snapshot.
	e.MustSubject(t, subjects.Input{UserID: "late", Traits: map[string]any{"city": "Shanghai"}}, consent.ScopeAll)
	got, _ := e.Store.Segment(ctx, snap.ID)
	if got.Members != 5 {
		t.Errorf("the snapshot keeps %d after an erasure, want 5", got.Members)
	}
	members, _ := e.Store.SegmentMembers(ctx, snap.ID, "", 100)
	for _, m := range members {
		if m == ids[2] {
			t.Error("the erased person is in the snapshot")
		}
	}
	if c, err := s.CountSegment(ctx, marketer, "", got); err != nil || n(c) != 4 {
		t.Errorf("the snapshot counts %+v %v, want 4 (5 kept, 1 withdrew)", c, err)
	}
	var listed []string
	next, err := s.People(ctx, marketer, "", got, "", 3, []string{"city"}, func(x *gate.Person) error {
		listed = append(listed, x.SubjectID)
		if x.Fields["city"] != "Shanghai" || len(x.Activity) > 0 {
			t.Errorf("listed %+v", x)
		}
		return nil
	})
	if err != nil || len(listed) != 3 || next == "" {
		t.Fatalf("first page %v next %q %v", listed, next, err)
	}
	next, err = s.People(ctx, marketer, "", got, next, 3, []string{"city"}, func(x *gate.Person) error {
		listed = append(listed, x.SubjectID)
		return nil
	})
	if err != nil || len(listed) != 4 || next != "" {
		t.Errorf("second page %v next %q %v", listed, next, err)
	}
	// The marketer may not list a marketing.email segment of fewer than 10.
	small, err := s.Create(ctx, marketer, "", segment.Input{Name: "few", Purpose: "marketing.email", Rule: json.RawMessage(`{"not":{"consent":"personalization"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.People(ctx, marketer, "", small, "", 10, nil, func(*gate.Person) error { return nil }); candor.ErrorCode(err) != candor.EFORBIDDEN {
		t.Errorf("the marketer lists a segment of fewer than 10: %v", err)
	}
	// The person's report names the segment's runs, one line per label a day.
	rep, err := e.Gate.Report(ctx, admin, ids[1], "")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rep.Runs {
		if seen[r.Label+r.Purpose+r.Actor] {
			t.Errorf("the report repeats %q", r.Label)
		}
		seen[r.Label+r.Purpose+r.Actor] = true
		if r.Label == segment.Label("", "count") && r.Purpose == "personalization" && r.Actor == admin.ID && r.Times < 10 {
			t.Errorf("the admin's live counts are %d line(s) for %d runs", 1, r.Times)
		}
	}
	if !seen[segment.Label("", "count")+"personalization"+admin.ID] {
		t.Errorf("the report does not name the live counts: %+v", rep.Runs)
	}
}
