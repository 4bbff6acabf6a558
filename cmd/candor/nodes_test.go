package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/postgres"
)

// TestTwoNodesOnePostgres runs two servers on one PostgreSQL: a subject
// written through one is read through the other, and a consent given or
// withdrawn through one decides the very next request on the other.
func TestTwoNodesOnePostgres(t *testing.T) {
	url, schema := testenv.Postgres(t)
	dir := t.TempDir()
	shared := func(c *Config) { c.DB, c.Store.DBSchema = url, schema }
	// The first node makes the master key in its data directory; the
	// second is given the same file, as every node must be.
	a := startServer(t, dir, "", shared, func(c *Config) { c.DataDir = filepath.Join(dir, "node-a") })
	keyFile := filepath.Join(dir, "node-a", "master-key.json")
	bn := startServer(t, dir, "", shared, func(c *Config) { c.DataDir, c.Store.MasterKeyFile = filepath.Join(dir, "node-b"), keyFile })

	id := a.newSubject(map[string]any{"user_id": "two-nodes", "email": "two.nodes@example.com"})
	got := bn.json("GET", "/v1/subjects/"+id+"?purpose=service", bn.admin, nil, 200)["fields"].(map[string]any)
	if got["email"] != "two.nodes@example.com" {
		t.Fatalf("node B reads %v", got)
	}
	for i := range 20 {
		grant := i%2 == 0
		writer, reader := a, bn
		if i%3 == 0 {
			writer, reader = bn, a
		}
		writer.consent(map[string]any{"subject_id": id, "choices": map[string]bool{"marketing.email": grant}})
		if d := reader.decide(id, "marketing.email"); d["allow"] != grant {
			t.Fatalf("round %d: consent %v through one node, the other decides %v", i, grant, d)
		}
	}
	// Both nodes appended to one audit chain.
	a.stop()
	bn.stop()
	db, err := postgres.Open(context.Background(), url, postgres.Options{Prefix: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := openStackWith(context.Background(), storeConfig{DataDir: dir, DB: url, DBSchema: schema, MasterKeyFile: keyFile}, false, quietLog(), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := audit.Verify(context.Background(), db, audit.VerifyOptions{Anchors: db.Keys(), Keys: st.auditKeys})
	if err != nil || !rep.OK || rep.Entries != 22 { // 1 create, 1 read, 20 consents
		t.Errorf("audit after two nodes: %+v %v", rep, err)
	}
}
