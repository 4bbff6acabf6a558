// Package staff keeps the console's staff accounts: passwords hashed with
// Argon2id, a second factor by TOTP (RFC 6238) with a replay guard that
// holds across nodes, single-use recovery codes, roles of the policy, and
// an audit entry for every change.
//
// A sign-in is two steps: [Service.SignIn] checks the e-mail and password,
// then [Service.CheckTOTP] (or [Service.UseRecoveryCode]) the second
// factor. Sessions are the caller's: it keeps them in the
// [candor.SessionStore], and [Service.Disable] revokes them.
//
// Who makes a change (the audit entry's actor) comes from the context
// ([WithActor]); the self-service steps (sign-in, enrolment, second factor)
// are the account's own ("staff:" and its id) unless the context says
// otherwise.
package staff

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"net/mail"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/candorhq/candor"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/argon2"
)

// Password rules.
const (
	MinPassword = 12  // characters
	MaxPassword = 256 // characters
)

// TOTP settings: what every authenticator app supports.
const (
	TOTPPeriod = 30 // seconds
	TOTPDigits = 6
	// TOTPSkew is how many time steps before and after the current one a
	// code is accepted in: clocks drift, people type slowly.
	TOTPSkew = 1
)

// RecoveryCodes is how many recovery codes an enrolment gives; each is
// 10 base32 characters (50 bits), shown as "abcde-fghij".
const RecoveryCodes = 10

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

// Options configures [New].
type Options struct {
	// Store keeps the accounts and the sessions.
	Store candor.Store
	// Seal and Open encrypt a TOTP secret (the vault's SealSecret and
	// OpenStaffSecret), bound to the associated data ad (the staff id).
	Seal func(ctx context.Context, plaintext, ad []byte) ([]byte, error)
	Open func(ctx context.Context, ciphertext, ad []byte) ([]byte, error)
	// RecoveryKey keys the hashes of recovery codes (HMAC-SHA256): 32
	// secret bytes, the same on every node, kept out of the data store
	// (cmd/candor derives it from a vault system key), so that a copy of
	// the data store does not allow an offline search of the codes.
	// Without it no enrolment can be confirmed.
	RecoveryKey []byte
	// Issuer names Candor in authenticator apps; default "Candor".
	Issuer string
	// Auditor receives an entry for every change and sign-in.
	Auditor candor.Auditor
	// Roles are the roles a staff member may have: the policy's role names
	// and, usually, [candor.RoleAdmin].
	Roles []string
	// Now returns the current time; time.Now if nil.
	Now func() time.Time

	// params overrides the Argon2id parameters of new hashes (tests only).
	params *params
}

// Service manages staff accounts. It is safe for concurrent use.
type Service struct {
	o      Options
	params params
	// slots bounds how many Argon2id hashes run at once: each takes
	// argonMemory of RAM, and sign-ins must not be able to exhaust it.
	slots chan struct{}
}

// New returns a service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Issuer == "" {
		o.Issuer = "Candor"
	}
	s := &Service{o: o, params: production, slots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
	if o.params != nil {
		s.params = *o.params
	}
	return s
}

type actorKey struct{}

// WithActor returns a context under which the service's audit entries name
// actor (such as "cli:staff" or "staff:stf_…") as who made the change.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// actor returns the context's actor, or def.
func actor(ctx context.Context, def string) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return def
}

// errSignIn is the one answer to a failed sign-in, whatever failed.
func errSignIn() error {
	return candor.Errorf(candor.EUNAUTHORIZED, "wrong e-mail or password")
}

// errCode is the one answer to a wrong, reused or expired second factor.
func errCode() error {
	return candor.Errorf(candor.EUNAUTHORIZED, "wrong or expired code")
}

func (s *Service) audit(ctx context.Context, who, action, decision, reason string) error {
	err := s.o.Auditor.Append(ctx, candor.AuditEntry{Time: s.o.Now(), Actor: who, Action: action, Decision: decision, Reason: reason})
	if err != nil {
		return fmt.Errorf("staff: audit: %w", err)
	}
	return nil
}

