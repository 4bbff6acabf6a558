package consent_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/subjects"
)

func TestLedgerAppendsOnly(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	id := e.MustSubject(t, subjects.Input{UserID: "l"}, consent.ScopeAll)
	res, err := e.Ledger.Record(ctx, testenv.Admin, "", id, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"marketing.email": false}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 || res.Records[0].State != candor.ConsentWithdrawn {
		t.Errorf("withdrawal recorded as %+v", res.Records)
	}
	hist, _ := e.Ledger.History(ctx, id)
	granted := 0
	for _, h := range hist {
		if h.Purpose == "marketing.email" && h.State == candor.ConsentGranted {
			granted++
		}
	}
	if granted != 1 {
		t.Errorf("the grant is no longer in the ledger: %+v", hist)
	}
}

// TestRecordAt: a choice made earlier (the demo's history, an import) is
// recorded at its time.
func TestRecordAt(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	id := e.MustSubject(t, subjects.Input{UserID: "at"}, "")
	at := time.Now().Add(-72 * time.Hour).UTC().Truncate(time.Second)
	if _, err := e.Ledger.Record(ctx, testenv.Admin, "", id, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"analytics": true}, At: at}); err != nil {
		t.Fatal(err)
	}
	hist, err := e.Ledger.History(ctx, id)
	if err != nil || len(hist) != 1 || !hist[0].At.Equal(at) {
		t.Fatalf("history %+v %v, want one record at %s", hist, err, at)
	}
}

func TestRecordRefuses(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	id := e.MustSubject(t, subjects.Input{UserID: "r"}, "")
	cases := []struct {
		name string
		c    consent.Choice
		code string
	}{
		{"no notice", consent.Choice{Scope: consent.ScopeAll}, candor.EINVALID},
		{"unknown notice", consent.Choice{NoticeVersion: "0000", Scope: consent.ScopeAll}, candor.EINVALID},
		{"unknown purpose", consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"nope": true}}, candor.EINVALID},
		{"bad scope", consent.Choice{NoticeVersion: e.Version, Scope: "most"}, candor.EINVALID},
		{"nothing", consent.Choice{NoticeVersion: e.Version}, candor.EINVALID},
		{"guardian without method", consent.Choice{NoticeVersion: e.Version, Scope: consent.ScopeAll, Guardian: &consent.Guardian{Relation: "parent"}}, candor.EINVALID},
		{"in the future", consent.Choice{NoticeVersion: e.Version, Scope: consent.ScopeAll, At: time.Now().Add(time.Hour)}, candor.EINVALID},
	}
	for _, c := range cases {
		if _, err := e.Ledger.Record(ctx, testenv.Admin, "", id, c.c); candor.ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	if _, err := e.Ledger.Record(ctx, testenv.Admin, "", "sub_aaaaaaaaaaaaaaaaaaaaaaaaaa", consent.Choice{NoticeVersion: e.Version, Scope: consent.ScopeAll}); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Errorf("unknown subject: %v", err)
	}
	if hist, _ := e.Ledger.History(ctx, id); len(hist) != 0 {
		t.Errorf("refused requests wrote %d entries", len(hist))
	}
}

