// Package demo makes up the demo shop, Demo Shop (示范商城), whose policy is
// examples/candor.yaml: its products, its customers (names, contact
// details, cities, birth dates and consent choices with the mix a real shop
// sees) and their month of shopping, for `candor serve -demo` and for
// tests.
//
// Everything is generated from a seed; nothing is read from anywhere and no
// one real is described. E-mail addresses are at example.* domains; UK
// numbers are in the range Ofcom keeps for drama and US numbers in the
// 555-01xx range; Chinese mobile numbers are random.
package demo

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Customer is one synthetic customer of the demo shop.
type Customer struct {
	UserID    string
	Email     string // empty when the customer gave none
	Phone     string // as the shop received it, in one of several formats; empty when none
	Name      string
	City      string
	Gender    string // "female", "male", or empty when not given
	BirthDate string // YYYY-MM-DD
	// Choices holds the customer's choices per consent-based purpose of the
	// example policy. With AcceptAll it holds only the separate-consent
	// purposes the customer also granted on their own; empty and without
	// AcceptAll, the customer rejected all.
	Choices   map[string]bool
	AcceptAll bool
	GPC       bool     // the browser sent a Global Privacy Control signal
	Withdrawn []string // purposes granted first and withdrawn later
	Guardian  bool     // a guardian consented for the customer, who is a child
	Channel   string   // where the choice was made: banner, app, checkout or portal
}

// consentPurposes are the consent-based purposes of the example policy, and
// how likely a customer who chooses purpose by purpose is to grant each.
var consentPurposes = []struct {
	id       string
	separate bool // separate consent: never granted by "accept all"
	grant    float64
}{
	{"personalization", false, 0.6},
	{"marketing.email", false, 0.45},
	{"marketing.sms", false, 0.25},
	{"analytics", false, 0.55},
	{"sharing.ads", true, 0.12},
	{"delivery.international", true, 0.1},
	{"allergy.alerts", true, 0.08},
}

// ageOfConsent is the example policy's age of consent (GDPR's 16, the
// stricter of its two jurisdictions).
const ageOfConsent = 16

type person struct{ hanzi, pinyin, gender string }

