package demo_test

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/demo"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/policy"
)

var now = time.Date(2025, 6, 15, 10, 0, 0, 0, time.UTC)

// TestPurposesExist: every purpose a customer chooses or withdraws exists in
// the example policy and rests on consent, and a withdrawn purpose was
// granted first.
func TestPurposesExist(t *testing.T) {
	p, findings := policy.Parse("candor.yaml", examples.Policy)
	if len(findings) > 0 {
		t.Fatalf("example policy: %v", findings)
	}
	for _, c := range demo.Customers(1, 2000, now) {
		check := func(id string) *candor.Purpose {
			pu := p.Purpose(id)
			if pu == nil || !pu.NeedsConsent() {
				t.Fatalf("%s: purpose %q is not a consent purpose of the example policy", c.UserID, id)
			}
			return pu
		}
		for id := range c.Choices {
			check(id)
		}
		for _, id := range c.Withdrawn {
			pu := check(id)
			if !c.Choices[id] && !(c.AcceptAll && !pu.SeparateConsent) {
				t.Errorf("%s withdraws %s, which was never granted: %+v", c.UserID, id, c)
			}
			if c.GPC && pu.GPC == candor.GPCDeny {
				t.Errorf("%s withdraws %s, which GPC denied: %+v", c.UserID, id, c)
			}
		}
		if c.AcceptAll {
			for id := range c.Choices {
				if !check(id).SeparateConsent {
					t.Errorf("%s accepts all and names %s, which accept all grants anyway", c.UserID, id)
				}
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b := demo.Customers(7, 500, now), demo.Customers(7, 500, now)
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed gives other customers")
	}
	if c := demo.Customers(8, 500, now); reflect.DeepEqual(a, c) {
		t.Error("another seed gives the same customers")
	}
	if got := demo.Customers(1, 0, now); len(got) != 0 {
		t.Errorf("0 customers: %d", len(got))
	}
	if got := demo.Customers(1, 10, now); !reflect.DeepEqual(got, demo.Customers(1, 20, now)[:10]) {
		t.Error("the first customers depend on how many are asked for")
	}
}

var (
	emailRE   = regexp.MustCompile(`^[a-z0-9._]+@example\.(cn|com|net|org)$`)
	dateRE    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	cnPhoneRE = regexp.MustCompile(`^(\+86 ?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}$`)
	ukPhoneRE = regexp.MustCompile(`^\+44 7700 900\d{3}$`)
	usPhoneRE = regexp.MustCompile(`^\+1 \d{3} 555 01\d{2}$`)
)

func TestCustomers(t *testing.T) {
	const n = 5000
	cs := demo.Customers(42, n, now)
	if len(cs) != n {
		t.Fatalf("%d customers", len(cs))
	}
	count := map[string]int{}
	emails, phones, users := map[string]bool{}, map[string]bool{}, map[string]bool{}
	guardian := map[bool]int{}
	for _, c := range cs {
		if users[c.UserID] {
			t.Errorf("user id %s twice", c.UserID)
		}
		users[c.UserID] = true
		if c.Email == "" && c.Phone == "" {
			t.Errorf("%s has neither e-mail nor phone", c.UserID)
		}
		if c.Email != "" {
			if !emailRE.MatchString(c.Email) {
				t.Errorf("e-mail %q is not at an example domain", c.Email)
			}
			if emails[c.Email] {
				t.Errorf("e-mail %s twice", c.Email)
			}
			emails[c.Email] = true
		}
		if c.Phone != "" {
			digits := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, c.Phone)
			digits = strings.TrimPrefix(digits, "86")
			if phones[digits] {
				t.Errorf("phone %s twice", c.Phone)
			}
			phones[digits] = true
			switch {
			case cnPhoneRE.MatchString(c.Phone):
				count["cn phone"]++
				if strings.Contains(c.Phone, " ") && !strings.HasPrefix(c.Phone, "+") {
					count["spaced phone"]++
				}
			case ukPhoneRE.MatchString(c.Phone), usPhoneRE.MatchString(c.Phone):
				count["foreign phone"]++
			default:
				t.Errorf("phone %q in no expected format", c.Phone)
			}
		}
		if strings.ContainsFunc(c.Name, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			count["chinese name"]++
		} else if c.Name != "" {
			count["english name"]++
		}
		switch c.Gender {
		case "female", "male", "":
		default:
			t.Errorf("gender %q", c.Gender)
		}
		if c.City == "" || c.Channel == "" || len(c.Channel) > 40 {
			t.Errorf("%s: city %q, channel %q", c.UserID, c.City, c.Channel)
		}
		if !dateRE.MatchString(c.BirthDate) {
			t.Fatalf("birth date %q", c.BirthDate)
		}
		birth, err := time.Parse(time.DateOnly, c.BirthDate)
		if err != nil || birth.After(now) {
			t.Fatalf("birth date %q: %v", c.BirthDate, err)
		}
		switch {
		case now.Before(birth.AddDate(14, 0, 0)):
			count["under 14"]++
		case now.Before(birth.AddDate(18, 0, 0)):
			count["14 to 17"]++
		}
		if now.Before(birth.AddDate(16, 0, 0)) {
			guardian[c.Guardian]++
		} else if c.Guardian {
			t.Errorf("%s is an adult with a guardian", c.UserID)
		}
		switch {
		case c.AcceptAll:
			count["accept all"]++
		case len(c.Choices) == 0:
			count["reject all"]++
		default:
			count["granular"]++
		}
		if c.GPC {
			count["gpc"]++
		}
		if len(c.Withdrawn) > 0 {
			count["withdrawn"]++
		}
	}
	share := func(k string) float64 { return float64(count[k]) / n }
	for _, c := range []struct {
		what     string
		min, max float64
	}{
		{"accept all", 0.30, 0.40},
		{"reject all", 0.20, 0.30},
		{"granular", 0.33, 0.47},
		{"gpc", 0.055, 0.105},
		{"withdrawn", 0.07, 0.13},
		{"under 14", 0.015, 0.045},
		{"14 to 17", 0.03, 0.07},
		{"chinese name", 0.7, 0.9},
		{"english name", 0.1, 0.3},
		{"foreign phone", 0.02, 0.2},
		{"spaced phone", 0.05, 0.3},
	} {
		if s := share(c.what); s < c.min || s > c.max {
			t.Errorf("%s: %.3f of customers, want %.3f to %.3f", c.what, s, c.min, c.max)
		}
	}
	if guardian[true] == 0 || guardian[false] == 0 {
		t.Errorf("children with and without a guardian: %v", guardian)
	}
}

// TestShowcase: the first two customers are the showcase, whatever the
// seed and the date, adults, the first reachable by e-mail and the second
// by phone.
func TestShowcase(t *testing.T) {
	for _, seed := range []int64{1, 42} {
		cs := demo.Customers(seed, 100, now.AddDate(0, 0, int(seed)))
		for i, want := range demo.Showcase {
			c := cs[i]
			if c.UserID != want.UserID || c.Email != want.Email || c.Phone != want.Phone || c.Name != want.Name {
				t.Errorf("seed %d: customer %d = %+v, want %+v", seed, i, c, want)
			}
			birth, _ := time.Parse(time.DateOnly, c.BirthDate)
			if now.Before(birth.AddDate(18, 0, 0)) {
				t.Errorf("showcase customer %d is a child: %s", i, c.BirthDate)
			}
		}
		for _, c := range cs[len(demo.Showcase):] {
			for _, s := range demo.Showcase {
				if c.Email == s.Email || c.Phone == s.Phone {
					t.Errorf("%s shares a contact with the showcase: %+v", c.UserID, c)
				}
			}
		}
	}
}
