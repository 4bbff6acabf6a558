// Package vault keeps Candor's keys and encrypts personal data under them.
//
// Every subject has its own data key, an AES-256-GCM Tink keyset. The key
// is wrapped (encrypted) by the master key and kept in the key store
// ([candor.KeyStore]), apart from the data it protects. [Vault.Seal] and
// [Vault.Unseal] encrypt and decrypt one value under the subject's key, with
// associated data that binds the ciphertext to its subject and field, so a
// ciphertext moved to another subject or field does not decrypt.
// [Vault.Shred] destroys the key: every copy of the subject's data, backups
// included, becomes unreadable ([ErrShredded]). [Vault.ShredAndJournal]
// also records the erasure in the journal that a restore replays: this is
// how Candor erases.
//
// The master key is a Tink AEAD keyset, read from a file in Tink's cleartext
// JSON format with mode 0600 ("file" mode; a KMS can take its place later).
// Its keys use the TINK output prefix, so every wrapped key names the master
// key that wrapped it. [Vault.Rotate] adds a new primary master key and
// re-wraps every key with it; old master keys stay in the keyset, so nothing
// fails while the rotation runs, even in another process: a [Vault] that
// cannot unwrap a key re-reads the keyset file and tries again.
//
// The vault also keeps the system keys: the blind-index key
// ([Vault.BlindIndex], a keyed PRF through which identifiers such as e-mail
// addresses are looked up without being stored in plaintext) and named
// Ed25519 signing keys ([Vault.Signer]). [NormalizeEmail] and
// [NormalizePhone] bring identifiers to the one form that is indexed.
package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/candorhq/candor"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// Errors of [Vault.Seal], [Vault.Unseal] and [Vault.Shred]. They are
// returned directly or wrapped; test for them with [errors.Is].
var (
	// ErrShredded is returned for a subject whose key was destroyed: the
	// subject was erased and its data can never be read again. It is
	// distinct from ErrNoKey, and carries the code [candor.EGONE].
	ErrShredded = errors.New("vault: subject key destroyed")
	// ErrNoKey is returned for a subject that never had a key. It carries
	// the code [candor.ENOTFOUND].
	ErrNoKey = errors.New("vault: no key for subject")
	// ErrTampered is returned when a ciphertext does not decrypt: it was
	// sealed for another subject or field, or its bytes were altered; or
	// when a wrapped key does not unwrap for its subject.
	ErrTampered = errors.New("vault: ciphertext does not decrypt")
)

// codedError is a sentinel that also carries a [candor.Error], so that
// errors.Is finds the sentinel and [candor.ErrorCode] finds the code.
type codedError struct {
	sentinel error
	coded    *candor.Error
}

func (e *codedError) Error() string   { return e.sentinel.Error() }
func (e *codedError) Unwrap() []error { return []error{e.sentinel, e.coded} }

var (
	errShredded = &codedError{ErrShredded, &candor.Error{Code: candor.EGONE, Message: "the subject was erased; its data can no longer be read"}}
	errNoKey    = &codedError{ErrNoKey, &candor.Error{Code: candor.ENOTFOUND, Message: "subject key not found"}}
)

// Defaults of [Options].
const (
	DefaultCacheSize = 10000
	DefaultCacheTTL  = time.Minute
)

// Options configures [Open].
type Options struct {
	// MasterKeyFile is the path of the master keyset: a Tink AEAD keyset in
	// cleartext JSON, mode 0600. Required.
	MasterKeyFile string
	// CreateMasterKey creates the file (mode 0600) with a new AES-256-GCM
	// key if it is missing: for demos and a first start only. Without it a
	// missing file is an error.
	CreateMasterKey bool
	// CacheSize is how many subject keys are kept unwrapped in memory (least
	// recently used go first). 0 means [DefaultCacheSize]; negative, none.
	CacheSize int
	// CacheTTL is how long an unwrapped subject key stays cached. It bounds
	// how long a key shredded by another process stays usable here (a shred
	// in this process evicts at once). 0 means [DefaultCacheTTL]; negative,
	// no limit.
	CacheTTL time.Duration
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
}

// Vault holds the master key, the system keys and a cache of subject keys.
// It is safe for concurrent use.
type Vault struct {
	ks     candor.KeyStore
	master masterKey
	now    func() time.Time
	cache  *keyCache
	blind  prf.PRF

	signMu  sync.Mutex
	signers map[string]*Signer
}

var _ candor.Sealer = (*Vault)(nil)

