package staff

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"

	"github.com/candorhq/candor"
)

// RecoveryCodes is how many recovery codes an enrolment gives; each is
// 10 base32 characters (50 bits), shown as "abcde-fghij".
const RecoveryCodes = 10

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// recoveryAlphabet is base32's, in lower case.
const recoveryAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// newRecoveryCodes returns RecoveryCodes new codes as shown ("abcde-fghij")
// and their hashes as kept, keyed by key.
func newRecoveryCodes(key []byte, id string) (codes []string, hashes [][]byte, err error) {
	for range RecoveryCodes {
		b := make([]byte, 7) // 56 bits, of which the first 50 make the code
		if _, err := rand.Read(b); err != nil {
			return nil, nil, err
		}
		c := strings.ToLower(recoveryEncoding.EncodeToString(b))[:10]
		codes = append(codes, c[:5]+"-"+c[5:])
		hashes = append(hashes, recoveryHash(key, id, c))
	}
	return codes, hashes, nil
}

// recoveryHash is the HMAC-SHA256 under key of a normalized recovery code
// (10 lower-case base32 characters), with the account's id before it, so
// that equal codes of two accounts hash apart, and that without the key,
// which is not in the data store, the 50 bits of a code cannot be searched
// offline.
func recoveryHash(key []byte, id, code string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("candor/staff-recovery/v2\x00"))
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write([]byte(code))
	return h.Sum(nil)
}

// legacyRecoveryHash is the unkeyed hash of codes given before
// [recoveryHash]: such a code is still accepted until it is used, and a
// new enrolment replaces them all with keyed ones.
func legacyRecoveryHash(id, code string) []byte {
	h := sha256.New()
	h.Write([]byte("candor/staff-recovery/v1\x00"))
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write([]byte(code))
	return h.Sum(nil)
}

// normalizeRecovery brings a typed code to its kept form: lower case,
// without dashes and spaces; "" if it cannot be a code.
func normalizeRecovery(code string) string {
	c := strings.ToLower(stripSeparators(code))
	if len(c) != 10 || strings.ContainsFunc(c, func(r rune) bool { return !strings.ContainsRune(recoveryAlphabet, r) }) {
		return ""
	}
	return c
}

// UseRecoveryCode checks a recovery code as a second factor instead of a
// TOTP code, and uses it up: of two racing uses, one succeeds. It returns
// EUNAUTHORIZED for a wrong or used code, or a disabled account.
func (s *Service) UseRecoveryCode(ctx context.Context, id, code string) error {
	m, err := s.o.Store.Staff(ctx, id)
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return errCode()
	}
	if err != nil {
		return err
	}
	who := actor(ctx, "staff:"+m.ID)
	c := normalizeRecovery(code)
	ok := false
	if !m.Disabled && Enrolled(m) && c != "" {
		if len(s.o.RecoveryKey) > 0 {
			if ok, err = s.o.Store.UseRecoveryCode(ctx, m.ID, recoveryHash(s.o.RecoveryKey, m.ID, c)); err != nil {
				return err
			}
		}
		if !ok {
			if ok, err = s.o.Store.UseRecoveryCode(ctx, m.ID, legacyRecoveryHash(m.ID, c)); err != nil {
				return err
			}
		}
	}
	if !ok {
		if err := s.audit(ctx, who, candor.ActionStaffRecoveryUse, candor.DecisionDeny, "wrong or used recovery code"); err != nil {
			return err
		}
		return errCode()
	}
	return s.audit(ctx, who, candor.ActionStaffRecoveryUse, candor.DecisionOK, fmt.Sprintf("staff=%s recovery_codes_left=%d", m.ID, max(0, len(m.Recovery)-1)))
}
