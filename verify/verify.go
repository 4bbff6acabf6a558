// Package verify proves that a person controls an e-mail address or a phone
// number on file, by a one-time code sent to it: [Verifier.Start] and
// [Verifier.Finish] sign a person in with a short-lived token that
// [Verifier.Check] reads back as a [Proof]; [Verifier.StartChange] and
// [Verifier.FinishChange] prove a new address before it replaces the one on
// file. Codes go out through a [candor.Sender] (package smtp for e-mail,
// package sms for phones, [DevSender] in the demo).
package verify

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/pii"
	"github.com/candorhq/candor/subjects"
)

// Verification limits.
const (
	CodeTTL        = 10 * time.Minute
	MaxTries       = 5
	TokenTTL       = 15 * time.Minute
	MaxPerHour     = 5  // codes sent to one identifier in an hour
	MaxPerIPWindow = 20 // verification calls from one address in IPWindow
	IPWindow       = 10 * time.Minute
	// Codes sent to new addresses for one person (a change of e-mail or
	// phone), whatever the addresses, counted in the store so that the
	// limit holds on every node; and for one session.
	MaxChangesPerHour    = 3
	MaxChangesPerDay     = 5
	MaxChangesPerSession = 3
)

// Blinder is what the verifier needs of the vault: the keyed hash
// (for blind indexes, code hashes and token signatures, each in its own
// domain). The identifier on file is read through the gate
// ([gate.Gate.Contact]), which audits the read.
type Blinder interface {
	BlindIndex(kind, normalized string) []byte
}

// Options configures a [Verifier].
type Options struct {
	Store   candor.Store
	Blinder Blinder
	Mail    candor.Sender // e-mail codes
	SMS     candor.Sender // phone codes
	Org     string        // named in the message
	// Gate reads the address on file to send a code to ([gate.Gate.Contact]):
	// a read of personal data for the purpose rights, audited before the
	// address is opened. Required.
	Gate   *gate.Gate
	Now    func() time.Time
	Logger *slog.Logger
}

// Verifier proves that a person controls an identifier on file: a one-time
// code goes to the e-mail address or phone number on file (never to one
// given in the request: the one given only finds it), and the person sends
// it back. Every answer is the same whether the identifier exists or not,
// and takes the same path: the look-up and the sending happen after the
// answer, so neither its content nor its timing tells anyone whether a
// person is known.
type Verifier struct {
	o   Options
	mu  sync.Mutex
	ips map[string][]time.Time
	wg  sync.WaitGroup
}

