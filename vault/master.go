package vault

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// masterKey is the key-encryption key that wraps subject and system keys.
// The cleartext keyset file ([fileMasterKey]) is the one implementation; a
// KMS-backed one would implement the same four methods (its state holding a
// remote AEAD, rotate asking the KMS for a new key version).
type masterKey interface {
	// state returns the current keys. Callers keep the pointer to tell, after
	// a failure, whether someone else has reloaded meanwhile.
	state() *masterState
	// reload re-reads the key from its source if it changed and reports
	// whether it did.
	reload() (bool, error)
	// rotate adds a new primary key, persists it and returns its id.
	rotate() (uint32, error)
	// created reports whether opening it generated a new key.
	created() bool
}

// masterState is one version of the master keyset.
type masterState struct {
	aead    tink.AEAD // every enabled key; encrypts with the primary
	primary uint32
	keys    []MasterKeyInfo
	sum     [sha256.Size]byte // of the file it was read from
	fi      os.FileInfo       // of the file it was read from; nil if written here
}

// maxKeysetFile bounds the master keyset file we are willing to read.
const maxKeysetFile = 1 << 20

// fileMasterKey is a Tink keyset kept in cleartext JSON in a file of mode
// 0600: the documented "file" mode. Writers (creation, rotation) hold an
// exclusive flock on path+".lock" and replace the file atomically, so a
// reader in another process sees the old or the new keyset, never a mix.
type fileMasterKey struct {
	path    string
	cur     atomic.Pointer[masterState]
	mu      sync.Mutex // serializes reloads
	isFresh bool
}

var _ masterKey = (*fileMasterKey)(nil)

// openFileMasterKey reads the keyset at path, creating it first when it is
// missing and create is set.
func openFileMasterKey(path string, create bool) (*fileMasterKey, error) {
	if path == "" {
		return nil, errors.New("vault: no master key file given")
	}
	m := &fileMasterKey{path: path}
	st, err := m.read()
	if errors.Is(err, fs.ErrNotExist) && create {
		st, err = m.create()
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("vault: master key file %s does not exist: point the configuration at the master keyset, or create a demo key", path)
	}
	if err != nil {
		return nil, err
	}
	m.cur.Store(st)
	return m, nil
}

func (m *fileMasterKey) state() *masterState { return m.cur.Load() }
func (m *fileMasterKey) created() bool       { return m.isFresh }

// reload implements [masterKey]. Writers replace the file by renaming a new
// one over it, so a file whose identity, size, mode and modification time
// are those of the one last read has not changed: then reload costs a stat.
// Otherwise it reads the file and keeps it if its contents differ.
func (m *fileMasterKey) reload() (bool, error) {
	if unchanged(m.path, m.cur.Load()) {
		return false, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.cur.Load()
	if unchanged(m.path, cur) {
		return false, nil // reloaded by someone else meanwhile
	}
	st, err := m.read()
	if err != nil {
		return false, err
	}
	m.cur.Store(st) // even if the same keys: remember the file's identity
	return st.sum != cur.sum, nil
}

// unchanged reports whether the file at path is, by its stat, the one st
// was read from.
func unchanged(path string, st *masterState) bool {
	if st.fi == nil {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, st.fi) && fi.Size() == st.fi.Size() &&
		fi.Mode() == st.fi.Mode() && fi.ModTime().Equal(st.fi.ModTime())
}

// create generates a keyset with one AES-256-GCM key and writes it, unless
// another process did so first.
func (m *fileMasterKey) create() (*masterState, error) {
	if err := os.MkdirAll(filepath.Dir(m.path), 0o700); err != nil {
		return nil, fmt.Errorf("vault: create master key: %w", err)
	}
	unlock, err := lockFile(m.path + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if st, err := m.read(); !errors.Is(err, fs.ErrNotExist) {
		return st, err // created meanwhile, or unreadable
	}
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, fmt.Errorf("vault: create master key: %w", err)
	}
	data, err := marshalKeyset(h)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(m.path, data); err != nil {
		return nil, err
	}
	m.isFresh = true
	return parseMasterKeyset(data)
}

// rotate implements [masterKey]: under the lock, it re-reads the file (so a
// rotation by another process is not lost), adds a new AES-256-GCM key with
// the TINK prefix, makes it primary and replaces the file.
func (m *fileMasterKey) rotate() (uint32, error) {
	unlock, err := lockFile(m.path + ".lock")
	if err != nil {
		return 0, err
	}
	defer unlock()
	m.mu.Lock() // no reload may store an older keyset over the new one
	defer m.mu.Unlock()
	data, _, err := m.readFile()
	if err != nil {
		return 0, err
	}
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(data)))
	if err != nil {
		return 0, fmt.Errorf("vault: read master key file %s: %w", m.path, err)
	}
	mgr := keyset.NewManagerFromHandle(h)
	id, err := mgr.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		return 0, fmt.Errorf("vault: rotate master key: %w", err)
	}
	if err := mgr.SetPrimary(id); err != nil {
		return 0, fmt.Errorf("vault: rotate master key: %w", err)
	}
	if h, err = mgr.Handle(); err != nil {
		return 0, fmt.Errorf("vault: rotate master key: %w", err)
	}
	if data, err = marshalKeyset(h); err != nil {
		return 0, err
	}
	st, err := parseMasterKeyset(data)
	if err != nil {
		return 0, err
	}
	if err := writeFileAtomic(m.path, data); err != nil {
		return 0, err
	}
	m.cur.Store(st)
	return id, nil
}

