package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
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
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("sqlite: backup: %s exists", path)
	}
	if _, err := db.data.w.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return os.Chmod(path, 0o600)
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
