package vault

import (
	"strings"
	"unicode"

	"github.com/candorhq/candor"
)

// maxEmail is the longest e-mail address accepted (RFC 5321 path limit).
const maxEmail = 254

// NormalizeEmail returns the one form of an e-mail address that is sealed
// and blind-indexed: all white space removed and lower-cased. It returns a
// [candor.EINVALID] error ("not a valid e-mail address", never echoing the
// input) unless the result has exactly one @, a non-empty local part, a
// domain with a dot between non-empty labels, no control characters, and
// at most 254 characters.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s))
	at := strings.IndexByte(s, '@')
	if len(s) > maxEmail || at <= 0 || strings.Count(s, "@") != 1 || strings.IndexFunc(s, unicode.IsControl) >= 0 ||
		strings.ContainsRune(s, unicode.ReplacementChar) {
		return "", errEmail()
	}
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", errEmail()
	}
	return s, nil
}

// errEmail and errPhone return new errors, so no caller can change a
// shared one.
func errEmail() error { return candor.Errorf(candor.EINVALID, "not a valid e-mail address") }
func errPhone() error { return candor.Errorf(candor.EINVALID, "not a valid phone number") }

// NormalizePhone returns a phone number in E.164 form ("+" and 8 to 15
// digits, the first not 0), the one form that is sealed and blind-indexed.
// Spaces, dashes, dots and parentheses are dropped (full-width forms too);
// a leading "+" is kept and a leading "00" becomes "+". A number without
// either is read in defaultRegion:
//
//   - "CN": an 11-digit mobile number (1[3-9]…) gets +86; "86" and 11
//     digits gets +; a landline with its trunk 0 and area code (10 to 12
//     digits in all) drops the 0 and gets +86.
//   - "": the number must be in international form.
//
// It returns a [candor.EINVALID] error ("not a valid phone number", never
// echoing the input) for anything else, and for an unsupported region.
func NormalizePhone(s, defaultRegion string) (string, error) {
	if defaultRegion != "" && defaultRegion != "CN" {
		return "", candor.Errorf(candor.EINVALID, "phone region %q is not supported", defaultRegion)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= '０' && r <= '９':
			b.WriteByte(byte('0' + r - '０'))
		case r == '＋':
			b.WriteByte('+')
		case unicode.IsSpace(r), strings.ContainsRune("-.()‐‑‒–—－．（）", r):
		default:
			if r >= 0x80 {
				return "", errPhone()
			}
			b.WriteRune(r)
		}
	}
	n := b.String()
	switch {
	case strings.HasPrefix(n, "+"):
	case strings.HasPrefix(n, "00"):
		n = "+" + n[2:]
	case defaultRegion == "CN" && allDigits(n):
		switch {
		case len(n) == 11 && n[0] == '1' && n[1] >= '3' && n[1] <= '9':
			n = "+86" + n
		case len(n) == 13 && strings.HasPrefix(n, "86"):
			n = "+" + n
		case len(n) >= 10 && len(n) <= 12 && n[0] == '0' && n[1] != '0':
			n = "+86" + n[1:]
		default:
			return "", errPhone()
		}
	default:
		return "", errPhone()
	}
	d := n[1:]
	if len(d) < 8 || len(d) > 15 || !allDigits(d) || d[0] == '0' {
		return "", errPhone()
	}
	return n, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
