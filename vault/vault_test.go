package vault_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/sqlite"
	"github.com/candorhq/candor/vault"
)

// env is a key store in a temporary directory and the path of a master key
// file beside it.
type env struct {
	db      *sqlite.DB
	keyFile string
}

// newEnv opens a fresh SQLite store; its master key file does not exist yet.
func newEnv(tb testing.TB) *env {
	tb.Helper()
	dir := tb.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "data"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return &env{db: db, keyFile: filepath.Join(dir, "master.json")}
}

// open opens a vault on the env, creating the master key if needed.
func (e *env) open(tb testing.TB, opts vault.Options) *vault.Vault {
	tb.Helper()
	opts.MasterKeyFile = e.keyFile
	opts.CreateMasterKey = true
	v, err := vault.Open(context.Background(), e.db.Keys(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// newSubject makes a subject key for a new subject id and returns the id.
func newSubject(tb testing.TB, v *vault.Vault) string {
	tb.Helper()
	id := candor.NewID("sub_")
	if err := v.NewSubjectKey(context.Background(), id); err != nil {
		tb.Fatal(err)
	}
	return id
}

func mustSeal(tb testing.TB, v *vault.Vault, subject, field, value string) []byte {
	tb.Helper()
	ct, err := v.Seal(context.Background(), subject, field, []byte(value))
	if err != nil {
		tb.Fatal(err)
	}
	return ct
}

func TestSealUnseal(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.open(t, vault.Options{})
	if !v.CreatedMasterKey() {
		t.Error("CreatedMasterKey() = false for a new key file")
	}
	a := newSubject(t, v)
	for _, value := range []string{"zhang.wei83@example.cn", "", strings.Repeat("长", 1000)} {
		ct := mustSeal(t, v, a, "email", value)
		if value != "" && bytes.Contains(ct, []byte(value)) {
			t.Errorf("ciphertext holds the plaintext")
		}
		got, err := v.Unseal(ctx, a, "email", ct)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != value {
			t.Errorf("Unseal = %q, want %q", got, value)
		}
	}
	// Two seals of one value differ (random nonce).
	if bytes.Equal(mustSeal(t, v, a, "email", "x"), mustSeal(t, v, a, "email", "x")) {
		t.Error("two seals of the same value are equal")
	}
	// The cache does not change the result: a second vault on the same
	// store unwraps the key itself.
	ct := mustSeal(t, v, a, "city", "Hangzhou")
	v2 := e.open(t, vault.Options{CacheSize: -1})
	if got, err := v2.Unseal(ctx, a, "city", ct); err != nil || string(got) != "Hangzhou" {
		t.Errorf("Unseal by another vault = %q, %v", got, err)
	}
}

func TestTampering(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.open(t, vault.Options{})
	a, b := newSubject(t, v), newSubject(t, v)
	ctA := mustSeal(t, v, a, "email", "a@example.com")
	ctB := mustSeal(t, v, b, "email", "b@example.com")

	tests := []struct {
		name           string
		subject, field string
		ct             []byte
	}{
		{"A's ciphertext under B", b, "email", ctA},
		{"B's ciphertext under A", a, "email", ctB},
		{"other field", a, "phone", ctA},
		{"field prefix", a, "emai", ctA},
		{"truncated", a, "email", ctA[:len(ctA)-1]},
		{"empty", a, "email", nil},
		{"appended byte", a, "email", append(bytes.Clone(ctA), 0)},
	}
	for i := range ctA {
		flipped := bytes.Clone(ctA)
		flipped[i] ^= 0x01
		tests = append(tests, struct {
			name           string
			subject, field string
			ct             []byte
		}{fmt.Sprintf("byte %d flipped", i), a, "email", flipped})
	}
	for _, tt := range tests {
		got, err := v.Unseal(ctx, tt.subject, tt.field, tt.ct)
		if !errors.Is(err, vault.ErrTampered) {
			t.Errorf("%s: Unseal = %q, %v; want ErrTampered", tt.name, got, err)
		}
	}
	// The originals still open.
	if got, err := v.Unseal(ctx, a, "email", ctA); err != nil || string(got) != "a@example.com" {
		t.Errorf("Unseal(A) = %q, %v", got, err)
	}
}

func TestShred(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.open(t, vault.Options{})
	a, b := newSubject(t, v), newSubject(t, v)
	ctA := mustSeal(t, v, a, "email", "a@example.com")
	ctB := mustSeal(t, v, b, "email", "b@example.com")
	if _, err := v.Unseal(ctx, a, "email", ctA); err != nil { // now cached
		t.Fatal(err)
	}
	if err := v.Shred(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, err := v.Unseal(ctx, a, "email", ctA)
	if !errors.Is(err, vault.ErrShredded) || errors.Is(err, vault.ErrNoKey) {
		t.Errorf("Unseal after shred: %v, want ErrShredded", err)
	}
	if got := candor.ErrorCode(err); got != candor.EGONE {
		t.Errorf("code after shred = %q, want %q", got, candor.EGONE)
	}
	if _, err := v.Seal(ctx, a, "email", []byte("new")); !errors.Is(err, vault.ErrShredded) {
		t.Errorf("Seal after shred: %v, want ErrShredded", err)
	}
	if err := v.NewSubjectKey(ctx, a); candor.ErrorCode(err) != candor.ECONFLICT {
		t.Errorf("NewSubjectKey after shred: %v, want conflict", err)
	}
	if err := v.Shred(ctx, a); err != nil {
		t.Errorf("second Shred: %v", err)
	}
	// A fresh vault (another process) sees the shred too.
	v2 := e.open(t, vault.Options{})
	if _, err := v2.Unseal(ctx, a, "email", ctA); !errors.Is(err, vault.ErrShredded) {
		t.Errorf("Unseal after shred, other vault: %v, want ErrShredded", err)
	}
	// Other subjects are untouched.
	if got, err := v.Unseal(ctx, b, "email", ctB); err != nil || string(got) != "b@example.com" {
		t.Errorf("Unseal(B) = %q, %v", got, err)
	}
	// A subject that never had a key is not a shredded one.
	unknown := candor.NewID("sub_")
	_, err = v.Unseal(ctx, unknown, "email", ctA)
	if !errors.Is(err, vault.ErrNoKey) || errors.Is(err, vault.ErrShredded) {
		t.Errorf("Unseal unknown subject: %v, want ErrNoKey", err)
	}
	if got := candor.ErrorCode(err); got != candor.ENOTFOUND {
		t.Errorf("code for unknown subject = %q, want %q", got, candor.ENOTFOUND)
	}
	if err := v.Shred(ctx, unknown); !errors.Is(err, vault.ErrNoKey) {
		t.Errorf("Shred unknown subject: %v, want ErrNoKey", err)
	}
	if err := v.NewSubjectKey(ctx, b); candor.ErrorCode(err) != candor.ECONFLICT {
		t.Errorf("NewSubjectKey twice: %v, want conflict", err)
	}
}

// TestShredLeavesNoKeyBytes greps the key store's files, write-ahead log
// included, for the wrapped key after shredding it.
func TestShredLeavesNoKeyBytes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.open(t, vault.Options{})
	var ids []string
	for range 20 {
		ids = append(ids, newSubject(t, v))
	}
	victim := ids[7]
	k, err := e.db.Keys().SubjectKey(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	wrapped := k.Wrapped
	files := func() []string {
		m, _ := filepath.Glob(filepath.Join(e.db.Dir(), sqlite.KeysFile+"*"))
		return m
	}
	found := func() []string {
		var in []string
		for _, f := range files() {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, wrapped) {
				in = append(in, filepath.Base(f))
			}
		}
		return in
	}
	if len(found()) == 0 {
		t.Fatalf("wrapped key not found in %v before the shred: the test cannot see it", files())
	}
	if err := v.Shred(ctx, victim); err != nil {
		t.Fatal(err)
	}
	if in := found(); len(in) > 0 {
		t.Errorf("the shredded key's wrapped bytes are still in %v", in)
	}
	// And the others are still there.
	for _, id := range ids {
		if id == victim {
			continue
		}
		if _, err := v.Seal(ctx, id, "email", []byte("x")); err != nil {
			t.Errorf("Seal(%s): %v", id, err)
		}
	}
}

// TestCopiedKeyRow stores A's wrapped key as B's: it is bound to A, so it
// does not unwrap for B.
func TestCopiedKeyRow(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.open(t, vault.Options{})
	a := newSubject(t, v)
	ctA := mustSeal(t, v, a, "email", "a@example.com")
	k, err := e.db.Keys().SubjectKey(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	b := candor.NewID("sub_")
	if err := e.db.Keys().PutSubjectKey(ctx, b, k.Wrapped, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Seal(ctx, b, "email", []byte("x")); !errors.Is(err, vault.ErrTampered) {
		t.Errorf("Seal with a copied key: %v, want ErrTampered", err)
	}
	// Even re-sealed under A's key with B's associated data it cannot be
	// produced; and A's ciphertext does not open as B's.
	if _, err := v.Unseal(ctx, b, "email", ctA); !errors.Is(err, vault.ErrTampered) {
		t.Errorf("Unseal with a copied key: %v, want ErrTampered", err)
	}
	st, err := v.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.SubjectKeys[st.PrimaryID]; got != 2 {
		t.Errorf("Status counts %d keys under the primary, want 2", got)
	}
}

func TestInvalidNames(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t).open(t, vault.Options{})
	a := newSubject(t, v)
	for _, tt := range []struct{ subject, field string }{{"", "email"}, {a, ""}, {a + "\x00x", "email"}, {a, "email\x00"}} {
		if _, err := v.Seal(ctx, tt.subject, tt.field, []byte("x")); candor.ErrorCode(err) != candor.EINVALID {
			t.Errorf("Seal(%q, %q): %v, want invalid", tt.subject, tt.field, err)
		}
		if _, err := v.Unseal(ctx, tt.subject, tt.field, []byte("x")); candor.ErrorCode(err) != candor.EINVALID {
			t.Errorf("Unseal(%q, %q): %v, want invalid", tt.subject, tt.field, err)
		}
	}
	if err := v.NewSubjectKey(ctx, ""); candor.ErrorCode(err) != candor.EINVALID {
		t.Errorf("NewSubjectKey(\"\"): %v, want invalid", err)
	}
}

func TestBlindIndex(t *testing.T) {
	e := newEnv(t)
	v := e.open(t, vault.Options{})
	x := v.BlindIndex(candor.IdentEmail, "a@example.com")
	if len(x) != 32 {
		t.Fatalf("len = %d, want 32", len(x))
	}
	if !bytes.Equal(x, v.BlindIndex(candor.IdentEmail, "a@example.com")) {
		t.Error("not deterministic")
	}
	if bytes.Equal(x, v.BlindIndex(candor.IdentEmail, "b@example.com")) {
		t.Error("two values give one index")
	}
	if bytes.Equal(x, v.BlindIndex(candor.IdentUserID, "a@example.com")) {
		t.Error("two kinds give one index")
	}
	// kind and value are separated: ("ab", "c") is not ("a", "bc").
	if bytes.Equal(v.BlindIndex("ab", "c"), v.BlindIndex("a", "bc")) {
		t.Error("kind and value run together")
	}
	// Unkeyed hashes of the input do not match.
	for _, in := range []string{"a@example.com", candor.IdentEmail + "\x00a@example.com"} {
		sum := sha256.Sum256([]byte(in))
		if bytes.Equal(x, sum[:]) {
			t.Error("index is an unkeyed hash")
		}
	}
	// Another vault on the same store and key reads the same key.
	v2 := e.open(t, vault.Options{})
	if !bytes.Equal(x, v2.BlindIndex(candor.IdentEmail, "a@example.com")) {
		t.Error("index changed across reopen")
	}
	// Another installation has another key.
	other := newEnv(t).open(t, vault.Options{})
	if bytes.Equal(x, other.BlindIndex(candor.IdentEmail, "a@example.com")) {
		t.Error("two installations give one index: not keyed")
	}
	st, err := v.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(st.SystemKeys) != "[blind-index]" {
		t.Errorf("SystemKeys = %v", st.SystemKeys)
	}
}

// TestWrongMasterKey opens a key store with another installation's master
// key: its system keys do not unwrap.
func TestWrongMasterKey(t *testing.T) {
	e := newEnv(t)
	e.open(t, vault.Options{})
	other := newEnv(t)
	other.open(t, vault.Options{})
	_, err := vault.Open(context.Background(), e.db.Keys(), vault.Options{MasterKeyFile: other.keyFile})
	if !errors.Is(err, vault.ErrTampered) {
		t.Errorf("Open with the wrong master key: %v, want ErrTampered", err)
	}
}

func TestMasterKeyFile(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)

	// Missing, without CreateMasterKey.
	if _, err := vault.Open(ctx, e.db.Keys(), vault.Options{MasterKeyFile: e.keyFile}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open with a missing key file: %v", err)
	}
	if _, err := vault.Open(ctx, e.db.Keys(), vault.Options{}); err == nil {
		t.Error("Open without a key file: no error")
	}

	v := e.open(t, vault.Options{})
	fi, err := os.Stat(e.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", fi.Mode().Perm())
	}
	if !v.CreatedMasterKey() {
		t.Error("CreatedMasterKey() = false")
	}
	body, _ := os.ReadFile(e.keyFile)
	if !bytes.Contains(body, []byte(`"primaryKeyId"`)) || !bytes.Contains(body, []byte("AesGcmKey")) {
		t.Errorf("key file is not a Tink JSON AES-GCM keyset: %.200s", body)
	}
	v2 := e.open(t, vault.Options{})
	if v2.CreatedMasterKey() {
		t.Error("CreatedMasterKey() = true for an existing file")
	}

	for _, mode := range []os.FileMode{0o640, 0o604, 0o660, 0o644} {
		if err := os.Chmod(e.keyFile, mode); err != nil {
			t.Fatal(err)
		}
		_, err := vault.Open(ctx, e.db.Keys(), vault.Options{MasterKeyFile: e.keyFile, CreateMasterKey: true})
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("Open with mode %04o: %v, want a refusal telling to chmod 600", mode, err)
		}
	}
	// A running vault refuses too when it next reads the file.
	if _, err := v.Status(ctx); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Status with mode 0644: %v, want a refusal", err)
	}
	os.Chmod(e.keyFile, 0o400)
	if _, err := vault.Open(ctx, e.db.Keys(), vault.Options{MasterKeyFile: e.keyFile}); err != nil {
		t.Errorf("Open with mode 0400: %v", err)
	}

	// Not a keyset.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"hello": "world"}`), 0o600)
	if _, err := vault.Open(ctx, e.db.Keys(), vault.Options{MasterKeyFile: bad}); err == nil {
		t.Error("Open with a file that is not a keyset: no error")
	}
}

func TestConcurrentCreate(t *testing.T) {
	// Vaults opening at once on one new key store and key file end with
	// one master key, one blind-index key and one signing key.
	ctx := context.Background()
	e := newEnv(t)
	const n = 8
	vaults := make([]*vault.Vault, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			vaults[i], errs[i] = vault.Open(ctx, e.db.Keys(), vault.Options{MasterKeyFile: e.keyFile, CreateMasterKey: true})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	created := 0
	sigs := make([]*vault.Signer, n)
	for i, v := range vaults {
		if v.CreatedMasterKey() {
			created++
		}
		wg.Go(func() { sigs[i], errs[i] = v.Signer(ctx, "audit-signing") })
	}
	wg.Wait()
	if created != 1 {
		t.Errorf("%d vaults created the master key, want 1", created)
	}
	for i, v := range vaults {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(v.BlindIndex("email", "a@b.c"), vaults[0].BlindIndex("email", "a@b.c")) {
			t.Errorf("vault %d has another blind-index key", i)
		}
		if !sigs[i].Public().Equal(sigs[0].Public()) {
			t.Errorf("vault %d has another signing key", i)
		}
	}
}

func TestSigner(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.open(t, vault.Options{})
	s, err := v.Signer(ctx, "audit-signing")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("checkpoint 42")
	sig := s.Sign(msg)
	if !ed25519.Verify(s.Public(), msg, sig) {
		t.Error("signature does not verify")
	}
	if ed25519.Verify(s.Public(), []byte("checkpoint 43"), sig) {
		t.Error("signature verifies another message")
	}
	sum := sha256.Sum256(s.Public())
	if want := "ed25519-" + hex.EncodeToString(sum[:])[:16]; s.KeyID() != want {
		t.Errorf("KeyID = %q, want %q", s.KeyID(), want)
	}
	jwk := s.JWK()
	x, err := base64.RawURLEncoding.DecodeString(jwk["x"])
	if err != nil || !bytes.Equal(x, s.Public()) {
		t.Errorf("JWK x = %q does not decode to the public key", jwk["x"])
	}
	for k, want := range map[string]string{"kty": "OKP", "crv": "Ed25519", "kid": s.KeyID(), "alg": "EdDSA", "use": "sig"} {
		if jwk[k] != want {
			t.Errorf("JWK %s = %q, want %q", k, jwk[k], want)
		}
	}
	if len(jwk) != 6 {
		t.Errorf("JWK has %d members, want 6: %v", len(jwk), jwk)
	}
	if s2, _ := v.Signer(ctx, "audit-signing"); s2 != s {
		t.Error("Signer not cached")
	}
	r, err := v.Signer(ctx, "receipt-signing")
	if err != nil {
		t.Fatal(err)
	}
	if r.Public().Equal(s.Public()) {
		t.Error("two names share a key")
	}
	// Stable across reopen.
	v2 := e.open(t, vault.Options{})
	s2, err := v2.Signer(ctx, "audit-signing")
	if err != nil {
		t.Fatal(err)
	}
	if !s2.Public().Equal(s.Public()) || s2.KeyID() != s.KeyID() {
		t.Error("signing key changed across reopen")
	}
	// The wrapped seed is bound to its name: copied under another name, it
	// does not unwrap.
	wrapped, err := e.db.Keys().SystemKey(ctx, "audit-signing")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.Keys().PutSystemKey(ctx, "copied-signing", wrapped, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := v2.Signer(ctx, "copied-signing"); !errors.Is(err, vault.ErrTampered) {
		t.Errorf("Signer with a copied key: %v, want ErrTampered", err)
	}
	for _, bad := range []string{"", vault.BlindIndexKey} {
		if _, err := v.Signer(ctx, bad); candor.ErrorCode(err) != candor.EINVALID {
			t.Errorf("Signer(%q): %v, want invalid", bad, err)
		}
	}
}

// TestReseal: a ciphertext moved from one subject to another opens for the
// new subject only, and the old one's ciphertext stays its own.
func TestReseal(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t).open(t, vault.Options{})
	from, into := newSubject(t, v), newSubject(t, v)
	ct := mustSeal(t, v, from, "email", "a@example.com")
	moved, err := v.Reseal(ctx, from, into, "email", ct)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.Unseal(ctx, into, "email", moved); err != nil || string(got) != "a@example.com" {
		t.Fatalf("into: %q %v", got, err)
	}
	if _, err := v.Unseal(ctx, from, "email", moved); !errors.Is(err, vault.ErrTampered) {
		t.Fatalf("the moved ciphertext opened for the old subject: %v", err)
	}
	if _, err := v.Reseal(ctx, into, from, "phone", moved); !errors.Is(err, vault.ErrTampered) {
		t.Fatalf("reseal under another field: %v", err)
	}
	if rate, err := v.MeasureUnseal(ctx, into, "email", moved, 10*time.Millisecond); err != nil || rate <= 0 {
		t.Fatalf("MeasureUnseal = %v, %v", rate, err)
	}
}
