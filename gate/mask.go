package gate

import (
	"strings"
	"unicode/utf8"

	"github.com/candorhq/candor"
)

// Mask returns v with most of it hidden, in a form that suits the field:
// "j***@example.com" for an e-mail address, "138****5678" for a phone
// number, "1990-**-**" for a date, and the first character followed by
// asterisks for anything else.
func Mask(f *candor.Field, v string) string {
	typ := ""
	if f != nil {
		typ = f.Type
	}
	switch typ {
	case "email":
		at := strings.LastIndexByte(v, '@')
		if at <= 0 {
			return "***"
		}
		r, _ := utf8.DecodeRuneInString(v)
		return string(r) + "***" + v[at:]
	case "phone":
		d := strings.TrimPrefix(v, "+")
		if strings.HasPrefix(v, "+86") && len(d) == 13 {
			d = d[2:] // a Chinese mobile: show it as people write it
		}
		if len(d) < 8 {
			return "****"
		}
		return d[:3] + strings.Repeat("*", len(d)-7) + d[len(d)-4:]
	case "date":
		if len(v) == 10 {
			return v[:4] + "-**-**"
		}
		return "****"
	}
	r, size := utf8.DecodeRuneInString(v)
	if size == 0 {
		return ""
	}
	n := utf8.RuneCountInString(v) - 1
	if n > 8 {
		n = 8
	}
	if n < 3 {
		n = 3
	}
	return string(r) + strings.Repeat("*", n)
}
