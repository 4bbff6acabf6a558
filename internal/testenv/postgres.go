package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the environment variable that holds the connection URL
// of the PostgreSQL that tests may use.
const PostgresEnv = "CANDOR_TEST_POSTGRES"

// Postgres returns the test PostgreSQL's URL and a schema prefix of the
// test's own (for postgres.Options.Prefix), or skips the test when
// CANDOR_TEST_POSTGRES is not set. When the test ends, every schema whose
// name starts with the prefix is dropped; cleanups registered after this
// call (closing the store) run before that.
func Postgres(tb testing.TB) (url, prefix string) {
	tb.Helper()
	url = os.Getenv(PostgresEnv)
	if url == "" {
		tb.Skip(PostgresEnv + " is not set")
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix = "t" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		if err := dropSchemas(context.Background(), url, prefix); err != nil {
			tb.Errorf("testenv: drop the schemas of %s: %v", prefix, err)
		}
	})
	return url, prefix
}

// dropSchemas drops the schemas PREFIX_*.
func dropSchemas(ctx context.Context, url, prefix string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname`, prefix+"_")
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{n}.Sanitize()+` CASCADE`); err != nil {
			return err
		}
	}
	return nil
}