var (
	surnames = []struct{ hanzi, pinyin string }{
		{"王", "wang"}, {"李", "li"}, {"张", "zhang"}, {"刘", "liu"}, {"陈", "chen"}, {"杨", "yang"},
		{"黄", "huang"}, {"赵", "zhao"}, {"吴", "wu"}, {"周", "zhou"}, {"徐", "xu"}, {"孙", "sun"},
		{"马", "ma"}, {"朱", "zhu"}, {"胡", "hu"}, {"郭", "guo"}, {"何", "he"}, {"林", "lin"},
		{"罗", "luo"}, {"高", "gao"}, {"郑", "zheng"}, {"梁", "liang"}, {"谢", "xie"}, {"宋", "song"},
		{"唐", "tang"}, {"韩", "han"}, {"冯", "feng"}, {"邓", "deng"}, {"曹", "cao"}, {"彭", "peng"},
	}
	givenNames = []person{
		{"伟", "wei", "male"}, {"强", "qiang", "male"}, {"磊", "lei", "male"}, {"军", "jun", "male"},
		{"洋", "yang", "male"}, {"勇", "yong", "male"}, {"杰", "jie", "male"}, {"涛", "tao", "male"},
		{"明", "ming", "male"}, {"超", "chao", "male"}, {"浩然", "haoran", "male"}, {"子轩", "zixuan", "male"},
		{"宇航", "yuhang", "male"}, {"俊杰", "junjie", "male"}, {"志强", "zhiqiang", "male"}, {"文博", "wenbo", "male"},
		{"一鸣", "yiming", "male"}, {"建华", "jianhua", "male"},
		{"芳", "fang", "female"}, {"娜", "na", "female"}, {"敏", "min", "female"}, {"静", "jing", "female"},
		{"丽", "li", "female"}, {"秀英", "xiuying", "female"}, {"婷", "ting", "female"}, {"雪", "xue", "female"},
		{"欣怡", "xinyi", "female"}, {"梓涵", "zihan", "female"}, {"诗涵", "shihan", "female"}, {"雨桐", "yutong", "female"},
		{"佳怡", "jiayi", "female"}, {"慧", "hui", "female"}, {"晓燕", "xiaoyan", "female"}, {"丹", "dan", "female"},
		{"思雨", "siyu", "female"}, {"玉兰", "yulan", "female"},
	}
	firstNames = []struct{ name, gender string }{
		{"Emma", "female"}, {"Sophie", "female"}, {"Hannah", "female"}, {"Marie", "female"}, {"Chloe", "female"},
		{"Anna", "female"}, {"Clara", "female"}, {"Grace", "female"}, {"Lena", "female"}, {"Olivia", "female"},
		{"Oliver", "male"}, {"James", "male"}, {"Lukas", "male"}, {"Thomas", "male"}, {"Daniel", "male"},
		{"Noah", "male"}, {"Ben", "male"}, {"Felix", "male"}, {"Leo", "male"}, {"Jack", "male"},
	}
	lastNames = []string{
		"Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright", "Becker", "Schmidt",
		"Fischer", "Weber", "Wagner", "Martin", "Bernard", "Dubois", "de Vries", "Jansen", "Murphy", "Rossi",
	}
	chineseCities = []string{
		"北京", "北京", "上海", "上海", "上海", "广州", "广州", "深圳", "深圳", "杭州", "杭州", "成都", "成都",
		"武汉", "南京", "西安", "重庆", "苏州", "天津", "长沙", "厦门", "青岛", "郑州",
	}
	foreignCities = []string{
		"London", "London", "Berlin", "Berlin", "Paris", "Paris", "Amsterdam", "Munich", "Madrid",
		"Dublin", "Vienna", "Milan", "Stockholm",
	}
	// mobilePrefixes are the first three digits of Chinese mobile numbers.
	mobilePrefixes = []string{
		"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
		"156", "157", "158", "159", "166", "173", "176", "177", "180", "181", "182", "183", "186", "187",
		"188", "189", "198", "199",
	}
)

// Showcase are the first two customers, whose names and contact details
// depend neither on the seed nor on the date, so that the README and
// `candor serve -demo` can name them: sign in to the privacy portal with
// the first one's e-mail address or the second one's phone number. The
// first accepted everything and the sharing with the advertising partner;
// the second chose purpose by purpose, declined some and later withdrew
// one.
var Showcase = []Customer{
	{UserID: "demo-000001", Email: "wang.fang@example.cn", Phone: "+86 138 0000 0001", Name: "王芳", City: "杭州", Gender: "female",
		AcceptAll: true, Choices: map[string]bool{"sharing.ads": true}, Channel: "banner"},
	{UserID: "demo-000002", Email: "oliver.smith@example.com", Phone: "+86 139 0000 0002", Name: "Oliver Smith", City: "上海", Gender: "male",
		Choices: map[string]bool{"personalization": true, "marketing.email": false, "marketing.sms": true, "analytics": true,
			"sharing.ads": false, "delivery.international": false, "allergy.alerts": false},
		Withdrawn: []string{"marketing.sms"}, Channel: "app"},
}

// showcaseAges are the showcase customers' ages: adults.
var showcaseAges = []int{34, 41}

// generator holds the random source and what has been handed out, so that
// no two customers share an e-mail address or phone number.
type generator struct {
	r      *rand.Rand
	now    time.Time
	emails map[string]bool
	phones map[string]bool
}

