package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/sqlite"
)

type signer struct {
	id  string
	key ed25519.PrivateKey
}

func (s signer) KeyID() string          { return s.id }
func (s signer) Sign(msg []byte) []byte { return ed25519.Sign(s.key, msg) }

func newSigner(id string) signer {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	return signer{id, k}
}

func (s signer) keys(id string) ed25519.PublicKey {
	if id == s.id {
		return s.key.Public().(ed25519.PublicKey)
	}
	return nil
}

var ctx = context.Background()

func open(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newLog returns a log on store, its anchor in store's key store.
func newLog(t testing.TB, store candor.Store, s audit.Signer, opts audit.Options) *audit.Log {
	t.Helper()
	opts.Anchors = store.Keys()
	l, err := audit.New(store, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func entry(i int) candor.AuditEntry {
	return candor.AuditEntry{Actor: "apikey:k", Action: "read", Purpose: "service", SubjectID: fmt.Sprintf("sub_%d", i), Fields: []string{"email", "phone"}, Decision: "allow", Reason: "basis", TraceID: fmt.Sprint("r", i)}
}

// fill appends n entries with a checkpoint every `every`, then closes the log.
func fill(t *testing.T, db candor.Store, s signer, n int, every int64) {
	t.Helper()
	l := newLog(t, db, s, audit.Options{CheckpointEvery: every})
	for i := range n {
		if err := l.Append(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func verify(t *testing.T, db candor.Store, s signer) audit.Report {
	t.Helper()
	rep, err := audit.Verify(ctx, db, audit.VerifyOptions{Anchors: db.Keys(), Keys: s.keys})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestAppendVerify(t *testing.T) {
	db := open(t, t.TempDir())
	s := newSigner("k1")
	fill(t, db, s, 25, 10)
	rep := verify(t, db, s)
	// Checkpoints at 10 and 20, and the final one at 25 on Close.
	if !rep.OK || rep.Entries != 25 || rep.Checkpoints != 3 || rep.FirstBroken != nil {
		t.Errorf("report %+v", rep)
	}
}

func TestConcurrentAppendsFormOneChain(t *testing.T) {
	db := open(t, t.TempDir())
	s := newSigner("k1")
	l := newLog(t, db, s, audit.Options{CheckpointEvery: 500})
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if err := l.Append(ctx, entry(g*1000+i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	l.Close()
	if rep := verify(t, db, s); !rep.OK || rep.Entries != 6400 {
		t.Errorf("report %+v", rep)
	}
}

func TestRestartContinuesChain(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	s := newSigner("k1")
	fill(t, db, s, 7, 5)
	fill(t, db, s, 6, 5)
	if rep := verify(t, db, s); !rep.OK || rep.Entries != 13 {
		t.Errorf("report %+v", rep)
	}
}

func TestAppendAfterClose(t *testing.T) {
	l := newLog(t, open(t, t.TempDir()), newSigner("k"), audit.Options{})
	l.Close()
	if err := l.Append(ctx, entry(1)); err != audit.ErrClosed {
		t.Errorf("append after close: %v", err)
	}
}

// TestFailsClosed: when the store cannot write, Append reports it.
func TestFailsClosed(t *testing.T) {
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l := newLog(t, db, newSigner("k"), audit.Options{})
	defer l.Close()
	if err := l.Append(ctx, entry(1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := l.Append(ctx, entry(2)); err == nil {
		t.Error("append on a closed store succeeded")
	}
}

func TestIntervalCheckpoint(t *testing.T) {
	db := open(t, t.TempDir())
	s := newSigner("k")
	l := newLog(t, db, s, audit.Options{CheckpointInterval: 50 * time.Millisecond})
	defer l.Close()
	l.Append(ctx, entry(1))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cps, _ := db.Checkpoints(ctx); len(cps) == 1 && cps[0].Seq == 1 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("no checkpoint within the interval")
}

// tamper runs statements on audit.db through a connection of its own, with
// the append-only triggers dropped, as an attacker with file access would.
func tamper(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	raw, err := sql.Open("sqlite", filepath.Join(dir, sqlite.AuditFile))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// The attacker drops the triggers that keep the log append-only first.
	drop := []string{`DROP TRIGGER IF EXISTS audit_log_no_update`, `DROP TRIGGER IF EXISTS audit_log_no_delete`,
		`DROP TRIGGER IF EXISTS audit_checkpoints_no_update`, `DROP TRIGGER IF EXISTS audit_checkpoints_no_delete`}
	for _, q := range append(drop, stmts...) {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestTamperingIsFound(t *testing.T) {
	cases := []struct {
		name   string
		stmts  []string
		broken int64
		reason string
	}{
		{"changed field", []string{`UPDATE audit_log SET purpose = 'marketing' WHERE seq = 7`}, 7, "changed"},
		{"changed fields list", []string{`UPDATE audit_log SET fields = 'email' WHERE seq = 3`}, 3, "changed"},
		{"trace id moved to the rights request", []string{`UPDATE audit_log SET rights_request = request_id, request_id = '' WHERE seq = 4`}, 4, "changed"},
		{"rights request added", []string{`UPDATE audit_log SET rights_request = 'req_x' WHERE seq = 6`}, 6, "changed"},
		{"removed entry", []string{`DELETE FROM audit_log WHERE seq = 12`}, 12, "missing"},
		{"removed and renumbered", []string{`DELETE FROM audit_log WHERE seq = 12`, `UPDATE audit_log SET seq = seq - 1 WHERE seq > 12`}, 12, "follow"},
		{"inserted entry", []string{`UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 9`, `UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1009`,
			`INSERT INTO audit_log SELECT 9, time, 'forger', action, purpose, subject_id, fields, decision, reason, request_id, prev_hash, hash, rights_request FROM audit_log WHERE seq = 8`}, 9, ""},
		{"reordered entries", []string{`UPDATE audit_log SET seq = -5 WHERE seq = 5`, `UPDATE audit_log SET seq = 5 WHERE seq = 6`, `UPDATE audit_log SET seq = 6 WHERE seq = -5`}, 5, "follow"},
		{"truncated before the last checkpoint", []string{`DELETE FROM audit_log WHERE seq > 17`}, 18, "truncated"},
		{"checkpoint signature altered", []string{`UPDATE audit_checkpoints SET signature = zeroblob(64) WHERE seq = 10`}, 10, "signature"},
		{"checkpoint by an unknown key", []string{`UPDATE audit_checkpoints SET key_id = 'other' WHERE seq = 20`}, 20, "unknown key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			db := open(t, dir)
			s := newSigner("k1")
			fill(t, db, s, 25, 10)
			tamper(t, dir, c.stmts...)
			rep := verify(t, db, s)
			if rep.OK || rep.FirstBroken == nil || *rep.FirstBroken != c.broken || !strings.Contains(rep.Reason, c.reason) {
				t.Errorf("report %+v (first broken %v), want broken at %d (%s)", rep, deref(rep.FirstBroken), c.broken, c.reason)
			}
		})
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestRecomputedChainIsFound: an attacker who changes an entry and
// recomputes every hash after it, without the signing key, is caught by the
// next checkpoint.
func TestRecomputedChainIsFound(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	s := newSigner("k1")
	fill(t, db, s, 25, 10)
	entries, _ := db.AuditEntries(ctx, 1, 100)
	raw, _ := sql.Open("sqlite", filepath.Join(dir, sqlite.AuditFile))
	defer raw.Close()
	raw.Exec(`DROP TRIGGER audit_log_no_update`)
	var prev []byte
	for i := range entries {
		e := &entries[i]
		if e.Seq == 4 {
			e.Purpose = "marketing"
		}
		e.PrevHash = prev
		e.Hash = audit.Hash(prev, e)
		prev = e.Hash
		if _, err := raw.Exec(`UPDATE audit_log SET purpose = ?, prev_hash = ?, hash = ? WHERE seq = ?`, e.Purpose, e.PrevHash, e.Hash, e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	rep := verify(t, db, s)
	if rep.OK || deref(rep.FirstBroken) != int64(10) || !strings.Contains(rep.Reason, "checkpoint") {
		t.Errorf("report %+v", rep)
	}
}

// TestTruncationAfterLastCheckpoint documents the limit that remains: the
// unsigned entries after the last checkpoint (and anchor) can be cut off
// unnoticed, which is why checkpoints are frequent, by count and by time.
func TestTruncationAfterLastCheckpoint(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	s := newSigner("k1")
	l := newLog(t, db, s, audit.Options{CheckpointEvery: 10})
	for i := range 25 {
		l.Append(ctx, entry(i))
	}
	// Stop without Close (a crash): no final checkpoint; the last is at 20.
	tamper(t, dir, `DELETE FROM audit_log WHERE seq > 22`)
	if rep := verify(t, db, s); !rep.OK || rep.Entries != 22 {
		t.Errorf("report %+v", rep)
	}
	l.Close()
}

func TestHashCoversEveryField(t *testing.T) {
	base := candor.AuditEntry{Seq: 3, Time: time.Unix(1700000000, 5).UTC(), Actor: "a", Action: "read", Purpose: "p", SubjectID: "s", Fields: []string{"x", "y"}, Decision: "allow", Reason: "r", TraceID: "q", RightsRequest: "req_r"}
	prev := []byte("prev")
	h := audit.Hash(prev, &base)
	if string(audit.Hash(prev, &base)) != string(h) {
		t.Fatal("not deterministic")
	}
	changes := map[string]func(e *candor.AuditEntry){
		"seq":       func(e *candor.AuditEntry) { e.Seq = 4 },
		"time":      func(e *candor.AuditEntry) { e.Time = e.Time.Add(time.Nanosecond) },
		"actor":     func(e *candor.AuditEntry) { e.Actor = "b" },
		"action":    func(e *candor.AuditEntry) { e.Action = "write" },
		"purpose":   func(e *candor.AuditEntry) { e.Purpose = "q" },
		"subject":   func(e *candor.AuditEntry) { e.SubjectID = "t" },
		"fields":    func(e *candor.AuditEntry) { e.Fields = []string{"xy"} },
		"field set": func(e *candor.AuditEntry) { e.Fields = []string{"x"} },
		"decision":  func(e *candor.AuditEntry) { e.Decision = "deny" },
		"reason":    func(e *candor.AuditEntry) { e.Reason = "s" },
		"trace":     func(e *candor.AuditEntry) { e.TraceID = "z" },
		"rights":    func(e *candor.AuditEntry) { e.RightsRequest = "req_s" },
		"no rights": func(e *candor.AuditEntry) { e.RightsRequest = "" },
		"moved":     func(e *candor.AuditEntry) { e.TraceID, e.RightsRequest = "req_r", "q" },
		"boundary":  func(e *candor.AuditEntry) { e.Actor, e.Action = "ar", "ead" },
	}
	for name, change := range changes {
		e := base
		e.Fields = append([]string(nil), base.Fields...)
		change(&e)
		if string(audit.Hash(prev, &e)) == string(h) {
			t.Errorf("changing %s keeps the hash", name)
		}
	}
	if string(audit.Hash([]byte("other"), &base)) == string(h) {
		t.Error("changing the previous hash keeps the hash")
	}
}

// TestAppendTakesTheContextsIDs: an entry that names no trace id or
// rights request gets those its context carries; one that names them
// keeps its own.
func TestAppendTakesTheContextsIDs(t *testing.T) {
	db := open(t, t.TempDir())
	l := newLog(t, db, newSigner("k"), audit.Options{})
	defer l.Close()
	c := candor.WithRightsRequest(candor.WithTraceID(ctx, "trace1"), "req_1")
	own := entry(1)
	own.RightsRequest = "req_own"
	if err := l.Append(c, entry(0)); err != nil {
		t.Fatal(err)
	}
	es := []candor.AuditEntry{own, entry(2)}
	es[1].TraceID = ""
	if err := l.AppendMany(c, es); err != nil {
		t.Fatal(err)
	}
	if es[1].TraceID != "" || es[1].RightsRequest != "" {
		t.Errorf("AppendMany changed its argument: %+v", es[1])
	}
	got, err := db.AuditEntries(ctx, 1, 10)
	if err != nil || len(got) != 3 {
		t.Fatalf("entries %+v %v", got, err)
	}
	for i, want := range [][2]string{{"r0", "req_1"}, {"r1", "req_own"}, {"trace1", "req_1"}} {
		if got[i].TraceID != want[0] || got[i].RightsRequest != want[1] {
			t.Errorf("entry %d: trace %q, rights request %q; want %q, %q", i+1, got[i].TraceID, got[i].RightsRequest, want[0], want[1])
		}
	}
}

// TestHashOfAnEntryWithoutRightsRequest: an entry that names no rights
// request (every entry written before AuditEntry.RightsRequest existed,
// when the trace id's place held "the request id", sometimes a rights
// request's) hashes exactly as it did then. The want is the hash the
// version-1 encoding gave before the field was added.
func TestHashOfAnEntryWithoutRightsRequest(t *testing.T) {
	old := candor.AuditEntry{Seq: 3, Time: time.Unix(1700000000, 5).UTC(), Actor: "a", Action: "read", Purpose: "p", SubjectID: "s", Fields: []string{"x", "y"}, Decision: "allow", Reason: "r", TraceID: "req_q"}
	if got, want := hex.EncodeToString(audit.Hash([]byte("prev"), &old)), "bcb1e809cf5f3b9730f459fff4649ffd0bbd4351c4a943e594ba242d4b0ce8fb"; got != want {
		t.Errorf("hash of an entry without a rights request = %s, want %s (as before the field existed)", got, want)
	}
	// The same request named in the new field is a different entry.
	moved := old
	moved.TraceID, moved.RightsRequest = "", "req_q"
	if string(audit.Hash([]byte("prev"), &moved)) == string(audit.Hash([]byte("prev"), &old)) {
		t.Error("a rights request in its own field hashes as it did in the trace id's place")
	}
}

func BenchmarkAppendParallel(b *testing.B) {
	db, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	l := newLog(b, db, newSigner("k"), audit.Options{})
	defer l.Close()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if err := l.Append(ctx, entry(i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkAppendSerial(b *testing.B) {
	db, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	l := newLog(b, db, newSigner("k"), audit.Options{})
	defer l.Close()
	b.ResetTimer()
	for i := range b.N {
		if err := l.Append(ctx, entry(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBatchesStayWithinMaxBatch: appends of several entries are batched
// without going beyond MaxBatch, and one larger than it is refused.
func TestBatchesStayWithinMaxBatch(t *testing.T) {
	db := open(t, t.TempDir())
	s := newSigner("k1")
	l := newLog(t, db, s, audit.Options{MaxBatch: 4, CheckpointEvery: 5})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if err := l.AppendMany(ctx, []candor.AuditEntry{entry(g*100 + i), entry(g*100 + i + 50), entry(g*100 + i + 70)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := l.AppendMany(ctx, make([]candor.AuditEntry, 5)); candor.ErrorCode(err) != candor.EINVALID {
		t.Errorf("an append beyond MaxBatch: %v", err)
	}
	// Before Close (as after a crash): what is unsigned is less than a
	// checkpoint's worth.
	if rep := verify(t, db, s); !rep.OK || rep.Unsigned >= 5 {
		t.Errorf("before close: %+v", rep)
	}
	l.Close()
	rep, err := audit.Verify(ctx, db, audit.VerifyOptions{Anchors: db.Keys(), Keys: s.keys, MaxUnsigned: 5 + 4})
	if err != nil || !rep.OK || rep.Entries != 240 {
		t.Errorf("report %+v %v", rep, err)
	}
}