// New returns a verifier. It panics when the store, the blinder or the
// gate is missing.
func New(o Options) *Verifier {
	switch {
	case o.Store == nil:
		panic("verify: New without a Store")
	case o.Blinder == nil:
		panic("verify: New without a Blinder")
	case o.Gate == nil:
		panic("verify: New without a Gate")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Verifier{o: o, ips: map[string][]time.Time{}}
}

// Wait waits for codes being sent.
func (v *Verifier) Wait() { v.wg.Wait() }

// errCode is the one answer to every failed verification.
var errCode = &candor.Error{Code: candor.EINVALID, Message: "the code is wrong, used or expired; ask for a new one", Reason: "bad_code",
	Fields: []candor.FieldError{{Field: "code", Message: "not valid"}}}

// allowIP applies the per-address limit.
func (v *Verifier) allowIP(ip string) error {
	if ip == "" {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.o.Now()
	recent := v.ips[ip][:0]
	for _, t := range v.ips[ip] {
		if now.Sub(t) < IPWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) >= MaxPerIPWindow {
		v.ips[ip] = recent
		return &candor.Error{Code: candor.EBUSY, Message: "too many verification attempts from this address; wait a few minutes"}
	}
	v.ips[ip] = append(recent, now)
	if len(v.ips) > 100000 {
		v.ips = map[string][]time.Time{} // bounded
	}
	return nil
}

// Start sends a code to the identifier on file, if there is one, and
// returns the challenge id to answer with. kind is email or phone.
func (v *Verifier) Start(ctx context.Context, kind, value, ip string) (string, time.Time, error) {
	c, code, _, err := v.challenge(ctx, kind, value, ip, "", nil, nil)
	if err != nil {
		return "", time.Time{}, err
	}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		v.send(sctx, c, code)
	}()
	return c.ID, c.ExpiresAt, nil
}

// challenge applies the limits and stores a new challenge for an
// identifier; bind, when not empty, is folded into the code's hash so that
// the code answers only a challenge of that purpose and person. It returns
// the challenge, its code and the normalized identifier. owner, when not
// nil, fills in who asked (for a change of address) before it is stored,
// and limits are checked beside the identifier's, in the same step as the
// challenge is stored (so that concurrent requests cannot exceed them).
func (v *Verifier) challenge(ctx context.Context, kind, value, ip, bind string, owner func(*candor.Challenge), limits []candor.ChallengeLimit) (candor.Challenge, string, string, error) {
	var c candor.Challenge
	if err := v.allowIP(ip); err != nil {
		return c, "", "", err
	}
	if kind != candor.IdentEmail && kind != candor.IdentPhone {
		return c, "", "", candor.Invalid("give an e-mail address or a phone number", candor.FieldError{Field: "kind", Message: "want email or phone"})
	}
	norm, err := subjects.Normalize(kind, value)
	if err != nil {
		return c, "", "", err
	}
	blind := v.o.Blinder.BlindIndex(kind, norm)
	now := v.o.Now().UTC()
	code, err := newCode()
	if err != nil {
		return c, "", "", err
	}
	c = candor.Challenge{ID: candor.NewID(candor.PrefixChallenge), Kind: kind, Blind: blind, CreatedAt: now, ExpiresAt: now.Add(CodeTTL)}
	c.CodeHash = v.codeHash(c.ID, bind+code)
	if owner != nil {
		owner(&c)
	}
	limits = append(limits, candor.ChallengeLimit{Scope: candor.ChallengeScopeIdentifier, Max: MaxPerHour, Since: now.Add(-time.Hour)})
	if err := v.o.Store.PutChallenge(ctx, c, limits...); err != nil {
		var ce *candor.Error
		if errors.As(err, &ce) && ce.Code == candor.EBUSY {
			if ce.Reason == candor.ChallengeScopeIdentifier {
				return c, "", "", &candor.Error{Code: candor.EBUSY, Message: "too many codes were asked for this " + kind + "; try again later"}
			}
			return c, "", "", errTooManyChanges
		}
		return c, "", "", err
	}
	return c, code, norm, nil
}

// send looks the identifier up and, when someone holds it, sends the code
// to the address or number on file.
func (v *Verifier) send(ctx context.Context, c candor.Challenge, code string) {
	// Only an identifier that signs in gets a code: one attached without
	// proof must open nothing (the answer was the same).
	subjectID, err := v.signsIn(ctx, c.Kind, c.Blind)
	if err != nil {
		if candor.ErrorCode(err) != candor.ENOTFOUND {
			v.o.Logger.Error("verification: look-up failed", "challenge", c.ID, "err", err)
		}
		return // nobody to send to; the answer was the same
	}
	// The gate audits before it opens the address (fail closed).
	to, err := v.o.Gate.Contact(ctx, verificationActor, subjectID, c.Kind, c.Blind, c.ID)
	if err != nil {
		if candor.ErrorCode(err) != candor.ENOTFOUND {
			v.o.Logger.Error("verification: read the address on file", "challenge", c.ID, "err", err)
		}
		return
	}
	v.sendTo(ctx, c, to, code)
}

// verificationActor is who reads an address on file to send a code.
var verificationActor = candor.Actor{ID: "job:verification", Role: candor.RoleAdmin}

// sendTo sends the code of challenge c to an address or number.
func (v *Verifier) sendTo(ctx context.Context, c candor.Challenge, to, code string) {
	sender := v.o.Mail
	if c.Kind == candor.IdentPhone {
		sender = v.o.SMS
	}
	if sender == nil {
		v.o.Logger.Error("verification: no sender configured", "kind", c.Kind)
		return
	}
	subject := fmt.Sprintf("%s: 验证码 / verification code", v.o.Org)
	body := fmt.Sprintf("您的验证码是 %s，10 分钟内有效。如非本人操作，请忽略。\nYour verification code is %s. It is valid for 10 minutes. If you did not ask for it, ignore this message.\n\n%s\n", code, code, v.o.Org)
	if err := sender.Send(ctx, to, subject, body); err != nil {
		reason, _ := pii.Redact(err.Error()) // a server's refusal often quotes the address
		v.o.Logger.Error("verification: sending failed", "challenge", c.ID, "kind", c.Kind, "err", reason)
	}
}

// StartChange sends a code to a new e-mail address or phone number that a
// signed-in person (subjectID) wants on file instead of theirs, so that
// they prove they control it before it replaces the old one. The code is
// bound to the person: it confirms only their change ([Verifier.FinishChange]),
// and never signs anyone in. session is the hash of the person's session.
// The same limits apply as to [Verifier.Start], and a person (any session)
// gets at most MaxChangesPerHour and MaxChangesPerDay codes sent to new
// addresses, a session MaxChangesPerSession: beyond them, EBUSY, so that
// a session cannot make Candor send codes to any number of addresses.
func (v *Verifier) StartChange(ctx context.Context, subjectID string, session []byte, kind, value, ip string) (string, time.Time, error) {
	sess := v.o.Blinder.BlindIndex("change-session", base64.RawURLEncoding.EncodeToString(session))
	now := v.o.Now().UTC()
	limits := []candor.ChallengeLimit{
		{Scope: candor.ChallengeScopeSubject, Max: MaxChangesPerDay, Since: now.Add(-24 * time.Hour)},
		{Scope: candor.ChallengeScopeSession, Max: MaxChangesPerSession, Since: now.Add(-24 * time.Hour)},
		{Scope: candor.ChallengeScopeSubject, Max: MaxChangesPerHour, Since: now.Add(-time.Hour)},
	}
	c, code, norm, err := v.challenge(ctx, kind, value, ip, changeBind(subjectID), func(c *candor.Challenge) { c.SubjectID, c.Session = subjectID, sess }, limits)
	if err != nil {
		return "", time.Time{}, err
	}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		v.sendTo(sctx, c, norm, code)
	}()
	return c.ID, c.ExpiresAt, nil
}

