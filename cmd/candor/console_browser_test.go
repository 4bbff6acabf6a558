package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/internal/testenv"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// console drives the staff console in one browser tab.
type console struct {
	t   *testing.T
	ctx context.Context
	s   *testServer
}

func (c *console) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	for i, a := range actions {
		ctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
		err := chromedp.Do(ctx, a)
		cancel()
		if err != nil {
			html, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			c.t.Fatalf("%s (step %d): %v\npage:\n%s\nlog:\n%s", what, i+1, err, html, c.s.log.String())
		}
	}
}

// choose selects an option of a <select> by its value.
func choose(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById(` + "`" + id + "`" + `); s.value = ` + "`" + value + "`" + `; s.dispatchEvent(new Event("change")); })()`)
}

func (c *console) text(sel string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

// signIn enters the e-mail and password and waits for the page of the
// second factor (#code).
func (c *console) signIn(email, password string) {
	c.t.Helper()
	c.do("sign-in form", chromedp.Navigate(c.s.base+"/console?lang=en"), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("code")))
}

// code submits a TOTP code and waits for sel.
func (c *console) code(code, sel string) {
	c.t.Helper()
	c.do("code", chromedp.SendKeys(chromedp.ID("code"), code), chromedp.Submit(chromedp.ID("code")), chromedp.WaitVisible(chromedp.CSS(sel+", .error")))
	if sel != ".error" {
		if e, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`(document.querySelector(".error")||{}).textContent||""`)); e != "" {
			c.t.Fatalf("after the code: %s\n%s", e, c.s.log.String())
		}
	}
}

// enrol signs in for the first time and sets up the second factor; it
// returns the TOTP secret and the recovery codes.
func (c *console) enrol(email, password string) (string, []string) {
	c.t.Helper()
	c.signIn(email, password)
	src, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`(() => { const i = document.querySelector("img.qr"); return i && i.complete && i.naturalWidth > 0 ? i.getAttribute("src").slice(0, 22) : ""; })()`))
	if err != nil || src != "data:image/png;base64," {
		c.t.Fatalf("the QR code is not shown: %q %v", src, err)
	}
	secret := c.text("#totp-secret")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		c.t.Fatal(err)
	}
	c.code(code, "#recovery-codes")
	return secret, strings.Fields(c.text("#recovery-codes"))
}

func (c *console) signOut() {
	c.t.Helper()
	c.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/console/signout"] button`)), chromedp.WaitVisible(chromedp.ID("email")))
}

// addStaff runs `candor staff add` on the server's data directory.
func addStaff(t *testing.T, s *testServer, email, role, password string) {
	t.Helper()
	t.Setenv("CANDOR_STAFF_PASSWORD", password)
	var out, errb bytes.Buffer
	if err := staffCmd(context.Background(), []string{"add", "-email", email, "-name", "Test " + role, "-role", role,
		"-data", filepath.Join(s.dir, "data")}, &out, &errb); err != nil {
		t.Fatalf("staff add: %v\n%s", err, errb.String())
	}
}

