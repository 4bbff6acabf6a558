// Package pii finds personal data that slipped into free text and replaces
// it with typed placeholders, and reduces IP addresses and user agents to
// what marketing needs.
//
// Before an event is stored, every string value that is not a declared
// personal field goes through [Redact]: an e-mail address in a search query
// or a phone number in a note becomes "[email]" or "[phone]". [Find] reports
// the same detections without changing the text. The detectors are:
//
//   - [Email]: local@domain, where the domain has at least two labels and
//     ends in an alphabetic top-level label (or an "xn--" one).
//   - [Phone]: a Chinese mobile number (11 digits starting 13–19, optionally
//     after 86 or 0086, written together or grouped 3-4-4 with spaces or
//     dashes), or any number in E.164 form: "+" and 8 to 15 digits, with
//     single spaces or dashes between groups.
//   - [CNID]: a Chinese resident identity number, 17 digits and a check
//     character, with a region code starting 1–8, a real birth date from 1900
//     up to today, and a correct ISO 7064 MOD 11-2 check character.
//   - [BankCard]: 13 to 19 digits, together or in groups of four, that pass
//     the Luhn check and start with the prefix of a card brand (Visa,
//     Mastercard, American Express, UnionPay, JCB, Discover, Diners Club) at
//     a length that brand issues.
//   - [IP]: an IPv4 dotted quad or an IPv6 address.
//
// The scanner is a single hand-written pass over the bytes, without regular
// expressions, because it runs on every string of every event. Text without
// personal data costs about a nanosecond per byte, and [Redact] allocates
// nothing when it finds nothing.
//
// The limits are deliberate, to keep order numbers, tracking numbers,
// timestamps and prices intact:
//
//   - A detection never starts or ends inside a longer run of ASCII letters
//     and digits: "SO20261125123456" and "SF1234567890123" are left alone.
//     Other characters, Chinese text included, are boundaries, so
//     "手机13800138000" is found. A number directly after "digits." or
//     directly before ".digits" is taken for part of a decimal or a version
//     and left alone.
//   - A phone number without a leading "+" is found only when it is a
//     Chinese mobile number; other national formats ("020 7946 0958",
//     "(415) 555-2671") are not detected. An E.164 number takes as many
//     groups as fit in 15 digits, so "+1 415 555 2671 100" loses the 100
//     as well.
//   - A card number needs a known issuer prefix and a length that issuer
//     uses, besides the Luhn check, so that most order and tracking numbers
//     (one in ten of which passes Luhn by chance) are not taken for cards.
//     A 16 to 19 digit order number that starts with 62 and happens to pass
//     Luhn is still redacted.
//   - Identity numbers are found only written together, not in groups.
//   - Any well-formed dotted quad is an IP address, so a four-part version
//     number written without a prefix ("1.2.3.4") is redacted, while
//     "v1.2.3.4" and "Chrome/120.0.6099.109" are not.
//   - E-mail local parts are limited to letters, digits and "._%+-", so a
//     query string like "q=shoes&email=a@b.cn" loses only "a@b.cn". Quoted
//     local parts and IP literals ("a@[192.0.2.1]") are not e-mail addresses
//     here, though the IP address in the latter is found.
//   - An IPv6 address is found without its zone ("%eth0"); a MAC address
//     ("00:1a:2b:3c:4d:5e") is not personal data here.
package pii

import "strings"

// Kind names a detector. The placeholder that replaces its hits is
// "[" + string(kind) + "]"; see [Kind.Placeholder].
type Kind string

// The kinds of personal data that [Find] detects.
const (
	// Email is an e-mail address.
	Email Kind = "email"
	// Phone is a Chinese mobile number (11 digits, 1[3-9]x, with an
	// optional +86, 86 or 0086 prefix, together or grouped 3-4-4 by spaces
	// or dashes) or an E.164 number ("+" and 8 to 15 digits, with single
	// spaces or dashes allowed between groups).
	Phone Kind = "phone"
	// CNID is a Chinese resident identity number: 17 digits and a digit or
	// X, a region code starting 1–8, a valid birth date, and a correct
	// ISO 7064 MOD 11-2 check character.
	CNID Kind = "cn_id"
	// BankCard is a payment card number: 13 to 19 digits, optionally in
	// groups of four separated by single spaces or dashes, Luhn valid, with
	// a known issuer prefix at a length that issuer uses.
	BankCard Kind = "bank_card"
	// IP is an IPv4 or IPv6 address.
	IP Kind = "ip"
)

