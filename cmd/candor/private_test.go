//go:build unix

package main

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestDataDirectoryIsPrivate runs the demo under the usual umask 022 on a
// fresh data directory, writes through it, takes a backup, and checks that
// every directory Candor made is 0700 and every file 0600: the stores and
// their -wal and -shm files, the master key and its lock, the demo's
// password and key files, and the backup. A password file left with a wider
// mode is tightened when rewritten.
func TestDataDirectoryIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s := startServer(t, dir, "", func(c *Config) { c.Demo, c.DemoSize, c.PolicyFile = true, 5, "" })
	s.newSubject(map[string]any{"user_id": "private", "email": "private.files@example.com"})
	for _, name := range []string{"data.db-wal", "data.db-shm", "keys.db-wal", "audit.db-wal", "master-key.json", "demo-staff-password"} {
		if _, err := os.Stat(filepath.Join(data, name)); err != nil {
			t.Errorf("%s: %v (the test expects it)", name, err)
		}
	}
	checkPrivateTree(t, data)
	s.stop()
	backup := filepath.Join(dir, "backup.db")
	if err := runMain(context.Background(), []string{"backup", "-data", data, "-to", backup}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	checkPrivateTree(t, backup)
	checkPrivateTree(t, data)

	f := filepath.Join(dir, "loose")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writePrivateFile(f, []byte("secret\n")); err != nil {
		t.Fatal(err)
	}
	checkPrivateTree(t, f)
}

// TestUmask: the binary starts by restricting its umask to 077.
func TestUmask(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	restrictUmask()
	if got := syscall.Umask(0o022); got != 0o077 {
		t.Errorf("umask %#o, want 077", got)
	}
}

func checkPrivateTree(t *testing.T, root string) {
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