// TestNoStaleStateUnderRace: decisions racing with writes never keep a
// state older than the last write that finished before they began.
func TestNoStaleStateUnderRace(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	id := e.MustSubject(t, subjects.Input{UserID: "race"}, "")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					e.Gate.Decide(ctx, id, "analytics")
				}
			}
		}()
	}
	for i := range 60 {
		grant := i%2 == 0
		if _, err := e.Ledger.Record(ctx, testenv.Admin, "", id, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"analytics": grant}}); err != nil {
			t.Fatal(err)
		}
		d, err := e.Gate.Decide(ctx, id, "analytics")
		if err != nil || d.Allow != grant {
			t.Fatalf("write %d (grant=%v): decision %+v %v", i, grant, d, err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestReceiptSignature(t *testing.T) {
	s := testenv.NewSigner()
	tok, err := consent.SignJWS(s, map[string]string{"a": "b"})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	if err := consent.VerifyJWS(tok, s.Public(), &out); err != nil || out["a"] != "b" {
		t.Fatalf("verify: %v %v", out, err)
	}
	bad := []byte(tok)
	bad[10] ^= 1
	if err := consent.VerifyJWS(string(bad), s.Public(), &out); err == nil {
		t.Error("a changed token verified")
	}
	if err := consent.VerifyJWS(tok, testenv.NewSigner().Public(), &out); err == nil {
		t.Error("another key verified it")
	}
}

// TestSharedStoreCaches: two shared ledgers on one store stand for two
// nodes. A consent written through one is seen by the very next read
// through the other, though both cache.
func TestSharedStoreCaches(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	node := func() *consent.Ledger {
		return consent.New(consent.Options{Store: e.Store, Sealer: e.Vault, BirthDates: gate.BirthDates(e.Store, e.Vault, e.Policy), Policy: e.Policy, Notices: e.Ledger.Notices(),
			Signer: testenv.NewSigner(), Auditor: e.Audit, Shared: true})
	}
	a, b := node(), node()
	id := e.MustSubject(t, subjects.Input{UserID: "shared"}, "")
	for i := range 10 {
		grant := i%2 == 0
		writer, reader := a, b
		if i%3 == 0 {
			writer, reader = b, a
		}
		if _, err := reader.State(ctx, id); err != nil { // the reader caches the old state
			t.Fatal(err)
		}
		if _, err := writer.Record(ctx, testenv.Admin, "", id, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"analytics": grant}}); err != nil {
			t.Fatal(err)
		}
		st, err := reader.State(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Latest["analytics"].State == candor.ConsentGranted; got != grant {
			t.Fatalf("round %d: wrote %v through one node, the other reads %v", i, grant, got)
		}
	}
	// A page read in bulk on one node sees, at its recheck, a withdrawal
	// made through the other.
	states, mark, err := b.States(ctx, []string{id}, e.Policy.Purpose("analytics"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := b.Recheck(ctx, states[0], mark); st != states[0] {
		t.Error("a shared ledger reread a state nothing changed")
	}
	if _, err := a.Record(ctx, testenv.Admin, "", id, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"analytics": false}}); err != nil {
		t.Fatal(err)
	}
	if st, err := b.Recheck(ctx, states[0], mark); err != nil || st.Latest["analytics"].State == candor.ConsentGranted {
		t.Errorf("a withdrawal through one node is not seen by the other's recheck: %+v %v", st, err)
	}
	// A subject cached as absent is found once another node creates it.
	const later = "sub_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	if st, _ := a.State(ctx, later); st.Exists {
		t.Fatal("exists before it was created")
	}
	if err := e.Store.WriteSubject(ctx, candor.SubjectWrite{SubjectID: later, Create: true}); err != nil {
		t.Fatal(err)
	}
	if st, _ := a.State(ctx, later); !st.Exists {
		t.Error("a subject created elsewhere is still absent")
	}
}

// fakeFeed is a feed whose freshness the test sets.
type fakeFeed struct{ fresh atomic.Bool }

func (f *fakeFeed) Fresh() bool { return f.fresh.Load() }

// TestFeedTrust: a shared ledger trusts its cache while its feed is fresh
// (what the feed delivers, it drops), and goes back to checking the
// subject's version the moment the feed is not fresh.
func TestFeedTrust(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	node := func() *consent.Ledger {
		return consent.New(consent.Options{Store: e.Store, Sealer: e.Vault, BirthDates: gate.BirthDates(e.Store, e.Vault, e.Policy), Policy: e.Policy, Notices: e.Ledger.Notices(),
			Signer: testenv.NewSigner(), Auditor: e.Audit, Shared: true})
	}
	a, b := node(), node()
	feed := &fakeFeed{}
	feed.fresh.Store(true)
	b.UseFeed(feed)
	id := e.MustSubject(t, subjects.Input{UserID: "feed"}, "")
	granted := func(l *consent.Ledger) bool {
		t.Helper()
		st, err := l.State(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		r := st.Latest["analytics"]
		return r != nil && r.State == candor.ConsentGranted
	}
	record := func(grant bool) {
		t.Helper()
		if _, err := a.Record(ctx, testenv.Admin, "", id, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"analytics": grant}}); err != nil {
			t.Fatal(err)
		}
	}
	if granted(b) {
		t.Fatal("granted before any consent")
	}
	// Fresh feed, change not (yet) delivered: the cache is trusted. This is
	// the window the feed's delivery bounds.
	record(true)
	if granted(b) {
		t.Fatal("a fresh feed's cache was not used")
	}
	b.Invalidate(id) // the feed delivers the change
	if !granted(b) {
		t.Fatal("a delivered change was not seen")
	}
	// The feed goes stale: the next decision checks the version.
	record(false)
	feed.fresh.Store(false)
	if granted(b) {
		t.Fatal("a stale feed's cache was trusted")
	}
	// A reset drops everything.
	feed.fresh.Store(true)
	record(true)
	b.InvalidateAll()
	if !granted(b) {
		t.Fatal("InvalidateAll kept a state")
	}
}

// TestChannelVocabulary: a channel is a word from the declared list; free
// text (which could carry an e-mail address into the ledger) is refused
// naming the field.
func TestChannelVocabulary(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	id := e.MustSubject(t, subjects.Input{UserID: "ch"}, "")
	cases := []struct {
		channel string
		ok      bool
	}{
		{"", true}, {"banner", true}, {"web", true}, {"portal", true}, {"in_store", true}, {"gpc", true},
		{"newsletter for zhang.wei@example.cn", false}, {"Banner", false}, {"kiosk", false},
	}
	for _, c := range cases {
		_, err := e.Ledger.Record(ctx, testenv.Admin, "", id, consent.Choice{NoticeVersion: e.Version, Scope: consent.ScopeNone, Channel: c.channel})
		if got := err == nil; got != c.ok {
			t.Errorf("channel %q: err %v, want ok=%v", c.channel, err, c.ok)
			continue
		}
		if !c.ok {
			var ce *candor.Error
			if !errors.As(err, &ce) || ce.Code != candor.EINVALID || len(ce.Fields) != 1 || ce.Fields[0].Field != "channel" {
				t.Errorf("channel %q: %v, want EINVALID naming channel", c.channel, err)
			}
		}
	}
}