// Customers returns n synthetic customers, the same for the same seed and
// time now (birth dates are relative to now).
func Customers(seed int64, n int, now time.Time) []Customer {
	if n <= 0 {
		return []Customer{}
	}
	g := &generator{
		r:      rand.New(rand.NewPCG(uint64(seed), 0x64656d6f73686f70)),
		now:    now.UTC(),
		emails: make(map[string]bool, n),
		phones: make(map[string]bool, n),
	}
	for _, c := range Showcase {
		g.emails[c.Email] = true
		g.phones[strings.NewReplacer("+86", "", " ", "").Replace(c.Phone)] = true
	}
	out := make([]Customer, n)
	for i := range out {
		out[i] = g.customer(i)
		if i < len(Showcase) {
			// Drawn all the same, so that the others do not depend on
			// the showcase.
			c := Showcase[i]
			c.Choices = maps.Clone(c.Choices)
			c.Withdrawn = slices.Clone(c.Withdrawn)
			d := time.Date(g.now.Year(), g.now.Month(), g.now.Day(), 0, 0, 0, 0, time.UTC)
			c.BirthDate = d.AddDate(-showcaseAges[i], 0, -100).Format(time.DateOnly)
			out[i] = c
		}
	}
	return out
}

func (g *generator) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

func (g *generator) customer(i int) Customer {
	r := g.r
	c := Customer{UserID: fmt.Sprintf("demo-%06d", i+1)}
	age, birth := g.birth()
	c.BirthDate = birth.Format(time.DateOnly)
	yy := fmt.Sprintf("%02d", birth.Year()%100)
	abroad := false
	var emailLocal, domain string
	if g.chance(0.8) {
		sur, given := pick(r, surnames), pick(r, givenNames)
		c.Name, c.Gender = sur.hanzi+given.hanzi, given.gender
		switch r.IntN(6) {
		case 0, 1:
			emailLocal = sur.pinyin + "." + given.pinyin + yy
		case 2:
			emailLocal = given.pinyin + "." + sur.pinyin
		case 3:
			emailLocal = fmt.Sprintf("%s%s%d", sur.pinyin, given.pinyin, 100+r.IntN(900))
		case 4:
			emailLocal = sur.pinyin[:1] + given.pinyin[:1] + birth.Format("2006")
		default:
			emailLocal = sur.pinyin + "_" + given.pinyin
		}
		domain = pick(r, []string{"example.cn", "example.cn", "example.cn", "example.com", "example.net"})
		if g.chance(0.97) {
			c.City = pick(r, chineseCities)
		} else {
			c.City, abroad = pick(r, foreignCities), true
		}
		if g.chance(0.9) {
			c.Phone = g.chineseMobile()
		}
	} else {
		first, last := pick(r, firstNames), pick(r, lastNames)
		c.Name, c.Gender = first.name+" "+last, first.gender
		l, f := strings.ToLower(strings.ReplaceAll(last, " ", "")), strings.ToLower(first.name)
		switch r.IntN(4) {
		case 0, 1:
			emailLocal = f + "." + l
		case 2:
			emailLocal = f + l + yy
		default:
			emailLocal = f[:1] + "." + l
		}
		domain = pick(r, []string{"example.com", "example.com", "example.com", "example.org"})
		if g.chance(0.85) {
			c.City, abroad = pick(r, foreignCities), true
		} else {
			c.City = pick(r, []string{"上海", "北京", "深圳"})
		}
		switch {
		case !g.chance(0.7):
		case abroad:
			c.Phone = g.foreignPhone()
		default:
			c.Phone = g.chineseMobile()
		}
	}
	if c.Phone == "" || g.chance(0.88) {
		c.Email = g.email(emailLocal, domain)
	}
	if c.Email == "" && c.Phone == "" {
		c.Email = g.email(emailLocal, domain)
	}
	if g.chance(0.05) {
		c.Gender = ""
	}
	g.consent(&c, age, abroad)
	return c
}

// birth returns an age and a birth date: about 3% under 14, 5% from 14 to
// 17, the rest adults, most of them between 20 and 50.
func (g *generator) birth() (int, time.Time) {
	r := g.r
	var age int
	switch u := r.Float64(); {
	case u < 0.03:
		age = 8 + r.IntN(6)
	case u < 0.08:
		age = 14 + r.IntN(4)
	case u < 0.92:
		age = 18 + r.IntN(17) + r.IntN(17)
	default:
		age = 50 + r.IntN(26)
	}
	d := time.Date(g.now.Year(), g.now.Month(), g.now.Day(), 0, 0, 0, 0, time.UTC)
	// Born between age years and age years plus 360 days ago: exactly age
	// years old now.
	return age, d.AddDate(-age, 0, -r.IntN(361))
}

