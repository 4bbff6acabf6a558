package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/sqlite"
	"github.com/jackc/pgx/v5"
)

// auditCase is a data directory, on the embedded store or on a
// PostgreSQL schema of its own, and the command-line flags that name it.
type auditCase struct {
	dir, data, url, schema string
	opts                   []serverOpt
	args                   []string
}

func newAuditCase(t *testing.T, postgres bool) *auditCase {
	c := &auditCase{dir: t.TempDir()}
	c.data = filepath.Join(c.dir, "data")
	c.args = []string{"-data", c.data}
	if postgres {
		c.url, c.schema = testenv.Postgres(t)
		c.opts = append(c.opts, func(cfg *Config) { cfg.DB, cfg.Store.DBSchema = c.url, c.schema })
		c.args = append(c.args, "-db", c.url)
		t.Setenv("CANDOR_DB_SCHEMA", c.schema)
	}
	return c
}

// run runs a candor command on the case's stores and returns its exit
// status and output.
func (c *auditCase) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := runMain(ctx, append(args, c.args...), &out, &errb)
	var ee exitError
	if err != nil && !errors.As(err, &ee) && !errors.Is(err, errUsage) {
		errb.WriteString(err.Error())
	}
	return exitCode(err, io.Discard), out.String(), errb.String()
}

// serveSome starts a server, creates n subjects (an audit entry each) and
// stops it, which signs a final checkpoint.
func (c *auditCase) serveSome(t *testing.T, tag string, n int) {
	t.Helper()
	s := startServer(t, c.dir, "", c.opts...)
	for i := range n {
		s.newSubject(map[string]any{"user_id": fmt.Sprintf("%s-%d", tag, i)})
	}
	s.stop()
}

// head runs `candor audit head` and keeps what it prints in a file.
func (c *auditCase) head(t *testing.T, name string) (string, signedHead) {
	t.Helper()
	code, out, errs := c.run(t, "audit", "head")
	if code != 0 {
		t.Fatalf("audit head: exit %d: %s %s", code, out, errs)
	}
	var h signedHead
	if err := json.Unmarshal([]byte(out), &h); err != nil || h.Seq == 0 || len(h.Signature) != 64 || len(h.Hash) != 32 || h.KeyID == "" {
		t.Fatalf("audit head printed %q: %v", out, err)
	}
	f := filepath.Join(c.dir, name)
	if err := os.WriteFile(f, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return f, h
}

// tamper runs statements as an attacker with write access to the audit
// store and the key store, the audit log's append-only trigger dropped.
// Tables are named {audit}.t and {keys}.t.
func (c *auditCase) tamper(t *testing.T, stmts ...string) {
	t.Helper()
	if c.url != "" {
		conn, err := pgx.Connect(context.Background(), c.url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		names := strings.NewReplacer("{audit}", c.schema+"_audit", "{keys}", c.schema+"_keys")
		for _, q := range append([]string{`DROP TRIGGER IF EXISTS audit_log_append_only ON {audit}.audit_log`, `DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON {audit}.audit_checkpoints`}, stmts...) {
			if _, err := conn.Exec(context.Background(), names.Replace(q)); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		return
	}
	raw, err := sql.Open("sqlite", filepath.Join(c.data, sqlite.AuditFile))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`ATTACH DATABASE ? AS keys`, filepath.Join(c.data, sqlite.KeysFile)); err != nil {
		t.Fatal(err)
	}
	names := strings.NewReplacer("{audit}.", "main.", "{keys}.", "keys.")
	for _, q := range append([]string{`DROP TRIGGER IF EXISTS audit_log_no_update`, `DROP TRIGGER IF EXISTS audit_log_no_delete`,
		`DROP TRIGGER IF EXISTS audit_checkpoints_no_update`, `DROP TRIGGER IF EXISTS audit_checkpoints_no_delete`}, stmts...) {
		if _, err := raw.Exec(names.Replace(q)); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func onBothStores(t *testing.T, fn func(t *testing.T, c *auditCase)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newAuditCase(t, false)) })
	t.Run("postgres", func(t *testing.T) { fn(t, newAuditCase(t, true)) })
}

// TestAuditTruncationRefused: after the last entries of the log and the
// checkpoints beyond them are deleted, `candor audit verify` reports the
// truncation, and serve refuses to start and says to run it.
func TestAuditTruncationRefused(t *testing.T) {
	onBothStores(t, func(t *testing.T, c *auditCase) {
		c.serveSome(t, "trunc", 4)
		if code, out, errs := c.run(t, "audit", "verify"); code != 0 || !strings.Contains(out, "ok:") {
			t.Fatalf("verify before: exit %d: %s %s", code, out, errs)
		}
		c.tamper(t, `DELETE FROM {audit}.audit_log WHERE seq > 2`, `DELETE FROM {audit}.audit_checkpoints WHERE seq > 2`)
		code, out, _ := c.run(t, "audit", "verify")
		if code != 1 || !strings.Contains(out, "BROKEN at entry 3") || !strings.Contains(out, "truncated") {
			t.Errorf("verify after truncation: exit %d: %s", code, out)
		}
		code, out, _ = c.run(t, "audit", "verify", "-json")
		var rep map[string]any
		if json.Unmarshal([]byte(out), &rep); code != 1 || rep["ok"] != false || rep["first_broken"] != float64(3) || rep["anchor_seq"].(float64) < 4 {
			t.Errorf("verify -json after truncation: exit %d: %s", code, out)
		}
		if code, _, errs := c.run(t, "audit", "head"); code != 1 || !strings.Contains(errs, "BROKEN") {
			t.Errorf("audit head of a broken log: exit %d: %s", code, errs)
		}
		args := append([]string{"serve", "-config", filepath.Join(c.dir, "candor.yaml"), "-addr", "127.0.0.1:0"}, c.args...)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := runMain(ctx, args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "candor audit verify") || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("serve on a truncated log: %v", err)
		}
	})
}