// TestConsoleInBrowser: a staff member added on the command line signs in
// to the console with a password, enrols a TOTP second factor from the QR
// page, signs in again with a code (a replayed code is refused, a recovery
// code works once), looks a person up for a purpose (the read is in the
// audit log, which verifies), and a marketer asking for a purpose of
// another role gets a clear refusal that is audited too.
func TestConsoleInBrowser(t *testing.T) {
	bctx := testenv.Browser(t)
	// With the demo's synthetic customers, so that the overview has a
	// month of consents to chart.
	s := startServer(t, t.TempDir(), "", func(c *Config) { c.Demo, c.DemoSize = true, 300 })
	const adminPass, marketerPass = "correct horse battery staple", "marketing is fun 2026"
	addStaff(t, s, "dpo.admin@shop.example", "admin", adminPass)
	addStaff(t, s, "marketer@shop.example", "marketer", marketerPass)
	id := s.newSubject(map[string]any{"user_id": "looked-up", "email": "looked.up@example.com", "traits": map[string]any{"name": "Wang Looked", "city": "Ningbo"}})
	s.json("POST", "/v1/consents", s.admin, map[string]any{"subject_id": id, "notice_version": s.noticeVersion(),
		"choices": map[string]bool{"personalization": true, "marketing.email": true, "analytics": false}}, 201)

	c := &console{t: t, ctx: testenv.Tab(t, bctx), s: s}
	c.do("sign-in page", chromedp.Navigate(s.base+"/console?lang=en"), chromedp.WaitVisible(chromedp.ID("email")))
	testenv.Screenshot(t, c.ctx, "console-signin")

	// A wrong password: one answer, whatever is wrong.
	c.do("wrong password", chromedp.SendKeys(chromedp.ID("email"), "dpo.admin@shop.example"), chromedp.SendKeys(chromedp.ID("password"), "not the password"),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS(".error")))
	if e := c.text(".error"); !strings.Contains(e, "Wrong e-mail or password") {
		t.Fatalf("wrong password page: %q", e)
	}

	secret, recovery := c.enrol("dpo.admin@shop.example", adminPass)
	if len(recovery) != 10 {
		t.Fatalf("%d recovery codes", len(recovery))
	}
	c.do("to the overview", chromedp.Navigate(s.base+"/console"), chromedp.WaitVisible(chromedp.CSS(".stats")))
	c.signOut()

	// Sign in again with the code of the next time step (the step of the
	// enrolment's code is used).
	next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	c.signIn("dpo.admin@shop.example", adminPass)
	c.code(next, ".stats")
	body := c.text("main")
	for _, want := range []string{"People on file", "Consent rate per purpose", "Personalized recommendations", "Minimization findings"} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	testenv.Screenshot(t, c.ctx, "console-overview")
	// Signing out ends the session on the server: the cookie taken before
	// it opens nothing afterwards.
	res, err := chromedp.Call(c.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.base + "/console"}})
	if err != nil {
		t.Fatal(err)
	}
	var session *http.Cookie
	for _, ck := range res.Cookies {
		if ck.Name == "__Host-candor_staff" {
			session = &http.Cookie{Name: ck.Name, Value: ck.Value}
		}
	}
	if session == nil {
		t.Fatal("no staff session cookie")
	}
	withCookie := func() (int, string) {
		req, _ := http.NewRequest("GET", s.base+"/console/audit", nil)
		req.AddCookie(session)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	if code, _ := withCookie(); code != 200 {
		t.Fatalf("the session cookie before signing out: %d", code)
	}
	c.signOut()
	if code, loc := withCookie(); code != 303 || !strings.Contains(loc, "expired") {
		t.Fatalf("the session cookie after signing out: %d %s", code, loc)
	}

	// The same code again is refused (the replay guard); a recovery code
	// works, once.
	c.signIn("dpo.admin@shop.example", adminPass)
	c.code(next, ".error")
	if e := c.text(".error"); !strings.Contains(e, "already used") {
		t.Fatalf("a replayed code: %q", e)
	}
	c.do("recovery code", chromedp.Click(chromedp.CSS("details summary")), chromedp.SendKeys(chromedp.ID("recovery"), recovery[0]),
		chromedp.Submit(chromedp.ID("recovery")), chromedp.WaitVisible(chromedp.CSS(".stats")))

	// A look-up: purpose first, through the gate, audited.
	c.do("look-up", chromedp.Navigate(s.base+"/console/subject"), chromedp.WaitVisible(chromedp.ID("purpose")),
		choose("purpose", "service"), choose("kind", "email"),
		chromedp.SendKeys(chromedp.ID("value"), "looked.up@example.com"), chromedp.Submit(chromedp.ID("value")),
		chromedp.WaitVisible(chromedp.CSS("#h-result, .error")))
	if body := c.text("main"); !strings.Contains(body, "Wang Looked") || !strings.Contains(body, id) {
		t.Fatalf("look-up result lacks the person: %q", body)
	}
	testenv.Screenshot(t, c.ctx, "console-lookup")
	c.do("look-up of nobody", chromedp.Navigate(s.base+"/console/subject"), chromedp.WaitVisible(chromedp.ID("purpose")),
		choose("purpose", "service"), choose("kind", "email"),
		chromedp.SendKeys(chromedp.ID("value"), "nobody.here@example.com"), chromedp.Submit(chromedp.ID("value")),
		chromedp.WaitVisible(chromedp.CSS(".error")))
	c.do("audit log", chromedp.Navigate(s.base+"/console/audit"), chromedp.WaitVisible(chromedp.ID("audit-status")))
	if st := c.text("#audit-status"); !strings.Contains(st, "verify") {
		t.Fatalf("audit status: %q", st)
	}
	if body := c.text("main"); !strings.Contains(body, id) || !strings.Contains(body, "staff:stf_") || !strings.Contains(body, "not found") {
		t.Fatal("the audit log does not show the look-ups by the staff member")
	}
	testenv.Screenshot(t, c.ctx, "console-audit")
	for _, p := range []struct{ path, sel, name string }{
		{"/console/requests", "main h1", "console-requests"},
		{"/console/policy", "main h1", "console-policy"},
		{"/console/staff", "#s-email", "console-staff"},
	} {
		c.do(p.path, chromedp.Navigate(s.base+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
		testenv.Screenshot(t, c.ctx, p.name)
	}

	// A marketer is not offered a purpose their role lacks; one put into
	// the form by hand gets a clear refusal, audited as a denial.
	m := &console{t: t, ctx: testenv.Tab(t, bctx), s: s}
	m.enrol("marketer@shop.example", marketerPass)
	m.do("look-up form", chromedp.Navigate(s.base+"/console/subject"), chromedp.WaitVisible(chromedp.ID("purpose")))
	if offered, _ := chromedp.Run(m.ctx, chromedp.Evaluate[bool](`!!document.querySelector('#purpose option[value="legal"]')`)); offered {
		t.Fatal("the marketer is offered the purpose legal")
	}
	m.do("look-up", chromedp.Evaluate[chromedp.Void](`(() => { const o = document.createElement("option"); o.value = "legal"; o.textContent = "legal"; document.getElementById("purpose").append(o); })()`),
		choose("purpose", "legal"), choose("kind", "subject_id"),
		chromedp.SendKeys(chromedp.ID("value"), id), chromedp.Submit(chromedp.ID("value")), chromedp.WaitVisible(chromedp.CSS(".error")))
	if e := m.text(".error"); !strings.Contains(e, "Refused") {
		t.Fatalf("a purpose of another role: %q", e)
	}
	if body := m.text("main"); strings.Contains(body, "Wang Looked") {
		t.Fatal("the refused look-up shows the person's name")
	}
	// The marketer may not open the audit log.
	m.do("audit log", chromedp.Navigate(s.base+"/console/audit"), chromedp.WaitVisible(chromedp.CSS(".error")))
	c.do("audit log again", chromedp.Navigate(s.base+"/console/audit"), chromedp.WaitVisible(chromedp.ID("audit-status")))
	if body := c.text("main"); !strings.Contains(body, "denied") {
		t.Fatal("the refused look-up is not in the audit log")
	}
	if strings.Contains(s.log.String(), "looked.up@example.com") || strings.Contains(s.log.String(), adminPass) {
		t.Fatal("the log holds the person's e-mail or a password")
	}
}