// Placeholder returns the text that replaces a hit of kind k: "[" + k + "]".
func (k Kind) Placeholder() string { return "[" + string(k) + "]" }

// Hit is one detection in a string: s[Start:End] is the personal datum.
type Hit struct {
	Kind       Kind
	Start, End int
}

// Find returns the hits in s, in order and non-overlapping. When two
// detectors claim overlapping text, the longer claim wins; between claims
// of the same extent an identity number wins over a card number, and a card
// number over a phone number. An e-mail address or an IPv6 address wins
// over a number that overlaps it. Find returns nil when s holds no personal
// data.
func Find(s string) []Hit {
	return find(s, nil)
}

// Redact returns s with every hit replaced by its placeholder ("call
// [phone] now"), and the kinds found, one entry per placeholder in the
// order they appear. When nothing is found it returns s itself and nil,
// allocating nothing.
//
// Redact applies [Find] again to its own output until nothing more is
// found, because removing a datum can expose another that its neighbour
// was hiding ("13800138000::1" holds a phone number and, once that is gone,
// the IPv6 address "::1"). The result therefore never contains a hit.
func Redact(s string) (string, []Kind) {
	var buf [8]Hit
	hits := find(s, buf[:0])
	if len(hits) == 0 {
		return s, nil
	}
	var mbuf [8]Hit
	marks := mbuf[:0]
	out := s
	for len(hits) > 0 {
		var applied int
		out, marks, applied = replace(out, marks, hits)
		if applied == 0 {
			break
		}
		hits = find(out, hits[:0])
	}
	kinds := make([]Kind, len(marks))
	for i, m := range marks {
		kinds[i] = m.Kind
	}
	return out, kinds
}

// replace returns cur with hits replaced by placeholders, and the positions
// of all placeholders in the result: those already in cur (marks) and the
// new ones. Hits that overlap a mark are ignored; applied counts the others.
func replace(cur string, marks, hits []Hit) (out string, all []Hit, applied int) {
	var b strings.Builder
	b.Grow(len(cur) + 8*len(hits))
	all = make([]Hit, 0, len(marks)+len(hits))
	pos, mi := 0, 0
	for _, h := range hits {
		for mi < len(marks) && marks[mi].Start < h.Start {
			m := marks[mi]
			b.WriteString(cur[pos:m.Start])
			start := b.Len()
			b.WriteString(cur[m.Start:m.End])
			all = append(all, Hit{Kind: m.Kind, Start: start, End: b.Len()})
			pos = m.End
			mi++
		}
		if h.Start < pos || (mi < len(marks) && h.End > marks[mi].Start) {
			continue // cannot happen: placeholders are never hits
		}
		b.WriteString(cur[pos:h.Start])
		start := b.Len()
		b.WriteByte('[')
		b.WriteString(string(h.Kind))
		b.WriteByte(']')
		all = append(all, Hit{Kind: h.Kind, Start: start, End: b.Len()})
		pos = h.End
		applied++
	}
	for ; mi < len(marks); mi++ {
		m := marks[mi]
		b.WriteString(cur[pos:m.Start])
		start := b.Len()
		b.WriteString(cur[m.Start:m.End])
		all = append(all, Hit{Kind: m.Kind, Start: start, End: b.Len()})
		pos = m.End
	}
	b.WriteString(cur[pos:])
	return b.String(), all, applied
}

// Character classes, one bit each, looked up in [class].
const (
	cDigit   uint8 = 1 << iota
	cAlpha         // ASCII letter
	cHex           // hexadecimal digit
	cLocal         // may appear in the local part of an e-mail address
	cDomain        // may appear in a domain name
	cIPv6          // may appear in the text of an IPv6 address: hex, ':' and '.'
	cTrigger       // may start a number the main loop looks at: digit or '+'

	cAlnum = cDigit | cAlpha
)

