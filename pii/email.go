package pii

import "strings"

// Longest local part and domain looked at, as RFC 5321 limits them. A
// longer local part is cut to its last maxLocal bytes, which are redacted
// with the rest of the address.
const (
	maxLocal  = 64
	maxDomain = 255
)

// nextEmail returns the first e-mail address around an '@' at or after
// from, not reaching back before lo.
func (f *finder) nextEmail(from, lo int) span {
	s := f.s
	for from < len(s) {
		k := strings.IndexByte(s[from:], '@')
		if k < 0 {
			break
		}
		at := from + k
		a := at
		for a > lo && at-a < maxLocal && class[s[a-1]]&cLocal != 0 {
			a--
		}
		// The local part starts with a letter, digit or '_': drop the
		// punctuation of "see:.+a@b.cn" or "--a@b.cn".
		for a < at && class[s[a]]&cAlnum == 0 && s[a] != '_' {
			a++
		}
		if a < at {
			if end := domainEnd(s, at+1); end > 0 {
				return span{a, end}
			}
		}
		from = at + 1
	}
	return noSpan
}

// domainEnd returns the end of the domain name at s[p], or -1. The domain
// is the longest run of labels (letters, digits, '-') separated by single
// dots, at least two of them, whose last label is a top-level domain; it
// ends at the first byte that cannot be in a domain, so "abc@qq.com谢谢"
// ends before "谢谢" and "abc@qq.com." before the full stop.
func domainEnd(s string, p int) int {
	n := len(s)
	best, dots, label := -1, 0, p
	k := p
	for ; k < n && k-p < maxDomain; k++ {
		c := s[k]
		if isAlnum(c) {
			continue
		}
		if c == '-' {
			if dots > 0 && topLevel(s[label:k]) {
				best = k // "a@shop.cn-2024": the address ends before "-2024"
			}
			continue
		}
		if c != '.' || k == label {
			break
		}
		if dots > 0 && topLevel(s[label:k]) {
			best = k
		}
		dots++
		label = k + 1
	}
	if dots > 0 && topLevel(s[label:k]) && (k == n || class[s[k]]&cDomain == 0 || s[k] == '.' || s[k] == '-') {
		best = k
	}
	return best
}

// topLevel reports whether label can be a top-level domain: two or more
// letters, or an internationalized "xn--" label.
func topLevel(label string) bool {
	if len(label) < 2 {
		return false
	}
	if len(label) > 4 && (label[0] == 'x' || label[0] == 'X') && (label[1] == 'n' || label[1] == 'N') && label[2:4] == "--" {
		return true
	}
	for i := 0; i < len(label); i++ {
		if class[label[i]]&cAlpha == 0 {
			return false
		}
	}
	return true
}
