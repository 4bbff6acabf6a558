package staff

import (
	"bytes"
	"context"
	"crypto/sha256"
	"image/png"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

var ctx = context.Background()

// cheap are Argon2id parameters that keep the tests fast; one test and the
// benchmark use the production ones.
var cheap = params{memory: 64, time: 1, threads: 1}

const password = "correct horse battery staple"

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	*Service
	env   *testenv.Env
	clock *clock
}

func newFixture(t *testing.T, p *params) *fixture {
	t.Helper()
	e := testenv.New(t, nil)
	// A fixed time in the middle of a TOTP step.
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 15, 0, time.UTC)}
	s := New(Options{Store: e.Store, Seal: e.Vault.SealSecret, Open: e.Vault.OpenStaffSecret, Issuer: "Candor Test", Auditor: e.Audit,
		RecoveryKey: e.Vault.BlindIndex("staff", "recovery-codes"), Roles: []string{candor.RoleAdmin, "support", "marketer"}, Now: c.Now, params: p})
	return &fixture{Service: s, env: e, clock: c}
}

func (f *fixture) add(t *testing.T, email string) *candor.StaffMember {
	t.Helper()
	m, err := f.Add(WithActor(ctx, "test:admin"), email, "Ada Lovelace", "support", password)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// code returns the TOTP code of secret at the clock's time plus steps.
func (f *fixture) code(t *testing.T, secret string, steps int) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, f.clock.Now().Add(time.Duration(steps)*TOTPPeriod*time.Second),
		totp.ValidateOpts{Period: TOTPPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol enrols the account and returns its secret and recovery codes.
func (f *fixture) enrol(t *testing.T, id string) (string, []string) {
	t.Helper()
	secret, _, _, err := f.BeginEnrolment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.ConfirmEnrolment(ctx, id, f.code(t, secret, 0))
	if err != nil {
		t.Fatal(err)
	}
	return secret, codes
}

func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := candor.ErrorCode(err); got != want {
		t.Fatalf("error %v: code %q, want %q", err, got, want)
	}
}

func TestAddValidation(t *testing.T) {
	f := newFixture(t, &cheap)
	tests := []struct {
		name                        string
		email, fullName, role, pass string
		field, message              string
	}{
		{"e-mail", "not-an-address", "A", "support", password, "email", "not a valid e-mail address"},
		{"e-mail with a name", "Ada <ada@shop.example>", "A", "support", password, "email", "not a valid e-mail address"},
		{"no name", "ada@shop.example", "  ", "support", password, "name", "a name is required"},
		{"no role", "ada@shop.example", "A", "", password, "role", "a role is required"},
		{"unknown role", "ada@shop.example", "A", "root", password, "role", `no role "root"; the roles are admin, support, marketer`},
		{"short password", "ada@shop.example", "A", "support", "elevenchars", "password", "the password must have at least 12 characters"},
		{"long password", "ada@shop.example", "A", "support", strings.Repeat("x", 257), "password", "the password must have at most 256 characters"},
		{"password is the e-mail", "ada@shop.example", "A", "support", "ADA@shop.example", "password", "the password must not be the e-mail address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.Add(ctx, tc.email, tc.fullName, tc.role, tc.pass)
			wantCode(t, err, candor.EINVALID)
			e := err.(*candor.Error)
			if len(e.Fields) != 1 || e.Fields[0].Field != tc.field || e.Fields[0].Message != tc.message {
				t.Errorf("fields %+v, want %s: %s", e.Fields, tc.field, tc.message)
			}
		})
	}
	// Every field at fault is named at once.
	_, err := f.Add(ctx, "x", "", "root", "short")
	var fields []string
	for _, fe := range err.(*candor.Error).Fields {
		fields = append(fields, fe.Field)
	}
	if got := strings.Join(fields, ","); got != "email,name,role,password" {
		t.Errorf("fields %s", got)
	}
	// Exactly 12 and 256 characters (not bytes) are fine.
	if _, err := f.Add(ctx, "twelve@shop.example", "T", "support", "密码密码密码密码密码密码"); err != nil {
		t.Errorf("12 characters: %v", err)
	}
	if _, err := f.Add(ctx, "long@shop.example", "L", "support", strings.Repeat("ü", 256)); err != nil {
		t.Errorf("256 characters: %v", err)
	}
	if list, _ := f.List(ctx); len(list) != 2 {
		t.Errorf("invalid additions were stored: %d accounts", len(list))
	}
}

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestAddAndSignIn(t *testing.T) {
	f := newFixture(t, &cheap)
	m, err := f.Add(ctx, "  Ada@Shop.Example ", " Ada Lovelace ", "support", password)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.ID, "stf_") || m.Email != "ada@shop.example" || m.Name != "Ada Lovelace" || m.Role != "support" || m.Disabled || Enrolled(m) {
		t.Errorf("added %+v", m)
	}
	if !phc.MatchString(m.PasswordHash) || strings.Contains(m.PasswordHash, password) {
		t.Errorf("password hash %q", m.PasswordHash)
	}
	_, err = f.Add(ctx, "ADA@shop.example", "Other", "marketer", password)
	wantCode(t, err, candor.ECONFLICT)

	got, err := f.SignIn(ctx, " ADA@shop.example", password)
	if err != nil || got.ID != m.ID {
		t.Fatalf("sign in: %+v %v", got, err)
	}
	for name, c := range map[string][2]string{
		"wrong password":       {"ada@shop.example", password + "!"},
		"empty password":       {"ada@shop.example", ""},
		"unknown e-mail":       {"bob@shop.example", password},
		"not an e-mail":        {"bob", password},
		"password, wrong case": {"ada@shop.example", strings.ToUpper(password)},
	} {
		_, err := f.SignIn(ctx, c[0], c[1])
		wantCode(t, err, candor.EUNAUTHORIZED)
		if msg := candor.ErrorMessage(err); msg != "wrong e-mail or password" {
			t.Errorf("%s: message %q", name, msg)
		}
	}
	// Parameters are read back from the stored string: a service whose
	// new hashes are costlier still checks the old ones.
	g := New(Options{Store: f.env.Store, Auditor: f.env.Audit, Now: f.clock.Now, params: &params{memory: 128, time: 2, threads: 2}})
	if _, err := g.SignIn(ctx, "ada@shop.example", password); err != nil {
		t.Errorf("sign in with other parameters: %v", err)
	}
	// A disabled account answers as an unknown one.
	if err := f.Disable(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.SignIn(ctx, "ada@shop.example", password)
	wantCode(t, err, candor.EUNAUTHORIZED)
	if msg := candor.ErrorMessage(err); msg != "wrong e-mail or password" {
		t.Errorf("disabled: message %q", msg)
	}
}

