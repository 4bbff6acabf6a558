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
	"context"
	"fmt"
	"net/mail"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/candorhq/candor"
)

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

// stripSeparators removes the spaces and dashes a person may type inside a
// second-factor code.
func stripSeparators(code string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' {
			return -1
		}
		return r
	}, code)
}

func (s *Service) audit(ctx context.Context, who string, action candor.AuditAction, decision candor.AuditDecision, reason string) error {
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
	if err := s.audit(ctx, actor(ctx, "system"), candor.ActionStaffAdd, candor.DecisionOK, "staff="+m.ID+" role="+role); err != nil {
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
		err = s.audit(ctx, "anonymous", candor.ActionStaffSignIn, candor.DecisionDeny, "unknown account")
	case !ok:
		err = s.audit(ctx, "staff:"+m.ID, candor.ActionStaffSignIn, candor.DecisionDeny, "wrong password")
	case m.Disabled:
		err = s.audit(ctx, "staff:"+m.ID, candor.ActionStaffSignIn, candor.DecisionDeny, "disabled")
	default:
		if err := s.audit(ctx, "staff:"+m.ID, candor.ActionStaffSignIn, candor.DecisionOK, "password"); err != nil {
			return nil, err
		}
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, errSignIn()
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
	return s.audit(ctx, actor(ctx, "system"), candor.ActionStaffRole, candor.DecisionOK, fmt.Sprintf("staff=%s role=%s from=%s", m.ID, role, from))
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
	return s.audit(ctx, actor(ctx, "system"), candor.ActionStaffDisable, candor.DecisionOK, fmt.Sprintf("staff=%s sessions_ended=%d", m.ID, n))
}
