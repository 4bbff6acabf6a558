package storetest

import (
	"errors"
	"testing"

	"github.com/candorhq/candor"
)

func origins(t *testing.T, s candor.Store, subjectID string) map[string]string {
	t.Helper()
	ids, err := s.Identifiers(ctx, subjectID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, id := range ids {
		out[id.Kind+":"+string(id.Blind)] = id.Origin
	}
	return out
}

// testIdentifierOrigin: an identifier given with the account is "account";
// one attached later without proof is "given", and never signs in; an
// anonymous visitor's first identifiers are the account's; a verified
// change is "verified".
func testIdentifierOrigin(t *testing.T, s candor.Store) {
	if err := s.WriteSubject(ctx, subject("sub_o1", ident("user_id", "u1"), ident("email", "e1"))); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_o1", At: at(1), Identifiers: []candor.Identifier{ident("phone", "p1")}}); err != nil {
		t.Fatal(err)
	}
	got := origins(t, s, "sub_o1")
	if got["user_id:u1"] != candor.OriginAccount || got["email:e1"] != candor.OriginAccount || got["phone:p1"] != candor.OriginGiven {
		t.Fatalf("origins %v: want account, account, given", got)
	}
	// An anonymous visitor named for the first time: that write makes the account.
	if err := s.WriteSubject(ctx, subject("sub_o2", ident("anonymous_id", "a2"))); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_o2", At: at(1), Identifiers: []candor.Identifier{ident("user_id", "u2"), ident("email", "e2")}}); err != nil {
		t.Fatal(err)
	}
	if got := origins(t, s, "sub_o2"); got["user_id:u2"] != candor.OriginAccount || got["email:e2"] != candor.OriginAccount {
		t.Fatalf("origins %v: the visitor's first identifiers are the account's", got)
	}
	// A verified change replaces the e-mail and says so.
	v := ident("email", "e1-new")
	v.Origin = candor.OriginVerified
	if err := s.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_o1", At: at(2), Replace: []string{"email"}, Identifiers: []candor.Identifier{v}}); err != nil {
		t.Fatal(err)
	}
	if got := origins(t, s, "sub_o1"); got["email:e1-new"] != candor.OriginVerified || got["email:e1"] != "" {
		t.Fatalf("origins %v after a verified change", got)
	}
	for _, id := range []candor.Identifier{{Origin: candor.OriginAccount}, {Origin: candor.OriginVerified}} {
		if !id.SignsIn() {
			t.Errorf("%s does not sign in", id.Origin)
		}
	}
	if (candor.Identifier{Origin: candor.OriginGiven}).SignsIn() {
		t.Error("a given identifier signs in")
	}
}

// testSingleKind: a subject holds one user id, one e-mail and one phone; a
// second is refused unless it replaces the first, and nothing of the
// refused write remains. Anonymous ids may be many.
func testSingleKind(t *testing.T, s candor.Store) {
	if err := s.WriteSubject(ctx, subject("sub_s", ident("user_id", "us"), ident("email", "es"))); err != nil {
		t.Fatal(err)
	}
	for _, x := range []candor.Identifier{ident("email", "attacker"), ident("user_id", "other-user")} {
		err := s.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_s", At: at(1), Identifiers: []candor.Identifier{x},
			Traits: []candor.Trait{{Field: "city", Sealed: []byte("overwritten")}}})
		code(t, err, candor.ECONFLICT)
		var ce *candor.Error
		if !asError(err, &ce) || ce.Reason != "identifier_on_file" || len(ce.Fields) != 1 || ce.Fields[0].Field != x.Kind {
			t.Fatalf("error %+v: want identifier_on_file naming %s", err, x.Kind)
		}
		if _, err := s.FindSubject(ctx, x.Kind, x.Blind); candor.ErrorCode(err) != candor.ENOTFOUND {
			t.Fatalf("the refused %s was attached", x.Kind)
		}
	}
	if tr, _ := s.Traits(ctx, "sub_s", []string{"city"}); len(tr) != 1 || string(tr[0].Sealed) == "overwritten" {
		t.Fatal("a refused write changed a trait")
	}
	// The same e-mail again changes nothing and is fine; more devices too.
	if err := s.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_s", At: at(2), Identifiers: []candor.Identifier{ident("email", "es"), ident("anonymous_id", "d1"), ident("anonymous_id", "d2")}}); err != nil {
		t.Fatal(err)
	}
}

// testMergeOnlyAnonymous: an account is never merged into another, whatever
// identifiers the caller passes; a visitor's e-mail does not become the
// account's second one.
func testMergeOnlyAnonymous(t *testing.T, s candor.Store) {
	if err := s.WriteSubject(ctx, subject("sub_victim", ident("user_id", "victim"), ident("anonymous_id", "victim-device"))); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSubject(ctx, subject("sub_attacker", ident("user_id", "attacker"))); err != nil {
		t.Fatal(err)
	}
	err := s.MergeSubject(ctx, candor.SubjectMerge{From: "sub_victim", Into: "sub_attacker", At: at(3),
		Identifiers: []candor.Identifier{ident("user_id", "victim"), ident("anonymous_id", "victim-device")}})
	code(t, err, candor.ECONFLICT)
	if owner, _ := s.FindSubject(ctx, "user_id", []byte("victim")); owner != "sub_victim" {
		t.Fatalf("the victim's user id belongs to %q", owner)
	}
	// A visitor whose e-mail was attached with the account (it signs in) is
	// not anonymous either.
	if err := s.WriteSubject(ctx, subject("sub_newsletter", ident("anonymous_id", "nl"), ident("email", "nl-mail"))); err != nil {
		t.Fatal(err)
	}
	code(t, s.MergeSubject(ctx, candor.SubjectMerge{From: "sub_newsletter", Into: "sub_attacker", At: at(4)}), candor.ECONFLICT)
	// A visitor with a given e-mail is merged, but the account keeps its
	// own e-mail and only that.
	if err := s.WriteSubject(ctx, subject("sub_acct", ident("user_id", "acct"), ident("email", "acct-mail"))); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSubject(ctx, subject("sub_visit", ident("anonymous_id", "v"))); err != nil {
		t.Fatal(err)
	}
	g := ident("email", "visit-mail")
	g.Origin = candor.OriginGiven
	if err := s.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_visit", At: at(5), Identifiers: []candor.Identifier{g}}); err != nil {
		t.Fatal(err)
	}
	if err := s.MergeSubject(ctx, candor.SubjectMerge{From: "sub_visit", Into: "sub_acct", At: at(6),
		Identifiers: []candor.Identifier{ident("anonymous_id", "v"), g}}); err != nil {
		t.Fatal(err)
	}
	got := origins(t, s, "sub_acct")
	if _, ok := got["email:visit-mail"]; ok || got["email:acct-mail"] == "" || got["anonymous_id:v"] == "" {
		t.Fatalf("identifiers after the merge %v: the account's e-mail and the visitor's device, not the visitor's e-mail", got)
	}
}

func asError(err error, target **candor.Error) bool { return errors.As(err, target) }