// Open opens the vault on the key store ks: it reads the master keyset file
// (creating it if allowed), and reads or creates the blind-index key. It
// fails if the file is missing (without CreateMasterKey), group- or
// world-accessible, or not an AEAD keyset with TINK-prefixed keys, or if a
// system key does not unwrap ([ErrTampered]).
func Open(ctx context.Context, ks candor.KeyStore, opts Options) (*Vault, error) {
	if ks == nil {
		return nil, errors.New("vault: no key store")
	}
	m, err := openFileMasterKey(opts.MasterKeyFile, opts.CreateMasterKey)
	if err != nil {
		return nil, err
	}
	v := &Vault{ks: ks, master: m, now: opts.Now, signers: map[string]*Signer{}}
	if v.now == nil {
		v.now = time.Now
	}
	size, ttl := opts.CacheSize, opts.CacheTTL
	if size == 0 {
		size = DefaultCacheSize
	}
	if ttl == 0 {
		ttl = DefaultCacheTTL
	}
	v.cache = newKeyCache(size, ttl)
	if err := v.openBlindIndex(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// CreatedMasterKey reports whether [Open] generated a new master key file.
// Such a key is for demos only: whoever can read the data directory can
// read the key.
func (v *Vault) CreatedMasterKey() bool { return v.master.created() }

// NewSubjectKey generates a key for the subject, wraps it with the primary
// master key (bound to the subject id) and stores it. It returns the key
// store's [candor.ECONFLICT] error if the subject has a key, or had one
// that was shredded, and [candor.EINVALID] for an empty subject id.
func (v *Vault) NewSubjectKey(ctx context.Context, subjectID string) error {
	if err := checkName("subject id", subjectID); err != nil {
		return err
	}
	epoch := v.cache.startLoad()
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return fmt.Errorf("vault: new subject key: %w", err)
	}
	a, err := aead.New(h)
	if err != nil {
		return fmt.Errorf("vault: new subject key: %w", err)
	}
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewBinaryWriter(&buf)); err != nil {
		return fmt.Errorf("vault: new subject key: %w", err)
	}
	defer clear(buf.Bytes())
	// Pick up a rotation by another process, so the key is wrapped with
	// the newest primary (a stat when nothing changed).
	if _, err := v.master.reload(); err != nil {
		return err
	}
	wrapped, err := v.master.state().aead.Encrypt(buf.Bytes(), subjectKeyAD(subjectID))
	if err != nil {
		return fmt.Errorf("vault: wrap subject key: %w", err)
	}
	if err := v.ks.PutSubjectKey(ctx, subjectID, wrapped, v.now()); err != nil {
		return err
	}
	v.cache.put(subjectID, a, epoch, v.now())
	return nil
}

