// Package sqlite is Candor's embedded store, on SQLite through
// modernc.org/sqlite (pure Go, so the binary stays static).
//
// A data directory holds three database files, each with its own migrations:
// data.db (subjects, sealed traits and identifiers, consents, notices, API
// keys), keys.db (wrapped subject and system keys: the key store, kept apart
// so that a copy of the data never holds a key) and audit.db (the audit log
// and its checkpoints, which a restore of the data never rolls back).
//
// Each file is opened in WAL mode with secure_delete on, one writer
// connection and a pool of readers.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/candorhq/candor"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrations embed.FS

// File names in the data directory.
const (
	DataFile  = "data.db"
	KeysFile  = "keys.db"
	AuditFile = "audit.db"
)

// DB is the embedded store. It implements [candor.Store]; [DB.Keys] returns
// the key store.
type DB struct {
	dir   string
	lock  *os.File
	data  *conn
	keys  *conn
	audit *conn
}

var _ candor.Store = (*DB)(nil)

// conn is one database file: a single writer connection and a reader pool.
type conn struct {
	path  string
	w     *sql.DB
	r     *sql.DB
	stmts sync.Map // query → *sql.Stmt on r: SQLite parses a statement once per connection
}

// prepared returns the reader pool's prepared statement for q.
func (c *conn) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if s, ok := c.stmts.Load(q); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := c.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := c.stmts.LoadOrStore(q, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// queryRow runs q on the reader pool through a prepared statement.
func (c *conn) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := c.prepared(ctx, q)
	if err != nil {
		return c.r.QueryRowContext(ctx, q, args...) // reports the same error
	}
	return s.QueryRowContext(ctx, args...)
}

// query runs q on the reader pool through a prepared statement.
func (c *conn) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := c.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// Open opens (creating if needed) the store in dir and applies migrations.
func Open(ctx context.Context, dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create data directory: %w", err)
	}
	lock, err := lockDir(dir, syscall.LOCK_SH)
	if err != nil {
		return nil, err
	}
	db := &DB{dir: dir, lock: lock}
	for _, f := range []struct {
		c    **conn
		name string
		migr string
	}{{&db.data, DataFile, "data"}, {&db.keys, KeysFile, "keys"}, {&db.audit, AuditFile, "audit"}} {
		if *f.c, err = openConn(ctx, filepath.Join(dir, f.name), f.migr); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

func openConn(ctx context.Context, path, migr string) (*conn, error) {
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", filepath.Base(path), err)
	}
	q := url.Values{}
	// The data store and the audit log sync to disk at WAL checkpoints
	// (NORMAL): a commit survives a crash of the process, and the last
	// second of commits may be lost with the power (PostgreSQL syncs every
	// commit). The key store syncs every commit (FULL): a shredded key must
	// stay shredded whatever happens to the machine, and its writes are few.
	sync := "synchronous(NORMAL)"
	if migr == "keys" {
		sync = "synchronous(FULL)"
	}
	// busy_timeout first, so that the pragmas after it wait instead of failing.
	for _, p := range []string{"busy_timeout(5000)", "journal_mode(WAL)", sync, "foreign_keys(1)", "secure_delete(1)"} {
		q.Add("_pragma", p)
	}
	wq := url.Values{}
	for k, v := range q {
		wq[k] = v
	}
	wq.Set("_txlock", "immediate")
	if migr == "data" {
		// The writer checkpoints every 8,192 pages (32 MiB) of log instead
		// of every 1,000: far fewer syncs and copies of hot pages under a
		// stream of writes. It keeps 8 MiB of pages, enough for the upper
		// levels of the indexes it writes.
		wq.Add("_pragma", "wal_autocheckpoint(8192)")
		wq.Add("_pragma", "cache_size(-8192)")
	}
	w, err := sql.Open("sqlite", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", filepath.Base(path), err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	c := &conn{path: path, w: w}
	if err := migrate(ctx, w, migr); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", filepath.Base(path), err)
	}
	q.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", filepath.Base(path), err)
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	c.r = r
	return c, nil
}

