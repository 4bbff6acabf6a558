package pii

import "time"

// maxGroups is the most digit groups a grouped number may have
// ("0086 138 0013 8000", "6222 0212 3456 7895 123").
const maxGroups = 5

// groups is a run of digit groups separated by single spaces or dashes.
type groups struct {
	n     int
	start [maxGroups]int
	end   [maxGroups]int
	sep   [maxGroups]byte // separator before each group after the first
}

func (g *groups) size(k int) int { return g.end[k] - g.start[k] }

// digits copies the digits of the first k groups into buf and returns them.
func (g *groups) digits(s string, k int, buf *[19]byte) []byte {
	d := buf[:0]
	for j := 0; j < k; j++ {
		d = append(d, s[g.start[j]:g.end[j]]...)
	}
	return d
}

// number looks at the digit at s[i] for a number that starts there. It
// returns the kind and end of the number, if there is one (the kind is ""
// if not), and where the main loop goes on.
func (f *finder) number(i, lim int) (Kind, int, int) {
	s := f.s
	n := len(s)
	if isAlnum(f.at(i - 1)) {
		return "", 0, skipAlnum(s, i, lim) // inside a token such as "SO2026..."
	}
	j := i
	for j < n && isDigit(s[j]) {
		j++
	}
	d := j - i
	var c byte
	if j < n {
		c = s[j]
	}
	if class[c]&cAlpha != 0 {
		// Digits run into letters: a token such as "256GB", unless it is an
		// identity number ending in X.
		if d == 17 && (c == 'X' || c == 'x') && j+1 <= lim && f.endOK(j+1) &&
			!f.decimalBefore(i) && validCNID(s[i:j+1]) {
			return CNID, j + 1, j + 1
		}
		return "", 0, skipAlnum(s, j, lim)
	}
	if f.decimalBefore(i) {
		return "", 0, j // the fraction of "12.5", the parts of "1.2.3.4.5"
	}
	if c == '.' && j+1 < n && isDigit(s[j+1]) {
		if d <= 3 {
			if end := ipv4End(s, i); end > 0 && end <= lim && f.endOK(end) {
				return IP, end, end
			}
		}
		return "", 0, j
	}
	if d < 11 && (d < 2 || d > 4 || (c != ' ' && c != '-') || j+1 >= n || !isDigit(s[j+1])) {
		return "", 0, j // too short on its own, and not the first of a group
	}

	var g groups
	g.start[0], g.end[0], g.n = i, j, 1
	total := d
	for k := j; g.n < maxGroups && k+1 < n && (s[k] == ' ' || s[k] == '-') && isDigit(s[k+1]); {
		m := k + 1
		for m < n && isDigit(s[m]) {
			m++
		}
		total += m - k - 1
		if total > 19 || !f.endOK(m) {
			break
		}
		g.start[g.n], g.end[g.n], g.sep[g.n] = k+1, m, s[k]
		g.n++
		k = m
	}

	var buf [19]byte
	for k := g.n; k >= 1; k-- {
		end := g.end[k-1]
		if end > lim {
			continue
		}
		if k == 1 && d > 19 {
			break
		}
		digits := g.digits(s, k, &buf)
		switch {
		case k == 1 && d == 18 && validCNID(s[i:j]):
			return CNID, end, end
		case cardLayout(&g, k) && validCard(digits):
			return BankCard, end, end
		case mobileLayout(&g, k, digits):
			return Phone, end, end
		}
	}
	return "", 0, j
}

// decimalBefore reports whether the number at s[i] follows "digit." and so
// continues a decimal or a version rather than starting a number.
func (f *finder) decimalBefore(i int) bool {
	return f.at(i-1) == '.' && isDigit(f.at(i-2))
}

// skipAlnum returns the end of the run of letters and digits at s[i], or
// lim if that comes first.
func skipAlnum(s string, i, lim int) int {
	for i < lim && isAlnum(s[i]) {
		i++
	}
	return i
}

// e164 returns the end of the E.164 phone number whose "+" is at s[i], or
// -1. The number is "+" and 8 to 15 digits, in groups separated by single
// spaces or dashes; it takes as many groups as fit, without passing lim.
func (f *finder) e164(i, lim int) int {
	s := f.s
	n := len(s)
	if isAlnum(f.at(i-1)) || i+1 >= n || s[i+1] < '1' || s[i+1] > '9' {
		return -1
	}
	best, total := -1, 0
	for k := i + 1; ; {
		m := k
		for m < n && isDigit(s[m]) {
			m++
		}
		total += m - k
		if total > 15 || m > lim || !f.endOK(m) {
			break
		}
		if total >= 8 {
			best = m
		}
		if m+1 < n && (s[m] == ' ' || s[m] == '-') && isDigit(s[m+1]) {
			k = m + 1
			continue
		}
		break
	}
	return best
}

