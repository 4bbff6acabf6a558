package staff

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password rules.
const (
	MinPassword = 12  // characters
	MaxPassword = 256 // characters
)

// Argon2id parameters of new password hashes: OWASP's Password Storage
// Cheat Sheet's first configuration, 19 MiB of memory, two passes, one
// lane (its other configurations, such as 46 MiB with one pass, it rates
// as equally strong). The memory is held only while a hash runs, and at
// most max(2, GOMAXPROCS) run at once, so sign-ins cannot swell the server
// (a self-hosted node idles under 100 MB). Verification reads the
// parameters back from each stored hash, so they can be raised later
// without invalidating existing passwords.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// params are Argon2id cost parameters.
type params struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

var production = params{argonMemory, argonTime, argonThreads}

// checkPassword returns what is wrong with a password, or "".
func checkPassword(password, email string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return "the password is not valid text"
	case n < MinPassword:
		return fmt.Sprintf("the password must have at least %d characters", MinPassword)
	case n > MaxPassword:
		return fmt.Sprintf("the password must have at most %d characters", MaxPassword)
	case email != "" && strings.EqualFold(strings.TrimSpace(password), email):
		return "the password must not be the e-mail address"
	}
	return ""
}

// hashPassword returns the Argon2id PHC string of a password:
// $argon2id$v=19$m=…,t=…,p=…$salt$hash (unpadded standard base64).
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := s.argon(ctx, []byte(password), salt, s.params, argonKeyLen)
	if err != nil {
		return "", err
	}
	return formatPHC(s.params, salt, key), nil
}

func formatPHC(p params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errPHC is returned for a stored hash that is not an Argon2id PHC string
// this package can check.
var errPHC = errors.New("staff: not an Argon2id PHC string")

// parsePHC reads a PHC string back, parameters included, and refuses
// parameters out of bounds (a hash must not be able to exhaust memory).
func parsePHC(phc string) (p params, salt, key []byte, err error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, errPHC
	}
	var m, t, threads uint64
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &threads); err != nil || n != 3 ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, t, threads) {
		return p, nil, nil, errPHC
	}
	if m < 8*threads || m > 1<<20 || t < 1 || t > 16 || threads < 1 || threads > 16 {
		return p, nil, nil, errPHC
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errPHC
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errPHC
	}
	return params{uint32(m), uint32(t), uint8(threads)}, salt, key, nil
}

// verifyPassword reports whether password matches the PHC string,
// comparing in constant time with the parameters the string names.
func (s *Service) verifyPassword(ctx context.Context, password, phc string) (bool, error) {
	p, salt, key, err := parsePHC(phc)
	if err != nil {
		// Spend the work anyway: a broken hash must not answer faster.
		p, salt, key, _ = parsePHC(s.dummy())
		if _, aerr := s.argon(ctx, []byte(password), salt, p, uint32(len(key))); aerr != nil {
			return false, aerr
		}
		return false, err
	}
	got, err := s.argon(ctx, []byte(password), salt, p, uint32(len(key)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// dummy returns a PHC string with the current parameters that no password
// matches (its hash is zeros, which Argon2id does not output in practice),
// for an unknown e-mail to spend the same work as a known one.
func (s *Service) dummy() string {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	return formatPHC(s.params, salt, make([]byte, argonKeyLen))
}

// argon runs Argon2id in one of the service's slots.
func (s *Service) argon(ctx context.Context, password, salt []byte, p params, keyLen uint32) ([]byte, error) {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.slots }()
	return argon2.IDKey(password, salt, p.time, p.memory, p.threads, keyLen), nil
}
