//go:build unix

package main

import "syscall"

// restrictUmask makes every file and directory the process creates, by
// Candor's code or by a library (SQLite's -wal and -shm files, a CPU
// profile), private to its owner from its first byte, whatever umask the
// shell or the service manager set.
func restrictUmask() { syscall.Umask(0o077) }
