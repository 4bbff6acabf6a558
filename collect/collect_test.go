package collect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/subjects"
)

var ctx = context.Background()

var writer = candor.Actor{ID: "apikey:write", Role: candor.RoleWrite}

// fixture is a collector on a fresh embedded store, its clock fixed.
type fixture struct {
	*testenv.Env
	c   *collect.Collector
	now time.Time
}

func newFixture(t testing.TB, mod func(*collect.Options)) *fixture {
	t.Helper()
	return newFixtureOf(t, collect.New, mod)
}

// newFixtureOf is [newFixture] with the collector that start makes.
func newFixtureOf(t testing.TB, start func(collect.Options) *collect.Collector, mod func(*collect.Options)) *fixture {
	t.Helper()
	e := testenv.New(t, nil)
	f := &fixture{Env: e, now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	o := collect.Options{Policy: e.Policy, Store: e.Store, Subjects: e.Subjects, Ledger: e.Ledger, Gate: e.Gate, Sealer: e.Vault, Index: e.Vault.BlindIndex,
		Now: func() time.Time { return f.now }, Flush: time.Hour}
	if mod != nil {
		mod(&o)
	}
	f.c = start(o)
	t.Cleanup(func() { f.c.Close() })
	return f
}

// send collects one batch of messages, given as Go values.
func (f *fixture) send(t *testing.T, sig collect.Signals, msgs ...map[string]any) *collect.Result {
	t.Helper()
	var raws []json.RawMessage
	for _, m := range msgs {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, b)
	}
	res, err := f.c.Collect(ctx, writer, collect.Call{Messages: raws}, sig)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// payload returns a stored event's unsealed properties and context.
func (f *fixture) payload(t *testing.T, e candor.EventRecord) (props, context map[string]any) {
	t.Helper()
	plain, err := f.Vault.Unseal(ctx, e.SubjectID, candor.EventSealField(e.ID), e.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Properties map[string]any `json:"properties"`
		Context    map[string]any `json:"context"`
	}
	if err := json.Unmarshal(plain, &p); err != nil {
		t.Fatal(err)
	}
	return p.Properties, p.Context
}

func (f *fixture) events(t *testing.T, subjectID string) []candor.EventRecord {
	t.Helper()
	evs, err := f.Store.SubjectEvents(ctx, subjectID, time.Time{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// report flushes the counters and returns them as "event|item|action|detector" → count.
func (f *fixture) report(t *testing.T) map[string]int64 {
	t.Helper()
	f.c.FlushCounters(ctx)
	rows, err := f.Store.Minimization(ctx, "2000-01-01", "2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Event+"|"+r.Item+"|"+r.Action+"|"+r.Detector] += r.Count
	}
	return out
}

const iPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"

// TestTrackMinimizedRedactedSealed: what is stored of a consented track
// call is what the policy declares, with personal data in free text
// redacted and the context minimized, sealed under the subject's key.
func TestTrackMinimizedRedactedSealed(t *testing.T) {
	f := newFixture(t, nil)
	id := f.MustSubject(t, subjects.Input{UserID: "u1"}, consent.ScopeAll)
	res := f.send(t, collect.Signals{}, map[string]any{
		"type": "track", "userId": "u1", "event": "Products Searched", "messageId": "m1",
		"properties": map[string]any{"query": "red shoes for li.na@example.cn, call 13800138000, id 11010519491231002X", "color": "red"},
		"context": map[string]any{"ip": "203.0.113.77", "userAgent": iPhone, "locale": "zh-CN",
			"device": map[string]any{"advertisingId": "6D92078A-8246-4BA4-AE5B-76104861E7DC"}, "screen": map[string]any{"width": 390},
			"page": map[string]any{"url": "https://shop.example/search?q=li.na@example.cn", "path": "/search", "hash": "x"}},
	})
	if res.Accepted != 1 || len(res.Errors) != 0 {
		t.Fatalf("result %+v", res)
	}
	evs := f.events(t, id)
	if len(evs) != 1 {
		t.Fatalf("%d events stored", len(evs))
	}
	e := evs[0]
	if e.Name != "Products Searched" || e.Type != "track" || strings.Join(e.Purposes, ",") != "personalization,analytics" {
		t.Fatalf("event %+v", e)
	}
	if !e.Expires.Equal(f.now.Add(90 * 24 * time.Hour)) {
		t.Errorf("expires %v, want 90 days (the event's retention)", e.Expires)
	}
	if strings.Contains(string(e.Sealed), "shoes") {
		t.Fatal("the payload is stored in the clear")
	}
	props, cx := f.payload(t, e)
	if got, want := props["query"], "red shoes for [email], call [phone], id [cn_id]"; got != want {
		t.Errorf("query %q, want %q", got, want)
	}
	if _, ok := props["color"]; ok {
		t.Error("an undeclared property was kept")
	}
	if cx["ip"] != "203.0.113.0" {
		t.Errorf("ip %v, want the /24", cx["ip"])
	}
	if a, _ := cx["agent"].(map[string]any); a["browser"] != "Safari" || a["os"] != "iOS" || a["device"] != "mobile" {
		t.Errorf("agent %v", cx["agent"])
	}
	if _, ok := cx["userAgent"]; ok {
		t.Error("the full user agent was kept")
	}
	if _, ok := cx["device"]; ok {
		t.Error("the advertising id was kept")
	}
	if _, ok := cx["screen"]; ok {
		t.Error("the screen was kept")
	}
	if p, _ := cx["page"].(map[string]any); p["url"] != "https://shop.example/search?q=[email]" || p["path"] != "/search" || p["hash"] != nil {
		t.Errorf("page %v", cx["page"])
	}
	rep := f.report(t)
	for _, want := range []string{
		"Products Searched|properties.query|redacted|email", "Products Searched|properties.query|redacted|phone",
		"Products Searched|properties.query|redacted|cn_id", "Products Searched|properties.color|dropped|undeclared",
		"Products Searched|context.ip|truncated|", "Products Searched|context.userAgent|reduced|",
		"Products Searched|context.device|dropped|undeclared", "Products Searched|context.page.url|redacted|email",
	} {
		if rep[want] != 1 {
			t.Errorf("report lacks %s: %v", want, rep)
		}
	}
}

// TestConsentGating: an event is linked only when one of its purposes is
// allowed for the person now; otherwise only an anonymous count remains.
func TestConsentGating(t *testing.T) {
	f := newFixture(t, nil)
	none := f.MustSubject(t, subjects.Input{UserID: "no-consent"}, "")
	f.send(t, collect.Signals{},
		map[string]any{"type": "track", "userId": "no-consent", "event": "Product Viewed", "messageId": "v1", "properties": map[string]any{"product_id": "p1"}},
		map[string]any{"type": "track", "userId": "no-consent", "event": "Order Completed", "messageId": "o1", "properties": map[string]any{"order_id": "SO-1", "total": 99.5}},
		map[string]any{"type": "page", "anonymousId": "a-stranger", "name": "Home", "messageId": "p1"},
	)
	evs := f.events(t, none)
	if len(evs) != 1 || evs[0].Name != "Order Completed" || strings.Join(evs[0].Purposes, ",") != "service,legal" {
		t.Fatalf("without consent, want only the order (contract, legal obligation): %+v", evs)
	}
	counts, err := f.Store.AnonymousCounts(ctx, "2026-11-25", "2026-11-25")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, c := range counts {
		got[c.Name] = c.Count
	}
	if got["Product Viewed"] != 1 || got["Page Viewed"] != 1 || len(got) != 2 {
		t.Fatalf("anonymous counts %v", got)
	}
	// Consent to analytics only: the view is stored for analytics alone.
	if _, err := f.Ledger.Record(ctx, testenv.Admin, "", none, consent.Choice{NoticeVersion: f.Version, Choices: map[string]bool{"analytics": true}}); err != nil {
		t.Fatal(err)
	}
	f.send(t, collect.Signals{}, map[string]any{"type": "track", "userId": "no-consent", "event": "Product Viewed", "messageId": "v2"})
	evs = f.events(t, none)
	var v2 *candor.EventRecord
	for i := range evs {
		if evs[i].Name == "Product Viewed" { // v1 was only counted
			v2 = &evs[i]
		}
	}
	if len(evs) != 2 || v2 == nil || strings.Join(v2.Purposes, ",") != "analytics" {
		t.Fatalf("after consent to analytics: %+v", evs)
	}
	// Withdrawn: the very next event is counted, not linked.
	if _, err := f.Ledger.Record(ctx, testenv.Admin, "", none, consent.Choice{NoticeVersion: f.Version, Choices: map[string]bool{"analytics": false}}); err != nil {
		t.Fatal(err)
	}
	f.send(t, collect.Signals{}, map[string]any{"type": "track", "userId": "no-consent", "event": "Product Viewed", "messageId": "v3"})
	if evs = f.events(t, none); len(evs) != 2 {
		t.Fatalf("an event after withdrawal was linked: %+v", evs)
	}
}

// TestGPCRecorded: Sec-GPC on a request is recorded in the ledger and
// denies the purposes marked gpc: deny, once.
func TestGPCRecorded(t *testing.T) {
	f := newFixture(t, nil)
	id := f.MustSubject(t, subjects.Input{UserID: "gpc"}, "")
	if _, err := f.Ledger.Record(ctx, testenv.Admin, "", id, consent.Choice{NoticeVersion: f.Version, Choices: map[string]bool{"sharing.ads": true, "analytics": true}}); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.Gate.Decide(ctx, id, "sharing.ads"); !d.Allow {
		t.Fatal("sharing.ads not granted before the signal")
	}
	for i := range 3 {
		f.send(t, collect.Signals{GPC: true}, map[string]any{"type": "track", "userId": "gpc", "event": "Product Viewed", "messageId": fmt.Sprint("g", i)})
	}
	if d, _ := f.Gate.Decide(ctx, id, "sharing.ads"); d.Allow {
		t.Fatal("a GPC signal did not deny sharing.ads")
	}
	if d, _ := f.Gate.Decide(ctx, id, "analytics"); !d.Allow {
		t.Fatal("a GPC signal denied a purpose not marked gpc: deny")
	}
	hist, _ := f.Ledger.History(ctx, id)
	var gpc int
	for _, c := range hist {
		if c.GPC {
			gpc++
			if c.Purpose != "sharing.ads" || c.State != candor.ConsentWithdrawn || c.Channel != "gpc" {
				t.Errorf("GPC entry %+v", c)
			}
		}
	}
	if gpc != 1 {
		t.Fatalf("%d GPC entries for three signalled requests, want 1", gpc)
	}
	// DNT works the same way, for a subject that had no entry yet.
	other := f.MustSubject(t, subjects.Input{UserID: "dnt"}, "")
	f.send(t, collect.Signals{DNT: true}, map[string]any{"type": "track", "userId": "dnt", "event": "Product Viewed"})
	if hist, _ := f.Ledger.History(ctx, other); len(hist) != 1 || hist[0].Channel != "dnt" || hist[0].State != candor.ConsentDenied {
		t.Fatalf("DNT: %+v", hist)
	}
}

// TestRetriesAndClock: a message id is stored once however often it is
// sent; the sender's clock is corrected by sentAt.
func TestRetriesAndClock(t *testing.T) {
	f := newFixture(t, nil)
	id := f.MustSubject(t, subjects.Input{UserID: "u"}, consent.ScopeAll)
	msg := map[string]any{"type": "track", "userId": "u", "event": "Product Viewed", "messageId": "same",
		// The device's clock is an hour fast: it says it sent the event
		// ten seconds after it happened.
		"timestamp": "2026-11-25T13:00:00Z", "sentAt": "2026-11-25T13:00:10Z"}
	for range 3 {
		f.send(t, collect.Signals{}, msg)
	}
	evs := f.events(t, id)
	if len(evs) != 1 {
		t.Fatalf("%d events for one message id", len(evs))
	}
	if want := f.now.Add(-10 * time.Second); !evs[0].Time.Equal(want) {
		t.Errorf("time %v, want %v (received minus the sender's delay)", evs[0].Time, want)
	}
	// A time in the future is the time received; no timestamp likewise.
	f.send(t, collect.Signals{}, map[string]any{"type": "track", "userId": "u", "event": "Product Viewed", "messageId": "future", "timestamp": "2030-01-01T00:00:00Z"},
		map[string]any{"type": "track", "userId": "u", "event": "Product Viewed", "messageId": "none"})
	skewed, received := 0, 0
	for _, e := range f.events(t, id) {
		switch {
		case e.Time.Equal(f.now.Add(-10 * time.Second)):
			skewed++
		case e.Time.Equal(f.now):
			received++
		}
	}
	if skewed != 1 || received != 2 {
		t.Errorf("times: %d corrected, %d at the time received; want 1 and 2 (a future time and none are the time received)", skewed, received)
	}
}

// TestBadMessagesInABatch: the good messages are stored, the bad ones
// reported by index.
func TestBadMessagesInABatch(t *testing.T) {
	f := newFixture(t, nil)
	id := f.MustSubject(t, subjects.Input{UserID: "u"}, consent.ScopeAll)
	big := strings.Repeat("x", collect.MaxMessageBytes)
	raws := []json.RawMessage{
		json.RawMessage(`{"type":"track","userId":"u","event":"Product Viewed","messageId":"ok1"}`),
		json.RawMessage(`{"type":"track","event":"Product Viewed"}`),
		json.RawMessage(`{"type":"track","userId":"u"}`),
		json.RawMessage(`{"type":"teleport","userId":"u"}`),
		json.RawMessage(`{"type":"track","userId":{"a":1},"event":"Product Viewed"}`),
		json.RawMessage(`{"type":"track","userId":"u","event":"Product Viewed","properties":{"name":"` + big + `"}}`),
		json.RawMessage(`{"type":"track","userId":"u","event":"Product Viewed","properties":"no"}`),
		json.RawMessage("{\"type\":\"track\",\"userId\":\"\xff\xfe\",\"event\":\"Product Viewed\"}"), // would become U+FFFD
		json.RawMessage(`{"type":"track","userId":"\ud800","event":"Product Viewed"}`),
		json.RawMessage(`{"type":"track","userId":"u","event":"Product Viewed","messageId":"ok2"}`),
	}
	res, err := f.c.Collect(ctx, writer, collect.Call{Messages: raws}, collect.Signals{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res.Errors {
		got = append(got, fmt.Sprintf("%d:%s", e.Index, e.Code))
	}
	if want := "1:invalid 2:invalid 3:invalid 4:invalid 5:too_large 6:malformed 7:invalid 8:invalid"; strings.Join(got, " ") != want {
		t.Errorf("errors %v, want %s", got, want)
	}
	if res.Accepted != 2 || len(f.events(t, id)) != 2 {
		t.Fatalf("accepted %d, stored %d; want the two good ones", res.Accepted, len(f.events(t, id)))
	}
	for _, e := range res.Errors {
		if strings.Contains(e.Message, "xxxx") {
			t.Error("an error quotes the input")
		}
	}
}

// TestUndeclaredReject: with undeclared: reject, an undeclared event or
// property refuses the message; with drop (the demo's), it is dropped.
func TestUndeclaredReject(t *testing.T) {
	f := newFixture(t, func(o *collect.Options) {
		p := *o.Policy
		p.Undeclared = "reject"
		o.Policy = &p
	})
	id := f.MustSubject(t, subjects.Input{UserID: "u"}, consent.ScopeAll)
	res := f.send(t, collect.Signals{},
		map[string]any{"type": "track", "userId": "u", "event": "Coupon Stolen"},
		map[string]any{"type": "track", "userId": "u", "event": "Product Viewed", "properties": map[string]any{"colour": "red"}},
		map[string]any{"type": "track", "userId": "u", "event": "Product Viewed", "properties": map[string]any{"price": "12"}},
		map[string]any{"type": "track", "userId": "u", "event": "Product Viewed", "properties": map[string]any{"price": 12}},
	)
	if len(res.Errors) != 3 || res.Accepted != 1 || len(f.events(t, id)) != 1 {
		t.Fatalf("reject: %+v, %d stored", res, len(f.events(t, id)))
	}
	rep := f.report(t)
	if rep["Coupon Stolen|event|rejected|undeclared"] != 1 || rep["Product Viewed|properties.colour|rejected|undeclared"] != 1 || rep["Product Viewed|properties.price|rejected|type"] != 1 {
		t.Fatalf("report %v", rep)
	}
}

// TestIdentify: traits the policy declares and a purpose allowed for the
// person covers are stored in the vault; others are dropped and counted.
func TestIdentify(t *testing.T) {
	f := newFixture(t, nil)
	res := f.send(t, collect.Signals{}, map[string]any{"type": "identify", "userId": "new-user", "anonymousId": "device-1",
		"traits": map[string]any{"email": "Wang.Fang@Example.com", "city": "Suzhou", "favourite_colour": "green", "birth_date": "not a date"}})
	if res.Accepted != 1 {
		t.Fatalf("%+v", res)
	}
	id, err := f.Subjects.Find(ctx, candor.IdentEmail, "wang.fang@example.com")
	if err != nil {
		t.Fatal("the e-mail was not stored as an identifier:", err)
	}
	if byDevice, _ := f.Subjects.Find(ctx, candor.IdentAnonymousID, "device-1"); byDevice != id {
		t.Fatal("the anonymous id was not linked")
	}
	traits, _ := f.Store.Traits(ctx, id, nil)
	var names []string
	for _, tr := range traits {
		names = append(names, tr.Field)
	}
	if strings.Join(names, ",") != "email" {
		t.Fatalf("traits stored %v, want only email (city needs consent; the rest is undeclared or invalid)", names)
	}
	rep := f.report(t)
	for _, want := range []string{"identify|traits.city|dropped|consent", "identify|traits.favourite_colour|dropped|undeclared", "identify|traits.birth_date|dropped|type"} {
		if rep[want] != 1 {
			t.Errorf("report lacks %s: %v", want, rep)
		}
	}
	// With consent, city is stored; an e-mail that is someone else's is not
	// taken over.
	f.MustSubject(t, subjects.Input{UserID: "other", Email: "other@example.com"}, "")
	if _, err := f.Ledger.Record(ctx, testenv.Admin, "", id, consent.Choice{NoticeVersion: f.Version, Scope: consent.ScopeAll}); err != nil {
		t.Fatal(err)
	}
	f.send(t, collect.Signals{}, map[string]any{"type": "identify", "userId": "new-user", "traits": map[string]any{"city": "Suzhou", "email": "other@example.com"}})
	if owner, _ := f.Subjects.Find(ctx, candor.IdentEmail, "other@example.com"); owner == id {
		t.Fatal("identify took over another subject's e-mail")
	}
	traits, _ = f.Store.Traits(ctx, id, []string{"city"})
	if len(traits) != 1 {
		t.Fatal("city was not stored after consent")
	}
	if rep := f.report(t); rep["identify|traits.email|dropped|conflict"] != 1 {
		t.Errorf("the conflict was not counted: %v", rep)
	}
	// A device that is another subject already (a visitor who browsed
	// before signing in) is merged into the user.
	visitor := f.MustSubject(t, subjects.Input{AnonymousID: "device-2"}, "")
	f.send(t, collect.Signals{}, map[string]any{"type": "identify", "userId": "new-user", "anonymousId": "device-2", "traits": map[string]any{"city": "Wuxi"}})
	if d2, _ := f.Subjects.Find(ctx, candor.IdentAnonymousID, "device-2"); d2 != id {
		t.Fatal("the visitor's device was not merged into the user")
	}
	if _, err := f.Store.Subject(ctx, visitor); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Fatal("the visitor survived the merge")
	}
}

// TestAlias links an anonymous id to a user, and refuses to join two
// subjects.
func TestAlias(t *testing.T) {
	f := newFixture(t, nil)
	visitor := f.MustSubject(t, subjects.Input{AnonymousID: "anon-1"}, consent.ScopeAll)
	if res := f.send(t, collect.Signals{}, map[string]any{"type": "alias", "previousId": "anon-1", "userId": "member-1"}); res.Accepted != 1 {
		t.Fatalf("%+v", res)
	}
	if got, _ := f.Subjects.Find(ctx, candor.IdentUserID, "member-1"); got != visitor {
		t.Fatal("alias did not link the user id to the visitor")
	}
	// Both known: the visitor is merged into the member. Their events come
	// along, re-sealed under the member's key; their refusal comes along,
	// their grant does not.
	member := f.MustSubject(t, subjects.Input{UserID: "member-2"}, "")
	visitor2 := f.MustSubject(t, subjects.Input{AnonymousID: "anon-2"}, "")
	if _, err := f.Ledger.Record(ctx, testenv.Admin, "", member, consent.Choice{NoticeVersion: f.Version, Choices: map[string]bool{"marketing.email": true, "analytics": true}}); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	if _, err := f.Ledger.Record(ctx, testenv.Admin, "", visitor2, consent.Choice{NoticeVersion: f.Version, Choices: map[string]bool{"marketing.email": false, "personalization": true, "analytics": true}}); err != nil {
		t.Fatal(err)
	}
	f.send(t, collect.Signals{}, map[string]any{"type": "track", "anonymousId": "anon-2", "event": "Product Viewed", "messageId": "pre-login", "properties": map[string]any{"product_id": "P9"}})
	res := f.send(t, collect.Signals{}, map[string]any{"type": "alias", "previousId": "anon-2", "userId": "member-2"})
	if res.Accepted != 1 {
		t.Fatalf("merge: %+v", res)
	}
	if got, _ := f.Subjects.Find(ctx, candor.IdentAnonymousID, "anon-2"); got != member {
		t.Fatal("the anonymous id does not lead to the member")
	}
	evs := f.events(t, member)
	if len(evs) != 1 {
		t.Fatalf("the visitor's event did not come along: %+v", evs)
	}
	if props, _ := f.payload(t, evs[0]); props["product_id"] != "P9" {
		t.Fatalf("the event was not re-sealed under the member's key: %v", props)
	}
	allow := func(p string) bool { d, _ := f.Gate.Decide(ctx, member, p); return d.Allow }
	if allow("marketing.email") || allow("personalization") || !allow("analytics") {
		t.Fatal("after the merge: the visitor's refusal must carry over, their grant must not, the member's own grant stays")
	}
	if k, err := f.Store.Keys().SubjectKey(ctx, visitor2); err != nil || k.ShreddedAt == nil {
		t.Fatalf("the visitor's key was not destroyed: %+v %v", k, err)
	}
	if es, _ := f.Store.Keys().Erasures(ctx, "", 100); len(es) != 1 || es[0].SubjectID != visitor2 {
		t.Fatalf("the merged visitor is not in the erasure journal: %+v", es)
	}
	if res := f.send(t, collect.Signals{}, map[string]any{"type": "alias", "userId": "member-2"}); len(res.Errors) != 1 {
		t.Fatalf("alias without previousId: %+v", res)
	}
}

// blockingStore holds commits until released.
type blockingStore struct {
	candor.Store
	entered chan struct{}
	release chan struct{}
}

func (b *blockingStore) AppendMessages(ctx context.Context, msgs []candor.Message) (int, error) {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-b.release
	return b.Store.AppendMessages(ctx, msgs)
}

// TestBackPressureAndDrain: a full queue refuses with EBUSY, so memory
// stays bounded; Close commits everything accepted before it returns.
func TestBackPressureAndDrain(t *testing.T) {
	var bs *blockingStore
	f := newFixture(t, func(o *collect.Options) {
		bs = &blockingStore{Store: o.Store.(candor.Store), entered: make(chan struct{}, 1), release: make(chan struct{})}
		o.Store, o.Queue = bs, 4
	})
	var once sync.Once
	release := func() { once.Do(func() { close(bs.release) }) }
	t.Cleanup(release) // runs before the collector is closed
	id := f.MustSubject(t, subjects.Input{UserID: "u"}, consent.ScopeAll)
	call := func(from, n int) collect.Call {
		var c collect.Call
		for i := from; i < from+n; i++ {
			c.Messages = append(c.Messages, json.RawMessage(fmt.Sprintf(`{"type":"track","userId":"u","event":"Product Viewed","messageId":"q%d"}`, i)))
		}
		return c
	}
	first := make(chan error, 1)
	go func() { _, err := f.c.Collect(ctx, writer, call(0, 1), collect.Signals{}); first <- err }()
	<-bs.entered // the writer holds the first message: one pending
	if _, err := f.c.Collect(ctx, writer, call(10, 4), collect.Signals{}); candor.ErrorCode(err) != candor.EBUSY {
		t.Fatalf("1 pending + 4 over a queue of 4: %v, want busy", err)
	}
	second := make(chan error, 1)
	go func() { _, err := f.c.Collect(ctx, writer, call(1, 3), collect.Signals{}); second <- err }()
	time.Sleep(20 * time.Millisecond) // the second call usually queues before Close
	// Close drains what was accepted.
	closed := make(chan struct{})
	go func() { f.c.Close(); close(closed) }()
	release()
	if err := <-first; err != nil {
		t.Fatal("an accepted call failed:", err)
	}
	want := 4
	switch err := <-second; {
	case candor.ErrorCode(err) == candor.EUNAVAILABLE:
		want = 1 // it came after Close: refused, not lost
	case err != nil:
		t.Fatal(err)
	}
	<-closed
	if n := len(f.events(t, id)); n != want {
		t.Fatalf("%d events stored after drain, want the %d accepted", n, want)
	}
	if _, err := f.c.Collect(ctx, writer, call(100, 1), collect.Signals{}); candor.ErrorCode(err) != candor.EUNAVAILABLE {
		t.Fatalf("after Close: %v, want unavailable", err)
	}
}

// TestBaseline stores events as they came: the benchmark's comparison.
func TestBaseline(t *testing.T) {
	f := newFixtureOf(t, collect.NewBaseline, nil)
	id := f.MustSubject(t, subjects.Input{UserID: "u"}, "")
	f.send(t, collect.Signals{}, map[string]any{"type": "track", "userId": "u", "event": "Anything", "messageId": "b1", "properties": map[string]any{"q": "x@example.com"}})
	evs := f.events(t, id)
	if len(evs) != 1 || !strings.Contains(string(evs[0].Sealed), "x@example.com") {
		t.Fatalf("baseline: %+v", evs)
	}
}

func FuzzCollect(f *testing.F) {
	f.Add([]byte(`{"type":"track","userId":"u","event":"Products Searched","properties":{"query":"a@b.cn 13800138000"},"context":{"ip":"1.2.3.4","userAgent":"x"}}`))
	f.Add([]byte(`{"type":"identify","userId":"u","traits":{"email":"a@b.cn","city":7}}`))
	f.Add([]byte(`{"type":"page","anonymousId":5,"name":"Home","context":{"page":{"url":"http://x/?e=a@b.cn"}}}`))
	f.Add([]byte(`{"type":"alias","previousId":"a","userId":"b"}`))
	fx := newFixture(f, nil)
	fx.MustSubject(f, subjects.Input{UserID: "u"}, consent.ScopeAll)
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := fx.c.Collect(ctx, writer, collect.Call{Messages: []json.RawMessage{b}}, collect.Signals{GPC: len(b)%2 == 0})
		if err != nil {
			t.Fatalf("a hostile message failed the call: %v", err)
		}
		if res.Accepted+len(res.Errors) != 1 {
			t.Fatalf("result %+v", res)
		}
	})
}

// TestDeclaredContext: the full IP address and precise location are kept
// only when the policy declares them and a purpose of theirs is allowed.
func TestDeclaredContext(t *testing.T) {
	f := newFixture(t, func(o *collect.Options) {
		p := *o.Policy
		p.Fields = append(append([]candor.Field{}, p.Fields...),
			candor.Field{ID: "ip_address", Category: collect.CategoryIP, Purposes: []string{"analytics"}, Retention: candor.Duration(24 * time.Hour)},
			candor.Field{ID: "geo", Category: collect.CategoryPreciseLocation, Purposes: []string{"personalization"}, Retention: candor.Duration(24 * time.Hour)})
		p.Index()
		o.Policy = &p
	})
	id := f.MustSubject(t, subjects.Input{UserID: "ctx"}, "")
	if _, err := f.Ledger.Record(ctx, testenv.Admin, "", id, consent.Choice{NoticeVersion: f.Version, Choices: map[string]bool{"analytics": true}}); err != nil {
		t.Fatal(err)
	}
	send := func(mid string) map[string]any {
		f.now = f.now.Add(time.Minute) // the newest event is this one
		f.send(t, collect.Signals{}, map[string]any{"type": "track", "userId": "ctx", "event": "Product Viewed", "messageId": mid,
			"context": map[string]any{"ip": "2001:db8:1234:5678::9", "location": map[string]any{"latitude": 30.25, "longitude": 120.17}}})
		evs := f.events(t, id)
		if len(evs) == 0 || !evs[0].Time.Equal(f.now) {
			t.Fatal("not stored")
		}
		_, cx := f.payload(t, evs[0])
		return cx
	}
	cx := send("c1")
	if cx["ip"] != "2001:db8:1234:5678::9" {
		t.Errorf("declared and allowed, the full IP: got %v", cx["ip"])
	}
	if _, ok := cx["location"]; ok {
		t.Error("precise location kept without consent to its purpose")
	}
	if _, err := f.Ledger.Record(ctx, testenv.Admin, "", id, consent.Choice{NoticeVersion: f.Version, Choices: map[string]bool{"personalization": true}}); err != nil {
		t.Fatal(err)
	}
	if cx := send("c2"); cx["location"] == nil {
		t.Error("declared and consented, precise location was dropped")
	}
	// Undeclared (the demo policy): the IPv6 address cut to its /48.
	g := newFixture(t, nil)
	gid := g.MustSubject(t, subjects.Input{UserID: "ctx"}, consent.ScopeAll)
	g.send(t, collect.Signals{}, map[string]any{"type": "track", "userId": "ctx", "event": "Product Viewed", "messageId": "c3",
		"context": map[string]any{"ip": "2001:db8:1234:5678::9", "location": map[string]any{"latitude": 30.25, "longitude": 120.17}}})
	_, cx = g.payload(t, g.events(t, gid)[0])
	if cx["ip"] != "2001:db8:1234::" || cx["location"] != nil {
		t.Errorf("undeclared: ip %v, location %v", cx["ip"], cx["location"])
	}
}

// TestUndeclaredNamesScanned: undeclared event, property and trait names
// are scanned for personal data before they are counted in the
// minimization report, even where the address straddles the 64 bytes a
// name is cut to.
func TestUndeclaredNamesScanned(t *testing.T) {
	f := newFixture(t, nil)
	f.MustSubject(t, subjects.Input{UserID: "n1"}, consent.ScopeAll)
	long := strings.Repeat("x", 50) + " zhang.wei83@example.cn"
	f.send(t, collect.Signals{},
		map[string]any{"type": "track", "userId": "n1", "event": "Signup zhang.wei83@example.cn", "messageId": "e1"},
		map[string]any{"type": "track", "userId": "n1", "event": long, "messageId": "e2"},
		map[string]any{"type": "track", "userId": "n1", "event": "Products Searched", "messageId": "e3",
			"properties": map[string]any{"li.na@example.cn": "x", "13800138000": 1}},
		map[string]any{"type": "identify", "userId": "n1", "messageId": "e4", "traits": map[string]any{"fav 11010519491231002X": "y"}},
	)
	rep := f.report(t)
	var keys []string
	for k := range rep {
		keys = append(keys, k)
		for _, leak := range []string{"zhang", "wei83", "example.cn", "li.na", "13800138000", "11010519491231002X", "1101051949"} {
			if strings.Contains(k, leak) {
				t.Errorf("the report names %q: %s", leak, k)
			}
		}
	}
	for _, want := range []string{"Signup [email]|event|dropped|undeclared", "Products Searched|properties.[email]|dropped|undeclared",
		"Products Searched|properties.[phone]|dropped|undeclared"} {
		if rep[want] == 0 {
			t.Errorf("no %q in the report: %v", want, keys)
		}
	}
}
