package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/candorhq/candor"
)

// lockFile is held shared by every process that has the store open, and
// exclusively by a restore, so that a restore never swaps the data under a
// running server.
const lockFile = "candor.lock"

func lockDir(dir string, how int) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, errors.New("sqlite: the data directory is in use by another Candor process (stop it first)")
	}
	return f, nil
}

// Backup writes a consistent copy of the data store (never the key store,
// never the audit log) to path, which must not exist.
func (db *DB) Backup(ctx context.Context, path string) error {
	if err := createEmpty(path); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if _, err := db.data.w.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}

// Restore replaces the data store in dir with the backup at from. The key
// store and the audit log are not touched. It refuses while another process
// has the store open, and checks that from is a Candor data store first.
func Restore(ctx context.Context, dir, from string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	lock, err := lockDir(dir, syscall.LOCK_EX)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := checkBackup(ctx, from); err != nil {
		return err
	}
	dst := filepath.Join(dir, DataFile)
	tmp := dst + ".restore"
	if err := copyFile(from, tmp); err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(dst + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("sqlite: restore: %w", err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	return nil
}

func checkBackup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('subjects', 'consents', 'schema_migrations')`).Scan(&n); err != nil || n != 3 {
		return fmt.Errorf("sqlite: restore: %s is not a Candor data store backup", path)
	}
	var ok string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		return fmt.Errorf("sqlite: restore: %s is damaged", path)
	}
	var keys int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name IN ('subject_keys', 'system_keys')`).Scan(&keys); err != nil || keys != 0 {
		return fmt.Errorf("sqlite: restore: %s holds keys; refusing", path)
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := out.Chmod(0o600); err != nil { // a leftover of an earlier restore keeps its mode
		out.Close()
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// WriteBackupFile writes the rows that produce emits (as
// [candor.DataTables] describes them) into a new data store file at path,
// which must not exist: the backup format of every store.
func WriteBackupFile(ctx context.Context, path string, produce func(emit func(candor.Row) error) error) error {
	if err := createEmpty(path); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(DELETE)&_pragma=foreign_keys(1)")
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db, "data"); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer tx.Rollback()
	stmts := map[string]*sql.Stmt{}
	for _, t := range candor.DataTables {
		names := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			names[i] = c.Name
		}
		if stmts[t.Name], err = tx.PrepareContext(ctx, `INSERT INTO `+t.Name+` (`+strings.Join(names, ", ")+`) VALUES (`+placeholders(len(names))+`)`); err != nil {
			return fmt.Errorf("sqlite: backup: %w", err)
		}
	}
	err = produce(func(row candor.Row) error {
		vals := make([]any, len(row.Values))
		for i, v := range row.Values {
			switch v := v.(type) {
			case time.Time:
				vals[i] = ts(v)
			default:
				vals[i] = v
			}
		}
		st := stmts[row.Table]
		if st == nil {
			return fmt.Errorf("sqlite: backup: unknown table %q", row.Table)
		}
		if _, err := st.ExecContext(ctx, vals...); err != nil {
			return fmt.Errorf("sqlite: backup: %s: %w", row.Table, err)
		}
		return nil
	})
	if err != nil {
		os.Remove(path)
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}

// ReadBackupFile checks a backup file and calls fn for each row, table by
// table in [candor.DataTables] order, with values as that list describes.
func ReadBackupFile(ctx context.Context, path string, fn func(candor.Row) error) error {
	if err := checkBackup(ctx, path); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	defer db.Close()
	for _, t := range candor.DataTables {
		names := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			names[i] = c.Name
		}
		rows, err := db.QueryContext(ctx, `SELECT `+strings.Join(names, ", ")+` FROM `+t.Name)
		if err != nil {
			return fmt.Errorf("sqlite: restore: %s: %w", t.Name, err)
		}
		for rows.Next() {
			raw := make([]any, len(names))
			ptrs := make([]any, len(names))
			for i := range raw {
				ptrs[i] = &raw[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: restore: %s: %w", t.Name, err)
			}
			for i, c := range t.Columns {
				raw[i] = fromSQLite(raw[i], c.Kind)
			}
			if err := fn(candor.Row{Table: t.Name, Values: raw}); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: restore: %s: %w", t.Name, err)
		}
	}
	return nil
}

// fromSQLite turns a value as SQLite returns it into the kind's type.
func fromSQLite(v any, kind string) any {
	if v == nil {
		return nil
	}
	switch kind {
	case candor.KindTime:
		if s, ok := v.(string); ok {
			return parseTS(s)
		}
	case candor.KindBool:
		if n, ok := v.(int64); ok {
			return n != 0
		}
	case candor.KindText, candor.KindJSON:
		if b, ok := v.([]byte); ok {
			return string(b)
		}
	case candor.KindBytes:
		if s, ok := v.(string); ok {
			return []byte(s)
		}
	}
	return v
}
