package staff

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strconv"
	"strings"

	"github.com/candorhq/candor"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP settings: what every authenticator app supports.
const (
	TOTPPeriod = 30 // seconds
	TOTPDigits = 6
	// TOTPSkew is how many time steps before and after the current one a
	// code is accepted in: clocks drift, people type slowly.
	TOTPSkew = 1
)

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
	if err := s.audit(ctx, actor(ctx, "staff:"+m.ID), candor.ActionStaffTOTPBegin, candor.DecisionOK, "staff="+m.ID); err != nil {
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
	if err := s.audit(ctx, actor(ctx, "staff:"+m.ID), candor.ActionStaffTOTPConfirm, candor.DecisionOK, fmt.Sprintf("staff=%s recovery_codes=%d", m.ID, len(codes))); err != nil {
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
		err = s.audit(ctx, who, candor.ActionStaffSignInTOTP, candor.DecisionDeny, "disabled")
	case !Enrolled(m):
		err = s.audit(ctx, who, candor.ActionStaffSignInTOTP, candor.DecisionDeny, "not enrolled")
	default:
		cerr := s.checkCode(ctx, m, code)
		if candor.ErrorCode(cerr) != candor.EUNAUTHORIZED && cerr != nil {
			return cerr
		}
		if cerr == nil {
			return s.audit(ctx, who, candor.ActionStaffSignInTOTP, candor.DecisionOK, "totp")
		}
		err = s.audit(ctx, who, candor.ActionStaffSignInTOTP, candor.DecisionDeny, "wrong or reused code")
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
	code = stripSeparators(code)
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
	return s.audit(ctx, actor(ctx, "system"), candor.ActionStaffTOTPReset, candor.DecisionOK, fmt.Sprintf("staff=%s sessions_ended=%d", m.ID, n))
}