// TestStatesInBulk: the states of a page of a bulk run, read together, are
// the states read one at a time; Recheck keeps a state nothing changed
// (without reading it again) and rereads one that a withdrawal, a
// restriction or a lost track of changes may have made stale.
func TestStatesInBulk(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	var ids []string
	for i, in := range []subjects.Input{
		{UserID: "b0", Traits: map[string]any{"birth_date": "2015-06-01"}},
		{UserID: "b1", Traits: map[string]any{"birth_date": "1980-01-31"}},
		{UserID: "b2"},
		{UserID: "b3"},
	} {
		scope := consent.ScopeAll
		if i == 3 {
			scope = ""
		}
		ids = append(ids, e.MustSubject(t, in, scope))
	}
	if err := e.Store.SetObjection(ctx, ids[2], "analytics", true, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.Ledger.Invalidate(ids[2])
	// For a purpose that rests on a contract, the ledger is not read: the
	// subject's record alone decides.
	contract, _, err := e.Ledger.States(ctx, []string{ids[0], ids[2]}, e.Policy.Purpose("service"))
	if err != nil || len(contract) != 2 || !contract[0].Exists || len(contract[0].Latest) != 0 || !contract[1].Objected["analytics"] {
		t.Errorf("states for a contract: %+v %+v, %v", contract[0], contract[1], err)
	}
	if _, err := e.Ledger.State(ctx, ids[1]); err != nil { // one of them cached
		t.Fatal(err)
	}
	ask := append(slices.Clone(ids), "sub_nobody")
	consented := e.Policy.Purpose("marketing.email")
	states, mark, err := e.Ledger.States(ctx, ask, consented)
	if err != nil || len(states) != len(ask) {
		t.Fatalf("States: %d states, %v", len(states), err)
	}
	for i, id := range ask {
		one, err := e.Ledger.State(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, want := states[i], one
		if got.SubjectID != id || got.Exists != want.Exists || got.Restricted != want.Restricted || got.Version != want.Version ||
			!got.BirthDate.Equal(want.BirthDate) || !maps.Equal(got.Objected, want.Objected) || len(got.Latest) != len(want.Latest) {
			t.Errorf("%s: in bulk %+v, alone %+v", id, got, want)
		}
		for p, rec := range want.Latest {
			if g := got.Latest[p]; g == nil || g.ID != rec.ID || g.State != rec.State {
				t.Errorf("%s %s: in bulk %+v, alone %+v", id, p, g, rec)
			}
		}
	}
	if states[0].BirthDate.IsZero() || !states[2].Objected["analytics"] || states[4].Exists {
		t.Errorf("birth date, objection or absence lost: %+v %+v %+v", states[0], states[2], states[4])
	}

	// Nothing changed: Recheck keeps each state as it is.
	for _, st := range states {
		if again, err := e.Ledger.Recheck(ctx, st, mark); err != nil || again != st {
			t.Errorf("%s: Recheck with nothing changed read it again (%v)", st.SubjectID, err)
		}
	}
	// A withdrawal that returned is seen; the others are kept.
	if _, err := e.Ledger.Record(ctx, testenv.Admin, "", ids[1], consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"marketing.email": false}}); err != nil {
		t.Fatal(err)
	}
	again, err := e.Ledger.Recheck(ctx, states[1], mark)
	if err != nil || again.Latest["marketing.email"].State != candor.ConsentWithdrawn {
		t.Fatalf("Recheck after a withdrawal: %+v %v", again, err)
	}
	if kept, _ := e.Ledger.Recheck(ctx, states[0], mark); kept != states[0] {
		t.Error("a withdrawal by one person made Recheck reread another")
	}
	// More invalidations than the cache remembers: every state is reread.
	for i := range 70000 {
		e.Ledger.Invalidate(fmt.Sprintf("sub_other%d", i))
	}
	if reread, _ := e.Ledger.Recheck(ctx, states[0], mark); reread == states[0] {
		t.Error("Recheck kept a state after the cache forgot which ones changed")
	}
	// And so after InvalidateAll, for a page read since.
	states, mark, _ = e.Ledger.States(ctx, ids, consented)
	e.Ledger.InvalidateAll()
	if reread, _ := e.Ledger.Recheck(ctx, states[3], mark); reread == states[3] {
		t.Error("Recheck kept a state after InvalidateAll")
	}
}
