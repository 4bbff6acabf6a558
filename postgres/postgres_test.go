package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/postgres"
	"github.com/candorhq/candor/storetest"
)

// open opens a store in schemas of its own, dropped when the test ends, or
// skips when CANDOR_TEST_POSTGRES is not set.
func open(t *testing.T) *postgres.DB {
	t.Helper()
	url := os.Getenv("CANDOR_TEST_POSTGRES")
	if url == "" {
		t.Skip("CANDOR_TEST_POSTGRES is not set")
	}
	b := make([]byte, 6)
	rand.Read(b)
	db, err := postgres.Open(context.Background(), url, postgres.Options{Prefix: "t" + hex.EncodeToString(b)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.DropSchemas(context.Background()); err != nil {
			t.Error(err)
		}
		db.Close()
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) candor.Store { return open(t) })
}