// NormalizeEmail returns the e-mail address as accounts are kept under it
// (trimmed, lower case), or EINVALID if it is not a bare address.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Name != "" || a.Address != e || len(e) > 254 || strings.ContainsFunc(e, unicode.IsSpace) {
		return "", candor.Errorf(candor.EINVALID, "not a valid e-mail address")
	}
	return e, nil
}

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

func (s *Service) checkRole(role string) string {
	if role == "" {
		return "a role is required"
	}
	if !slices.Contains(s.o.Roles, role) {
		return fmt.Sprintf("no role %q; the roles are %s", role, strings.Join(s.o.Roles, ", "))
	}
	return ""
}

// Add creates an account. It returns EINVALID naming the fields at fault
// (email, name, role, password), or ECONFLICT if the e-mail is taken.
func (s *Service) Add(ctx context.Context, email, name, role, password string) (*candor.StaffMember, error) {
	var bad []candor.FieldError
	norm, err := NormalizeEmail(email)
	if err != nil {
		bad = append(bad, candor.FieldError{Field: "email", Message: "not a valid e-mail address"})
	}
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		bad = append(bad, candor.FieldError{Field: "name", Message: "a name is required"})
	case utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		bad = append(bad, candor.FieldError{Field: "name", Message: "the name must be at most 200 characters of text"})
	}
	if msg := s.checkRole(role); msg != "" {
		bad = append(bad, candor.FieldError{Field: "role", Message: msg})
	}
	if msg := checkPassword(password, norm); msg != "" {
		bad = append(bad, candor.FieldError{Field: "password", Message: msg})
	}
	if len(bad) > 0 {
		return nil, candor.Invalid("the staff member is not valid", bad...)
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	now := s.o.Now().UTC()
	m := candor.StaffMember{ID: candor.NewID(candor.PrefixStaff), Email: norm, Name: name, Role: role, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.o.Store.PutStaff(ctx, m); err != nil {
		if candor.ErrorCode(err) == candor.ECONFLICT {
			return nil, candor.Errorf(candor.ECONFLICT, "a staff member with this e-mail exists")
		}
		return nil, err
	}
	if err := s.audit(ctx, actor(ctx, "system"), "staff.add", "ok", "staff="+m.ID+" role="+role); err != nil {
		return nil, err
	}
	return &m, nil
}

// SignIn checks an e-mail address and password: the first factor. It
// returns EUNAUTHORIZED "wrong e-mail or password" for an unknown e-mail,
// a wrong password and a disabled account alike, after the same Argon2id
// work in each case, so that neither the answer nor its time tells
// whether an account exists. The caller then asks for the second factor
// when [Enrolled] says the account has one, and for an enrolment when not.
func (s *Service) SignIn(ctx context.Context, email, password string) (*candor.StaffMember, error) {
	norm, _ := NormalizeEmail(email)
	var m *candor.StaffMember
	var err error
	if norm != "" {
		m, err = s.o.Store.StaffByEmail(ctx, norm)
		if err != nil && candor.ErrorCode(err) != candor.ENOTFOUND {
			return nil, err
		}
	}
	phc := s.dummy()
	if m != nil {
		phc = m.PasswordHash
	}
	ok, err := s.verifyPassword(ctx, password, phc)
	if err != nil && m != nil {
		return nil, fmt.Errorf("staff: stored password hash of %s: %w", m.ID, err)
	}
	switch {
	case m == nil:
		err = s.audit(ctx, "anonymous", "staff.signin", "deny", "unknown account")
	case !ok:
		err = s.audit(ctx, "staff:"+m.ID, "staff.signin", "deny", "wrong password")
	case m.Disabled:
		err = s.audit(ctx, "staff:"+m.ID, "staff.signin", "deny", "disabled")
	default:
		if err := s.audit(ctx, "staff:"+m.ID, "staff.signin", "ok", "password"); err != nil {
			return nil, err
		}
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, errSignIn()
}

// TOTP states. The sealed secret is kept with one byte before it: pending
// from [Service.BeginEnrolment] until [Service.ConfirmEnrolment] proves the
// person's app holds the secret, active after. A pending secret is not a
// second factor: [Service.CheckTOTP] refuses it and [Enrolled] is false.
// (The model has no field for this, and the byte costs nothing.)
const (
	totpPending byte = 'p'
	totpActive  byte = 'a'
)

// Enrolled reports whether the account has a confirmed second factor.
func Enrolled(m *candor.StaffMember) bool {
	return len(m.TOTPSealed) > 1 && m.TOTPSealed[0] == totpActive
}

// Pending reports whether the account began a TOTP enrolment that it has
// not confirmed yet.
func Pending(m *candor.StaffMember) bool {
	return len(m.TOTPSealed) > 1 && m.TOTPSealed[0] == totpPending
}

// BeginEnrolment makes a new TOTP secret for the account (SHA-1, 6 digits,
// 30 seconds: what every app supports) and keeps it sealed, pending until
// [Service.ConfirmEnrolment]. It returns the secret (base32, for typing
// in), the otpauth:// URL and the URL as a 200×200 QR code PNG: show them
// once, to the person only. Beginning again replaces a pending secret. It
// returns ECONFLICT if the account is enrolled already ([Service.ResetTOTP]
// first), EFORBIDDEN if it is disabled, ENOTFOUND.
func (s *Service) BeginEnrolment(ctx context.Context, id string) (secret, otpauthURL string, qrPNG []byte, err error) {
	m, err := s.o.Store.Staff(ctx, id)
	if err != nil {
		return "", "", nil, err
	}
	if m.Disabled {
		return "", "", nil, candor.Errorf(candor.EFORBIDDEN, "the account is disabled")
	}
	if Enrolled(m) {
		return "", "", nil, candor.Errorf(candor.ECONFLICT, "the account has a second factor already; reset it first")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.o.Issuer, AccountName: m.Email, Period: TOTPPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", "", nil, fmt.Errorf("staff: totp key: %w", err)
	}
	qr, err := qrCode(key)
	if err != nil {
		return "", "", nil, err
	}
	sealed, err := s.o.Seal(ctx, []byte(key.Secret()), []byte(m.ID))
	if err != nil {
		return "", "", nil, fmt.Errorf("staff: seal totp secret: %w", err)
	}
	m.TOTPSealed = append([]byte{totpPending}, sealed...)
	m.Recovery = nil
	m.UpdatedAt = s.o.Now().UTC()
	if err := s.o.Store.UpdateStaff(ctx, *m); err != nil {
		return "", "", nil, err
	}
	if err := s.audit(ctx, actor(ctx, "staff:"+m.ID), "staff.totp.begin", "ok", "staff="+m.ID); err != nil {
		return "", "", nil, err
	}
	return key.Secret(), key.URL(), qr, nil
}

// Enrolment returns the pending enrolment's secret, otpauth:// URL and QR
// code, beginning one ([Service.BeginEnrolment]) when none is pending: a
// page that shows it can be loaded again without changing the secret.
func (s *Service) Enrolment(ctx context.Context, id string) (secret, otpauthURL string, qrPNG []byte, err error) {
	m, err := s.o.Store.Staff(ctx, id)
	if err != nil {
		return "", "", nil, err
	}
	if !Pending(m) || m.Disabled {
		return s.BeginEnrolment(ctx, id)
	}
	b, err := s.o.Open(ctx, m.TOTPSealed[1:], []byte(m.ID))
	if err != nil {
		return "", "", nil, fmt.Errorf("staff: open totp secret of %s: %w", m.ID, err)
	}
	defer clear(b)
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + s.o.Issuer + ":" + m.Email}
	q := url.Values{}
	q.Set("secret", string(b))
	q.Set("issuer", s.o.Issuer)
	q.Set("period", strconv.Itoa(TOTPPeriod))
	q.Set("digits", "6")
	q.Set("algorithm", "SHA1")
	u.RawQuery = q.Encode()
	key, err := otp.NewKeyFromURL(u.String())
	if err != nil {
		return "", "", nil, fmt.Errorf("staff: totp key: %w", err)
	}
	qr, err := qrCode(key)
	if err != nil {
		return "", "", nil, err
	}
	return key.Secret(), key.URL(), qr, nil
}

// qrCode draws the key's otpauth:// URL as a 200×200 PNG.
func qrCode(key *otp.Key) ([]byte, error) {
	img, err := key.Image(200, 200)
	if err != nil {
		return nil, fmt.Errorf("staff: totp qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("staff: totp qr code: %w", err)
	}
	return buf.Bytes(), nil
}

// ConfirmEnrolment checks a code from the person's app against the pending
// secret; if it is right, the secret becomes the account's second factor
// and the account gets RecoveryCodes new recovery codes, returned here
// once (only their hashes are kept). The code's time step counts as used.
// It returns EINVALID (field "code") for a wrong code, ECONFLICT if no
// enrolment is pending, EFORBIDDEN if the account is disabled, ENOTFOUND.
func (s *Service) ConfirmEnrolment(ctx context.Context, id, code string) ([]string, error) {
	m, err := s.o.Store.Staff(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.Disabled {
		return nil, candor.Errorf(candor.EFORBIDDEN, "the account is disabled")
	}
	if !Pending(m) {
		return nil, candor.Errorf(candor.ECONFLICT, "no second-factor enrolment is pending")
	}
	if len(s.o.RecoveryKey) < 32 {
		return nil, errors.New("staff: no recovery key configured")
	}
	if err := s.checkCode(ctx, m, code); err != nil {
		if candor.ErrorCode(err) == candor.EUNAUTHORIZED {
			return nil, candor.Invalid("the code is wrong or expired", candor.FieldError{Field: "code", Message: "wrong or expired code; try the next one"})
		}
		return nil, err
	}
	codes, hashes, err := newRecoveryCodes(s.o.RecoveryKey, m.ID)
	if err != nil {
		return nil, err
	}
	m.TOTPSealed[0] = totpActive
	m.Recovery = hashes
	m.UpdatedAt = s.o.Now().UTC()
	if err := s.o.Store.UpdateStaff(ctx, *m); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, actor(ctx, "staff:"+m.ID), "staff.totp.confirm", "ok", fmt.Sprintf("staff=%s recovery_codes=%d", m.ID, len(codes))); err != nil {
		return nil, err
	}
	return codes, nil
}

// CheckTOTP checks the account's second factor: a code of the current
// time step or the one before or after. A code, or one of an earlier
// step, is accepted once on every node: the step is recorded with
// [candor.StaffStore.UseTOTPStep]. It returns EUNAUTHORIZED for a wrong
// or reused code, a disabled account or one without a second factor.
func (s *Service) CheckTOTP(ctx context.Context, id, code string) error {
	m, err := s.o.Store.Staff(ctx, id)
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return errCode()
	}
	if err != nil {
		return err
	}
	who := actor(ctx, "staff:"+m.ID)
	switch {
	case m.Disabled:
		err = s.audit(ctx, who, "staff.signin.totp", "deny", "disabled")
	case !Enrolled(m):
		err = s.audit(ctx, who, "staff.signin.totp", "deny", "not enrolled")
	default:
		cerr := s.checkCode(ctx, m, code)
		if candor.ErrorCode(cerr) != candor.EUNAUTHORIZED && cerr != nil {
			return cerr
		}
		if cerr == nil {
			return s.audit(ctx, who, "staff.signin.totp", "ok", "totp")
		}
		err = s.audit(ctx, who, "staff.signin.totp", "deny", "wrong or reused code")
	}
	if err != nil {
		return err
	}
	return errCode()
}

// checkCode checks a TOTP code against m's secret (pending or active) with
// the skew, and records the matched step; EUNAUTHORIZED if it does not
// match or its step (or a later one) was used.
func (s *Service) checkCode(ctx context.Context, m *candor.StaffMember, code string) error {
	code = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != TOTPDigits || strings.ContainsFunc(code, func(r rune) bool { return r < '0' || r > '9' }) {
		return errCode()
	}
	secret, err := s.o.Open(ctx, m.TOTPSealed[1:], []byte(m.ID))
	if err != nil {
		return fmt.Errorf("staff: open totp secret of %s: %w", m.ID, err)
	}
	defer clear(secret)
	now := s.o.Now().Unix() / TOTPPeriod
	matched := int64(-1)
	for step := now - TOTPSkew; step <= now+TOTPSkew; step++ {
		want, err := hotp.GenerateCodeCustom(string(secret), uint64(step), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return fmt.Errorf("staff: totp code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			matched = step // the latest step that matches
		}
	}
	if matched < 0 {
		return errCode()
	}
	ok, err := s.o.Store.UseTOTPStep(ctx, m.ID, matched)
	if err != nil {
		return err
	}
	if !ok {
		return errCode()
	}
	return nil
}

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
	c := strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' {
			return -1
		}
		return r
	}, code))
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
		if err := s.audit(ctx, who, "staff.recovery.use", "deny", "wrong or used recovery code"); err != nil {
			return err
		}
		return errCode()
	}
	return s.audit(ctx, who, "staff.recovery.use", "ok", fmt.Sprintf("staff=%s recovery_codes_left=%d", m.ID, max(0, len(m.Recovery)-1)))
}

