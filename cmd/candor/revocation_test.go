package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// TestRevocationSurvivesRestore, on both stores: an API key issued
// before a backup and revoked after it stays revoked when the backup is
// restored: the revocation journal beside the keys is not rolled back.
func TestRevocationSurvivesRestore(t *testing.T) {
	onBothStores(t, func(t *testing.T, c *auditCase) {
		s := startServer(t, c.dir, "", c.opts...)
		issued := s.json("POST", "/v1/apikeys", s.admin, map[string]any{"name": "partner feed", "role": "write"}, 201)
		id, key := issued["id"].(string), issued["key"].(string)
		track := func(s *testServer, n string) int {
			code, _, _ := s.post("/v1/track", key, mustJSON(t, map[string]any{"type": "track", "anonymousId": "anon-rev", "event": "Product Viewed",
				"messageId": "rev-" + n, "properties": map[string]any{"product_id": "p1"}}))
			return code
		}
		if code := track(s, "1"); code != 200 {
			t.Fatalf("the new key: %d", code)
		}
		s.stop()
		backup := filepath.Join(c.dir, "backup.db")
		if code, out, errs := c.run(t, "backup", "-to", backup); code != 0 {
			t.Fatalf("backup: %d %s %s", code, out, errs)
		}

		s = startServer(t, c.dir, "", c.opts...)
		if code, out, _ := s.do("DELETE", "/v1/apikeys/"+id, s.admin, nil); code != 204 {
			t.Fatalf("revoke: %d %s", code, out)
		}
		if code := track(s, "2"); code != 401 {
			t.Fatalf("the revoked key: %d", code)
		}
		s.stop()

		var out bytes.Buffer
		if err := runMain(context.Background(), append([]string{"restore", "-from", backup}, c.args...), &out, io.Discard); err != nil {
			t.Fatalf("restore: %v %s", err, out.String())
		}
		if !strings.Contains(out.String(), "revoked 1 API keys again") {
			t.Errorf("restore output: %s", out.String())
		}
		s = startServer(t, c.dir, "", c.opts...)
		if code := track(s, "3"); code != 401 {
			t.Errorf("the restore brought the revoked key back: %d", code)
		}
		for _, k := range s.json("GET", "/v1/apikeys", s.admin, nil, 200)["keys"].([]any) {
			if k := k.(map[string]any); k["id"] == id && k["revoked_at"] == nil {
				t.Errorf("the restored data store lists the key as live: %v", k)
			}
		}
		if rep := s.json("GET", "/v1/audit/verify", s.admin, nil, 200); rep["ok"] != true {
			t.Errorf("audit: %v", rep)
		}
	})
}
