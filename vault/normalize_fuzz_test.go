package vault_test

import (
	"strings"
	"testing"

	"github.com/candorhq/candor/vault"
)

// FuzzNormalizePhone: never panics; a result is E.164 and normalizing it
// again gives the same.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"138 1234 5678", "+86 138-1234-5678", "008613812345678", "010-12345678", "+44 20 7946 0958", "", "+", "(0)", "٣٣٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := vault.NormalizePhone(s, "CN")
		if err != nil {
			return
		}
		if len(got) < 9 || len(got) > 16 || got[0] != '+' || strings.Trim(got[1:], "0123456789") != "" {
			t.Fatalf("NormalizePhone(%q) = %q: not E.164", s, got)
		}
		if again, err := vault.NormalizePhone(got, "CN"); err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", s, got, again, err)
		}
	})
}

// FuzzNormalizeEmail: never panics; a result is lower-case with one @ and
// normalizing it again gives the same.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"Li.Na@Example.CN ", "a@b", "@", "a@@b.c", " x @ y.z ", "İ@example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := vault.NormalizeEmail(s)
		if err != nil {
			return
		}
		if strings.Count(got, "@") != 1 || strings.ContainsAny(got, " \t\n") {
			t.Fatalf("NormalizeEmail(%q) = %q", s, got)
		}
		if again, err := vault.NormalizeEmail(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", s, got, again, err)
		}
	})
}
