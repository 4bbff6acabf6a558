// Package postgres is Candor's scale-out store, on PostgreSQL through pgx.
// Any number of stateless `candor serve` nodes share one database.
//
// The data, the key store and the audit log live in three schemas
// (candor_data, candor_keys and candor_audit by default), so that a dump of
// the data schema never holds a key. The key store can live in a database
// of its own (Options.KeysURL, CANDOR_KEYS_DB). Each schema has its own
// embedded migrations, applied in order, one transaction each, under an
// advisory lock so that nodes starting together apply each once.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations
var migrations embed.FS

// Options configures [Open].
type Options struct {
	// KeysURL names a separate database for the key store; empty keeps it
	// in its own schema of the main database.
	KeysURL string
	// Prefix starts the schema names: PREFIX_data, PREFIX_keys,
	// PREFIX_audit. Default "candor". Tests use a prefix each.
	Prefix string
	// MaxConns is the pool size per database; default 4 per CPU, at least 8.
	MaxConns int32
	// StatementTimeout bounds every statement; default 10s.
	StatementTimeout time.Duration
}

// DB is the PostgreSQL store. It implements [candor.Store].
type DB struct {
	pool     *pgxpool.Pool
	keysPool *pgxpool.Pool
	schemas  *strings.Replacer
	prefix   string

	// feed is the running change feed, if any: writes wait for its
	// acknowledgements.
	feed atomic.Pointer[Feed]
	// traits caches sealed traits while the feed is fresh.
	traits traitCache

	// The audit chain's head as this node last wrote or read it.
	auditMu        sync.Mutex
	auditHeadKnown bool
	auditSeq       int64
	auditHash      []byte
}

var _ candor.Store = (*DB)(nil)

