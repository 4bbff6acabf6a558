package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candorhq/candor/internal/testenv"
)

// TestBackupRestorePostgres: a backup of the data schema, restored after
// the data changed, brings back exactly the data of the backup; the key
// store and the audit log are not rolled back; the backup holds no
// plaintext personal data.
func TestBackupRestorePostgres(t *testing.T) {
	url, schema := testenv.Postgres(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "node")
	onPG := func(c *Config) { c.DB, c.Store.DBSchema, c.DataDir = url, schema, data }
	s := startServer(t, dir, "", onPG)
	kept := s.newSubject(map[string]any{"user_id": "kept", "email": "kept.in.backup@example.com"})
	s.consent(map[string]any{"subject_id": kept, "scope": "all"})
	s.stop()

	t.Setenv("CANDOR_DB_SCHEMA", schema)
	t.Setenv("CANDOR_STAFF_PASSWORD", "a staff password in the backup")
	var added bytes.Buffer
	if err := runMain(context.Background(), []string{"staff", "add", "-email", "kept.staff@shop.example", "-name", "Kept", "-role", "dpo", "-db", url, "-data", data}, &added, io.Discard); err != nil {
		t.Fatalf("staff add: %v %s", err, added.String())
	}
	backup := filepath.Join(dir, "backup.db")
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"backup", "-db", url, "-data", data, "-to", backup}, &out, io.Discard); err != nil {
		t.Fatalf("backup: %v %s", err, out.String())
	}
	if raw, _ := os.ReadFile(backup); bytes.Contains(raw, []byte("kept.in.backup@example.com")) || len(raw) == 0 {
		t.Errorf("the backup is empty or holds a plaintext e-mail (%d bytes)", len(raw))
	}

	s = startServer(t, dir, "", onPG)
	later := s.newSubject(map[string]any{"user_id": "later", "email": "after.backup@example.com"})
	s.consent(map[string]any{"subject_id": kept, "choices": map[string]bool{"analytics": false}})
	s.stop()

	if err := runMain(context.Background(), []string{"staff", "add", "-email", "later.staff@shop.example", "-name", "Later", "-role", "dpo", "-db", url, "-data", data}, &added, io.Discard); err != nil {
		t.Fatalf("staff add: %v %s", err, added.String())
	}
	if err := runMain(context.Background(), []string{"restore", "-db", url, "-data", data, "-from", backup}, &out, io.Discard); err != nil {
		t.Fatalf("restore: %v %s", err, out.String())
	}
	s = startServer(t, dir, "", onPG)
	if got := s.json("GET", "/v1/subjects/"+kept+"?purpose=service", s.admin, nil, 200)["fields"].(map[string]any)["email"]; got != "kept.in.backup@example.com" {
		t.Errorf("after restore: %v", got)
	}
	if code, _, _ := s.do("GET", "/v1/subjects/"+later+"?purpose=service", s.admin, nil); code != 404 {
		t.Errorf("a subject created after the backup survived the restore: %d", code)
	}
	if d := s.decide(kept, "analytics"); d["allow"] != true {
		t.Errorf("the consent state is not the backup's: %v", d)
	}
	// New consents continue the ledger after the restored entries.
	s.consent(map[string]any{"subject_id": kept, "choices": map[string]bool{"analytics": false}})
	if d := s.decide(kept, "analytics"); d["allow"] != false {
		t.Errorf("a consent after the restore: %v", d)
	}
	out.Reset()
	if err := runMain(context.Background(), []string{"staff", "list", "-db", url, "-data", data}, &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "kept.staff@shop.example") || strings.Contains(out.String(), "later.staff@shop.example") {
		t.Errorf("the staff accounts are not the backup's: %v %s", err, out.String())
	}
	rep := s.json("GET", "/v1/audit/verify", s.admin, nil, 200)
	if rep["ok"] != true || rep["entries"].(float64) < 8 {
		t.Errorf("audit after restore (not rolled back, restore audited): %v", rep)
	}
}