func (g *generator) chineseMobile() string {
	for {
		prefix := pick(g.r, mobilePrefixes)
		rest := fmt.Sprintf("%08d", g.r.IntN(100_000_000))
		digits := prefix + rest
		if g.phones[digits] {
			continue
		}
		g.phones[digits] = true
		switch u := g.r.Float64(); {
		case u < 0.4:
			return "+86" + digits
		case u < 0.75:
			return digits
		case u < 0.95:
			return prefix + " " + rest[:4] + " " + rest[4:]
		default:
			return "+86 " + prefix + "-" + rest[:4] + "-" + rest[4:]
		}
	}
}

// foreignPhone returns a UK number from the range kept for drama, or a US
// 555-01xx number; empty when those ran out.
func (g *generator) foreignPhone() string {
	for range 20 {
		var digits, shown string
		if g.chance(0.7) {
			n := fmt.Sprintf("%03d", g.r.IntN(1000))
			digits, shown = "447700900"+n, "+44 7700 900"+n
		} else {
			area := pick(g.r, []string{"202", "212", "312", "415", "617"})
			n := fmt.Sprintf("%02d", g.r.IntN(100))
			digits, shown = "1"+area+"55501"+n, "+1 "+area+" 555 01"+n
		}
		if !g.phones[digits] {
			g.phones[digits] = true
			return shown
		}
	}
	return ""
}

func (g *generator) email(local, domain string) string {
	addr := local + "@" + domain
	for try := 0; g.emails[addr]; try++ {
		if try < 5 {
			addr = fmt.Sprintf("%s%d@%s", local, 2+g.r.IntN(98), domain)
		} else {
			addr = fmt.Sprintf("%s.%d@%s", local, len(g.emails), domain)
		}
	}
	g.emails[addr] = true
	return addr
}

// consent fills in the customer's choices: about 35% accept all, 25% reject
// all and the rest choose purpose by purpose; about 8% send a GPC signal;
// about 10% later withdraw one purpose they granted; children have a
// guardian's consent more often than not.
func (g *generator) consent(c *Customer, age int, abroad bool) {
	r := g.r
	c.Channel = pick(r, []string{"banner", "banner", "banner", "banner", "banner", "app", "app", "checkout", "checkout", "portal"})
	c.GPC = g.chance(0.08)
	if c.GPC {
		c.Channel = "banner" // the signal comes from a browser
	}
	switch u := r.Float64(); {
	case u < 0.35:
		c.AcceptAll = true
		extra := map[string]bool{}
		if g.chance(0.25) {
			extra["sharing.ads"] = true
		}
		if abroad && g.chance(0.8) || !abroad && g.chance(0.03) {
			extra["delivery.international"] = true
		}
		if g.chance(0.06) {
			extra["allergy.alerts"] = true
		}
		if len(extra) > 0 {
			c.Choices = extra
		}
	case u < 0.60:
		// Reject all: no choices.
	default:
		c.Choices = map[string]bool{}
		for _, p := range consentPurposes {
			grant := p.grant
			if p.id == "delivery.international" && abroad {
				grant = 0.85
			}
			c.Choices[p.id] = g.chance(grant)
		}
	}
	if age < ageOfConsent {
		c.Guardian = g.chance(0.6)
	}
	var granted []string
	for _, p := range consentPurposes {
		if c.GPC && p.id == "sharing.ads" {
			continue // GPC denied it: never granted
		}
		if c.Choices[p.id] || c.AcceptAll && !p.separate {
			granted = append(granted, p.id)
		}
	}
	if len(granted) > 0 && g.chance(0.135) {
		c.Withdrawn = []string{pick(r, granted)}
	}
}
