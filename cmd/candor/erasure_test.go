package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/postgres"
)

// TestErasure, on both stores: a person is erased through the API; a
// backup taken before the erasure and restored after it does not bring
// them back; no byte of their e-mail, phone or city is in the data
// directory, the database, the backup or the server log.
func TestErasure(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testErasure(t, "", "") })
	t.Run("postgres", func(t *testing.T) {
		url, schema := testenv.Postgres(t)
		testErasure(t, url, schema)
	})
}

func testErasure(t *testing.T, url, schema string) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	opts := []serverOpt{}
	args := []string{"-data", data}
	if url != "" {
		opts = append(opts, func(c *Config) { c.DB, c.Store.DBSchema = url, schema })
		args = append(args, "-db", url)
		t.Setenv("CANDOR_DB_SCHEMA", schema)
	}
	tag := randHex(4)
	email, phone, city := "erase."+tag+"@example.com", "1391"+fmt.Sprint(1000000+len(tag)*12345), "Gulangyu"+tag
	s := startServer(t, dir, "", opts...)
	id := s.newSubject(map[string]any{"user_id": "erase-" + tag, "email": email, "phone": phone, "traits": map[string]any{"city": city}})
	other := s.newSubject(map[string]any{"user_id": "stays-" + tag, "email": "stays." + tag + "@example.com"})
	s.consent(map[string]any{"subject_id": id, "scope": "all"})
	for i := range 3 {
		if code, out, _ := s.post("/v1/track", s.write, mustJSON(t, map[string]any{"type": "track", "userId": "erase-" + tag, "event": "Products Searched",
			"messageId": fmt.Sprint("er-", i), "properties": map[string]any{"query": "write to " + email}})); code != 200 {
			t.Fatalf("track: %d %s", code, out)
		}
	}
	s.stop()
	backup := filepath.Join(dir, "before-erasure.db")
	if err := runMain(context.Background(), append([]string{"backup", "-to", backup}, args...), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}

	s = startServer(t, dir, "", opts...)
	req := s.json("POST", "/v1/rights", s.admin, map[string]any{"type": "erase", "subject_id": id, "verified": true, "suppress": true}, 202)
	if req["status"] != "done" || req["result"].(map[string]any)["events"].(float64) != 3 {
		t.Fatalf("erase request %v", req)
	}
	got := s.json("GET", "/v1/rights/"+req["id"].(string), s.admin, nil, 200)
	if got["status"] != "done" || got["type"] != "erase" {
		t.Fatalf("request read back %v", got)
	}
	if code, _, _ := s.do("GET", "/v1/subjects/"+id+"?purpose=service", s.admin, nil); code != 404 {
		t.Fatalf("the erased subject answers %d", code)
	}
	if d := s.decide(id, "service"); d["allow"] != false {
		t.Fatalf("decision for an erased subject: %v", d)
	}
	if code, _, _ := s.do("POST", "/v1/rights", s.write, map[string]any{"type": "erase", "subject_id": other, "verified": true}); code != 403 {
		t.Errorf("the write key filed an erasure: %d", code)
	}
	s.stop()

	// Restore the backup from before the erasure: the journal removes them again.
	var out bytes.Buffer
	if err := runMain(context.Background(), append([]string{"restore", "-from", backup}, args...), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "removed 1 subjects") {
		t.Errorf("restore output: %s", out.String())
	}
	s = startServer(t, dir, "", opts...)
	if code, _, _ := s.do("GET", "/v1/subjects/"+id+"?purpose=service", s.admin, nil); code != 404 {
		t.Fatalf("the restore brought the erased subject back: %d", code)
	}
	if f := s.json("GET", "/v1/subjects/"+other+"?purpose=service", s.admin, nil, 200)["fields"].(map[string]any); f["email"] != "stays."+tag+"@example.com" {
		t.Fatalf("the other subject after restore: %v", f)
	}
	if rep := s.json("GET", "/v1/audit/verify", s.admin, nil, 200); rep["ok"] != true {
		t.Errorf("audit: %v", rep)
	}
	s.stop()

	needles := []string{email, phone, "+86" + phone, city}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("%s holds %q", path, n)
			}
		}
		return nil
	})
	for _, n := range needles {
		if strings.Contains(s.log.String(), n) {
			t.Errorf("the log holds %q", n)
		}
	}
	if url != "" {
		db, err := postgres.Open(context.Background(), url, postgres.Options{Prefix: schema})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		values, err := db.Values(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			for _, n := range needles {
				if bytes.Contains(v, []byte(n)) {
					t.Errorf("a PostgreSQL value holds %q", n)
				}
			}
		}
	}
}

// TestWebhookSecret: `candor keys webhook-secret` gives the key that signs
// a recipient's webhooks, the same every time, and audits it.
func TestWebhookSecret(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "")
	s.stop()
	data := filepath.Join(dir, "data")
	var a, b bytes.Buffer
	if err := runMain(context.Background(), []string{"keys", "webhook-secret", "-recipient", "acme-ads", "-data", data}, &a, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := runMain(context.Background(), []string{"keys", "webhook-secret", "-recipient", "acme-ads", "-data", data}, &b, io.Discard); err != nil {
		t.Fatal(err)
	}
	if len(strings.TrimSpace(a.String())) != 64 || a.String() != b.String() {
		t.Fatalf("secrets %q %q", a.String(), b.String())
	}
	var c bytes.Buffer
	runMain(context.Background(), []string{"keys", "webhook-secret", "-recipient", "global-parcel", "-data", data}, &c, io.Discard)
	if c.String() == a.String() {
		t.Fatal("two recipients share a secret")
	}
	if err := runMain(context.Background(), []string{"keys", "webhook-secret", "-recipient", "nobody", "-data", data}, io.Discard, io.Discard); err == nil {
		t.Fatal("an unknown recipient got a secret")
	}
}