var validPrefix = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`)

// Open connects to url (and opts.KeysURL) and applies migrations. TLS and
// everything else about the connection come from the URL (sslmode=…).
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	if opts.Prefix == "" {
		opts.Prefix = "candor"
	}
	if !validPrefix.MatchString(opts.Prefix) {
		return nil, fmt.Errorf("postgres: bad schema prefix %q", opts.Prefix)
	}
	if opts.StatementTimeout <= 0 {
		opts.StatementTimeout = 10 * time.Second
	}
	db := &DB{prefix: opts.Prefix, schemas: strings.NewReplacer(
		"{data}", opts.Prefix+"_data", "{keys}", opts.Prefix+"_keys", "{audit}", opts.Prefix+"_audit")}
	var err error
	if db.pool, err = connect(ctx, url, opts); err != nil {
		return nil, err
	}
	db.keysPool = db.pool
	if opts.KeysURL != "" {
		if db.keysPool, err = connect(ctx, opts.KeysURL, opts); err != nil {
			db.pool.Close()
			return nil, err
		}
	}
	for _, m := range []struct {
		pool   *pgxpool.Pool
		dir    string
		schema string
	}{{db.pool, "data", "{data}"}, {db.keysPool, "keys", "{keys}"}, {db.pool, "audit", "{audit}"}} {
		if err := db.migrate(ctx, m.pool, m.dir, db.q(m.schema)); err != nil {
			db.Close()
			return nil, fmt.Errorf("postgres: migrate %s: %w", m.dir, err)
		}
	}
	return db, nil
}

func connect(ctx context.Context, url string, opts Options) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parser's message may quote the URL, password included.
		return nil, errors.New("postgres: the database URL is not valid")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	} else if cfg.MaxConns < 8 {
		cfg.MaxConns = max(8, cfg.MaxConns*4)
	}
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(opts.StatementTimeout.Milliseconds())
	cfg.ConnConfig.RuntimeParams["application_name"] = "candor"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", redact(err))
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", redact(err))
	}
	return pool, nil
}

// redact drops connection details (which may hold a password) from an error.
func redact(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return errors.New("cannot reach the database")
	}
	return errors.New("cannot reach the database")
}

// Prefix returns the schema prefix.
func (db *DB) Prefix() string { return db.prefix }

// q puts the schema names into a statement.
func (db *DB) q(sql string) string { return db.schemas.Replace(sql) }

// migrationLock is the advisory lock key under which migrations run.
const migrationLock = 0x63616e646f72 // "candor"

// migrate applies the embedded migrations of dir not yet recorded in the
// schema's own table, each in one transaction with its record.
func (db *DB) migrate(ctx context.Context, pool *pgxpool.Pool, dir, schema string) error {
	names, err := fs.Glob(migrations, "migrations/"+dir+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := name[strings.LastIndexByte(name, '/')+1:]
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+schema+`.schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.schema_migrations WHERE name = $1`, base).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.Exec(ctx, db.q(string(body))); err != nil {
				return fmt.Errorf("%s: %w", base, err)
			}
			_, err := tx.Exec(ctx, `INSERT INTO `+schema+`.schema_migrations (name, applied_at) VALUES ($1, now())`, base)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Keys returns the key store.
func (db *DB) Keys() candor.KeyStore { return (*keyStore)(db) }

// Ping reports whether the databases answer.
func (db *DB) Ping(ctx context.Context) error {
	for _, p := range []*pgxpool.Pool{db.pool, db.keysPool} {
		if err := p.Ping(ctx); err != nil {
			return &candor.Error{Code: candor.EUNAVAILABLE, Message: "store unavailable"}
		}
	}
	return nil
}

// Close closes the pools.
func (db *DB) Close() error {
	if db.keysPool != nil && db.keysPool != db.pool {
		db.keysPool.Close()
	}
	if db.pool != nil {
		db.pool.Close()
	}
	return nil
}

// DropSchemas removes the store's schemas and everything in them. Tests
// call it to leave nothing behind.
func (db *DB) DropSchemas(ctx context.Context) error {
	for _, s := range []struct {
		pool   *pgxpool.Pool
		schema string
	}{{db.pool, "{data}"}, {db.pool, "{audit}"}, {db.keysPool, "{keys}"}} {
		if _, err := s.pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+db.q(s.schema)+` CASCADE`); err != nil {
			return err
		}
	}
	return nil
}

// SQLSTATE codes.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// wrap turns a driver error into a Candor error: unavailable when the
// database cannot be reached or is shutting down, internal otherwise.
func wrap(op string, err error) error {
	if err == nil || candor.ErrorCode(err) != candor.EINTERNAL {
		return err
	}
	code := pgCode(err)
	switch {
	case code == "":
		if errors.Is(err, context.Canceled) {
			return err
		}
		// No SQLSTATE: the connection failed or timed out.
		return &candor.Error{Code: candor.EUNAVAILABLE, Message: "store unavailable; try again"}
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "57"), code == "40001", code == "40P01":
		// connection exceptions, insufficient resources, operator
		// intervention (shutdown, statement timeout), serialization failure, deadlock
		return &candor.Error{Code: candor.EUNAVAILABLE, Message: "store unavailable; try again"}
	}
	return fmt.Errorf("postgres: %s: %w", op, redact(err))
}

// Values returns every text, bytea, json and array value stored in every
// table of the store's schemas, for tests that look for plaintext personal
// data.
func (db *DB) Values(ctx context.Context) ([][]byte, error) {
	var out [][]byte
	for _, s := range []struct {
		pool   *pgxpool.Pool
		schema string
	}{{db.pool, db.q("{data}")}, {db.keysPool, db.q("{keys}")}, {db.pool, db.q("{audit}")}} {
		rows, _ := s.pool.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
			WHERE table_schema = $1 AND data_type IN ('text', 'bytea', 'jsonb', 'json', 'ARRAY', 'character varying')`, s.schema)
		type col struct{ table, column, typ string }
		cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (col, error) {
			var c col
			return c, r.Scan(&c.table, &c.column, &c.typ)
		})
		if err != nil {
			return nil, err
		}
		for _, c := range cols {
			expr := pgx.Identifier{c.column}.Sanitize() // bytea comes back as its bytes, not as hex
			switch c.typ {
			case "ARRAY":
				expr = "array_to_string(" + expr + ", ',')::bytea"
			case "text", "character varying", "json", "jsonb":
				expr = "convert_to(" + expr + "::text, 'UTF8')"
			}
			q := fmt.Sprintf(`SELECT %s FROM %s.%s WHERE %s IS NOT NULL`, expr,
				pgx.Identifier{s.schema}.Sanitize(), pgx.Identifier{c.table}.Sanitize(), pgx.Identifier{c.column}.Sanitize())
			rows, _ := s.pool.Query(ctx, q)
			vals, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
			if err != nil {
				return nil, err
			}
			out = append(out, vals...)
		}
	}
	return out, nil
}
