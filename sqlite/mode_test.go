//go:build unix

package sqlite_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/sqlite"
)

// TestFilesArePrivateFromTheFirstByte opens a fresh store under the usual
// umask 022 and checks that the data directory and every file in it,
// write-ahead logs and shared-memory files included, and a backup, are
// readable by the owner only. SQLite gives a -wal or -shm file the mode of
// its database file at the moment it creates it, so a database file made
// 0644 and tightened afterwards leaves its logs readable by every user.
func TestFilesArePrivateFromTheFirstByte(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "new", "data")
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_a", Create: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendAudit(ctx, []*candor.AuditEntry{{Actor: "a", Action: "x", Decision: "ok"}}, func(s int64, h []byte, e *candor.AuditEntry) { e.Seq, e.Hash = s+1, []byte("h") }); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(root, "backup.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(root, "export.db")
	if err := sqlite.WriteBackupFile(ctx, export, func(emit func(candor.Row) error) error { return nil }); err != nil {
		t.Fatal(err)
	}
	checkPrivate(t, filepath.Join(root, "new"))
	for _, name := range []string{sqlite.DataFile + "-wal", sqlite.DataFile + "-shm", sqlite.AuditFile + "-wal", sqlite.KeysFile + "-wal"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v (the test expects it to exist after a write)", name, err)
		}
	}
	checkPrivate(t, backup)
	checkPrivate(t, export)
}

// checkPrivate fails for each directory under root not 0700 and each file
// not 0600.
func checkPrivate(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %#o, want %#o", path, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