// errTooManyChanges answers a change of address beyond the limits.
var errTooManyChanges = &candor.Error{Code: candor.EBUSY, Reason: "too_many_changes",
	Message: fmt.Sprintf("too many codes were sent to new addresses for you (at most %d an hour and %d a day); try again later", MaxChangesPerHour, MaxChangesPerDay)}

// changeBind ties a change's code to the person.
func changeBind(subjectID string) string { return "change:" + subjectID + ":" }

// FinishChange checks the code that [Verifier.StartChange] sent for the
// person's new value: nil when it proves their control of it. Every
// failure gets the same answer, as for [Verifier.Finish].
func (v *Verifier) FinishChange(ctx context.Context, challengeID, code, subjectID, kind, value, ip string) error {
	if err := v.allowIP(ip); err != nil {
		return err
	}
	if !candor.ValidID(candor.PrefixChallenge, challengeID) || len(code) > 12 {
		return errCode
	}
	norm, err := subjects.Normalize(kind, value)
	if err != nil {
		return errCode
	}
	c, err := v.o.Store.Challenge(ctx, challengeID)
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return errCode
	}
	if err != nil {
		return err
	}
	now := v.o.Now().UTC()
	good := c.Kind == kind && hmac.Equal(c.Blind, v.o.Blinder.BlindIndex(kind, norm)) &&
		hmac.Equal(c.CodeHash, v.codeHash(c.ID, changeBind(subjectID)+strings.TrimSpace(code))) && now.Before(c.ExpiresAt)
	ok, err := v.o.Store.SpendChallenge(ctx, c.ID, good, MaxTries)
	if err != nil {
		return err
	}
	if !good || !ok {
		return errCode
	}
	return nil
}

