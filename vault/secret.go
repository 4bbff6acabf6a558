package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// StaffSecretsKey is the name of the system key under which [Vault.SealSecret]
// seals secrets that are not a person's (staff TOTP secrets).
const StaffSecretsKey = "staff-secrets"

// secretKeySize is the size of the staff-secrets key: AES-256.
const secretKeySize = 32

// secretAEAD returns AES-256-GCM under the staff-secrets system key,
// creating the key (32 random bytes, wrapped by the master key) on first use.
func (v *Vault) secretAEAD(ctx context.Context) (cipher.AEAD, error) {
	key, err := v.systemKey(ctx, StaffSecretsKey, func() ([]byte, error) {
		k := make([]byte, secretKeySize)
		_, err := rand.Read(k)
		return k, err
	})
	if err != nil {
		return nil, err
	}
	defer clear(key)
	if len(key) != secretKeySize {
		return nil, fmt.Errorf("vault: system key %s is not an AES-256 key", StaffSecretsKey)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("vault: %s: %w", StaffSecretsKey, err)
	}
	return cipher.NewGCM(block)
}

// SealSecret encrypts a secret that belongs to no subject (a staff
// member's TOTP secret) with AES-256-GCM under the staff-secrets system
// key, bound to the associated data ad (such as the staff id), so that a
// ciphertext moved to another account does not open. The result is a
// random 12-byte nonce followed by the ciphertext and tag. The key is
// created on first use and re-wrapped by [Vault.Rotate] like every system
// key; it is never shredded with a subject. It returns an error from the
// key store, or [ErrTampered] if the stored key does not unwrap.
func (v *Vault) SealSecret(ctx context.Context, plaintext, ad []byte) ([]byte, error) {
	a, err := v.secretAEAD(ctx)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("vault: seal secret: %w", err)
	}
	return a.Seal(nonce, nonce, plaintext, ad), nil
}

// OpenStaffSecret decrypts what [Vault.SealSecret] sealed with the same
// associated data: a staff member's own TOTP secret, which the staff
// service needs back to check a code. It opens only secrets under the
// staff-secrets system key, never a person's data (those are under subject
// keys and open only through the gate). It returns [ErrTampered] when the
// ciphertext was altered, cut short, or sealed with other associated data.
func (v *Vault) OpenStaffSecret(ctx context.Context, ciphertext, ad []byte) ([]byte, error) {
	a, err := v.secretAEAD(ctx)
	if err != nil {
		return nil, err
	}
	if len(ciphertext) < a.NonceSize()+a.Overhead() {
		return nil, ErrTampered
	}
	n := a.NonceSize()
	pt, err := a.Open(nil, ciphertext[:n], ciphertext[n:], ad)
	if err != nil {
		return nil, ErrTampered
	}
	return pt, nil
}
