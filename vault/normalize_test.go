package vault_test

import (
	"strings"
	"testing"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/vault"
)

func TestNormalizeEmail(t *testing.T) {
	valid := []struct{ in, want string }{
		{"zhang.wei@example.cn", "zhang.wei@example.cn"},
		{"Zhang.Wei@Example.CN", "zhang.wei@example.cn"},
		{"  zhang.wei@example.cn\n", "zhang.wei@example.cn"},
		{"zhang. wei @ example .cn", "zhang.wei@example.cn"},
		{"\tZHANG.WEI@EXAMPLE.CN ", "zhang.wei@example.cn"},
		{"a+tag@mail.example.com", "a+tag@mail.example.com"},
		{"张伟@例子.中国", "张伟@例子.中国"},
		{"a@b.co\u3000", "a@b.co"}, // ideographic space
		{strings.Repeat("a", 240) + "@example.com", strings.Repeat("a", 240) + "@example.com"},
	}
	for _, tt := range valid {
		got, err := vault.NormalizeEmail(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	invalid := []string{
		"", " ", "@", "plainaddress", "a@b", "@example.com", "a@@example.com", "a@b@example.com",
		"a@.example.com", "a@example.com.", "a@example..com", "a@", "a\x00b@example.com",
		strings.Repeat("a", 243) + "@example.com", "\xff@example.com",
	}
	for _, in := range invalid {
		got, err := vault.NormalizeEmail(in)
		if err == nil {
			t.Errorf("NormalizeEmail(%q) = %q, want an error", in, got)
			continue
		}
		if candor.ErrorCode(err) != candor.EINVALID || err.Error() != "candor: invalid: not a valid e-mail address" {
			t.Errorf("NormalizeEmail(%q) error = %v", in, err)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	valid := []struct{ in, region, want string }{
		{"138 1234 5678", "CN", "+8613812345678"},
		{"13812345678", "CN", "+8613812345678"},
		{"+86 138-1234-5678", "CN", "+8613812345678"},
		{"+86 (138) 1234.5678", "CN", "+8613812345678"},
		{"008613812345678", "CN", "+8613812345678"},
		{"0086 138 1234 5678", "CN", "+8613812345678"},
		{"8613812345678", "CN", "+8613812345678"},
		{"010-12345678", "CN", "+861012345678"},
		{"(010) 1234 5678", "CN", "+861012345678"},
		{"0571-8888888", "CN", "+865718888888"},
		{"0755 8888 8888", "CN", "+8675588888888"},
		{"＋８６ １３８ １２３４ ５６７８", "CN", "+8613812345678"}, // full width
		{"199 1234 5678", "CN", "+8619912345678"},
		{"+44 20 7946 0958", "CN", "+442079460958"},
		{"+44 20 7946 0958", "", "+442079460958"},
		{"0044 20 7946 0958", "", "+442079460958"},
		{"+1 (415) 555-2671", "", "+14155552671"},
	}
	for _, tt := range valid {
		got, err := vault.NormalizePhone(tt.in, tt.region)
		if err != nil || got != tt.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tt.in, tt.region, got, err, tt.want)
		}
	}
	invalid := []struct{ in, region string }{
		{"12345", "CN"},
		{"abc", "CN"},
		{"+", "CN"},
		{"", "CN"},
		{"", ""},
		{"   ", "CN"},
		{"12812345678", "CN"},        // 11 digits but not 1[3-9]
		{"1381234567", "CN"},         // 10 digits
		{"138123456789", "CN"},       // 12 digits
		{"861381234567", "CN"},       // "86" and 10 digits
		{"0123456", "CN"},            // landline too short
		{"0123456789012", "CN"},      // landline too long
		{"13812345678", ""},          // no region: must be international
		{"+86 138 1234 5678x", "CN"}, // letters
		{"+0123456789", "CN"},        // no country code starts with 0
		{"+1234567", "CN"},           // 7 digits
		{"+1234567890123456", "CN"},  // 16 digits
		{"++8613812345678", "CN"},
		{"+86 138 1234 5678 转 12", "CN"},
		{"13812345678", "US"}, // unsupported region
	}
	for _, tt := range invalid {
		got, err := vault.NormalizePhone(tt.in, tt.region)
		if err == nil {
			t.Errorf("NormalizePhone(%q, %q) = %q, want an error", tt.in, tt.region, got)
			continue
		}
		if candor.ErrorCode(err) != candor.EINVALID {
			t.Errorf("NormalizePhone(%q, %q) error code = %q", tt.in, tt.region, candor.ErrorCode(err))
		}
		if tt.in != "" && strings.Contains(err.Error(), tt.in) {
			t.Errorf("NormalizePhone(%q) error echoes the input: %v", tt.in, err)
		}
	}
}
