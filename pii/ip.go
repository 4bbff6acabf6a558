package pii

import (
	"net/netip"
	"strings"
)

// maxIPv6Run is the longest run of hex digits, ':' and '.' that is looked
// at as an IPv6 address. The longest textual IPv6 address is 45 bytes
// ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"); longer runs are skipped
// whole.
const maxIPv6Run = 64

// ipv4End returns the end of the IPv4 dotted quad at s[i], or -1. Each
// octet is 0 to 255 without leading zeros.
func ipv4End(s string, i int) int {
	n := len(s)
	k := i
	for octet := 0; octet < 4; octet++ {
		if octet > 0 {
			if k >= n || s[k] != '.' {
				return -1
			}
			k++
		}
		start, v := k, 0
		for k < n && isDigit(s[k]) && k-start < 4 {
			v = v*10 + int(s[k]-'0')
			k++
		}
		l := k - start
		if l == 0 || l > 3 || v > 255 || (l > 1 && s[start] == '0') {
			return -1
		}
	}
	return k
}

// nextIPv6 returns the first IPv6 address around a ':' at or after from,
// not reaching back before lo.
func (f *finder) nextIPv6(from, lo int) span {
	s := f.s
	n := len(s)
	for from < n {
		k := strings.IndexByte(s[from:], ':')
		if k < 0 {
			break
		}
		c := from + k
		st := c
		for st > lo && class[s[st-1]]&cIPv6 != 0 && c-st <= maxIPv6Run {
			st--
		}
		en := c + 1
		for en < n && class[s[en]]&cIPv6 != 0 {
			en++
		}
		if sp, ok := ipv6Token(s, st, en, lo); ok {
			return sp
		}
		from = en
	}
	return noSpan
}

// ipv6Token looks for an IPv6 address in the run s[st:en] of hex digits,
// ':' and '.'. It drops a single leading ':' ("ip:2001:db8::1") or trailing
// ':', and leading and trailing dots, and asks net/netip to confirm what is
// left. What is left must not touch a letter or digit on either side.
func ipv6Token(s string, st, en, lo int) (span, bool) {
	if en-st > maxIPv6Run {
		return noSpan, false
	}
	a, b := st, en
	for a < b && s[a] == '.' {
		a++
	}
	for b > a && s[b-1] == '.' {
		b--
	}
	if b-a >= 2 && s[a] == ':' && s[a+1] != ':' {
		a++
	}
	if b-a >= 2 && s[b-1] == ':' && s[b-2] != ':' {
		b--
	}
	if a == st && st > lo && isAlnum(s[st-1]) || b == en && en < len(s) && isAlnum(s[en]) {
		return noSpan, false // part of a longer token, such as "std::map"
	}
	tok := s[a:b]
	if !looksIPv6(tok) {
		return noSpan, false
	}
	// looksIPv6 rules out almost everything ParseAddr would reject, so
	// that clean text such as "13:45:00" does not pay for an error value.
	addr, err := netip.ParseAddr(tok)
	if err != nil || !addr.Is6() {
		return noSpan, false
	}
	return span{a, b}, true
}

// looksIPv6 reports whether tok has the shape of an IPv6 address: groups of
// one to four hex digits separated by ':', at most one "::", eight groups
// or fewer with "::", and optionally a dotted quad in place of the last two.
func looksIPv6(tok string) bool {
	n := len(tok)
	if n < 2 || n > 45 {
		return false
	}
	groups, double := 0, false
	i := 0
	if tok[0] == ':' {
		if tok[1] != ':' {
			return false
		}
		double, i = true, 2
	}
	for i < n {
		start := i
		for i < n && class[tok[i]]&cHex != 0 && i-start < 5 {
			i++
		}
		if i < n && tok[i] == '.' {
			if ipv4End(tok, start) != n {
				return false
			}
			groups += 2
			break
		}
		if l := i - start; l == 0 || l > 4 {
			return false
		}
		groups++
		if i == n {
			break
		}
		if tok[i] != ':' {
			return false
		}
		i++
		if i == n {
			return false // a single trailing ':'
		}
		if tok[i] == ':' {
			if double {
				return false
			}
			double = true
			i++
		}
	}
	if groups == 0 {
		return false
	}
	if double {
		return groups <= 7
	}
	return groups == 8
}

// TruncateIP reduces an IP address to its network: IPv4 to /24, the last
// octet zero ("203.0.113.77" becomes "203.0.113.0"), and IPv6 to /48
// ("2001:db8:1234:5678::1" becomes "2001:db8:1234::"). An IPv4-mapped IPv6
// address is treated as the IPv4 address it maps, and a zone is dropped. ok
// is false when ip does not parse.
func TruncateIP(ip string) (string, bool) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "", false
	}
	addr = addr.WithZone("").Unmap()
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return "", false
	}
	return p.Addr().String(), true
}