var class = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] |= cDigit | cHex | cLocal | cDomain | cIPv6 | cTrigger
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= cAlpha | cLocal | cDomain
		t[c-'a'+'A'] |= cAlpha | cLocal | cDomain
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] |= cHex | cIPv6
		t[c-'a'+'A'] |= cHex | cIPv6
	}
	for _, c := range "._%+-" {
		t[c] |= cLocal
	}
	t['.'] |= cDomain | cIPv6
	t['-'] |= cDomain
	t[':'] |= cIPv6
	t['+'] |= cTrigger
	return t
}()

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return class[c]&cAlnum != 0 }

// span is a pending detection found ahead of the main loop; start < 0
// means there is none.
type span struct{ start, end int }

var noSpan = span{-1, -1}

// finder holds the state of one pass of [find] over s.
//
// The main loop walks s looking for digits and '+', which start numbers
// (phone, identity and card numbers, IPv4 addresses). E-mail and IPv6
// addresses are anchored on '@' and ':', which are found with
// strings.IndexByte ahead of the main loop; the next of each is kept as a
// pending span, and a number may not run into a pending span.
type finder struct {
	s       string
	lastEnd int // end of the last hit; text before it is out of bounds
	email   span
	ip6     span
}

// at returns s[k], or 0 when k is outside s or before the end of the last
// hit, so that text already claimed by a hit acts as a boundary, as its
// placeholder will.
func (f *finder) at(k int) byte {
	if k < f.lastEnd || k < 0 || k >= len(f.s) {
		return 0
	}
	return f.s[k]
}

// endOK reports whether a number may end at e: the next byte is not a
// letter or digit, and not a '.' followed by a digit (a decimal or version).
func (f *finder) endOK(e int) bool {
	s := f.s
	if e >= len(s) {
		return true
	}
	c := s[e]
	if isAlnum(c) {
		return false
	}
	return c != '.' || e+1 >= len(s) || !isDigit(s[e+1])
}

// limit returns where the next pending span starts, or len(s).
func (f *finder) limit() int {
	lim := len(f.s)
	if f.email.start >= 0 && f.email.start < lim {
		lim = f.email.start
	}
	if f.ip6.start >= 0 && f.ip6.start < lim {
		lim = f.ip6.start
	}
	return lim
}

// takePending returns the pending span that starts first (an e-mail
// address on a tie) as a hit, and finds the next one of its kind.
func (f *finder) takePending() Hit {
	var h Hit
	if f.email.start >= 0 && (f.ip6.start < 0 || f.email.start <= f.ip6.start) {
		h = Hit{Kind: Email, Start: f.email.start, End: f.email.end}
		end := h.End
		f.lastEnd = end
		f.email = f.nextEmail(end, end)
		if f.ip6.start >= 0 && f.ip6.start < end {
			f.ip6 = f.nextIPv6(end, end)
		}
	} else {
		h = Hit{Kind: IP, Start: f.ip6.start, End: f.ip6.end}
		end := h.End
		f.lastEnd = end
		f.ip6 = f.nextIPv6(end, end)
		if f.email.start >= 0 && f.email.start < end {
			f.email = f.nextEmail(end, end)
		}
	}
	return h
}

// find appends the hits in s to dst and returns the extended slice.
func find(s string, dst []Hit) []Hit {
	f := finder{s: s}
	f.email = f.nextEmail(0, 0)
	f.ip6 = f.nextIPv6(0, 0)
	n := len(s)
	i := 0
	for i < n {
		lim := f.limit()
		for i < lim && class[s[i]]&cTrigger == 0 {
			i++
		}
		if i >= lim {
			if lim == n {
				break
			}
			h := f.takePending()
			dst = append(dst, h)
			i = h.End
			continue
		}
		if s[i] == '+' {
			if end := f.e164(i, lim); end > 0 {
				dst = append(dst, Hit{Kind: Phone, Start: i, End: end})
				f.lastEnd = end
				i = end
			} else {
				i++
			}
			continue
		}
		k, end, next := f.number(i, lim)
		if k != "" {
			dst = append(dst, Hit{Kind: k, Start: i, End: end})
			f.lastEnd = end
		}
		i = next
	}
	return dst
}
