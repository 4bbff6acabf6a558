package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/internal/testenv"
)

// TestPagesInThePersonsLanguage: a person signs in to the portal of a
// running Candor and an admin to its console, and every page they reach
// (the person's data with its decisions, identifiers, sources, consent
// history and events; the console's overview with its minimization
// findings, requests, look-up, audit log, policy and staff; the access
// report as a page of its own) reads in the
// language asked for: no Candor code, no English reason of the gate, no
// raw anonymous id, and in Chinese no English word at all but names.
func TestPagesInThePersonsLanguage(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testPagesInThePersonsLanguage(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		url, schema := testenv.Postgres(t)
		testPagesInThePersonsLanguage(t, func(c *Config) { c.DB, c.Store.DBSchema = url, schema })
	})
}

func testPagesInThePersonsLanguage(t *testing.T, opt serverOpt) {
	ms := testenv.NewMailServer(t)
	opts := []serverOpt{func(c *Config) { c.SMTPURL, c.SMTPFrom = ms.URL, "privacy@shop.example" }}
	if opt != nil {
		opts = append(opts, opt)
	}
	s := startServer(t, t.TempDir(), "", opts...)
	const device = "anon-5c1d2e3f4a5b"
	id := s.newSubject(map[string]any{"user_id": "u-2207", "email": "li.na@example.com",
		"traits": map[string]any{"city": "Hangzhou", "gender": "female", "name": "李娜"}})
	if code, out, _ := s.post("/v1/identify", s.write, []byte(`{"userId":"u-2207","anonymousId":"`+device+`"}`)); code != 200 {
		t.Fatalf("identify: %d %s", code, out)
	}
	v := s.noticeVersion()
	s.consent(map[string]any{"subject_id": id, "notice_version": v, "channel": "banner",
		"choices": map[string]bool{"marketing.sms": false, "marketing.email": true, "analytics": true, "personalization": true}})
	now := time.Now().UTC().Format(time.RFC3339)
	batch := `{"batch":[` +
		`{"type":"track","event":"Product Viewed","userId":"u-2207","timestamp":"` + now + `","properties":{"product_id":"p-tea-longjing","price":128}},` +
		`{"type":"track","event":"Products Searched","userId":"u-2207","timestamp":"` + now + `","properties":{"query":"tea for li.na@example.com","color":"red"}},` +
		`{"type":"page","name":"Home","anonymousId":"` + device + `","timestamp":"` + now + `","properties":{"path":"/"}}]}`
	if code, out, _ := s.post("/v1/batch", s.write, []byte(batch)); code != 200 {
		t.Fatalf("batch: %d %s", code, out)
	}
	// A correction refused by Candor itself: its reason is worded too.
	if code, out, _ := s.do("POST", "/v1/rights", s.admin, map[string]any{"type": "rectify", "subject_id": id, "verified": true, "traits": map[string]any{"birth_date": "not a date"}}); code != 422 {
		t.Fatalf("a correction with a bad date: %d %s", code, out)
	}

	allowed := map[string]bool{"Hangzhou": true, "u-2207": true, "Test": true, "admin": true, "ACME": true, "Global": true, "Parcel": true, "Pte": true, "Ltd": true,
		"Shunda": true, "Express": true, "Advertising": true, "TD": true}
	check := func(name, lang, page string) {
		t.Helper()
		testenv.CheckPage(t, name+" ("+lang+")", page, testenv.PageCheck{Chinese: lang == "zh-CN", Allowed: allowed})
	}

	// The person, signed in with a code sent to their address.
	p := &staffClient{t: t, s: s, cookies: map[string]*http.Cookie{}}
	_, page, _ := p.do("GET", "/privacy?lang=zh-CN", nil)
	check("sign-in", "zh-CN", page)
	if code, _, _ := p.do("POST", "/privacy/start", url.Values{"csrf": {p.csrf(page)}, "identifier": {"li.na@example.com"}}); code != http.StatusSeeOther {
		t.Fatalf("asking for a code: %d", code)
	}
	m, ok := ms.Wait(1, 10*time.Second)
	if !ok {
		t.Fatal("no code came")
	}
	_, page, _ = p.do("GET", "/privacy/code", nil)
	check("code", "zh-CN", page)
	if code, _, h := p.do("POST", "/privacy/code", url.Values{"csrf": {p.csrf(page)}, "code": {m.Code()}}); code != http.StatusSeeOther {
		t.Fatalf("the code: %d %s", code, h.Get("Location"))
	}
	for _, lang := range []string{"zh-CN", "en"} {
		code, page, _ := p.do("GET", "/privacy/home?lang="+lang, nil)
		if code != 200 || !strings.Contains(page, "Hangzhou") {
			t.Fatalf("home (%s): %d %.300s", lang, code, page)
		}
		check("home", lang, page)
		testenv.CheckPage(t, "home ("+lang+")", page, testenv.PageCheck{Never: []string{device}})
		want := map[string][]string{
			"zh-CN": {"您使用过的浏览器和设备", "女", "拒绝", "同意横幅", "浏览商品", "不依赖您的同意", "本店系统", "已拒绝 — 该信息的填写内容无效"},
			"en":    {"Browsers and devices you used", "female", "declined", "the consent banner", "Product viewed", "It does not depend on your consent", "our shop's systems"},
		}[lang]
		seen := testenv.Visible(page)
		for _, w := range want {
			if !strings.Contains(seen, w) {
				t.Errorf("home (%s) does not say %q", lang, w)
			}
		}
	}

	// The access report as a page of its own, in the same words.
	rid := s.json("POST", "/v1/rights", s.admin, map[string]any{"type": "access", "subject_id": id, "verified": true}, 202)["id"].(string)
	for _, lang := range []string{"zh-CN", "en"} {
		code, page, _ := s.do("GET", "/v1/rights/"+rid+"/report?format=html&lang="+lang, s.admin, nil)
		if code != 200 {
			t.Fatalf("report page (%s): %d", lang, code)
		}
		check("report", lang, string(page))
		testenv.CheckPage(t, "report ("+lang+")", string(page), testenv.PageCheck{Never: []string{device}})
		if w := map[string]string{"zh-CN": "您于", "en": "You declined it on"}[lang]; !strings.Contains(testenv.Visible(string(page)), w) {
			t.Errorf("the report page (%s) does not word the decisions: %s", lang, testenv.Visible(string(page)))
		}
	}

	// An admin in the console.
	addStaffOn(t, s, opt, "admin@shop.example", "admin", "a long admin password")
	c := staffSignIn(t, s, "admin@shop.example", "a long admin password")
	for _, lang := range []string{"zh-CN", "en"} {
		for _, path := range []string{"/console", "/console/requests", "/console/subject", "/console/audit", "/console/policy", "/console/staff"} {
			code, page, _ := c.do("GET", path+"?lang="+lang, nil)
			if code != 200 {
				t.Fatalf("%s (%s): %d", path, lang, code)
			}
			check(path, lang, page)
			if path == "/console" && lang == "zh-CN" {
				// The collector writes its minimization counts every 5 s.
				for deadline := time.Now().Add(10 * time.Second); !strings.Contains(testenv.Visible(page), "已遮盖") && time.Now().Before(deadline); {
					time.Sleep(250 * time.Millisecond)
					_, page, _ = c.do("GET", path+"?lang="+lang, nil)
				}
				seen := testenv.Visible(page)
				if !strings.Contains(seen, "已遮盖") || !strings.Contains(seen, "政策中未声明") {
					t.Errorf("the overview's findings are not in Chinese: %s", seen)
				}
				check(path, lang, page)
			}
		}
		// The other language's link keeps the page's filter.
		_, audited, _ := c.do("GET", "/console/audit?action=read&lang="+lang, nil)
		if !strings.Contains(audited, `href="/console/audit?action=read&amp;lang=zh-CN"`) || !strings.Contains(audited, `href="/console/audit?action=read&amp;lang=en"`) {
			t.Errorf("the language links of a filtered audit page (%s) lose the filter", lang)
		}
		_, form, _ := c.do("GET", "/console/subject?lang="+lang, nil)
		code, page, _ := c.do("POST", "/console/subject", url.Values{"csrf": {c.csrf(form)}, "purpose": {"marketing.sms"}, "kind": {"user_id"}, "value": {"u-2207"}})
		if code != http.StatusForbidden {
			t.Fatalf("a look-up the person declined: %d", code)
		}
		check("look-up refused", lang, page)
		if w := map[string]string{"zh-CN": "本人于", "en": "The person declined"}[lang]; !strings.Contains(testenv.Visible(page), w) {
			t.Errorf("the refused look-up (%s) does not say %q: %s", lang, w, testenv.Visible(page))
		}
		code, page, _ = c.do("POST", "/console/subject", url.Values{"csrf": {c.csrf(form)}, "purpose": {"personalization"}, "kind": {"user_id"}, "value": {"u-2207"}})
		if code != 200 {
			t.Fatalf("a look-up: %d", code)
		}
		check("look-up", lang, page)
	}
}
