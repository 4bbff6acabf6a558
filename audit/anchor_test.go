package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/postgres"
	"github.com/candorhq/candor/sqlite"
	"github.com/jackc/pgx/v5"
)

// attacker writes to the stores behind Candor's back, with the audit
// log's append-only triggers dropped, as someone with write access to
// audit.db and keys.db (or the candor_audit and candor_keys schemas)
// would. Queries name tables as {audit}.t and {keys}.t and take ?
// placeholders, on either store.
type attacker struct {
	audit, keys func(q string, args ...any)
}

// backend is a store to attack: a fresh one per call of open.
type backend struct {
	name string
	open func(t *testing.T) (candor.Store, attacker)
}

// backends are the embedded store and PostgreSQL (which skips when
// CANDOR_TEST_POSTGRES is not set).
var backends = []backend{{"sqlite", openSQLiteAttacked}, {"postgres", openPostgresAttacked}}

func openSQLiteAttacked(t *testing.T) (candor.Store, attacker) {
	dir := t.TempDir()
	db := open(t, dir)
	run := func(file string) func(string, ...any) {
		return func(q string, args ...any) {
			t.Helper()
			raw, err := sql.Open("sqlite", filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			for _, trigger := range []string{"audit_log_no_update", "audit_log_no_delete", "audit_checkpoints_no_update", "audit_checkpoints_no_delete"} {
				raw.Exec(`DROP TRIGGER IF EXISTS ` + trigger)
			}
			q = strings.NewReplacer("{audit}.", "", "{keys}.", "").Replace(q)
			if _, err := raw.Exec(q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	return db, attacker{audit: run(sqlite.AuditFile), keys: run(sqlite.KeysFile)}
}

func openPostgresAttacked(t *testing.T) (candor.Store, attacker) {
	url, prefix := testenv.Postgres(t)
	db, err := postgres.Open(ctx, url, postgres.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	names := strings.NewReplacer("{audit}", prefix+"_audit", "{keys}", prefix+"_keys")
	run := func(q string, args ...any) {
		t.Helper()
		q = names.Replace(q)
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
		}
		for _, drop := range []string{`DROP TRIGGER IF EXISTS audit_log_append_only ON {audit}.audit_log`, `DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON {audit}.audit_checkpoints`} {
			if _, err := conn.Exec(ctx, names.Replace(drop)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db, attacker{audit: run, keys: run}
}

// eachBackend runs fn on every backend.
func eachBackend(t *testing.T, fn func(t *testing.T, db candor.Store, atk attacker)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db, atk := b.open(t)
			fn(t, db, atk)
		})
	}
}

func wantBroken(t *testing.T, rep audit.Report, at int64, reason string) {
	t.Helper()
	if rep.OK || rep.FirstBroken == nil || *rep.FirstBroken != at || !strings.Contains(rep.Reason, reason) {
		t.Errorf("report %+v (first broken %v), want broken at %d (%q)", rep, deref(rep.FirstBroken), at, reason)
	}
}

func anchorOf(t *testing.T, db candor.Store) candor.AuditCheckpoint {
	t.Helper()
	a, err := db.Keys().AuditAnchor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return *a
}

// TestAnchorFollowsCheckpoints: every checkpoint, by count, by time or on
// Close, moves the anchor to it.
func TestAnchorFollowsCheckpoints(t *testing.T) {
	eachBackend(t, func(t *testing.T, db candor.Store, _ attacker) {
		s := newSigner("k1")
		if _, err := db.Keys().AuditAnchor(ctx); candor.ErrorCode(err) != candor.ENOTFOUND {
			t.Fatalf("anchor of an empty log: %v", err)
		}
		l := newLog(t, db, s, audit.Options{CheckpointEvery: 10, CheckpointInterval: 50 * time.Millisecond})
		for i := range 12 {
			if err := l.Append(ctx, entry(i)); err != nil {
				t.Fatal(err)
			}
		}
		if a := anchorOf(t, db); a.Seq < 10 {
			t.Errorf("anchor after 12 entries: %d", a.Seq)
		}
		deadline := time.Now().Add(5 * time.Second)
		for anchorOf(t, db).Seq != 12 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if a := anchorOf(t, db); a.Seq != 12 {
			t.Errorf("anchor after the interval: %d", a.Seq)
		}
		l.Append(ctx, entry(13))
		l.Close()
		cps, _ := db.Checkpoints(ctx)
		a := anchorOf(t, db)
		if last := cps[len(cps)-1]; a.Seq != 13 || last.Seq != 13 || string(a.Hash) != string(last.Hash) || string(a.Signature) != string(last.Signature) {
			t.Errorf("anchor %+v, last checkpoint %+v", a, last)
		}
		rep := verify(t, db, s)
		if !rep.OK || rep.AnchorSeq != 13 || rep.Unsigned != 0 {
			t.Errorf("report %+v", rep)
		}
	})
}

func TestNewRequiresAnchors(t *testing.T) {
	if _, err := audit.New(open(t, t.TempDir()), newSigner("k"), audit.Options{}); err == nil {
		t.Error("a log without an anchor store was made")
	}
}

// TestTruncatedTailIsFound: the attacker deletes the last entries and
// every checkpoint beyond them, so that the log's own checkpoints agree
// with it. The anchor is beyond the head: verify fails, and the log
// refuses to append to it.
func TestTruncatedTailIsFound(t *testing.T) {
	eachBackend(t, func(t *testing.T, db candor.Store, atk attacker) {
		s := newSigner("k1")
		fill(t, db, s, 25, 10) // checkpoints at 10, 20, 25
		atk.audit(`DELETE FROM {audit}.audit_log WHERE seq > 15`)
		atk.audit(`DELETE FROM {audit}.audit_checkpoints WHERE seq > 15`)
		wantBroken(t, verify(t, db, s), 16, "truncated")
		_, err := audit.New(db, s, audit.Options{Anchors: db.Keys()})
		if !errors.Is(err, audit.ErrAnchor) || !strings.Contains(err.Error(), "ends at entry 15") {
			t.Errorf("New on a truncated log: %v", err)
		}
	})
}

// recompute rewrites every entry from seq 1 with change applied and the
// hashes recomputed with audit.Hash, as an attacker without the signing
// key can.
func recompute(t *testing.T, db candor.Store, atk attacker, change func(e *candor.AuditEntry)) {
	t.Helper()
	entries, err := db.AuditEntries(ctx, 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var prev []byte
	for i := range entries {
		e := &entries[i]
		change(e)
		e.PrevHash = prev
		e.Hash = audit.Hash(prev, e)
		prev = e.Hash
		atk.audit(`UPDATE {audit}.audit_log SET purpose = ?, prev_hash = ?, hash = ? WHERE seq = ?`, e.Purpose, e.PrevHash, e.Hash, e.Seq)
	}
}

// TestRewrittenChainIsFound: the attacker deletes every checkpoint and
// recomputes the whole chain after changing an entry. The chain is
// consistent and no checkpoint contradicts it, but it no longer holds the
// anchor's hash: verify fails, and the log refuses to append to it.
func TestRewrittenChainIsFound(t *testing.T) {
	eachBackend(t, func(t *testing.T, db candor.Store, atk attacker) {
		s := newSigner("k1")
		fill(t, db, s, 25, 10)
		atk.audit(`DELETE FROM {audit}.audit_checkpoints`)
		recompute(t, db, atk, func(e *candor.AuditEntry) {
			if e.Seq == 4 {
				e.Purpose = "marketing"
			}
		})
		wantBroken(t, verify(t, db, s), 25, "anchor")
		if _, err := audit.New(db, s, audit.Options{Anchors: db.Keys()}); !errors.Is(err, audit.ErrAnchor) || !strings.Contains(err.Error(), "rewritten") {
			t.Errorf("New on a rewritten log: %v", err)
		}
	})
}

// TestCheckpointsRemovedIsFound: the attacker deletes every checkpoint
// and leaves the entries as they are; the chain still holds the anchor's
// hash, but the checkpoint it mirrors is gone and far more entries are
// unsigned than a running log leaves.
func TestCheckpointsRemovedIsFound(t *testing.T) {
	eachBackend(t, func(t *testing.T, db candor.Store, atk attacker) {
		s := newSigner("k1")
		fill(t, db, s, 60, 10)
		atk.audit(`DELETE FROM {audit}.audit_checkpoints`)
		rep, err := audit.Verify(ctx, db, audit.VerifyOptions{Anchors: db.Keys(), Keys: s.keys, MaxUnsigned: 10 + 5})
		if err != nil {
			t.Fatal(err)
		}
		wantBroken(t, rep, 1, "no signed checkpoint")
		if rep.Unsigned != 60 {
			t.Errorf("unsigned %d, want 60", rep.Unsigned)
		}
	})
}

// TestForgedTailIsFound: the attacker appends entries with a valid chain
// but no signature (they have no key); beyond the remainder a running log
// leaves unsigned, verify fails.
func TestForgedTailIsFound(t *testing.T) {
	eachBackend(t, func(t *testing.T, db candor.Store, atk attacker) {
		s := newSigner("k1")
		fill(t, db, s, 20, 10)
		forged := make([]*candor.AuditEntry, 40)
		for i := range forged {
			e := entry(100 + i)
			e.Time = time.Now().UTC().Truncate(time.Microsecond)
			forged[i] = &e
		}
		if err := db.AppendAudit(ctx, forged, func(ps int64, ph []byte, e *candor.AuditEntry) {
			e.Seq, e.PrevHash = ps+1, ph
			e.Hash = audit.Hash(ph, e)
		}); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.Verify(ctx, db, audit.VerifyOptions{Anchors: db.Keys(), Keys: s.keys, MaxUnsigned: 10 + 5})
		if err != nil {
			t.Fatal(err)
		}
		wantBroken(t, rep, 21, "unsigned")
		if rep.Unsigned != 40 || rep.Entries != 60 {
			t.Errorf("report %+v", rep)
		}
	})
}

// TestRollbackOfBothStores is the honest limit: an attacker who can write
// the audit store and the key store rolls both back to an older signed
// checkpoint. Nothing inside Candor contradicts it; a head kept outside,
// taken later, does.
func TestRollbackOfBothStores(t *testing.T) {
	eachBackend(t, func(t *testing.T, db candor.Store, atk attacker) {
		s := newSigner("k1")
		fill(t, db, s, 15, 10) // checkpoints at 10 and 15
		cps, _ := db.Checkpoints(ctx)
		old := cps[len(cps)-1]
		fill(t, db, s, 15, 10) // up to 30
		kept := anchorOf(t, db)
		if kept.Seq != 30 {
			t.Fatalf("head %d", kept.Seq)
		}
		atk.audit(`DELETE FROM {audit}.audit_log WHERE seq > ?`, old.Seq)
		atk.audit(`DELETE FROM {audit}.audit_checkpoints WHERE seq > ?`, old.Seq)
		atk.keys(`DELETE FROM {keys}.audit_anchor`)
		if err := db.Keys().PutAuditAnchor(ctx, old); err != nil {
			t.Fatal(err)
		}
		if rep := verify(t, db, s); !rep.OK || rep.Entries != 15 || rep.AnchorSeq != 15 {
			t.Errorf("without a kept head: %+v", rep)
		}
		check := func(head candor.AuditCheckpoint) audit.Report {
			rep, err := audit.Verify(ctx, db, audit.VerifyOptions{Anchors: db.Keys(), Keys: s.keys, Head: &head})
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		rep := check(kept)
		wantBroken(t, rep, 16, "head kept at")
		if rep.HeadChecked != 30 {
			t.Errorf("head checked %d", rep.HeadChecked)
		}
		// A head from before the rollback point still holds.
		if rep := check(cps[0]); !rep.OK || rep.HeadChecked != 10 {
			t.Errorf("with an older head: %+v", rep)
		}
		// A head that was not signed by the audit key proves nothing.
		forged := kept
		forged.Seq = 12
		wantBroken(t, check(forged), 12, "bad signature")
	})
}

// TestRewrittenWithinHeadIsFound: a rollback that then rewrites entries
// up to a kept head is caught by the head's hash.
func TestRewrittenWithinHeadIsFound(t *testing.T) {
	eachBackend(t, func(t *testing.T, db candor.Store, atk attacker) {
		s := newSigner("k1")
		fill(t, db, s, 25, 10)
		head := anchorOf(t, db)
		// The attacker has every store and also the signing key: they
		// rewrite and re-sign everything.
		atk.audit(`DELETE FROM {audit}.audit_checkpoints`)
		recompute(t, db, atk, func(e *candor.AuditEntry) {
			if e.Seq == 4 {
				e.Purpose = "marketing"
			}
		})
		atk.keys(`DELETE FROM {keys}.audit_anchor`)
		entries, _ := db.AuditEntries(ctx, 25, 1)
		c := candor.AuditCheckpoint{Seq: 25, Hash: entries[0].Hash, Time: time.Now().UTC().Truncate(time.Microsecond), KeyID: s.KeyID()}
		c.Signature = s.Sign(audit.CheckpointMessage(c))
		db.PutCheckpoint(ctx, c)
		db.Keys().PutAuditAnchor(ctx, c)
		if rep := verify(t, db, s); !rep.OK {
			t.Errorf("re-signed by the key holder, without a kept head: %+v", rep)
		}
		rep, err := audit.Verify(ctx, db, audit.VerifyOptions{Anchors: db.Keys(), Keys: s.keys, Head: &head})
		if err != nil {
			t.Fatal(err)
		}
		wantBroken(t, rep, 25, "head kept at")
	})
}

// TestLogFromBeforeAnchors: a log with checkpoints but no anchor (written
// by a version before anchors) gets its latest checkpoint as the anchor
// when a log is opened on it; until then verify says what is missing.
func TestLogFromBeforeAnchors(t *testing.T) {
	eachBackend(t, func(t *testing.T, db candor.Store, atk attacker) {
		s := newSigner("k1")
		fill(t, db, s, 12, 10)
		atk.keys(`DELETE FROM {keys}.audit_anchor`)
		wantBroken(t, verify(t, db, s), 1, "no anchor")
		newLog(t, db, s, audit.Options{}).Close()
		if rep := verify(t, db, s); !rep.OK || rep.AnchorSeq != 12 {
			t.Errorf("after opening: %+v", rep)
		}
	})
}

// staleCheckpoints answers the first Checkpoints call with the first
// checkpoint only: as a running log looks to a verify that started
// before it signed the rest.
type staleCheckpoints struct {
	candor.AuditStore
	calls int
}

func (s *staleCheckpoints) Checkpoints(ctx context.Context) ([]candor.AuditCheckpoint, error) {
	cps, err := s.AuditStore.Checkpoints(ctx)
	if s.calls++; s.calls == 1 && len(cps) > 1 {
		cps = cps[:1]
	}
	return cps, err
}

// TestVerifyWhileAppending: entries appended and signed while verify
// reads the chain are not taken for an unsigned tail.
func TestVerifyWhileAppending(t *testing.T) {
	db := open(t, t.TempDir())
	s := newSigner("k1")
	fill(t, db, s, 60, 10)
	rep, err := audit.Verify(ctx, &staleCheckpoints{AuditStore: db}, audit.VerifyOptions{Anchors: staleAnchor{db}, Keys: s.keys, MaxUnsigned: 15})
	if err != nil || !rep.OK || rep.Unsigned != 0 {
		t.Errorf("report %+v %v", rep, err)
	}
}

// staleAnchor answers with the first checkpoint: the anchor as it was
// when verify read it, before the checkpoints.
type staleAnchor struct{ store candor.AuditStore }

func (a staleAnchor) PutAuditAnchor(context.Context, candor.AuditCheckpoint) error { return nil }

func (a staleAnchor) AuditAnchor(ctx context.Context) (*candor.AuditCheckpoint, error) {
	cps, err := a.store.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	return &cps[0], nil
}