// Seal encrypts plaintext for the subject's field under the subject's key.
// It returns [ErrShredded], [ErrNoKey], [ErrTampered] if the stored key
// does not unwrap for this subject, [candor.EINVALID] for an empty subject
// id or field, or an error from the key store or the keyset file.
func (v *Vault) Seal(ctx context.Context, subjectID, field string, plaintext []byte) ([]byte, error) {
	if err := checkNames(subjectID, field); err != nil {
		return nil, err
	}
	a, err := v.subjectKey(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	bp := getAD(subjectID, field)
	ct, err := a.Encrypt(plaintext, *bp)
	putAD(bp)
	if err != nil {
		return nil, fmt.Errorf("vault: seal: %w", err)
	}
	return ct, nil
}

// Unseal decrypts a ciphertext that [Vault.Seal] made for the same subject
// and field. It returns [ErrShredded] once the subject was erased,
// [ErrNoKey] for a subject that never had a key, [ErrTampered] when the
// ciphertext belongs to another subject or field or was altered (or the
// stored key does not unwrap for this subject), [candor.EINVALID] for an
// empty subject id or field, or an error from the key store or the keyset
// file. With the subject's key cached it touches neither.
func (v *Vault) Unseal(ctx context.Context, subjectID, field string, ciphertext []byte) ([]byte, error) {
	if err := checkNames(subjectID, field); err != nil {
		return nil, err
	}
	a, err := v.subjectKey(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	bp := getAD(subjectID, field)
	pt, err := a.Decrypt(ciphertext, *bp)
	putAD(bp)
	if err != nil {
		return nil, ErrTampered
	}
	return pt, nil
}

// Reseal moves a ciphertext from one subject to another without the
// plaintext leaving the vault: it opens what [Vault.Seal] sealed for
// (fromSubject, field) and seals it for (intoSubject, field). It is for
// merging two subjects (subjects.Service.Merge) and returns the errors of
// [Vault.Unseal] and [Vault.Seal].
func (v *Vault) Reseal(ctx context.Context, fromSubject, intoSubject, field string, sealed []byte) ([]byte, error) {
	pt, err := v.Unseal(ctx, fromSubject, field, sealed)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	return v.Seal(ctx, intoSubject, field, pt)
}

// MeasureUnseal unseals ciphertext (sealed for subjectID and field) over
// and over for d and returns how many times a second it did; the plaintext
// never leaves the vault. It is for candor bench seal, and returns the
// first error of [Vault.Unseal].
func (v *Vault) MeasureUnseal(ctx context.Context, subjectID, field string, ciphertext []byte, d time.Duration) (float64, error) {
	start := time.Now()
	n := 0
	for time.Since(start) < d {
		pt, err := v.Unseal(ctx, subjectID, field, ciphertext)
		if err != nil {
			return 0, err
		}
		clear(pt)
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// Shred destroys the subject's key and evicts it from the cache: from then
// on [Vault.Unseal] returns [ErrShredded] for the subject, and
// [Vault.NewSubjectKey] a conflict. Shredding twice is not an error. It
// returns [ErrNoKey] if the subject never had a key.
func (v *Vault) Shred(ctx context.Context, subjectID string) error {
	err := v.ks.ShredSubjectKey(ctx, subjectID, v.now())
	v.cache.evict(subjectID)
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return errNoKey
	}
	return err
}

// ShredAndJournal is [Vault.Shred] for an erasure: it destroys the
// subject's key and records e in the erasure journal beside the key store,
// in one transaction; doing it twice is harmless. Every ciphertext sealed
// under the key, backups included, is unreadable from then on, and a
// restore replays the journal.
func (v *Vault) ShredAndJournal(ctx context.Context, e candor.Erasure) error {
	err := v.ks.ShredSubjectKeyAndJournal(ctx, e)
	v.cache.evict(e.SubjectID)
	return err
}

// subjectKey returns the subject's key, from the cache or unwrapped from
// the key store.
func (v *Vault) subjectKey(ctx context.Context, subjectID string) (tink.AEAD, error) {
	if a := v.cache.get(subjectID, v.now); a != nil {
		return a, nil
	}
	epoch := v.cache.startLoad()
	k, err := v.ks.SubjectKey(ctx, subjectID)
	switch {
	case candor.ErrorCode(err) == candor.ENOTFOUND:
		return nil, errNoKey
	case err != nil:
		return nil, fmt.Errorf("vault: read subject key: %w", err)
	case k.ShreddedAt != nil || k.Wrapped == nil:
		return nil, errShredded
	}
	pt, err := v.unwrap(k.Wrapped, subjectKeyAD(subjectID))
	if err != nil {
		return nil, fmt.Errorf("vault: subject key does not unwrap: %w", err)
	}
	defer clear(pt)
	h, err := insecurecleartextkeyset.Read(keyset.NewBinaryReader(bytes.NewReader(pt)))
	if err != nil {
		return nil, fmt.Errorf("vault: subject key: %w", err)
	}
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("vault: subject key: %w", err)
	}
	v.cache.put(subjectID, a, epoch, v.now())
	return a, nil
}

// unwrap decrypts a key wrapped by the master key. If the keyset in memory
// cannot, the key may have been re-wrapped by a rotation in another process
// under a master key this one has not loaded yet: so it re-reads the keyset
// file, if it changed, and tries once more. It returns [ErrTampered] if the
// key still does not unwrap, or the error of reading the file.
func (v *Vault) unwrap(wrapped, ad []byte) ([]byte, error) {
	st := v.master.state()
	if pt, err := st.aead.Decrypt(wrapped, ad); err == nil {
		return pt, nil
	}
	if _, err := v.master.reload(); err != nil {
		return nil, err
	}
	if now := v.master.state(); now != st {
		if pt, err := now.aead.Decrypt(wrapped, ad); err == nil {
			return pt, nil
		}
	}
	return nil, ErrTampered
}

// wrap encrypts a key with the primary master key.
func (v *Vault) wrap(key, ad []byte) ([]byte, error) {
	w, err := v.master.state().aead.Encrypt(key, ad)
	if err != nil {
		return nil, fmt.Errorf("vault: wrap key: %w", err)
	}
	return w, nil
}

// Associated data. Subject ids and fields hold no NUL (checkNames), so the
// NUL-separated forms are unambiguous.
const (
	dataADPrefix       = "candor/v1\x00"
	subjectKeyADPrefix = "subject-key:"
	systemKeyADPrefix  = "system-key:"
)

// subjectKeyAD binds a wrapped subject key to its subject.
func subjectKeyAD(subjectID string) []byte { return []byte(subjectKeyADPrefix + subjectID) }

// systemKeyAD binds a wrapped system key to its name.
func systemKeyAD(name string) []byte { return []byte(systemKeyADPrefix + name) }

// appendDataAD appends the associated data of a sealed value:
// "candor/v1" NUL subject NUL field.
func appendDataAD(b []byte, subjectID, field string) []byte {
	b = append(b, dataADPrefix...)
	b = append(b, subjectID...)
	b = append(b, 0)
	return append(b, field...)
}

var adPool = sync.Pool{New: func() any { b := make([]byte, 0, 128); return &b }}

// getAD returns pooled associated data for (subject, field); give it back
// with putAD.
func getAD(subjectID, field string) *[]byte {
	bp := adPool.Get().(*[]byte)
	*bp = appendDataAD((*bp)[:0], subjectID, field)
	return bp
}

func putAD(bp *[]byte) {
	if cap(*bp) <= 1024 {
		adPool.Put(bp)
	}
}

func checkNames(subjectID, field string) error {
	if subjectID == "" || field == "" || strings.IndexByte(subjectID, 0) >= 0 || strings.IndexByte(field, 0) >= 0 {
		return candor.Errorf(candor.EINVALID, "vault: subject id and field must be non-empty and hold no NUL")
	}
	return nil
}

func checkName(what, s string) error {
	if s == "" || strings.IndexByte(s, 0) >= 0 {
		return candor.Errorf(candor.EINVALID, "vault: %s must be non-empty and hold no NUL", what)
	}
	return nil
}
