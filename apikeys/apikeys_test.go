package apikeys_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/apikeys"
	"github.com/candorhq/candor/sqlite"
)

func TestKeys(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k := apikeys.New(db, db.Keys(), 0)

	// Generated once, then kept.
	first, err := k.Ensure(ctx, "admin", candor.RoleAdmin, "")
	if err != nil || !strings.HasPrefix(first, apikeys.Prefix) {
		t.Fatalf("ensure: %q %v", first, err)
	}
	if again, _ := k.Ensure(ctx, "admin", candor.RoleAdmin, ""); again != "" {
		t.Error("a second key was generated")
	}
	if rec, err := k.Check(ctx, first); err != nil || rec.Role != candor.RoleAdmin {
		t.Fatalf("check: %+v %v", rec, err)
	}
	for _, bad := range []string{"", "cndr_", "not-a-key", first + "x", strings.Repeat("cndr_", 100)} {
		if _, err := k.Check(ctx, bad); candor.ErrorCode(err) != candor.EUNAUTHORIZED {
			t.Errorf("check %.20q: %v", bad, err)
		}
	}
	// A key given in the environment replaces the generated one.
	given := apikeys.Generate()
	if _, err := k.Ensure(ctx, "admin", candor.RoleAdmin, given); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Check(ctx, first); candor.ErrorCode(err) != candor.EUNAUTHORIZED {
		t.Errorf("the replaced key still works: %v", err)
	}
	if _, err := k.Check(ctx, given); err != nil {
		t.Errorf("the given key: %v", err)
	}
	if _, err := k.Ensure(ctx, "admin", candor.RoleAdmin, "cndr_short"); candor.ErrorCode(err) != candor.EINVALID {
		t.Errorf("a short key: %v", err)
	}
	// Only the hash is stored.
	all, _ := db.APIKeys(ctx)
	for _, r := range all {
		if strings.Contains(string(r.Hash), given) {
			t.Error("the key is stored in the clear")
		}
	}
	// Revocation takes effect at once.
	rec, key, _ := k.Issue(ctx, "support desk", "support")
	if err := k.Revoke(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Check(ctx, key); candor.ErrorCode(err) != candor.EUNAUTHORIZED {
		t.Errorf("revoked key: %v", err)
	}
}

// TestRevocationSurvivesRollback: the data store is rolled back to before
// a revocation (as a restore does): the key is refused at once, by this
// checker and a fresh one, and Replay revokes it in the data store again.
func TestRevocationSurvivesRollback(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k := apikeys.New(db, db.Keys(), 0)
	rec, key, err := k.Issue(ctx, "partner", candor.RoleWrite)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Check(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := k.Revoke(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if err := k.Revoke(ctx, "key_nobody"); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Errorf("revoking an unknown key: %v", err)
	}
	// The rollback: the data store forgets the revocation.
	raw, err := sql.Open("sqlite", filepath.Join(dir, sqlite.DataFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE api_keys SET revoked_at = NULL WHERE id = ?`, rec.ID); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if got, _ := db.APIKeyByHash(ctx, apikeys.Hash(key)); got.RevokedAt != nil {
		t.Fatal("the rollback did not take")
	}
	for _, c := range []*apikeys.Service{k, apikeys.New(db, db.Keys(), 0)} {
		if _, err := c.Check(ctx, key); candor.ErrorCode(err) != candor.EUNAUTHORIZED {
			t.Errorf("a journaled key after the rollback: %v", err)
		}
	}
	if _, err := k.Ensure(ctx, "partner", candor.RoleWrite, key); candor.ErrorCode(err) != candor.ECONFLICT {
		t.Errorf("ensuring a journaled key: %v", err)
	}
	if n, err := apikeys.Replay(ctx, db, db.Keys()); err != nil || n != 1 {
		t.Fatalf("replay: %d %v", n, err)
	}
	if got, _ := db.APIKeyByHash(ctx, apikeys.Hash(key)); got.RevokedAt == nil {
		t.Error("replay did not revoke the key in the data store")
	}
	if n, err := apikeys.Replay(ctx, db, db.Keys()); err != nil || n != 0 {
		t.Errorf("second replay: %d %v", n, err)
	}
}

// TestReplayJournalsOldRevocations: a key revoked in the data store
// before the journal existed is journaled by Replay.
func TestReplayJournalsOldRevocations(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PutAPIKey(ctx, candor.APIKey{ID: "key_old", Name: "old", Role: candor.RoleWrite, Hash: apikeys.Hash("cndr_old"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	db.RevokeAPIKey(ctx, "key_old", time.Now())
	if _, err := apikeys.Replay(ctx, db, db.Keys()); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.Keys().APIKeyRevoked(ctx, apikeys.Hash("cndr_old")); !ok {
		t.Error("an old revocation was not journaled")
	}
}
