package pii

import (
	"net/netip"
	"strings"
	"testing"
)

func FuzzRedact(f *testing.F) {
	for _, s := range falsePositives(f) {
		f.Add(s)
	}
	for _, s := range []string{
		"contact me at Zhang.Wei+shop@Example.COM please",
		"我的邮箱是abc@qq.com谢谢",
		"手机 13800138000", "+86 138 0013 8000", "+86-138-0013-8000", "008613800138000",
		"+44 20 7946 0958", "+1 415 555 2671", "11010519491231002X",
		"4111 1111 1111 1111", "4111111111111111", "378282246310005",
		"192.168.1.20", "203.0.113.7", "2001:db8::1", "fe80::1ff:fe23:4567:890a",
		"13800138000::1", "x@y.com-13800138000", "ip:2001:db8::1", "::ffff:1.2.3.4",
		"mail a@b.cn or call +86 138 0013 8000 from 10.0.0.1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hits := Find(s)
		end := 0
		for _, h := range hits {
			if h.Start < end || h.End <= h.Start || h.End > len(s) {
				t.Fatalf("Find(%q): hit %+v out of order or bounds (previous end %d): %v", s, h, end, hits)
			}
			end = h.End
		}
		out, kinds := Redact(s)
		if len(hits) == 0 {
			if out != s || kinds != nil {
				t.Fatalf("Redact(%q) = %q, %v; want the input and nil", s, out, kinds)
			}
			return
		}
		if len(kinds) < len(hits) {
			t.Fatalf("Redact(%q) kinds %v, fewer than the %d hits of Find", s, kinds, len(hits))
		}
		if again := Find(out); again != nil {
			t.Fatalf("Redact(%q) = %q, in which Find still finds %v", s, out, again)
		}
		placeholders := 0
		for _, k := range []Kind{Email, Phone, CNID, BankCard, IP} {
			placeholders += strings.Count(out, k.Placeholder()) - strings.Count(s, k.Placeholder())
		}
		if placeholders != len(kinds) {
			t.Fatalf("Redact(%q) = %q, %v: %d new placeholders for %d kinds", s, out, kinds, placeholders, len(kinds))
		}
	})
}

func FuzzTruncateIP(f *testing.F) {
	for _, s := range []string{"203.0.113.77", "2001:db8:1234:5678::1", "::ffff:1.2.3.4", "fe80::1%eth0", "", "1.2.3", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := TruncateIP(s)
		if !ok {
			return
		}
		a, err := netip.ParseAddr(got)
		if err != nil {
			t.Fatalf("TruncateIP(%q) = %q, which does not parse: %v", s, got, err)
		}
		if again, _ := TruncateIP(got); again != got {
			t.Fatalf("TruncateIP(%q) = %q, but TruncateIP(%q) = %q", s, got, got, again)
		}
		if a.Is4() && !strings.HasSuffix(got, ".0") {
			t.Fatalf("TruncateIP(%q) = %q, want a /24", s, got)
		}
	})
}

func FuzzReduceUserAgent(f *testing.F) {
	for _, s := range []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN",
		"curl/8.4.0", "", "cubot",
	} {
		f.Add(s)
	}
	browsers := set("Chrome", "Firefox", "Safari", "Edge", "Opera", "Samsung Internet", "WeChat", "QQ Browser", "UC Browser", "Baidu", "Other")
	systems := set("Windows", "macOS", "iOS", "iPadOS", "Android", "Linux", "ChromeOS", "HarmonyOS", "Other")
	devices := set("desktop", "mobile", "tablet", "bot", "other")
	f.Fuzz(func(t *testing.T, ua string) {
		a := ReduceUserAgent(ua)
		if !browsers[a.Browser] || !systems[a.OS] || !devices[a.Device] {
			t.Fatalf("ReduceUserAgent(%q) = %+v, outside the documented values", ua, a)
		}
	})
}

func set(values ...string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}
