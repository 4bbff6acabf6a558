package pii

import "testing"

func TestTruncateIP(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"203.0.113.77", "203.0.113.0", true},
		{"10.1.2.3", "10.1.2.0", true},
		{"255.255.255.255", "255.255.255.0", true},
		{"2001:db8:1234:5678::1", "2001:db8:1234::", true},
		{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:db8:85a3::", true},
		{"fe80::1ff:fe23:4567:890a%eth0", "fe80::", true},
		{"::1", "::", true},
		{"::ffff:203.0.113.77", "203.0.113.0", true},
		{"::ffff:cb00:714d", "203.0.113.0", true},
		{"", "", false},
		{"203.0.113", "", false},
		{"203.0.113.256", "", false},
		{"[2001:db8::1]", "", false},
		{"203.0.113.77:8080", "", false},
		{"example.com", "", false},
	} {
		got, ok := TruncateIP(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("TruncateIP(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLooksIPv6(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"2001:db8::1", true},
		{"::1", true},
		{"1::", true},
		{"::ffff:1.2.3.4", true},
		{"1:2:3:4:5:6:7:8", true},
		{"1:2:3:4:5:6:1.2.3.4", true},
		{"::", false},
		{":::", false},
		{"1::2::3", false},
		{"1:2:3:4:5:6:7", false},
		{"1:2:3:4:5:6:7:8:9", false},
		{"12345::1", false},
		{"13:45:00", false},
		{"1:", false},
		{":1", false},
		{"g::1", false},
	} {
		if got := looksIPv6(tt.in); got != tt.want {
			t.Errorf("looksIPv6(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