// List returns every account, by e-mail. The accounts carry their
// password hash, sealed TOTP secret and recovery code hashes: never show
// them.
func (s *Service) List(ctx context.Context) ([]candor.StaffMember, error) {
	return s.o.Store.ListStaff(ctx)
}

// Get returns an account, or ENOTFOUND. As for [Service.List], never show
// its hashes and sealed secret.
func (s *Service) Get(ctx context.Context, id string) (*candor.StaffMember, error) {
	return s.o.Store.Staff(ctx, id)
}

// SetRole gives the account another role. It returns EINVALID (field
// "role") for a role not in Options.Roles, ENOTFOUND.
func (s *Service) SetRole(ctx context.Context, id, role string) error {
	if msg := s.checkRole(role); msg != "" {
		return candor.Invalid("the role is not valid", candor.FieldError{Field: "role", Message: msg})
	}
	m, err := s.o.Store.Staff(ctx, id)
	if err != nil {
		return err
	}
	from := m.Role
	m.Role, m.UpdatedAt = role, s.o.Now().UTC()
	if err := s.o.Store.UpdateStaff(ctx, *m); err != nil {
		return err
	}
	return s.audit(ctx, actor(ctx, "system"), "staff.role", "ok", fmt.Sprintf("staff=%s role=%s from=%s", m.ID, role, from))
}

