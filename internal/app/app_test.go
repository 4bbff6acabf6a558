package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/internal/app"
	"github.com/candorhq/candor/policy"
	"github.com/candorhq/candor/postgres"
	"github.com/candorhq/candor/subjects"
)

var (
	ctx   = context.Background()
	actor = candor.Actor{ID: "test:admin", Role: candor.RoleAdmin}
)

func examplePolicy(t *testing.T) *candor.Policy {
	t.Helper()
	pol, findings := policy.Parse("candor.yaml", examples.Policy)
	if len(findings) > 0 {
		t.Fatalf("example policy: %v", findings)
	}
	return pol
}

// stores returns the configurations of the stores to test on, by name:
// the embedded store in dir, and PostgreSQL in schemas of the test's own
// (dropped at the end) when CANDOR_TEST_POSTGRES is set.
func stores(t *testing.T) map[string]func(dir string) app.StoreConfig {
	t.Helper()
	m := map[string]func(string) app.StoreConfig{
		"sqlite": func(dir string) app.StoreConfig { return app.StoreConfig{DataDir: dir} },
	}
	url := os.Getenv("CANDOR_TEST_POSTGRES")
	if url == "" {
		m["postgres"] = nil
		return m
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t" + hex.EncodeToString(b)
	t.Cleanup(func() {
		db, err := postgres.Open(context.Background(), url, postgres.Options{Prefix: schema})
		if err == nil {
			db.DropSchemas(context.Background())
			db.Close()
		}
	})
	m["postgres"] = func(dir string) app.StoreConfig { return app.StoreConfig{DataDir: dir, DB: url, DBSchema: schema} }
	return m
}

func open(t *testing.T, cfg app.Config) *app.App {
	t.Helper()
	a, err := app.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func decide(t *testing.T, a *app.App, id string) bool {
	t.Helper()
	d, err := a.Gate.Decide(ctx, id, "marketing.email")
	if err != nil {
		t.Fatal(err)
	}
	return d.Allow
}

func record(t *testing.T, a *app.App, id string, c consent.Choice) {
	t.Helper()
	c.NoticeVersion = a.Notices.Current().Version
	if _, err := a.Ledger.Record(ctx, actor, "", id, c); err != nil {
		t.Fatal(err)
	}
}

// TestWithdrawalHonoured: through an App as serve opens it, a withdrawal
// is honoured by the very next decision: one given directly, one that
// arrives when a visitor who withdrew signs in to their account (their
// refusal merged into it, which only the subjects service's change
// callback tells the ledger), and, on PostgreSQL, one given through another
// node (which only the change feed tells it).
func TestWithdrawalHonoured(t *testing.T) {
	for name, sc := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if sc == nil {
				t.Skip("CANDOR_TEST_POSTGRES is not set")
			}
			dir := t.TempDir()
			a := open(t, app.Config{Policy: examplePolicy(t), Stores: sc(filepath.Join(dir, "a")), CreateMasterKey: true})
			defer a.Close()

			id, _, err := a.Subjects.Upsert(ctx, actor, "", subjects.Input{UserID: "w-1", Email: "w.1@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			record(t, a, id, consent.Choice{Scope: consent.ScopeAll})
			if !decide(t, a, id) {
				t.Fatal("granted, the decision denies")
			}
			record(t, a, id, consent.Choice{Choices: map[string]bool{"marketing.email": false}})
			if decide(t, a, id) {
				t.Fatal("withdrawn, the next decision still allows")
			}

			// The account grants; the same person, not yet signed in,
			// withdraws as a visitor; signing in merges the visitor into
			// the account, refusal and all.
			account, _, err := a.Subjects.Upsert(ctx, actor, "", subjects.Input{UserID: "w-2"})
			if err != nil {
				t.Fatal(err)
			}
			record(t, a, account, consent.Choice{Scope: consent.ScopeAll})
			if !decide(t, a, account) {
				t.Fatal("the account granted, the decision denies")
			}
			visitor, _, err := a.Subjects.Upsert(ctx, actor, "", subjects.Input{AnonymousID: "visitor-w-2"})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Millisecond) // the refusal is the later choice
			record(t, a, visitor, consent.Choice{Choices: map[string]bool{"marketing.email": false}})
			if err := a.Subjects.Merge(ctx, actor, "", visitor, account); err != nil {
				t.Fatal(err)
			}
			if decide(t, a, account) {
				t.Fatal("the visitor's withdrawal merged into the account, the next decision still allows")
			}

			if name != "postgres" {
				return
			}
			// A second node, with the same master key.
			cb := sc(filepath.Join(dir, "b"))
			cb.MasterKeyFile = filepath.Join(dir, "a", "master-key.json")
			b := open(t, app.Config{Policy: examplePolicy(t), Stores: cb})
			defer b.Close()
			other, _, err := a.Subjects.Upsert(ctx, actor, "", subjects.Input{UserID: "w-3"})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 6 {
				grant := i%2 == 0
				record(t, a, other, consent.Choice{Choices: map[string]bool{"marketing.email": grant}})
				if got := decide(t, b, other); got != grant {
					t.Fatalf("round %d: node A records %v, node B decides %v", i, grant, got)
				}
			}
		})
	}
}

