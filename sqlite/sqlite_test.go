package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/sqlite"
	"github.com/candorhq/candor/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) candor.Store {
		db, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}, testenv.FillPersonal)
}

func TestConsentsAndAuditAreAppendOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_a", Create: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendConsents(ctx, []candor.Consent{{ID: "c", ReceiptID: "r", SubjectID: "sub_a", Purpose: "p", State: candor.ConsentGranted, NoticeHash: "n", Channel: "api", Actor: "a"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendAudit(ctx, []*candor.AuditEntry{{Actor: "a", Action: "x", Decision: "ok"}}, func(s int64, h []byte, e *candor.AuditEntry) { e.Seq, e.Hash = s+1, []byte("h") }); err != nil {
		t.Fatal(err)
	}
	if err := db.PutCheckpoint(ctx, candor.AuditCheckpoint{Seq: 1, Hash: []byte("h"), Time: time.Now(), KeyID: "k1", Signature: []byte("s")}); err != nil {
		t.Fatal(err)
	}
	for file, stmts := range map[string][]string{
		"data.db":  {`UPDATE consents SET state = 'denied'`},
		"audit.db": {`UPDATE audit_log SET actor = 'b'`, `DELETE FROM audit_log`, `UPDATE audit_checkpoints SET key_id = 'k2'`, `DELETE FROM audit_checkpoints`},
	} {
		raw, err := sql.Open("sqlite", filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range stmts {
			if _, err := raw.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %s: %v", file, q, err)
			}
		}
		raw.Close()
	}
	// The data directory is locked against a restore while open.
	if err := sqlite.Restore(ctx, dir, "/nonexistent"); err == nil {
		t.Error("restore under an open store succeeded")
	}
}