// Disable disables the account and ends its sessions: it can no longer
// sign in, and nobody stays signed in as it. ENOTFOUND.
func (s *Service) Disable(ctx context.Context, id string) error {
	m, err := s.o.Store.Staff(ctx, id)
	if err != nil {
		return err
	}
	m.Disabled, m.UpdatedAt = true, s.o.Now().UTC()
	if err := s.o.Store.UpdateStaff(ctx, *m); err != nil {
		return err
	}
	n, err := s.o.Store.DeleteSessions(ctx, m.ID)
	if err != nil {
		return err
	}
	return s.audit(ctx, actor(ctx, "system"), "staff.disable", "ok", fmt.Sprintf("staff=%s sessions_ended=%d", m.ID, n))
}

// ResetTOTP removes the account's second factor and recovery codes (a lost
// phone) and ends its sessions; its next sign-in must enrol again.
// ENOTFOUND.
func (s *Service) ResetTOTP(ctx context.Context, id string) error {
	m, err := s.o.Store.Staff(ctx, id)
	if err != nil {
		return err
	}
	m.TOTPSealed, m.Recovery, m.UpdatedAt = nil, nil, s.o.Now().UTC()
	if err := s.o.Store.UpdateStaff(ctx, *m); err != nil {
		return err
	}
	n, err := s.o.Store.DeleteSessions(ctx, m.ID)
	if err != nil {
		return err
	}
	return s.audit(ctx, actor(ctx, "system"), "staff.totp.reset", "ok", fmt.Sprintf("staff=%s sessions_ended=%d", m.ID, n))
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
