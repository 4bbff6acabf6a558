package apikeys_test

import (
	"context"
	"strings"
	"testing"

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
	k := apikeys.New(db, 0)

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
