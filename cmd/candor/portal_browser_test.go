package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/internal/testenv"
	"github.com/chromedp/chromedp"
)

// TestPortalInBrowser: a person signs in to the privacy portal in a real
// browser with the code read from the real SMTP server, sees their data,
// withdraws a consent (the next decision refuses it), downloads the export
// through a single-use link (a second use fails), and erases their data.
func TestPortalInBrowser(t *testing.T) {
	bctx := testenv.Browser(t)
	ms := testenv.NewMailServer(t)
	s := startServer(t, t.TempDir(), "", func(c *Config) { c.SMTPURL, c.SMTPFrom = ms.URL, "privacy@shop.example" })
	id := s.newSubject(map[string]any{"user_id": "portal-person", "email": "portal.person@example.com",
		"traits": map[string]any{"city": "Shaoxing", "name": "Lin Portal"}})
	s.json("POST", "/v1/consents", s.admin, map[string]any{"subject_id": id, "notice_version": s.noticeVersion(),
		"choices": map[string]bool{"personalization": true, "marketing.email": true}}, 201)

	ctx := testenv.Tab(t, bctx)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	run("sign-in page", chromedp.Navigate(s.base+"/privacy?lang=en"), chromedp.WaitVisible(chromedp.ID(`identifier`)))
	testenv.Screenshot(t, ctx, "portal-signin")

	// A wrong code first: a clear page, and the right one still works.
	run("ask for a code", chromedp.SendKeys(chromedp.ID(`identifier`), "Portal.Person@example.com"), chromedp.Submit(chromedp.ID(`identifier`)),
		chromedp.WaitVisible(chromedp.ID(`code`)))
	m, ok := ms.Wait(1, 10*time.Second)
	if !ok {
		t.Fatal("no code by mail")
	}
	run("a wrong code", chromedp.SendKeys(chromedp.ID(`code`), "000000"), chromedp.Submit(chromedp.ID(`code`)),
		chromedp.WaitVisible(chromedp.CSS(`.error`)))
	errText := text(".error")
	if !strings.Contains(errText, "wrong") {
		t.Fatalf("wrong code page says %q", errText)
	}
	run("the right code", chromedp.SendKeys(chromedp.ID(`code`), m.Code()),
		chromedp.Submit(chromedp.ID(`code`)), chromedp.WaitVisible(chromedp.ID(`consents`)))
	body := text("main")
	for _, want := range []string{"portal.person@example.com", "Shaoxing", "Lin Portal", "Personalized recommendations"} {
		if !strings.Contains(body, want) {
			t.Errorf("home lacks %q", want)
		}
	}
	testenv.Screenshot(t, ctx, "portal-home")

	// Withdraw personalization: the next decision refuses it.
	run("withdraw", chromedp.Click(chromedp.ID(`p-personalization`)), chromedp.Submit(chromedp.ID(`p-personalization`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if d := s.json("GET", "/v1/decisions?subject_id="+id+"&purpose=personalization", s.admin, nil, 200); d["allow"] != false {
		t.Fatalf("after withdrawal: %v", d)
	}
	if d := s.json("GET", "/v1/decisions?subject_id="+id+"&purpose=marketing.email", s.admin, nil, 200); d["allow"] != true {
		t.Fatalf("an untouched consent changed: %v", d)
	}

	// The export: a single-use link, fetched in the page (with its cookies).
	run("prepare the export", chromedp.Click(chromedp.CSS(`form[action="/privacy/export"] button`)),
		chromedp.WaitVisible(chromedp.ID(`download`)))
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID(`download`), "href"))
	if err != nil {
		t.Fatal(err)
	}
	link := href.Value
	if !strings.HasPrefix(link, "/privacy/download?t=") || strings.Contains(link, id) {
		t.Fatalf("download link %q", link)
	}
	type fetched struct {
		Status int    `json:"status"`
		Type   string `json:"type"`
		Size   int    `json:"size"`
	}
	fetch := func() (status int, typ string, size int) {
		out, err := chromedp.Run(ctx, chromedp.Evaluate[fetched](`fetch(`+"`"+link+"`"+`).then(async r => ({status: r.status, type: r.headers.get("content-type"), size: (await r.arrayBuffer()).byteLength}))`,
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		return out.Status, out.Type, out.Size
	}
	if st, typ, n := fetch(); st != 200 || typ != "application/zip" || n < 200 {
		t.Fatalf("export download: %d %s %d bytes", st, typ, n)
	}
	if st, _, _ := fetch(); st != 404 {
		t.Fatalf("a second use of the link: %d", st)
	}
	// Without the session the link is worthless too (another visitor).
	other := testenv.Tab(t, bctx)
	if err := chromedp.Do(other, chromedp.Navigate(s.base+link)); err != nil {
		t.Fatal(err)
	}
	otherURL, err := chromedp.Run(other, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(otherURL, "/privacy?expired=1") {
		t.Fatalf("the link without the session led to %s", otherURL)
	}

	// The e-mail (how the person signs in) and the ID number cannot be
	// changed from the portal, even by a hand-made form.
	for _, field := range []string{"email", "national_id"} {
		st, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/privacy/request", {method: "POST", body: new URLSearchParams({csrf: document.querySelector("input[name=csrf]").value, type: "rectify", field: "`+field+`", value: "attacker@evil.example"})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
		if err != nil || st != 422 {
			t.Fatalf("rectifying %s from the portal: %d %v", field, st, err)
		}
	}
	if got := s.json("GET", "/v1/subjects/"+id+"?purpose=service", s.admin, nil, 200)["fields"].(map[string]any)["email"]; got != "portal.person@example.com" {
		t.Fatalf("the e-mail after a refused rectification: %v", got)
	}

	// A new e-mail replaces the old one only with the code sent to it.
	run("ask to change the e-mail", chromedp.SendKeys(chromedp.ID(`c-value`), "portal.new@example.com"), chromedp.Submit(chromedp.ID(`c-value`)),
		chromedp.WaitVisible(chromedp.ID(`change-code`)))
	mNew, ok := ms.Wait(2, 10*time.Second)
	if !ok || len(mNew.To) != 1 || mNew.To[0] != "portal.new@example.com" {
		t.Fatalf("the code for the new address: %v %+v", ok, mNew)
	}
	run("a wrong code for it", chromedp.SendKeys(chromedp.ID(`change-code`), "000000"), chromedp.Submit(chromedp.ID(`change-code`)),
		chromedp.WaitVisible(chromedp.CSS(`.error`)))
	if got := s.json("GET", "/v1/subjects/"+id+"?purpose=service", s.admin, nil, 200)["fields"].(map[string]any)["email"]; got != "portal.person@example.com" {
		t.Fatalf("the e-mail changed without its code: %v", got)
	}
	run("the code for it", chromedp.SendKeys(chromedp.ID(`change-code`), mNew.Code()), chromedp.Submit(chromedp.ID(`change-code`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if got := s.json("GET", "/v1/subjects/"+id+"?purpose=service", s.admin, nil, 200)["fields"].(map[string]any)["email"]; got != "portal.new@example.com" {
		t.Fatalf("the e-mail after its change: %v", got)
	}

	// Erase: the person is signed out and their data is gone.
	testenv.Screenshot(t, ctx, "portal-requests")
	run("erase", chromedp.Click(chromedp.ID(`e-confirm`)), chromedp.Submit(chromedp.ID(`e-confirm`)),
		chromedp.WaitVisible(chromedp.ID(`identifier`)))
	body = text("main")
	if !strings.Contains(body, "erased") {
		t.Fatalf("after erasure the page says %q", body)
	}
	if code, _, _ := s.do("GET", "/v1/subjects/"+id+"?purpose=service", s.admin, nil); code != 410 && code != 404 {
		t.Fatalf("the erased subject answers %d", code)
	}
	if strings.Contains(s.log.String(), "portal.person@example.com") {
		t.Fatal("the log holds the person's e-mail")
	}
}

// TestPortalBadInput: forged CSRF tokens, a missing session and wrong
// codes get clear pages with the right status, never a stack trace.
func TestPortalBadInput(t *testing.T) {
	s := startServer(t, t.TempDir(), "")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// Go's cookie jar does not send Secure cookies over http; the test
	// carries them itself.
	var cookies []*http.Cookie
	do := func(method, path string, form url.Values) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, s.base+path, strings.NewReader(form.Encode()))
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		for _, ck := range resp.Cookies() {
			cookies = append(cookies, ck)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	code, page, h := do("GET", "/privacy", nil)
	if code != 200 || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("sign-in page: %d %v", code, h)
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "style=") {
		t.Fatal("inline script or style on the sign-in page")
	}
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	for _, ck := range cookies {
		if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie %s: Secure %v HttpOnly %v SameSite %v", ck.Name, ck.Secure, ck.HttpOnly, ck.SameSite)
		}
	}
	if code, page, _ := do("POST", "/privacy/start", url.Values{"csrf": {token + "x"}, "identifier": {"a@example.com"}}); code != 403 || !strings.Contains(page, "expired or did not come from this site") {
		t.Fatalf("forged CSRF token: %d", code)
	}
	if code, _, _ := do("POST", "/privacy/start", url.Values{"identifier": {"a@example.com"}}); code != 403 {
		t.Fatalf("no CSRF token: %d", code)
	}
	if code, page, _ := do("POST", "/privacy/start", url.Values{"csrf": {token}, "identifier": {strings.Repeat("a", 20000) + "@example.com"}}); code != 413 || strings.Contains(page, "goroutine") {
		t.Fatalf("an oversized form: %d", code)
	}
	if code, _, h := do("POST", "/privacy/start", url.Values{"csrf": {token}, "identifier": {"a@example.com"}}); code != 303 || h.Get("Location") != "/privacy/code" {
		t.Fatalf("asking for a code: %d %s", code, h.Get("Location"))
	}
	for i := 0; i < 6; i++ {
		code, page, _ = do("POST", "/privacy/code", url.Values{"csrf": {token}, "code": {"123456"}})
		if code != 422 && code != 429 {
			t.Fatalf("a wrong code: %d", code)
		}
		if strings.Contains(page, "goroutine") || strings.Contains(page, ".go:") {
			t.Fatal("a stack trace on the page")
		}
	}
	if code, _, h := do("GET", "/privacy/home", nil); code != 303 || !strings.Contains(h.Get("Location"), "expired") {
		t.Fatalf("home without a session: %d %s", code, h.Get("Location"))
	}
	if code, _, h := do("POST", "/privacy/request", url.Values{"csrf": {token}, "type": {"erase"}}); code != 303 || !strings.Contains(h.Get("Location"), "expired") {
		t.Fatalf("a request without a session: %d %s", code, h.Get("Location"))
	}
}