// Finish checks a code. On success it returns a token that proves, for
// TokenTTL, control of that one identifier; it names the subject. Every
// failure gets the same answer: wrong, used, expired, locked after
// MaxTries, or for an identifier nobody holds.
func (v *Verifier) Finish(ctx context.Context, challengeID, code, ip string) (string, time.Time, error) {
	if err := v.allowIP(ip); err != nil {
		return "", time.Time{}, err
	}
	if !candor.ValidID(candor.PrefixChallenge, challengeID) || len(code) > 12 {
		return "", time.Time{}, errCode
	}
	c, err := v.o.Store.Challenge(ctx, challengeID)
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return "", time.Time{}, errCode
	}
	if err != nil {
		return "", time.Time{}, err
	}
	now := v.o.Now().UTC()
	good := hmac.Equal(c.CodeHash, v.codeHash(c.ID, strings.TrimSpace(code))) && now.Before(c.ExpiresAt)
	ok, err := v.o.Store.SpendChallenge(ctx, c.ID, good, MaxTries)
	if err != nil {
		return "", time.Time{}, err
	}
	if !good || !ok {
		return "", time.Time{}, errCode
	}
	subjectID, err := v.signsIn(ctx, c.Kind, c.Blind)
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return "", time.Time{}, errCode
	}
	if err != nil {
		return "", time.Time{}, err
	}
	exp := now.Add(TokenTTL)
	return v.token(tokenClaims{Subject: subjectID, Kind: c.Kind, Challenge: c.ID, Expires: exp.Unix()}), exp, nil
}

// Proof is what a token proves.
type Proof struct {
	SubjectID string
	Kind      string // the identifier verified: email or phone
	Challenge string
}

type tokenClaims struct {
	Subject   string `json:"sub"`
	Kind      string `json:"kind"`
	Challenge string `json:"chl"`
	Expires   int64  `json:"exp"`
}

// TokenPrefix starts every verification token.
const TokenPrefix = "cndv_"

func (v *Verifier) token(c tokenClaims) string {
	payload, _ := json.Marshal(c)
	p := base64.RawURLEncoding.EncodeToString(payload)
	mac := v.o.Blinder.BlindIndex("verification-token", p)
	return TokenPrefix + p + "." + base64.RawURLEncoding.EncodeToString(mac)
}

// Check returns what a token proves. EUNAUTHORIZED when it is forged,
// malformed or expired.
func (v *Verifier) Check(token string) (*Proof, error) {
	bad := &candor.Error{Code: candor.EUNAUTHORIZED, Message: "the verification is not valid or has expired; verify again"}
	rest, ok := strings.CutPrefix(token, TokenPrefix)
	p, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || len(token) > 1024 {
		return nil, bad
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, v.o.Blinder.BlindIndex("verification-token", p)) {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	var c tokenClaims
	if err != nil || json.Unmarshal(raw, &c) != nil || v.o.Now().Unix() >= c.Expires {
		return nil, bad
	}
	return &Proof{SubjectID: c.Subject, Kind: c.Kind, Challenge: c.Challenge}, nil
}

func (v *Verifier) codeHash(challengeID, code string) []byte {
	return v.o.Blinder.BlindIndex("verification-code", challengeID+":"+code)
}

// newCode returns six random digits.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", errors.New("verify: no randomness for a code")
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// DevSender is for development and the demo only: instead of sending, it
// prints the message, with the destination masked, to w. Never use it in
// production: the code would be in the output.
type DevSender struct {
	W       io.Writer
	Channel string // "e-mail" or "SMS"
	mu      sync.Mutex
}

// Send prints the message.
func (d *DevSender) Send(_ context.Context, to, subject, body string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	masked := to
	if at := strings.IndexByte(to, '@'); at > 1 {
		masked = to[:1] + strings.Repeat("*", at-1) + to[at:]
	} else if len(to) > 7 {
		masked = to[:len(to)-8] + "****" + to[len(to)-4:]
	}
	fmt.Fprintf(d.W, "[demo %s to %s] %s\n%s\n", d.Channel, masked, subject, body)
	return nil
}

// signsIn returns the subject that holds the identifier, if it may sign
// them in ([candor.Identifier.SignsIn]); ENOTFOUND otherwise, as for an
// identifier nobody holds.
func (v *Verifier) signsIn(ctx context.Context, kind string, blind []byte) (string, error) {
	subjectID, err := v.o.Store.FindSubject(ctx, kind, blind)
	if err != nil {
		return "", err
	}
	idents, err := v.o.Store.Identifiers(ctx, subjectID)
	if err != nil {
		return "", err
	}
	for _, id := range idents {
		if id.Kind == kind && hmac.Equal(id.Blind, blind) && id.SignsIn() {
			return subjectID, nil
		}
	}
	return "", candor.Errorf(candor.ENOTFOUND, "no identifier that signs in")
}
