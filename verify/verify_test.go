package verify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/smtp"
	"github.com/candorhq/candor/subjects"
	"github.com/candorhq/candor/verify"
)

var ctx = context.Background()

// fixture is a store, a vault and a gate, with a clock the test moves.
type fixture struct {
	*testenv.Env
	now time.Time
}

func newFixture(t testing.TB) *fixture {
	return &fixture{Env: testenv.New(t, nil), now: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
}

func newVerifier(t *testing.T, f *fixture) (*verify.Verifier, *testenv.MailServer) {
	ms := testenv.NewMailServer(t)
	sender, err := smtp.New(ms.URL, "privacy@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	v := verify.New(verify.Options{Store: f.Store, Blinder: f.Vault, Mail: sender, Org: "Demo Shop", Gate: f.Gate, Now: func() time.Time { return f.now }})
	return v, ms
}

// TestVerifyByEmail: the code goes, over a real SMTP server, to the
// address on file; sent back, it yields a token that names the subject
// and proves that identifier only.
func TestVerifyByEmail(t *testing.T) {
	f := newFixture(t)
	id := f.MustSubject(t, subjects.Input{UserID: "v", Email: "Verify.Me@Example.com"}, "")
	v, ms := newVerifier(t, f)
	chl, exp, err := v.Start(ctx, candor.IdentEmail, " verify.me@EXAMPLE.com ", "192.0.2.1")
	if err != nil || !exp.Equal(f.now.Add(verify.CodeTTL)) {
		t.Fatal(chl, exp, err)
	}
	m, ok := ms.Wait(1, 10*time.Second)
	if !ok {
		t.Fatal("no mail arrived")
	}
	if len(m.To) != 1 || m.To[0] != "verify.me@example.com" {
		t.Fatalf("sent to %v, want the address on file", m.To)
	}
	code := m.Code()
	if len(code) != 6 {
		t.Fatalf("no code in %q", m.Body())
	}
	token, _, err := v.Finish(ctx, chl, code, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Check(token)
	if err != nil || p.SubjectID != id || p.Kind != candor.IdentEmail {
		t.Fatalf("proof %+v %v", p, err)
	}
	// Reading the address on file to send the code was audited.
	f.Audit.Close()
	entries, _ := f.Store.AuditEntries(ctx, 1, 1000)
	audited := false
	for _, e := range entries {
		audited = audited || (e.Action == "read" && e.Purpose == candor.PurposeRights && e.SubjectID == id && e.TraceID == chl)
	}
	if !audited {
		t.Fatal("the reading of the address on file was not audited")
	}
	// Single use.
	if _, _, err := v.Finish(ctx, chl, code, "192.0.2.1"); candor.ErrorCode(err) != candor.EINVALID {
		t.Fatalf("a used code: %v", err)
	}
	// A forged or expired token.
	if _, err := v.Check(token[:len(token)-2] + "xx"); candor.ErrorCode(err) != candor.EUNAUTHORIZED {
		t.Fatal("a forged token passed")
	}
	f.now = f.now.Add(verify.TokenTTL + time.Second)
	if _, err := v.Check(token); candor.ErrorCode(err) != candor.EUNAUTHORIZED {
		t.Fatal("an expired token passed")
	}
}

// TestVerifyRefusals: wrong, guessed, expired, reused codes and unknown
// identifiers all get the same answer; five tries lock a code; codes per
// identifier and calls per address are limited.
func TestVerifyRefusals(t *testing.T) {
	f := newFixture(t)
	f.MustSubject(t, subjects.Input{UserID: "r", Email: "refuse@example.com"}, "")
	v, ms := newVerifier(t, f)
	ip := "198.51.100.7"
	answer := func(err error) string {
		t.Helper()
		if err == nil {
			t.Fatal("accepted")
		}
		return candor.ErrorCode(err) + ": " + candor.ErrorMessage(err)
	}
	// An identifier nobody holds: the same start, no mail, the same refusal.
	ghost, _, err := v.Start(ctx, candor.IdentEmail, "nobody@example.com", ip)
	if err != nil {
		t.Fatal(err)
	}
	chl, _, err := v.Start(ctx, candor.IdentEmail, "refuse@example.com", ip)
	if err != nil {
		t.Fatal(err)
	}
	v.Wait()
	if n := len(ms.Messages()); n != 1 {
		t.Fatalf("%d mails for one known and one unknown identifier", n)
	}
	real := ms.Messages()[0].Code()
	want := answer(func() error { _, _, err := v.Finish(ctx, ghost, "123456", ip); return err }())
	wrong := "000000"
	if wrong == real {
		wrong = "000001"
	}
	for i := range verify.MaxTries {
		if got := answer(func() error { _, _, err := v.Finish(ctx, chl, wrong, ip); return err }()); got != want {
			t.Fatalf("try %d: %q, want the same answer as for an unknown identifier %q", i, got, want)
		}
	}
	if got := answer(func() error { _, _, err := v.Finish(ctx, chl, real, ip); return err }()); got != want {
		t.Fatal("a locked code was accepted")
	}
	if got := answer(func() error { _, _, err := v.Finish(ctx, "chl_doesnotexist00000000000000", real, ip); return err }()); got != want {
		t.Fatal("an unknown challenge answers differently")
	}
	// Expired.
	chl2, _, _ := v.Start(ctx, candor.IdentEmail, "refuse@example.com", "203.0.113.9")
	m, _ := ms.Wait(2, 10*time.Second)
	f.now = f.now.Add(verify.CodeTTL + time.Second)
	if got := answer(func() error { _, _, err := v.Finish(ctx, chl2, m.Code(), "203.0.113.9"); return err }()); got != want {
		t.Fatal("an expired code was accepted")
	}
	// Codes per identifier per hour.
	for i := 0; ; i++ {
		_, _, err := v.Start(ctx, candor.IdentEmail, "refuse@example.com", "203.0.113."+strings.Repeat("1", 1+i%2))
		if candor.ErrorCode(err) == candor.EBUSY {
			break
		}
		if err != nil || i > verify.MaxPerHour {
			t.Fatalf("no limit per identifier: %v after %d", err, i)
		}
	}
	// Calls per address.
	for i := 0; ; i++ {
		_, _, err := v.Finish(ctx, chl, "111111", "192.0.2.99")
		if candor.ErrorCode(err) == candor.EBUSY {
			break
		}
		if i > verify.MaxPerIPWindow {
			t.Fatal("no limit per address")
		}
	}
	v.Wait()
}

// TestVerifyChange: the code for a new address goes to that address and
// confirms only that person's change of it: not another person's, not
// another address, and it signs nobody in.
func TestVerifyChange(t *testing.T) {
	f := newFixture(t)
	id := f.MustSubject(t, subjects.Input{UserID: "c", Email: "old.address@example.com"}, "")
	other := f.MustSubject(t, subjects.Input{UserID: "o", Email: "other@example.com"}, "")
	v, ms := newVerifier(t, f)
	chl, _, err := v.StartChange(ctx, id, []byte("session-1"), candor.IdentEmail, "New.Address@Example.com", "192.0.2.9")
	if err != nil {
		t.Fatal(err)
	}
	m, ok := ms.Wait(1, 10*time.Second)
	if !ok || len(m.To) != 1 || m.To[0] != "new.address@example.com" {
		t.Fatalf("the code went to %v, want the new address", m.To)
	}
	code := m.Code()
	if _, _, err := v.Finish(ctx, chl, code, "192.0.2.9"); candor.ErrorCode(err) != candor.EINVALID {
		t.Fatalf("a change code signed someone in: %v", err)
	}
	if err := v.FinishChange(ctx, chl, code, other, candor.IdentEmail, "new.address@example.com", "192.0.2.9"); candor.ErrorCode(err) != candor.EINVALID {
		t.Fatalf("another person's change with the code: %v", err)
	}
	if err := v.FinishChange(ctx, chl, code, id, candor.IdentEmail, "another.address@example.com", "192.0.2.9"); candor.ErrorCode(err) != candor.EINVALID {
		t.Fatalf("another address with the code: %v", err)
	}
	if err := v.FinishChange(ctx, chl, code, id, candor.IdentEmail, "new.address@EXAMPLE.com", "192.0.2.9"); err != nil {
		t.Fatalf("the person's change: %v", err)
	}
	if err := v.FinishChange(ctx, chl, code, id, candor.IdentEmail, "new.address@example.com", "192.0.2.9"); candor.ErrorCode(err) != candor.EINVALID {
		t.Fatalf("the code used twice: %v", err)
	}
}