func TestPHC(t *testing.T) {
	p, salt, key, err := parsePHC(formatPHC(params{65536, 3, 2}, []byte("0123456789abcdef"), bytes.Repeat([]byte{7}, 32)))
	if err != nil || p != (params{65536, 3, 2}) || string(salt) != "0123456789abcdef" || len(key) != 32 {
		t.Fatalf("round trip: %+v %q %x %v", p, salt, key, err)
	}
	for _, bad := range []string{
		"",
		"$argon2i$v=19$m=65536,t=3,p=2$MDEyMzQ1Njc4OWFiY2RlZg$BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc",
		"$argon2id$v=16$m=65536,t=3,p=2$MDEyMzQ1Njc4OWFiY2RlZg$BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc",
		"$argon2id$v=19$m=4194304,t=3,p=2$MDEyMzQ1Njc4OWFiY2RlZg$BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc", // 4 GiB
		"$argon2id$v=19$m=65536,t=99,p=2$MDEyMzQ1Njc4OWFiY2RlZg$BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc",
		"$argon2id$v=19$m=65536,t=3,p=0$MDEyMzQ1Njc4OWFiY2RlZg$BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc",
		"$argon2id$v=19$m=65536,t=3,p=2,x=1$MDEyMzQ1Njc4OWFiY2RlZg$BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc",
		"$argon2id$v=19$m=19456,t=2,p=1$!!$BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc",
		"$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$",
	} {
		if _, _, _, err := parsePHC(bad); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}

// TestProductionParameters hashes and checks with the real cost.
func TestProductionParameters(t *testing.T) {
	f := newFixture(t, nil)
	start := time.Now()
	m := f.add(t, "ada@shop.example")
	took := time.Since(start)
	if !strings.HasPrefix(m.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") || !phc.MatchString(m.PasswordHash) {
		t.Fatalf("hash %q", m.PasswordHash)
	}
	t.Logf("adding an account (one Argon2id hash) took %v", took)
	if _, err := f.SignIn(ctx, "ada@shop.example", password); err != nil {
		t.Fatal(err)
	}
	// An unknown e-mail spends the same work as a wrong password: compare
	// the fastest of a few tries of each, taken in turns so that a load on
	// the machine weighs on both alike (a lookup alone takes well under a
	// tenth of a hash).
	try := func(email string) time.Duration {
		start := time.Now()
		_, err := f.SignIn(ctx, email, "wrong password 123")
		wantCode(t, err, candor.EUNAUTHORIZED)
		return time.Since(start)
	}
	known, unknown := time.Hour, time.Hour
	for range 5 {
		known = min(known, try("ada@shop.example"))
		unknown = min(unknown, try("nobody@shop.example"))
	}
	t.Logf("wrong password %v, unknown e-mail %v", known, unknown)
	if unknown < known/2 {
		t.Errorf("an unknown e-mail answers in %v, a wrong password in %v: the timing tells accounts apart", unknown, known)
	}
}

func TestTOTP(t *testing.T) {
	f := newFixture(t, &cheap)
	m := f.add(t, "ada@shop.example")
	wantCode(t, f.CheckTOTP(ctx, m.ID, "123456"), candor.EUNAUTHORIZED) // not enrolled

	secret, u, qr, err := f.BeginEnrolment(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := url.Parse(u)
	if err != nil || parsed.Scheme != "otpauth" || parsed.Host != "totp" || parsed.Query().Get("secret") != secret ||
		parsed.Query().Get("issuer") != "Candor Test" || parsed.Query().Get("digits") != "6" || parsed.Query().Get("algorithm") != "SHA1" ||
		parsed.Query().Get("period") != "30" || !strings.Contains(parsed.Path, "ada@shop.example") {
		t.Errorf("otpauth URL %q %v", u, err)
	}
	img, err := png.Decode(bytes.NewReader(qr))
	if err != nil || img.Bounds().Dx() != 200 || img.Bounds().Dy() != 200 {
		t.Errorf("QR code: %v %v", img.Bounds(), err)
	}
	// Pending: kept sealed, and not yet a second factor.
	stored, _ := f.Get(ctx, m.ID)
	if !Pending(stored) || Enrolled(stored) || bytes.Contains(stored.TOTPSealed, []byte(secret)) {
		t.Fatalf("pending state: %+v", stored)
	}
	wantCode(t, f.CheckTOTP(ctx, m.ID, f.code(t, secret, 0)), candor.EUNAUTHORIZED)
	// Beginning again replaces the pending secret.
	secret2, _, _, err := f.BeginEnrolment(ctx, m.ID)
	if err != nil || secret2 == secret {
		t.Fatalf("begin again: %v", err)
	}
	_, err = f.ConfirmEnrolment(ctx, m.ID, f.code(t, secret, 0))
	wantCode(t, err, candor.EINVALID)
	if fe := err.(*candor.Error).Fields; len(fe) != 1 || fe[0].Field != "code" {
		t.Errorf("fields %+v", fe)
	}
	secret = secret2
	codes, err := f.ConfirmEnrolment(ctx, m.ID, f.code(t, secret, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != RecoveryCodes {
		t.Fatalf("%d recovery codes", len(codes))
	}
	stored, _ = f.Get(ctx, m.ID)
	if !Enrolled(stored) || Pending(stored) || len(stored.Recovery) != RecoveryCodes {
		t.Fatalf("enrolled state: %+v", stored)
	}
	_, err = f.ConfirmEnrolment(ctx, m.ID, f.code(t, secret, 1))
	wantCode(t, err, candor.ECONFLICT)
	_, _, _, err = f.BeginEnrolment(ctx, m.ID)
	wantCode(t, err, candor.ECONFLICT)

	// The code that confirmed the enrolment is used: not accepted again.
	wantCode(t, f.CheckTOTP(ctx, m.ID, f.code(t, secret, 0)), candor.EUNAUTHORIZED)
	// Next step: its code once, then never again, nor an earlier one.
	f.clock.Add(30 * time.Second)
	if err := f.CheckTOTP(ctx, m.ID, f.code(t, secret, 0)); err != nil {
		t.Fatalf("next step: %v", err)
	}
	wantCode(t, f.CheckTOTP(ctx, m.ID, f.code(t, secret, 0)), candor.EUNAUTHORIZED)
	wantCode(t, f.CheckTOTP(ctx, m.ID, f.code(t, secret, -1)), candor.EUNAUTHORIZED)
	// Skew: a code one step ahead is accepted (a fast clock), which
	// makes the current step's code old.
	if err := f.CheckTOTP(ctx, m.ID, f.code(t, secret, 1)); err != nil {
		t.Fatalf("one step ahead: %v", err)
	}
	f.clock.Add(60 * time.Second)
	wantCode(t, f.CheckTOTP(ctx, m.ID, f.code(t, secret, -1)), candor.EUNAUTHORIZED) // the step used just now
	// One step behind (a slow clock) is accepted; two are not, nor two ahead.
	f.clock.Add(60 * time.Second)
	wantCode(t, f.CheckTOTP(ctx, m.ID, f.code(t, secret, -2)), candor.EUNAUTHORIZED)
	wantCode(t, f.CheckTOTP(ctx, m.ID, f.code(t, secret, 2)), candor.EUNAUTHORIZED)
	if err := f.CheckTOTP(ctx, m.ID, f.code(t, secret, -1)); err != nil {
		t.Fatalf("one step behind: %v", err)
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef", "12 34 5x"} {
		wantCode(t, f.CheckTOTP(ctx, m.ID, bad), candor.EUNAUTHORIZED)
	}
	wantCode(t, f.CheckTOTP(ctx, "stf_nobody", "123456"), candor.EUNAUTHORIZED)
	// Spaces, as apps show codes, are fine.
	f.clock.Add(30 * time.Second)
	c := f.code(t, secret, 0)
	if err := f.CheckTOTP(ctx, m.ID, c[:3]+" "+c[3:]); err != nil {
		t.Errorf("a code with a space: %v", err)
	}

	// Racing uses of one fresh code: exactly one is accepted.
	f.clock.Add(30 * time.Second)
	c = f.code(t, secret, 0)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := f.CheckTOTP(ctx, m.ID, c)
			switch candor.ErrorCode(err) {
			case "":
				ok.Add(1)
			case candor.EUNAUTHORIZED:
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := ok.Load(); n != 1 {
		t.Fatalf("%d racing uses of one code accepted, want 1", n)
	}

	// A reset removes the second factor and the recovery codes and ends
	// the sessions; the account enrols again.
	if err := f.env.Store.PutSession(ctx, candor.Session{Hash: []byte("h1"), Kind: candor.SessionStaff, Principal: m.ID, CreatedAt: f.clock.Now(), ExpiresAt: f.clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := f.ResetTOTP(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	stored, _ = f.Get(ctx, m.ID)
	if Enrolled(stored) || Pending(stored) || stored.TOTPSealed != nil || len(stored.Recovery) != 0 {
		t.Errorf("after reset: %+v", stored)
	}
	if _, err := f.env.Store.Session(ctx, []byte("h1"), f.clock.Now()); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Errorf("a session survived the reset: %v", err)
	}
	f.clock.Add(30 * time.Second)
	wantCode(t, f.CheckTOTP(ctx, m.ID, f.code(t, secret, 0)), candor.EUNAUTHORIZED)
	f.enrol(t, m.ID)
}

// TestSealedSecretIsBound: a sealed secret copied to another account does
// not open there.
func TestSealedSecretIsBound(t *testing.T) {
	f := newFixture(t, &cheap)
	a, b := f.add(t, "a@shop.example"), f.add(t, "b@shop.example")
	secret, _ := f.enrol(t, a.ID)
	f.enrol(t, b.ID)
	sa, _ := f.Get(ctx, a.ID)
	sb, _ := f.Get(ctx, b.ID)
	sb.TOTPSealed = sa.TOTPSealed
	if err := f.env.Store.UpdateStaff(ctx, *sb); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(30 * time.Second)
	if err := f.CheckTOTP(ctx, b.ID, f.code(t, secret, 0)); candor.ErrorCode(err) != candor.EINTERNAL {
		t.Errorf("a moved secret: %v", err)
	}
}

var recoveryFormat = regexp.MustCompile(`^[a-z2-7]{5}-[a-z2-7]{5}$`)

func TestRecoveryCodes(t *testing.T) {
	f := newFixture(t, &cheap)
	a, b := f.add(t, "a@shop.example"), f.add(t, "b@shop.example")
	wantCode(t, f.UseRecoveryCode(ctx, a.ID, "abcde-fghij"), candor.EUNAUTHORIZED) // not enrolled
	_, codes := f.enrol(t, a.ID)
	_, other := f.enrol(t, b.ID)
	seen := map[string]bool{}
	for _, c := range codes {
		if !recoveryFormat.MatchString(c) || seen[c] {
			t.Errorf("code %q", c)
		}
		seen[c] = true
	}
	stored, _ := f.Get(ctx, a.ID)
	for _, h := range stored.Recovery {
		for _, c := range codes {
			plain := sha256.Sum256([]byte(strings.ReplaceAll(c, "-", "")))
			if bytes.Contains(h, []byte(c)) || bytes.Equal(h, plain[:]) {
				t.Errorf("a stored hash is the code, or its bare SHA-256")
			}
		}
	}
	if err := f.UseRecoveryCode(ctx, a.ID, codes[0]); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.UseRecoveryCode(ctx, a.ID, codes[0]), candor.EUNAUTHORIZED)
	// Typed in capitals, without the dash, with spaces: the same code.
	if err := f.UseRecoveryCode(ctx, a.ID, " "+strings.ToUpper(strings.ReplaceAll(codes[1], "-", " "))+" "); err != nil {
		t.Fatalf("typed differently: %v", err)
	}
	for _, bad := range []string{other[0], "", "abcde", "abcde-fghi1", codes[2] + "a"} {
		wantCode(t, f.UseRecoveryCode(ctx, a.ID, bad), candor.EUNAUTHORIZED)
	}
	if err := f.UseRecoveryCode(ctx, b.ID, other[0]); err != nil {
		t.Errorf("the other account's own code: %v", err)
	}
	// Racing uses of one code: exactly one succeeds.
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f.UseRecoveryCode(ctx, a.ID, codes[3]) == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := ok.Load(); n != 1 {
		t.Fatalf("%d racing uses of one recovery code succeeded, want 1", n)
	}
	if stored, _ := f.Get(ctx, a.ID); len(stored.Recovery) != RecoveryCodes-3 {
		t.Errorf("%d codes left, want %d", len(stored.Recovery), RecoveryCodes-3)
	}
	// A disabled account's codes do not work.
	if err := f.Disable(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.UseRecoveryCode(ctx, a.ID, codes[4]), candor.EUNAUTHORIZED)
}

func TestDisableAndRoles(t *testing.T) {
	f := newFixture(t, &cheap)
	a, b := f.add(t, "a@shop.example"), f.add(t, "b@shop.example")
	secret, _ := f.enrol(t, a.ID)
	now := f.clock.Now()
	for i, p := range []string{a.ID, a.ID, b.ID} {
		if err := f.env.Store.PutSession(ctx, candor.Session{Hash: []byte{byte(i)}, Kind: candor.SessionStaff, Principal: p, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, f.SetRole(ctx, a.ID, "root"), candor.EINVALID)
	wantCode(t, f.SetRole(ctx, "stf_nobody", "marketer"), candor.ENOTFOUND)
	if err := f.SetRole(ctx, a.ID, "marketer"); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.Get(ctx, a.ID); m.Role != "marketer" || !Enrolled(m) || len(m.Recovery) != RecoveryCodes {
		t.Errorf("after the role change: %+v", m)
	}
	if err := f.Disable(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.Disable(ctx, "stf_nobody"), candor.ENOTFOUND)
	for i, want := range []string{candor.ENOTFOUND, candor.ENOTFOUND, ""} {
		_, err := f.env.Store.Session(ctx, []byte{byte(i)}, now)
		wantCode(t, err, want)
	}
	f.clock.Add(30 * time.Second)
	wantCode(t, f.CheckTOTP(ctx, a.ID, f.code(t, secret, 0)), candor.EUNAUTHORIZED)
	_, _, _, err := f.BeginEnrolment(ctx, a.ID)
	wantCode(t, err, candor.EFORBIDDEN)
	list, err := f.List(ctx)
	if err != nil || len(list) != 2 || list[0].ID != a.ID || !list[0].Disabled || list[1].Disabled {
		t.Errorf("list %+v %v", list, err)
	}
}

// TestAudit: every change is in the audit log, by whom, and no entry
// holds a password, a TOTP secret or code, a recovery code or an e-mail.
func TestAudit(t *testing.T) {
	f := newFixture(t, &cheap)
	admin := WithActor(ctx, "cli:staff")
	m, err := f.Add(admin, "ada@shop.example", "Ada", "support", password)
	if err != nil {
		t.Fatal(err)
	}
	f.SignIn(ctx, "ada@shop.example", "wrong password!!")
	f.SignIn(ctx, "nobody@shop.example", password)
	if _, err := f.SignIn(ctx, "ada@shop.example", password); err != nil {
		t.Fatal(err)
	}
	secret, codes := f.enrol(t, m.ID)
	f.clock.Add(30 * time.Second)
	code := f.code(t, secret, 0)
	if err := f.CheckTOTP(ctx, m.ID, code); err != nil {
		t.Fatal(err)
	}
	f.CheckTOTP(ctx, m.ID, code)
	if err := f.UseRecoveryCode(ctx, m.ID, codes[0]); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{f.SetRole(admin, m.ID, "marketer"), f.ResetTOTP(admin, m.ID), f.Disable(admin, m.ID)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	entries, err := f.env.Store.AuditEntries(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Actor+" "+string(e.Action)+" "+string(e.Decision))
		all := strings.Join([]string{e.Actor, string(e.Action), e.Purpose, e.SubjectID, strings.Join(e.Fields, ","), string(e.Decision), e.Reason, e.TraceID, e.RightsRequest}, "|")
		needles := append([]string{password, secret, code, "ada@shop.example", "nobody@shop.example"}, codes...)
		for _, n := range needles {
			if strings.Contains(strings.ToLower(all), strings.ToLower(n)) {
				t.Errorf("the audit entry %q holds %q", all, n)
			}
		}
	}
	self := "staff:" + m.ID
	want := []string{
		"cli:staff staff.add ok",
		self + " staff.signin deny",
		"anonymous staff.signin deny",
		self + " staff.signin ok",
		self + " staff.totp.begin ok",
		self + " staff.totp.confirm ok",
		self + " staff.signin.totp ok",
		self + " staff.signin.totp deny",
		self + " staff.recovery.use ok",
		"cli:staff staff.role ok",
		"cli:staff staff.totp.reset ok",
		"cli:staff staff.disable ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// BenchmarkArgon2id measures one password hash with the production
// parameters.
func BenchmarkArgon2id(b *testing.B) {
	s := New(Options{})
	for b.Loop() {
		if _, err := s.hashPassword(ctx, password); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEnrolmentShownAgain: loading the enrolment page twice shows the same
// pending secret, and a code from it confirms the enrolment.
func TestEnrolmentShownAgain(t *testing.T) {
	s := newFixture(t, &cheap)
	m := s.add(t, "enrol.again@shop.example")
	first, u1, png1, err := s.Enrolment(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	again, u2, png2, err := s.Enrolment(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if first != again || !strings.Contains(u2, first) || u1 == "" || len(png1) == 0 || len(png2) == 0 {
		t.Fatalf("the pending secret changed between two loads: %q %q", first, again)
	}
	if _, err := s.ConfirmEnrolment(ctx, m.ID, s.code(t, first, 0)); err != nil {
		t.Fatalf("confirm with the shown secret: %v", err)
	}
}

// TestRecoveryCodesKeyed: a stored recovery code hash is keyed, so that a
// copy of the data store alone does not allow a search of the codes' 50
// bits: it is neither the SHA-256 of the code nor the unkeyed hash kept
// before, and a service with another key does not accept the codes. A code
// kept the old, unkeyed way still works, once.
func TestRecoveryCodesKeyed(t *testing.T) {
	f := newFixture(t, &cheap)
	a := f.add(t, "keyed@shop.example")
	_, codes := f.enrol(t, a.ID)
	stored, err := f.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	unkeyed := map[string]bool{}
	for _, c := range codes {
		n := strings.ReplaceAll(c, "-", "")
		plain := sha256.Sum256([]byte(n))
		unkeyed[string(plain[:])] = true
		unkeyed[string(legacyRecoveryHash(a.ID, n))] = true
	}
	for _, h := range stored.Recovery {
		if unkeyed[string(h)] {
			t.Fatal("a stored recovery code hash can be computed from the code alone (unkeyed)")
		}
	}
	other := New(Options{Store: f.env.Store, Auditor: f.env.Audit, Now: f.clock.Now, RecoveryKey: bytes.Repeat([]byte{7}, 32)})
	wantCode(t, other.UseRecoveryCode(ctx, a.ID, codes[0]), candor.EUNAUTHORIZED)
	if err := f.UseRecoveryCode(ctx, a.ID, codes[0]); err != nil {
		t.Fatalf("a keyed code: %v", err)
	}

	// An account enrolled before: its hashes are the unkeyed ones.
	b := f.add(t, "legacy@shop.example")
	_, fresh := f.enrol(t, b.ID)
	m, err := f.Get(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	m.Recovery = nil
	for _, c := range fresh {
		m.Recovery = append(m.Recovery, legacyRecoveryHash(b.ID, strings.ReplaceAll(c, "-", "")))
	}
	if err := f.env.Store.UpdateStaff(ctx, *m); err != nil {
		t.Fatal(err)
	}
	if err := f.UseRecoveryCode(ctx, b.ID, fresh[1]); err != nil {
		t.Fatalf("a code kept unkeyed: %v", err)
	}
	wantCode(t, f.UseRecoveryCode(ctx, b.ID, fresh[1]), candor.EUNAUTHORIZED)
	if m, _ := f.Get(ctx, b.ID); len(m.Recovery) != RecoveryCodes-1 {
		t.Errorf("%d codes left, want %d", len(m.Recovery), RecoveryCodes-1)
	}
	// Without a key, no enrolment: codes are never kept unkeyed again.
	keyless := New(Options{Store: f.env.Store, Seal: f.env.Vault.SealSecret, Open: f.env.Vault.OpenStaffSecret, Auditor: f.env.Audit, Now: f.clock.Now,
		Roles: []string{candor.RoleAdmin, "support"}, params: &cheap})
	c := f.add(t, "keyless@shop.example")
	secret, _, _, err := keyless.BeginEnrolment(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keyless.ConfirmEnrolment(ctx, c.ID, f.code(t, secret, 0)); err == nil {
		t.Error("an enrolment without a recovery key gave codes")
	}
}
