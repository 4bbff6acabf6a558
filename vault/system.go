package vault

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/candorhq/candor"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
)

// BlindIndexKey is the name of the blind-index system key in the key store.
const BlindIndexKey = "blind-index"

// blindIndexSize is the length of a blind index in bytes.
const blindIndexSize = 32

// systemKey returns the named system key, unwrapped. When there is none
// yet, it stores the key gen makes; if another process stored one first
// (ECONFLICT), it reads theirs, so every process ends with the same key.
func (v *Vault) systemKey(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	wrapped, err := v.ks.SystemKey(ctx, name)
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		var key []byte
		if key, err = gen(); err != nil {
			return nil, fmt.Errorf("vault: new system key %s: %w", name, err)
		}
		if _, err := v.master.reload(); err != nil {
			return nil, err
		}
		w, err := v.wrap(key, systemKeyAD(name))
		if err != nil {
			return nil, err
		}
		err = v.ks.PutSystemKey(ctx, name, w, v.now())
		if err == nil {
			return key, nil
		}
		clear(key)
		if candor.ErrorCode(err) != candor.ECONFLICT {
			return nil, fmt.Errorf("vault: store system key %s: %w", name, err)
		}
		wrapped, err = v.ks.SystemKey(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("vault: read system key %s: %w", name, err)
	}
	key, err := v.unwrap(wrapped, systemKeyAD(name))
	if err != nil {
		return nil, fmt.Errorf("vault: system key %s does not unwrap: %w", name, err)
	}
	return key, nil
}

// openBlindIndex loads the blind-index key, an HMAC-SHA256 PRF keyset,
// creating it on first use.
func (v *Vault) openBlindIndex(ctx context.Context) error {
	key, err := v.systemKey(ctx, BlindIndexKey, func() ([]byte, error) {
		h, err := keyset.NewHandle(prf.HMACSHA256PRFKeyTemplate())
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := insecurecleartextkeyset.Write(h, keyset.NewBinaryWriter(&buf)); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	})
	if err != nil {
		return err
	}
	defer clear(key)
	h, err := insecurecleartextkeyset.Read(keyset.NewBinaryReader(bytes.NewReader(key)))
	if err != nil {
		return fmt.Errorf("vault: blind-index key: %w", err)
	}
	set, err := prf.NewPRFSet(h)
	if err != nil {
		return fmt.Errorf("vault: blind-index key: %w", err)
	}
	p := set.PRFs[set.PrimaryID]
	if p == nil {
		return fmt.Errorf("vault: blind-index key: no primary PRF")
	}
	if out, err := p.ComputePRF([]byte("check"), blindIndexSize); err != nil || len(out) != blindIndexSize {
		return fmt.Errorf("vault: blind-index key does not give %d-byte outputs", blindIndexSize)
	}
	v.blind = p
	return nil
}

// BlindIndex returns the 32-byte blind index of a normalized identifier of
// the given kind (such as [candor.IdentEmail]): a keyed PRF (HMAC-SHA256
// under the blind-index system key) over kind, a NUL byte and the value.
// The same value gives the same index under the same key, and different
// indexes for different kinds; without the key, an index reveals nothing.
// Normalize the value first ([NormalizeEmail], [NormalizePhone]).
func (v *Vault) BlindIndex(kind, normalized string) []byte {
	in := make([]byte, 0, len(kind)+1+len(normalized))
	in = append(in, kind...)
	in = append(in, 0)
	in = append(in, normalized...)
	out, err := v.blind.ComputePRF(in, blindIndexSize)
	if err != nil {
		// Open checked that the key gives 32-byte outputs; HMAC cannot fail.
		panic("vault: blind index: " + err.Error())
	}
	return out
}

// Signer returns the named Ed25519 signing key (such as "audit-signing" or
// "receipt-signing"), generating it on first use. Its 32-byte seed is
// wrapped by the master key, bound to its name, and kept as a system key;
// when two processes create it at once, both end with the one stored
// first. Signers are cached. It returns [candor.EINVALID] for an empty or
// reserved name, [ErrTampered] if the stored key does not unwrap, or an
// error from the key store.
func (v *Vault) Signer(ctx context.Context, name string) (*Signer, error) {
	if err := checkName("signing key name", name); err != nil {
		return nil, err
	}
	if name == BlindIndexKey {
		return nil, candor.Errorf(candor.EINVALID, "vault: %s is not a signing key", name)
	}
	v.signMu.Lock()
	defer v.signMu.Unlock()
	if s := v.signers[name]; s != nil {
		return s, nil
	}
	seed, err := v.systemKey(ctx, name, func() ([]byte, error) {
		seed := make([]byte, ed25519.SeedSize)
		_, err := rand.Read(seed)
		return seed, err
	})
	if err != nil {
		return nil, err
	}
	defer clear(seed)
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("vault: system key %s is not an Ed25519 seed", name)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	s := &Signer{name: name, priv: priv, pub: pub, kid: "ed25519-" + hex.EncodeToString(sum[:8])}
	v.signers[name] = s
	return s, nil
}

// Signer is a named Ed25519 signing key. It implements [candor.Signer] and
// is safe for concurrent use.
type Signer struct {
	name string
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
	kid  string
}

var _ candor.Signer = (*Signer)(nil)

// Name returns the name the key is kept under.
func (s *Signer) Name() string { return s.name }

// KeyID returns the key's stable id: "ed25519-" and the first 16 hex
// digits of the SHA-256 of the public key.
func (s *Signer) KeyID() string { return s.kid }

// Public returns the public key.
func (s *Signer) Public() ed25519.PublicKey { return s.pub }

// Sign returns the Ed25519 signature of msg.
func (s *Signer) Sign(msg []byte) []byte { return ed25519.Sign(s.priv, msg) }

// JWK returns the public key as a JSON Web Key (RFC 8037): kty "OKP", crv
// "Ed25519", x (base64url of the public key), kid, alg "EdDSA", use "sig".
func (s *Signer) JWK() map[string]string {
	return map[string]string{
		"kty": "OKP",
		"crv": "Ed25519",
		"x":   base64.RawURLEncoding.EncodeToString(s.pub),
		"kid": s.kid,
		"alg": "EdDSA",
		"use": "sig",
	}
}