// mobileLayout reports whether the first k groups, holding digits, are a
// Chinese mobile number as people write it: 13800138000 or 138 0013 8000,
// with or without 86 or 0086 in front, together or as a group of its own.
func mobileLayout(g *groups, k int, digits []byte) bool {
	lead := 0 // digits of the country code in front
	switch {
	case k == 1:
		lead = len(digits) - 11
	case k == 2 && g.size(1) == 11,
		k == 4 && g.size(1) == 3 && g.size(2) == 4 && g.size(3) == 4:
		lead = g.size(0)
	case k == 3 && g.size(0) == 3 && g.size(1) == 4 && g.size(2) == 4:
	default:
		return false
	}
	switch {
	case lead == 0:
	case lead == 2 && string(digits[:2]) == "86":
	case lead == 4 && string(digits[:4]) == "0086":
	default:
		return false
	}
	m := digits[lead:]
	return len(m) == 11 && m[0] == '1' && m[1] >= '3' && m[1] <= '9'
}

// cardLayout reports whether the first k groups are laid out as card
// numbers are written: all together; in fours with a shorter last group,
// separated alike; or 4-6-5 and 4-6-4 as American Express and Diners Club
// print them.
func cardLayout(g *groups, k int) bool {
	if k == 1 {
		return true
	}
	for j := 2; j < k; j++ {
		if g.sep[j] != g.sep[1] {
			return false
		}
	}
	if k == 3 && g.size(0) == 4 && g.size(1) == 6 && (g.size(2) == 5 || g.size(2) == 4) {
		return true
	}
	if k < 4 {
		return false
	}
	for j := 0; j < k-1; j++ {
		if g.size(j) != 4 {
			return false
		}
	}
	return g.size(k-1) <= 4
}

// validCard reports whether d, 13 to 19 digits, passes the Luhn check and
// starts with a known issuer prefix at a length that issuer uses.
func validCard(d []byte) bool {
	n := len(d)
	if n < 13 || n > 19 || !cardBrandLength(d) {
		return false
	}
	return luhn(d)
}

// cardBrandLength reports whether d starts with the prefix of a card brand
// and has a length the brand issues.
func cardBrandLength(d []byte) bool {
	n := len(d)
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p3 := p2*10 + int(d[2]-'0')
	p4 := p3*10 + int(d[3]-'0')
	switch {
	case d[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // American Express
		return n == 15
	case p2 == 62: // UnionPay
		return n >= 16
	case p4 >= 3528 && p4 <= 3589: // JCB
		return n >= 16
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65: // Discover
		return n >= 16
	case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38: // Diners Club
		return n >= 14
	}
	return false
}

// luhn reports whether the digits d pass the Luhn check.
func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// cnidWeights are the ISO 7064 MOD 11-2 weights of the first 17 digits of a
// Chinese resident identity number, and cnidCheck the check character for
// each remainder of the weighted sum.
var cnidWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const cnidCheck = "10X98765432"

// now is the clock against which birth dates in identity numbers are
// checked; tests replace it.
var now = time.Now

// validCNID reports whether id, 17 digits and a digit or X, is a Chinese
// resident identity number: region code starting 1–8, a real birth date
// from 1900 up to today, and the right check character.
func validCNID(id string) bool {
	if len(id) != 18 || id[0] < '1' || id[0] > '8' {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if !isDigit(id[i]) {
			return false
		}
		sum += int(id[i]-'0') * cnidWeights[i]
	}
	c := id[17]
	if c == 'x' {
		c = 'X'
	}
	if c != cnidCheck[sum%11] {
		return false
	}
	return validBirth(id[6:14])
}

// validBirth reports whether ymd, 8 digits YYYYMMDD, is a real date from
// 1900-01-01 up to today, today being the date in the time zone furthest
// ahead, so that no one born today anywhere is refused.
func validBirth(ymd string) bool {
	y := atoi(ymd[0:4])
	m := atoi(ymd[4:6])
	d := atoi(ymd[6:8])
	if y < 1900 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return false
	}
	ty, tm, td := now().UTC().Add(14 * time.Hour).Date()
	switch {
	case y != ty:
		return y < ty
	case m != int(tm):
		return m < int(tm)
	}
	return d <= td
}

func atoi(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
