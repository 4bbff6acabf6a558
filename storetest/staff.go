package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/candorhq/candor"
)

func staffMember(id, email string) candor.StaffMember {
	return candor.StaffMember{ID: id, Email: email, Name: "Name " + id, Role: "support", PasswordHash: "$argon2id$v=19$m=65536,t=2,p=2$c2FsdA$aGFzaA",
		Recovery: [][]byte{[]byte("rc-1-" + id), []byte("rc-2-" + id), []byte("rc-3-" + id)}, CreatedAt: at(0), UpdatedAt: at(0)}
}

func testStaff(t *testing.T, s candor.Store) {
	_, err := s.Staff(ctx, "stf_nobody")
	code(t, err, candor.ENOTFOUND)
	_, err = s.StaffByEmail(ctx, "nobody@example.com")
	code(t, err, candor.ENOTFOUND)
	if list, err := s.ListStaff(ctx); err != nil || len(list) != 0 {
		t.Fatalf("empty list: %+v %v", list, err)
	}
	b := staffMember("stf_b", "b@example.com")
	a := staffMember("stf_a", "z@example.com")
	for _, m := range []candor.StaffMember{b, a} {
		if err := s.PutStaff(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	dupID := staffMember("stf_a", "other@example.com")
	code(t, s.PutStaff(ctx, dupID), candor.ECONFLICT)
	dupEmail := staffMember("stf_c", "b@example.com")
	code(t, s.PutStaff(ctx, dupEmail), candor.ECONFLICT)
	// A failed put leaves nothing behind, its recovery codes included.
	_, err = s.Staff(ctx, "stf_c")
	code(t, err, candor.ENOTFOUND)

	got, err := s.Staff(ctx, "stf_b")
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "b@example.com" || got.Name != "Name stf_b" || got.Role != "support" || got.PasswordHash != b.PasswordHash ||
		got.TOTPSealed != nil || got.TOTPStep != 0 || got.Disabled || !got.CreatedAt.Equal(at(0)) || !got.UpdatedAt.Equal(at(0)) {
		t.Errorf("staff %+v", got)
	}
	if fmt.Sprintf("%s", got.Recovery) != fmt.Sprintf("%s", b.Recovery) {
		t.Errorf("recovery codes %q, want %q", got.Recovery, b.Recovery)
	}
	if byEmail, err := s.StaffByEmail(ctx, "b@example.com"); err != nil || byEmail.ID != "stf_b" {
		t.Errorf("by e-mail: %+v %v", byEmail, err)
	}
	// The e-mail is compared exactly: the caller normalizes.
	_, err = s.StaffByEmail(ctx, "B@example.com")
	code(t, err, candor.ENOTFOUND)
	list, err := s.ListStaff(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "stf_b" || list[1].ID != "stf_a" || len(list[1].Recovery) != 3 {
		t.Fatalf("list by e-mail: %+v %v", list, err)
	}

	// UpdateStaff replaces everything but the id, the e-mail, the creation
	// time and the TOTP step.
	if ok, err := s.UseTOTPStep(ctx, "stf_b", 100); err != nil || !ok {
		t.Fatalf("use step: %v %v", ok, err)
	}
	up := *got
	up.Email, up.Name, up.Role, up.PasswordHash = "changed@example.com", "New Name", "marketer", "$argon2id$new"
	up.TOTPSealed, up.TOTPStep, up.Disabled, up.UpdatedAt = []byte("sealed-totp"), 5, true, at(30)
	up.Recovery = [][]byte{[]byte("new-rc")}
	up.CreatedAt = at(99)
	if err := s.UpdateStaff(ctx, up); err != nil {
		t.Fatal(err)
	}
	got, err = s.Staff(ctx, "stf_b")
	if err != nil || got.Email != "b@example.com" || got.Name != "New Name" || got.Role != "marketer" || got.PasswordHash != "$argon2id$new" ||
		string(got.TOTPSealed) != "sealed-totp" || got.TOTPStep != 100 || !got.Disabled || !got.UpdatedAt.Equal(at(30)) || !got.CreatedAt.Equal(at(0)) ||
		len(got.Recovery) != 1 || string(got.Recovery[0]) != "new-rc" {
		t.Fatalf("updated %+v %v", got, err)
	}
	// Clearing the TOTP secret and the recovery codes, from a read made
	// before the account was disabled: it stays disabled.
	up.TOTPSealed, up.Recovery, up.Disabled = nil, nil, false
	if err := s.UpdateStaff(ctx, up); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Staff(ctx, "stf_b"); err != nil || got.TOTPSealed != nil || len(got.Recovery) != 0 || !got.Disabled {
		t.Fatalf("cleared %+v %v (want still disabled)", got, err)
	}
	ghost := staffMember("stf_ghost", "ghost@example.com")
	code(t, s.UpdateStaff(ctx, ghost), candor.ENOTFOUND)
	if _, err := s.Staff(ctx, "stf_ghost"); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Errorf("an update created an account: %v", err)
	}
}

func testStaffTOTPStep(t *testing.T, s candor.Store) {
	if err := s.PutStaff(ctx, staffMember("stf_a", "a@example.com")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		step int64
		want bool
	}{{1000, true}, {1000, false}, {999, false}, {0, false}, {1001, true}, {1003, true}, {1002, false}} {
		if ok, err := s.UseTOTPStep(ctx, "stf_a", c.step); err != nil || ok != c.want {
			t.Fatalf("step %d: %v %v, want %v", c.step, ok, err, c.want)
		}
	}
	if m, _ := s.Staff(ctx, "stf_a"); m.TOTPStep != 1003 {
		t.Errorf("last step %d, want 1003", m.TOTPStep)
	}
	_, err := s.UseTOTPStep(ctx, "stf_nobody", 5000)
	code(t, err, candor.ENOTFOUND)
	// Racing uses of the same step: exactly one wins, round after round.
	for round := range 5 {
		step := int64(2000 + round)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.UseTOTPStep(ctx, "stf_a", step)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d racing uses of one step succeeded, want 1", round, n)
		}
	}
}

func testStaffRecovery(t *testing.T, s candor.Store) {
	a, b := staffMember("stf_a", "a@example.com"), staffMember("stf_b", "b@example.com")
	for _, m := range []candor.StaffMember{a, b} {
		if err := s.PutStaff(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := s.UseRecoveryCode(ctx, "stf_a", []byte("rc-2-stf_a")); err != nil || !ok {
		t.Fatalf("first use: %v %v", ok, err)
	}
	if ok, err := s.UseRecoveryCode(ctx, "stf_a", []byte("rc-2-stf_a")); err != nil || ok {
		t.Fatalf("second use: %v %v", ok, err)
	}
	// Another account's code, and a prefix of a code, are not codes.
	for _, h := range []string{"rc-1-stf_b", "rc-1-", "rc-1-stf_", ""} {
		if ok, err := s.UseRecoveryCode(ctx, "stf_a", []byte(h)); err != nil || ok {
			t.Fatalf("use %q: %v %v", h, ok, err)
		}
	}
	_, err := s.UseRecoveryCode(ctx, "stf_nobody", []byte("rc-1-stf_a"))
	code(t, err, candor.ENOTFOUND)
	m, err := s.Staff(ctx, "stf_a")
	if err != nil || fmt.Sprintf("%s", m.Recovery) != "[rc-1-stf_a rc-3-stf_a]" {
		t.Fatalf("left %q %v", m.Recovery, err)
	}
	if m, _ := s.Staff(ctx, "stf_b"); len(m.Recovery) != 3 {
		t.Errorf("the other account lost codes: %q", m.Recovery)
	}
	// Racing uses of one code: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.UseRecoveryCode(ctx, "stf_a", []byte("rc-3-stf_a"))
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d racing uses of one recovery code succeeded, want 1", n)
	}
}

func session(hash, kind, principal string, expires int) candor.Session {
	return candor.Session{Hash: []byte(hash), Kind: kind, Principal: principal, Data: "data-" + hash, CreatedAt: at(0), ExpiresAt: at(expires)}
}

func testSessions(t *testing.T, s candor.Store) {
	for _, ss := range []candor.Session{
		session("h-staff-1", candor.SessionStaff, "stf_a", 100),
		session("h-staff-2", candor.SessionStaff, "stf_a", 200),
		session("h-staff-3", candor.SessionStaff, "stf_b", 200),
		session("h-person", candor.SessionPerson, "sub_a", 50),
		session("h-link", candor.SessionLink, "sub_a", 300),
	} {
		if err := s.PutSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	code(t, s.PutSession(ctx, session("h-staff-1", candor.SessionStaff, "stf_c", 100)), candor.ECONFLICT)

	got, err := s.Session(ctx, []byte("h-staff-1"), at(10))
	if err != nil || got.Kind != candor.SessionStaff || got.Principal != "stf_a" || got.Data != "data-h-staff-1" ||
		!bytes.Equal(got.Hash, []byte("h-staff-1")) || !got.CreatedAt.Equal(at(0)) || !got.ExpiresAt.Equal(at(100)) {
		t.Fatalf("session %+v %v", got, err)
	}
	// The hash is compared exactly: a prefix, an extension or another case
	// is not the session.
	for _, h := range []string{"h-staff-", "h-staff-1x", "H-STAFF-1", ""} {
		_, err := s.Session(ctx, []byte(h), at(10))
		code(t, err, candor.ENOTFOUND)
	}
	// Expired (at its expiry and after): not found, and not taken.
	for _, now := range []int{100, 101} {
		_, err := s.Session(ctx, []byte("h-staff-1"), at(now))
		code(t, err, candor.ENOTFOUND)
	}
	_, err = s.TakeSession(ctx, []byte("h-person"), candor.SessionPerson, "sub_a", at(60))
	code(t, err, candor.ENOTFOUND)
	// Of another kind or principal: not found, and still there.
	for _, c := range []struct{ kind, principal string }{{candor.SessionPerson, "sub_a"}, {candor.SessionLink, "sub_b"}} {
		_, err = s.TakeSession(ctx, []byte("h-link"), c.kind, c.principal, at(10))
		code(t, err, candor.ENOTFOUND)
	}
	if _, err := s.Session(ctx, []byte("h-link"), at(10)); err != nil {
		t.Fatalf("a link presented by someone else was spent: %v", err)
	}

	// A single-use link: of racing takes, one gets it.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.TakeSession(ctx, []byte("h-link"), candor.SessionLink, "sub_a", at(10))
			switch candor.ErrorCode(err) {
			case "":
				if got.Principal != "sub_a" || got.Kind != candor.SessionLink || got.Data != "data-h-link" {
					t.Errorf("taken %+v", got)
				}
				wins.Add(1)
			case candor.ENOTFOUND:
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d racing takes of one link succeeded, want 1", n)
	}
	_, err = s.Session(ctx, []byte("h-link"), at(10))
	code(t, err, candor.ENOTFOUND)

	// Signing out: deleted; deleting again, or a session never stored, is no error.
	if err := s.DeleteSession(ctx, []byte("h-staff-3")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, []byte("h-staff-3")); err != nil {
		t.Fatal(err)
	}
	_, err = s.Session(ctx, []byte("h-staff-3"), at(10))
	code(t, err, candor.ENOTFOUND)

	// Revocation: every session of the principal, expired or not, and
	// no other's.
	if err := s.PutSession(ctx, session("h-staff-4", candor.SessionStaff, "stf_b", 200)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteSessions(ctx, "stf_a"); err != nil || n != 2 {
		t.Fatalf("delete sessions: %d %v", n, err)
	}
	if n, err := s.DeleteSessions(ctx, "stf_a"); err != nil || n != 0 {
		t.Fatalf("delete sessions again: %d %v", n, err)
	}
	if _, err := s.Session(ctx, []byte("h-staff-4"), at(10)); err != nil {
		t.Fatalf("another principal's session went: %v", err)
	}

	// Purge: what expired by now goes, the rest stays.
	if err := s.PutSession(ctx, session("h-late", candor.SessionPerson, "sub_b", 500)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeSessions(ctx, at(250)); err != nil || n != 2 { // h-person (50), h-staff-4 (200)
		t.Fatalf("purge: %d %v", n, err)
	}
	if _, err := s.Session(ctx, []byte("h-late"), at(250)); err != nil {
		t.Fatalf("a live session was purged: %v", err)
	}
	if n, err := s.PurgeSessions(ctx, at(250)); err != nil || n != 0 {
		t.Fatalf("purge again: %d %v", n, err)
	}
	code(t, s.PutSession(ctx, session("h-bad", "cookie", "x", 100)), candor.EINVALID)
	code(t, s.PutSession(ctx, session("", candor.SessionStaff, "x", 100)), candor.EINVALID)
}
