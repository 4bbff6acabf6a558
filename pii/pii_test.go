package pii

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// found is a hit as a test writes it: the kind and the text it covers.
type found struct {
	Kind Kind
	Text string
}

func (f found) String() string { return fmt.Sprintf("%s %q", f.Kind, f.Text) }

type findTest struct {
	in   string
	want []found
}

// hitsOf returns the hits of Find(s) as found values.
func hitsOf(s string) []found {
	var got []found
	for _, h := range Find(s) {
		got = append(got, found{h.Kind, s[h.Start:h.End]})
	}
	return got
}

func runFind(t *testing.T, tests []findTest) {
	t.Helper()
	for _, tt := range tests {
		got := hitsOf(tt.in)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Find(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// withClock sets the clock validCNID checks birth dates against to
// midnight UTC on day, when it is day everywhere from UTC to UTC+14, and
// restores it when the test ends.
func withClock(t *testing.T, day string) {
	t.Helper()
	d, err := time.Parse("2006-01-02", day)
	if err != nil {
		t.Fatal(err)
	}
	old := now
	now = func() time.Time { return d }
	t.Cleanup(func() { now = old })
}

// cnid completes the first 17 digits of a resident identity number with
// its ISO 7064 MOD 11-2 check character.
func cnid(tb testing.TB, first17 string) string {
	tb.Helper()
	if len(first17) != 17 {
		tb.Fatalf("cnid(%q): want 17 digits", first17)
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * cnidWeights[i]
	}
	return first17 + string(cnidCheck[sum%11])
}

// luhnComplete appends to digits the check digit that makes it Luhn valid.
func luhnComplete(tb testing.TB, digits string) string {
	tb.Helper()
	for c := byte('0'); c <= '9'; c++ {
		if s := digits + string(c); luhn([]byte(s)) {
			return s
		}
	}
	tb.Fatalf("luhnComplete(%q): no check digit", digits)
	return ""
}

// group writes digits in groups of four separated by sep.
func group(digits, sep string) string {
	var parts []string
	for len(digits) > 4 {
		parts = append(parts, digits[:4])
		digits = digits[4:]
	}
	return strings.Join(append(parts, digits), sep)
}

func TestCheckHelpers(t *testing.T) {
	// Computed by hand: the weighted sum of 11010519491231002 is 167, and
	// 167 mod 11 = 2, which maps to X.
	if got, want := cnid(t, "11010519491231002"), "11010519491231002X"; got != want {
		t.Errorf("cnid = %q, want %q", got, want)
	}
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"4111111111111111", true},
		{"4111111111111112", false},
		{"378282246310005", true},
		{"79927398713", true},
		{"79927398710", false},
	} {
		if got := luhn([]byte(tt.in)); got != tt.want {
			t.Errorf("luhn(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFindEmail(t *testing.T) {
	runFind(t, []findTest{
		{"contact me at Zhang.Wei+shop@Example.COM please", []found{{Email, "Zhang.Wei+shop@Example.COM"}}},
		{"我的邮箱是abc@qq.com谢谢", []found{{Email, "abc@qq.com"}}},
		{"邮箱：wang-fang@163.com，谢谢", []found{{Email, "wang-fang@163.com"}}},
		{"write to li_na@mail.example.com.cn.", []found{{Email, "li_na@mail.example.com.cn"}}},
		{"q=shoes&email=a.b@x.io&page=2", []found{{Email, "a.b@x.io"}}},
		{"<12345678@qq.com>", []found{{Email, "12345678@qq.com"}}},
		{"13800138000@qq.com", []found{{Email, "13800138000@qq.com"}}},
		{"mailto:someone@shop.example", []found{{Email, "someone@shop.example"}}},
		{"see:.+a@b.cn", []found{{Email, "a@b.cn"}}},
		{"x@y.com-2024 promo", []found{{Email, "x@y.com"}}},
		{"user@example.xn--fiqs8s", []found{{Email, "user@example.xn--fiqs8s"}}},
		{"a@b.cn,c@d.cn", []found{{Email, "a@b.cn"}, {Email, "c@d.cn"}}},
	})
}

func TestFindPhone(t *testing.T) {
	runFind(t, []findTest{
		{"手机 13800138000", []found{{Phone, "13800138000"}}},
		{"手机13800138000谢谢", []found{{Phone, "13800138000"}}},
		{"电话：15912345678。", []found{{Phone, "15912345678"}}},
		{"+86 138 0013 8000", []found{{Phone, "+86 138 0013 8000"}}},
		{"+86-138-0013-8000", []found{{Phone, "+86-138-0013-8000"}}},
		{"+8613800138000", []found{{Phone, "+8613800138000"}}},
		{"008613800138000", []found{{Phone, "008613800138000"}}},
		{"8613800138000", []found{{Phone, "8613800138000"}}},
		{"0086 138 0013 8000", []found{{Phone, "0086 138 0013 8000"}}},
		{"86-13800138000", []found{{Phone, "86-13800138000"}}},
		{"call 138 0013 8000 today", []found{{Phone, "138 0013 8000"}}},
		{"call 138-0013-8000 today", []found{{Phone, "138-0013-8000"}}},
		{"+44 20 7946 0958", []found{{Phone, "+44 20 7946 0958"}}},
		{"+1 415 555 2671", []found{{Phone, "+1 415 555 2671"}}},
		{"+1 415-555-2671", []found{{Phone, "+1 415-555-2671"}}},
		{"tel:+8613912345678", []found{{Phone, "+8613912345678"}}},
		{"13800138000,13900139000", []found{{Phone, "13800138000"}, {Phone, "13900139000"}}},
		{"+44 20 7946 0958 2026", []found{{Phone, "+44 20 7946 0958"}}}, // 16 digits: the last group is not taken
	})
}

func TestFindCNID(t *testing.T) {
	withClock(t, "2026-11-25")
	gansu := "620102198811150089" // a valid identity number that is also Luhn valid
	if !luhn([]byte(gansu)) || cnid(t, gansu[:17]) != gansu {
		t.Fatalf("test data: %s is not both a Luhn-valid and a valid identity number", gansu)
	}
	runFind(t, []findTest{
		{"11010519491231002X", []found{{CNID, "11010519491231002X"}}},
		{"11010519491231002x", []found{{CNID, "11010519491231002x"}}},
		{"身份证11010519491231002X号", []found{{CNID, "11010519491231002X"}}},
		{"id " + cnid(t, "44030519900307123"), []found{{CNID, cnid(t, "44030519900307123")}}},
		{cnid(t, "31010120000229123"), []found{{CNID, cnid(t, "31010120000229123")}}}, // leap day
		{cnid(t, "81000019000101000"), []found{{CNID, cnid(t, "81000019000101000")}}},
		{cnid(t, "11010520261125001"), []found{{CNID, cnid(t, "11010520261125001")}}}, // born today
		{gansu, []found{{CNID, gansu}}},                                               // not a UnionPay card
	})
}

func TestFindCNIDRejects(t *testing.T) {
	withClock(t, "2026-11-25")
	for _, tt := range []struct {
		name, in string
	}{
		{"wrong check character", "110105194912310021"},
		{"region 9", cnid(t, "91010519491231002")},
		{"region 0", cnid(t, "01010519491231002")},
		{"before 1900", cnid(t, "11010518991231002")},
		{"born tomorrow", cnid(t, "11010520261126001")},
		{"next year", cnid(t, "11010520270101001")},
		{"29 February 1900", cnid(t, "11010519000229001")},
		{"31 April", cnid(t, "11010519900431001")},
		{"month 13", cnid(t, "11010519901301001")},
		{"inside a token", "A" + cnid(t, "44030519900307123")},
	} {
		if got := hitsOf(tt.in); got != nil {
			t.Errorf("%s: Find(%q) = %v, want nothing", tt.name, tt.in, got)
		}
	}
}

func TestFindBankCard(t *testing.T) {
	unionPay := luhnComplete(t, "622202123456789")
	unionPay19 := luhnComplete(t, "621234567890123456")
	runFind(t, []findTest{
		{"4111 1111 1111 1111", []found{{BankCard, "4111 1111 1111 1111"}}},
		{"4111111111111111", []found{{BankCard, "4111111111111111"}}},
		{"4111-1111-1111-1111", []found{{BankCard, "4111-1111-1111-1111"}}},
		{"卡号4111111111111111谢谢", []found{{BankCard, "4111111111111111"}}},
		{"4222222222222", []found{{BankCard, "4222222222222"}}}, // 13-digit Visa
		{group(unionPay, " "), []found{{BankCard, group(unionPay, " ")}}},
		{unionPay, []found{{BankCard, unionPay}}},
		{group(unionPay19, " "), []found{{BankCard, group(unionPay19, " ")}}},
		{"378282246310005", []found{{BankCard, "378282246310005"}}},
		{"3782 822463 10005", []found{{BankCard, "3782 822463 10005"}}},
		{"5555555555554444", []found{{BankCard, "5555555555554444"}}},
		{"2223003122003222", []found{{BankCard, "2223003122003222"}}},
		{"3530111333300000", []found{{BankCard, "3530111333300000"}}},
		{"6011111111111117", []found{{BankCard, "6011111111111117"}}},
		{"30569309025904", []found{{BankCard, "30569309025904"}}},
		{"pay 4111 1111 1111 1111 2 times", []found{{BankCard, "4111 1111 1111 1111"}}},
	})
}

func TestFindBankCardRejects(t *testing.T) {
	for _, tt := range []struct {
		name, in string
	}{
		{"Luhn invalid", "4111111111111112"},
		{"no issuer", luhnComplete(t, "123456781234567")},
		{"no issuer, 19 digits", luhnComplete(t, "999999999999999999")},
		{"Visa of 15 digits", luhnComplete(t, "41111111111111")},
		{"Amex of 16 digits", luhnComplete(t, "378282246310005")},
		{"Mastercard of 19 digits", luhnComplete(t, "555555555555444400")},
		{"mixed separators", "4111 1111-1111 1111"},
		{"groups of three", "411 111 111 111 1111"},
		{"double space", "4111  1111  1111  1111"},
		{"inside a token", "X4111111111111111"},
	} {
		if got := hitsOf(tt.in); got != nil {
			t.Errorf("%s: Find(%q) = %v, want nothing", tt.name, tt.in, got)
		}
	}
}

func TestFindIP(t *testing.T) {
	runFind(t, []findTest{
		{"192.168.1.20", []found{{IP, "192.168.1.20"}}},
		{"203.0.113.7", []found{{IP, "203.0.113.7"}}},
		{"client 10.0.0.1:8080 said", []found{{IP, "10.0.0.1"}}},
		{"from 8.8.8.8.", []found{{IP, "8.8.8.8"}}},
		{"地址192.168.1.20。", []found{{IP, "192.168.1.20"}}},
		{"0.0.0.0 255.255.255.255", []found{{IP, "0.0.0.0"}, {IP, "255.255.255.255"}}},
		{"2001:db8::1", []found{{IP, "2001:db8::1"}}},
		{"fe80::1ff:fe23:4567:890a", []found{{IP, "fe80::1ff:fe23:4567:890a"}}},
		{"[2001:db8::1]:443", []found{{IP, "2001:db8::1"}}},
		{"ip:2001:db8::1", []found{{IP, "2001:db8::1"}}},
		{"::ffff:192.168.1.1", []found{{IP, "::ffff:192.168.1.1"}}},
		{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", []found{{IP, "2001:0db8:85a3:0000:0000:8a2e:0370:7334"}}},
		{"地址2001:db8::1。", []found{{IP, "2001:db8::1"}}},
	})
}

// TestFindFalsePositives lists text that looks like personal data to a
// careless scanner: order and tracking numbers, timestamps, prices, SKUs,
// versions, identifiers and hashes.
func TestFindFalsePositives(t *testing.T) {
	withClock(t, "2026-11-25")
	for _, in := range falsePositives(t) {
		if got := hitsOf(in); got != nil {
			t.Errorf("Find(%q) = %v, want nothing", in, got)
		}
	}
}

func falsePositives(tb testing.TB) []string {
	return []string{
		// Order numbers.
		"ORD-20261125-000123",
		"2026112500012345",
		"SO20261125123456",
		"order 2026112500012345 shipped",
		// Timestamps.
		"2026-11-25T13:45:00Z",
		"2026-11-25T13:45:00+08:00",
		"2026-11-25 13:45:00",
		"1764078300",
		"1764078300000",
		"13:45:00",
		"25.11.2026",
		// Prices.
		"199.00",
		"¥1,299.50",
		"12.5",
		"+12.5",
		"13800138000.5",
		"0.13800138000",
		// SKUs.
		"SKU-8841-XL",
		"A1B2C3D4E5",
		// Tracking numbers.
		"SF1234567890123",
		"JD0001234567890",
		"YT1234567890123",
		"1Z999AA10123456784",
		"773012345678901",
		// Versions.
		"v1.2.3.4",
		"1.2.3.4.5",
		"Chrome/120.0.6099.109",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
		// Identifiers and hashes.
		"550e8400-e29b-41d4-a716-446655440000",
		"123e4567-e89b-12d3-a456-426614174000",
		"d41d8cd98f00b204e9800998ecf8427e",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"00:1a:2b:3c:4d:5e",
		"std::vector<int>",
		// A Luhn-valid 13-digit number that starts with 1, as a timestamp in
		// milliseconds does.
		luhnComplete(tb, "176407830000"),
		// Numbers that are not quite personal data.
		"12800138000",   // no mobile prefix 12
		"1380013800",    // 10 digits
		"138001380001",  // 12 digits
		"12345678",      // 8 digits and no "+"
		"+1234567",      // 7 digits
		"020 7946 0958", // a landline without "+"
		"256.1.1.1",     // octet out of range
		"01.2.3.4",      // leading zero
		"1.2.3",         // three parts
		"a@b",           // no top-level domain
		"foo@localhost", // one label
		"x@y.z",         // one-letter top-level domain
		"@zhangwei 你好",  // a handle
		"[email] [phone] [ip] [cn_id] [bank_card]",
		"iPhone 15 Pro Max 256GB 钛金属 官方正品 5G手机 满1000减100",
	}
}

func TestRedact(t *testing.T) {
	for _, tt := range []struct {
		in    string
		want  string
		kinds []Kind
	}{
		{"call 13800138000 now", "call [phone] now", []Kind{Phone}},
		{"contact me at Zhang.Wei+shop@Example.COM please", "contact me at [email] please", []Kind{Email}},
		{"我的邮箱是abc@qq.com谢谢", "我的邮箱是[email]谢谢", []Kind{Email}},
		{
			"mail a@b.cn or call +86 138 0013 8000 from 10.0.0.1, card 4111 1111 1111 1111, id 11010519491231002X",
			"mail [email] or call [phone] from [ip], card [bank_card], id [cn_id]",
			[]Kind{Email, Phone, IP, BankCard, CNID},
		},
		{"ip 2001:db8::1 and 203.0.113.7", "ip [ip] and [ip]", []Kind{IP, IP}},
		// Removing the phone number exposes the IPv6 address "::1".
		{"13800138000::1", "[phone][ip]", []Kind{Phone, IP}},
		{"x@y.com-13800138000", "[email]-[phone]", []Kind{Email, Phone}},
		{"search: running shoes", "search: running shoes", nil},
		{"", "", nil},
	} {
		got, kinds := Redact(tt.in)
		if got != tt.want || !reflect.DeepEqual(kinds, tt.kinds) {
			t.Errorf("Redact(%q) = %q, %v; want %q, %v", tt.in, got, kinds, tt.want, tt.kinds)
		}
	}
}

// TestRedactCleanAllocatesNothing: clean text is the common case, and
// Redact returns it as it is without allocating.
func TestRedactCleanAllocatesNothing(t *testing.T) {
	clean := append(falsePositives(t), benchClean, "", "a", "hello, world", strings.Repeat("商品 ", 100))
	for _, s := range clean {
		var out string
		var kinds []Kind
		allocs := testing.AllocsPerRun(100, func() { out, kinds = Redact(s) })
		if allocs != 0 {
			t.Errorf("Redact(%q) allocates %v times, want 0", s, allocs)
		}
		if out != s || kinds != nil {
			t.Errorf("Redact(%q) = %q, %v; want the input and nil", s, out, kinds)
		}
	}
}

// TestFindLongInput checks that long inputs, with and without personal
// data, are scanned in linear time and found in full.
func TestFindLongInput(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "13800138000 a%d@x.cn 10.0.%d.%d ", i, i%256, i%200)
	}
	s := b.String()
	if got, want := len(Find(s)), 6000; got != want {
		t.Errorf("len(Find(long)) = %d, want %d", got, want)
	}
	colons := strings.Repeat("1:", 50000) + " 2001:db8::1"
	if got := hitsOf(colons); !reflect.DeepEqual(got, []found{{IP, "2001:db8::1"}}) {
		t.Errorf("Find(1:1:...: 2001:db8::1) = %v", got)
	}
	local := strings.Repeat("a", 1000) + "@x.cn"
	if got := Find(local); len(got) != 1 || got[0].End-got[0].Start != maxLocal+len("@x.cn") {
		t.Errorf("Find(aaa...@x.cn) = %v, want the last %d bytes of the local part and the domain", got, maxLocal)
	}
}

func TestPlaceholder(t *testing.T) {
	for _, k := range []Kind{Email, Phone, CNID, BankCard, IP} {
		if got, want := k.Placeholder(), "["+string(k)+"]"; got != want {
			t.Errorf("%s.Placeholder() = %q, want %q", k, got, want)
		}
		if got, _ := Redact(k.Placeholder()); got != k.Placeholder() {
			t.Errorf("Redact(%q) = %q: a placeholder is not a hit", k.Placeholder(), got)
		}
	}
}

// TestFindLimits pins the deliberate limits the package comment documents.
func TestFindLimits(t *testing.T) {
	runFind(t, []findTest{
		{"+1 415 555 2671 100", []found{{Phone, "+1 415 555 2671 100"}}},
		{"a@[192.0.2.1]", []found{{IP, "192.0.2.1"}}},
		{"1.2.3.4", []found{{IP, "1.2.3.4"}}},
		{"fe80::1%eth0", []found{{IP, "fe80::1"}}},
		{"020 7946 0958", nil},
		{"(415) 555-2671", nil},
		{"110105 19491231 002X", nil},
		{"00:1a:2b:3c:4d:5e", nil},
	})
}

// TestRedactSMTPRefusal: a mail server's refusal quotes the recipient's
// address; the sender logs it through Redact, which leaves no address.
func TestRedactSMTPRefusal(t *testing.T) {
	for _, msg := range []string{
		"smtp: 550 5.1.1 <ann.li@example.com>: Recipient address rejected: User unknown",
		"failed to send mail: RCPT TO:<wang.fang@example.cn> 552 mailbox full",
	} {
		got, _ := Redact(msg)
		if strings.Contains(got, "@") || strings.Contains(got, "example.c") {
			t.Errorf("Redact(%q) = %q: the address is still there", msg, got)
		}
	}
}