// read reads and parses the keyset file.
func (m *fileMasterKey) read() (*masterState, error) {
	data, fi, err := m.readFile()
	if err != nil {
		return nil, err
	}
	st, err := parseMasterKeyset(data)
	if err != nil {
		return nil, fmt.Errorf("vault: master key file %s: %w", m.path, err)
	}
	st.fi = fi
	return st, nil
}

// readFile returns the file's contents after checking that it is a regular
// file that neither group nor others may read or write.
func (m *fileMasterKey) readFile() ([]byte, os.FileInfo, error) {
	f, err := os.Open(m.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("vault: open master key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("vault: master key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("vault: master key file %s is not a regular file", m.path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, nil, fmt.Errorf("vault: master key file %s has mode %04o, so other users may read it; refusing to use it: run chmod 600 %s", m.path, perm, m.path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeysetFile+1))
	if err != nil {
		return nil, nil, fmt.Errorf("vault: read master key file: %w", err)
	}
	if len(data) > maxKeysetFile {
		return nil, nil, fmt.Errorf("vault: master key file %s is larger than %d bytes", m.path, maxKeysetFile)
	}
	return data, fi, nil
}

// parseMasterKeyset parses a cleartext JSON keyset and checks that it is an
// AEAD keyset whose keys carry the TINK output prefix, which names the key
// that wrapped a ciphertext (so status can count keys by master key).
func parseMasterKeyset(data []byte) (*masterState, error) {
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(data)))
	if err != nil {
		return nil, fmt.Errorf("not a Tink JSON keyset: %w", err)
	}
	info := h.KeysetInfo()
	st := &masterState{primary: info.GetPrimaryKeyId(), sum: sha256.Sum256(data)}
	for _, k := range info.GetKeyInfo() {
		if k.GetStatus() == tinkpb.KeyStatusType_ENABLED && k.GetOutputPrefixType() != tinkpb.OutputPrefixType_TINK {
			return nil, fmt.Errorf("key %d has output prefix %s; master keys must use TINK", k.GetKeyId(), k.GetOutputPrefixType())
		}
		st.keys = append(st.keys, MasterKeyInfo{
			ID:      k.GetKeyId(),
			Primary: k.GetKeyId() == st.primary,
			Status:  strings.ToLower(k.GetStatus().String()),
		})
	}
	if st.aead, err = aead.New(h); err != nil {
		return nil, fmt.Errorf("not an AEAD keyset: %w", err)
	}
	return st, nil
}

// marshalKeyset returns h as cleartext JSON.
func marshalKeyset(h *keyset.Handle) ([]byte, error) {
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
		return nil, fmt.Errorf("vault: write master keyset: %w", err)
	}
	return buf.Bytes(), nil
}

// writeFileAtomic writes data to a temporary file of mode 0600 beside path,
// syncs it and renames it over path, then syncs the directory.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("vault: write master key file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err == nil {
		if _, err = f.Write(data); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("vault: write master key file: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("vault: write master key file: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// lockFile takes an exclusive flock on path (creating it, mode 0600) and
// returns the function that releases it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("vault: lock master key file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("vault: lock master key file: %w", err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// wrappingKeyID returns the id of the master key that wrapped b, read from
// its 5-byte TINK prefix (0x01 and the big-endian key id), or 0 when b has
// no such prefix.
func wrappingKeyID(b []byte) uint32 {
	if len(b) < 5 || b[0] != 1 {
		return 0
	}
	return uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4])
}