// createPrivate creates the database file at path with mode 0600 if it does
// not exist, and sets 0600 on it and on its -wal, -shm and -journal files if
// they do (a store made by an older version), before SQLite opens it: SQLite
// gives a new -wal, -shm or -journal file the mode of its database file, so
// a database file created by SQLite itself (0644 under the usual umask) and
// tightened afterwards would leave its logs, which hold the same rows,
// readable by every user of the machine.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	err = f.Chmod(0o600)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Chmod(path+suffix, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// createEmpty creates path, which must not exist, as an empty file of mode
// 0600 for SQLite to fill (VACUUM INTO and a new database accept an empty
// file), so that the file is private from its first byte.
func createEmpty(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s exists", path)
		}
		return err
	}
	err = f.Chmod(0o600) // whatever the umask
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// migrate applies, in name order, the embedded migrations of folder dir that
// are not yet recorded; each in one transaction with its record, so a
// migration that fails leaves the schema as it was.
func migrate(ctx context.Context, db *sql.DB, dir string) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/"+dir+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, base).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("%s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, base, time.Now().UTC().Format(time.RFC3339)); err != nil {
			tx.Rollback()
			return fmt.Errorf("%s: %w", base, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("%s: %w", base, err)
		}
	}
	return nil
}

// Dir returns the data directory.
func (db *DB) Dir() string { return db.dir }

// Keys returns the key store.
func (db *DB) Keys() candor.KeyStore { return (*keyStore)(db) }

// Ping reports whether every file answers.
func (db *DB) Ping(ctx context.Context) error {
	for _, c := range []*conn{db.data, db.keys, db.audit} {
		if err := c.r.PingContext(ctx); err != nil {
			return candor.Errorf(candor.EUNAVAILABLE, "store unavailable")
		}
	}
	return nil
}

// Close closes every file.
func (db *DB) Close() error {
	var errs []error
	for _, c := range []*conn{db.data, db.keys, db.audit} {
		if c == nil {
			continue
		}
		if c.r != nil {
			errs = append(errs, c.r.Close())
		}
		errs = append(errs, c.w.Close())
	}
	if db.lock != nil {
		errs = append(errs, db.lock.Close())
	}
	return errors.Join(errs...)
}

// Checkpoint copies the write-ahead logs into the database files.
func (db *DB) Checkpoint(ctx context.Context) error {
	for _, c := range []*conn{db.data, db.keys, db.audit} {
		if _, err := c.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("sqlite: checkpoint: %w", err)
		}
	}
	return nil
}

// isConstraint reports whether err is a UNIQUE or PRIMARY KEY violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true
		}
	}
	return false
}

// busy reports whether err means the database could not be reached in time.
func busy(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED || c == sqlite3.SQLITE_IOERR || c == sqlite3.SQLITE_FULL
	}
	return false
}

// wrap turns a driver error into a Candor error: unavailable when the
// database is busy or failing, internal (with context) otherwise.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if candor.ErrorCode(err) != candor.EINTERNAL {
		return err
	}
	if busy(err) {
		return &candor.Error{Code: candor.EUNAVAILABLE, Message: "store busy; try again"}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// tsLayout is RFC 3339 with nanoseconds always written out: fixed width,
// so that times compare correctly as text in SQL (RFC3339Nano drops
// trailing zeros, and "…01Z" sorts after "…01.5Z").
const tsLayout = "2006-01-02T15:04:05.000000000Z07:00"

func ts(t time.Time) string { return t.UTC().Format(tsLayout) }

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// isForeignKey reports whether err is a FOREIGN KEY violation.
func isForeignKey(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// Values returns every text and blob value stored in every table of the
// three files, for tests that look for plaintext personal data.
func (db *DB) Values(ctx context.Context) ([][]byte, error) {
	var out [][]byte
	for _, c := range []*conn{db.data, db.keys, db.audit} {
		rows, err := c.r.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
		if err != nil {
			return nil, err
		}
		var tables []string
		for rows.Next() {
			var t string
			rows.Scan(&t)
			tables = append(tables, t)
		}
		rows.Close()
		for _, t := range tables {
			vals, err := tableValues(ctx, c.r, t)
			if err != nil {
				return nil, err
			}
			out = append(out, vals...)
		}
	}
	return out, nil
}

func tableValues(ctx context.Context, db *sql.DB, table string) ([][]byte, error) {
	rows, err := db.QueryContext(ctx, `SELECT * FROM "`+strings.ReplaceAll(table, `"`, `""`)+`"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]byte
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for _, v := range vals {
			switch v := v.(type) {
			case string:
				out = append(out, []byte(v))
			case []byte:
				out = append(out, v)
			}
		}
	}
	return out, rows.Err()
}