// TestOpenCloseOpen: Close leaves no goroutine and no file of the App's
// behind, so the same directory opens again, with what the first App
// wrote.
func TestOpenCloseOpen(t *testing.T) {
	for name, sc := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if sc == nil {
				t.Skip("CANDOR_TEST_POSTGRES is not set")
			}
			dir := t.TempDir()
			cfg := app.Config{Policy: examplePolicy(t), Stores: sc(dir), CreateMasterKey: true}
			goroutines, files := runtime.NumGoroutine(), openFiles(t)

			a := open(t, cfg)
			id, _, err := a.Subjects.Upsert(ctx, actor, "", subjects.Input{UserID: "o-1", Email: "o.1@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			record(t, a, id, consent.Choice{Scope: consent.ScopeAll})
			msg := `{"type":"track","userId":"o-1","event":"Product Viewed","messageId":"o-1-1","properties":{"product_id":"P1"}}`
			if res, err := a.Collector.Collect(ctx, actor, collect.Call{Messages: []json.RawMessage{json.RawMessage(msg)}}, collect.Signals{}); err != nil || res.Accepted != 1 {
				t.Fatalf("collect: %+v %v", res, err)
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}

			var stacks string
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if n := runtime.NumGoroutine(); n <= goroutines {
					break
				}
				if time.Now().After(deadline) {
					buf := make([]byte, 1<<20)
					stacks = string(buf[:runtime.Stack(buf, true)])
					t.Fatalf("%d goroutines after Close, %d before Open:\n%s", runtime.NumGoroutine(), goroutines, stacks)
				}
			}
			if got := openFiles(t); files >= 0 && got > files {
				t.Errorf("%d files open after Close, %d before Open", got, files)
			}

			a = open(t, cfg)
			defer a.Close()
			if !decide(t, a, id) {
				t.Error("the second App decides otherwise than the first recorded")
			}
			if evs, err := a.Store.SubjectEvents(ctx, id, time.Time{}, 10); err != nil || len(evs) != 1 {
				t.Errorf("the event the first App accepted: %v %v", evs, err)
			}
		})
	}
}

// openFiles counts the process's open files; -1 where /proc does not
// tell.
func openFiles(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && !strings.HasPrefix(l, "anon_inode:") {
			n++
		}
	}
	return n
}

// TestPIPLDays: Config.PIPLDays sets the PIPL deadline of requests; a
// value out of range is refused before anything is opened.
func TestPIPLDays(t *testing.T) {
	a := open(t, app.Config{Policy: examplePolicy(t), Stores: app.StoreConfig{DataDir: t.TempDir()}, CreateMasterKey: true, PIPLDays: 7, NoJobs: true})
	defer a.Close()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if due, which := a.Rights.Due(at); !due.Equal(at.AddDate(0, 0, 7)) || which != candor.JurisdictionPIPL {
		t.Errorf("due %v under %s; want 7 days under PIPL", due, which)
	}
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := app.Open(ctx, app.Config{Policy: examplePolicy(t), Stores: app.StoreConfig{DataDir: dir}, CreateMasterKey: true, PIPLDays: 91}); err == nil {
		t.Error("PIPLDays 91 accepted")
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("PIPLDays 91: the store was opened before the value was checked")
	}
}