// TestAuditRewriteRefused: every checkpoint deleted and the chain
// recomputed after a change: verify and serve both refuse it.
func TestAuditRewriteRefused(t *testing.T) {
	onBothStores(t, func(t *testing.T, c *auditCase) {
		c.serveSome(t, "rewrite", 3)
		st, err := openExistingStores(context.Background(), c.data, c.url, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := st.store.AuditEntries(context.Background(), 1, 100)
		st.Close()
		if err != nil || len(entries) < 3 {
			t.Fatalf("entries %d %v", len(entries), err)
		}
		stmts := []string{`DELETE FROM {audit}.audit_checkpoints`}
		var prev []byte
		for i := range entries {
			e := &entries[i]
			if e.Seq == 2 {
				e.Actor = "apikey:someone-else"
			}
			e.PrevHash, e.Hash = prev, audit.Hash(prev, e)
			prev = e.Hash
			stmts = append(stmts, fmt.Sprintf(`UPDATE {audit}.audit_log SET actor = '%s', prev_hash = %s, hash = %s WHERE seq = %d`, e.Actor, blob(c, e.PrevHash), blob(c, e.Hash), e.Seq))
		}
		c.tamper(t, stmts...)
		if code, out, _ := c.run(t, "audit", "verify"); code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "anchor") {
			t.Errorf("verify after a rewrite: exit %d: %s", code, out)
		}
		args := append([]string{"keys", "status"}, c.args...)
		if err := runMain(context.Background(), args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "candor audit verify") {
			t.Errorf("a command that appends, on a rewritten log: %v", err)
		}
	})
}

// TestAuditHeadCatchesRollback: an attacker with write access to the
// audit store and the key store rolls both back to an older signed
// checkpoint. Verify cannot tell from inside; a head printed by `candor
// audit head` after that checkpoint and kept elsewhere can.
func TestAuditHeadCatchesRollback(t *testing.T) {
	onBothStores(t, func(t *testing.T, c *auditCase) {
		c.serveSome(t, "early", 2)
		earlyFile, early := c.head(t, "early-head.json")
		c.serveSome(t, "late", 3)
		lateFile, late := c.head(t, "late-head.json")
		if late.Seq <= early.Seq {
			t.Fatalf("heads %d then %d", early.Seq, late.Seq)
		}
		if code, out, _ := c.run(t, "audit", "verify", "-head", lateFile); code != 0 || !strings.Contains(out, "holds the head") {
			t.Fatalf("verify -head before the rollback: exit %d: %s", code, out)
		}
		// Roll both stores back to the early checkpoint: the entries and
		// checkpoints after it go, and the anchor is set back to it.
		c.tamper(t,
			fmt.Sprintf(`DELETE FROM {audit}.audit_log WHERE seq > %d`, early.Seq),
			fmt.Sprintf(`DELETE FROM {audit}.audit_checkpoints WHERE seq > %d`, early.Seq),
			fmt.Sprintf(`UPDATE {keys}.audit_anchor SET seq = s.seq, hash = s.hash, time = s.time, key_id = s.key_id, signature = s.signature FROM (SELECT * FROM {audit}.audit_checkpoints WHERE seq = %d) AS s`, early.Seq))
		if code, out, _ := c.run(t, "audit", "verify"); code != 0 {
			t.Errorf("verify after a rollback of both stores, without a kept head (the honest limit): exit %d: %s", code, out)
		}
		if code, out, _ := c.run(t, "audit", "verify", "-head", earlyFile); code != 0 {
			t.Errorf("verify -head with the early head: exit %d: %s", code, out)
		}
		code, out, _ := c.run(t, "audit", "verify", "-head", lateFile)
		if code != 1 || !strings.Contains(out, fmt.Sprintf("BROKEN at entry %d", early.Seq+1)) || !strings.Contains(out, "head kept at") {
			t.Errorf("verify -head with the late head after the rollback: exit %d: %s", code, out)
		}
		// A head that is not signed by the audit key is refused.
		forged := late
		forged.Seq = early.Seq
		b, _ := json.Marshal(forged)
		forgedFile := filepath.Join(c.dir, "forged.json")
		os.WriteFile(forgedFile, b, 0o600)
		if code, out, _ := c.run(t, "audit", "verify", "-head", forgedFile); code != 1 || !strings.Contains(out, "signature") {
			t.Errorf("verify -head with a forged head: exit %d: %s", code, out)
		}
		os.WriteFile(forgedFile, []byte("not json"), 0o600)
		if code, _, errs := c.run(t, "audit", "verify", "-head", forgedFile); code != 2 || !strings.Contains(errs, "-head") {
			t.Errorf("verify -head with a file that is not a head: exit %d: %s", code, errs)
		}
	})
}

// blob is a byte string as an SQL literal of the case's store.
func blob(c *auditCase, b []byte) string {
	if b == nil {
		return "NULL"
	}
	if c.url != "" {
		return fmt.Sprintf(`'\x%x'::bytea`, b)
	}
	return fmt.Sprintf(`X'%x'`, b)
}
