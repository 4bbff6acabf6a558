package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/internal/testenv"
	"github.com/chromedp/chromedp"
)

// statusOf fetches path in the tab (with its session) and returns the
// HTTP status.
func (c *console) statusOf(path string) int {
	c.t.Helper()
	code, err := chromedp.Run(c.ctx, chromedp.Evaluate[int](`(() => { const x = new XMLHttpRequest(); x.open("GET", `+strconv.Quote(path)+`, false); x.send(); return x.status; })()`))
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	return code
}

// TestCampaignsInBrowser: a marketer signs in to the console, sees the
// segments page, creates an e-mail campaign to a segment (a template
// naming an undeclared trait is refused beside its field, in the page's
// language), previews it for a customer picked from the customer list
// (their address masked, as the marketer's role sees it), sends it and
// watches the progress reach done; a real SMTP server receives exactly one
// message for each consenting person. A role without a marketing purpose
// sees no Campaigns link and is refused the pages.
func TestCampaignsInBrowser(t *testing.T) {
	bctx := testenv.Browser(t)
	mail := testenv.NewMailServer(t)
	s := startServer(t, t.TempDir(), "", func(c *Config) {
		c.SMTPURL, c.SMTPFrom, c.PublicURL = mail.URL, "news@shop.example", "https://candor.shop.example"
	})
	const marketerPass, supportPass = "marketing is fun 2026", "support is kind 2026"
	addStaff(t, s, "marketer@shop.example", "marketer", marketerPass)
	addStaff(t, s, "support@shop.example", "support", supportPass)
	v := s.noticeVersion()
	var consenting []string
	for i := range 12 {
		addr := fmt.Sprintf("buyer%02d@example.com", i)
		id := s.newSubject(map[string]any{"user_id": "b" + strconv.Itoa(i), "email": addr, "traits": map[string]any{"name": "Buyer " + strconv.Itoa(i)}})
		s.consent(map[string]any{"subject_id": id, "notice_version": v, "choices": map[string]bool{"marketing.email": true, "personalization": true}})
		consenting = append(consenting, addr)
	}
	for i := range 3 {
		id := s.newSubject(map[string]any{"user_id": "n" + strconv.Itoa(i), "email": fmt.Sprintf("declined%d@example.com", i)})
		s.consent(map[string]any{"subject_id": id, "notice_version": v, "choices": map[string]bool{"marketing.email": false}})
	}
	mkey := s.json("POST", "/v1/apikeys", s.admin, map[string]any{"name": "m", "role": "marketer"}, 201)["key"].(string)
	seg := s.json("POST", "/v1/segments", mkey, map[string]any{"name": "Offers by e-mail", "purpose": "marketing.email", "rule": map[string]any{"trait": "email", "op": "exists"}}, 201)["id"].(string)

	c := &console{t: t, ctx: testenv.Tab(t, bctx), s: s}
	c.enrol("marketer@shop.example", marketerPass)
	c.do("segments", chromedp.Navigate(s.base+"/console/segments?lang=en"), chromedp.WaitVisible(chromedp.ID("segments")),
		chromedp.Poll[chromedp.Void](`document.getElementById("s-count").textContent.length > 0 && !document.getElementById("s-count").textContent.includes("…")`))
	testenv.Screenshot(t, c.ctx, "console-segments")
	c.do("campaigns", chromedp.Click(chromedp.CSS(`nav a[href="/console/campaigns"]`)), chromedp.WaitVisible(chromedp.ID("campaign-form")))
	if offered, _ := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`!!document.querySelector('#c-purpose option[value="personalization"]')`)); offered {
		t.Fatal("the form offers personalization, which is not a marketing purpose")
	}

	fill := func(bodyEN string) {
		c.t.Helper()
		c.do("fill the form", chromedp.Navigate(s.base+"/console/campaigns"), chromedp.WaitVisible(chromedp.ID("campaign-form")),
			chromedp.SendKeys(chromedp.ID("c-name"), "Spring offers"), choose("c-purpose", "marketing.email"), choose("c-channel", "email"), choose("c-segment", seg),
			chromedp.SetValue(chromedp.ID("c-subject-en"), "Spring offers for {{name}}"), chromedp.SetValue(chromedp.ID("c-subject-zh"), "{{name}}，春季优惠"),
			chromedp.SetValue(chromedp.ID("c-body-en"), bodyEN), chromedp.SetValue(chromedp.ID("c-body-zh"), "亲爱的{{name}}，春茶上市。"),
			chromedp.Submit(chromedp.ID("c-name")))
	}
	// A template naming an undeclared trait: refused beside its field,
	// and nothing is stored.
	fill("Dear {{nickname}}, the spring teas are in.")
	c.do("refusal", chromedp.WaitVisible(chromedp.ID("e-body-en")))
	if e := c.text("#e-body-en"); !strings.Contains(e, "does not declare") || !strings.Contains(e, "{{nickname}}") {
		t.Fatalf("the refusal beside the body: %q", e)
	}
	if n := len(s.json("GET", "/v1/campaigns", mkey, nil, 200)["campaigns"].([]any)); n != 0 {
		t.Fatalf("a refused campaign was stored: %d", n)
	}
	fill("Dear {{name}}, the spring teas are in.")
	c.do("created", chromedp.WaitVisible(chromedp.ID("preview-form")))
	if n := c.text(".notice"); !strings.Contains(n, "draft") {
		t.Fatalf("after creating: %q", n)
	}

	// The preview, for a customer picked from the customer list.
	c.do("pick a customer", chromedp.Click(chromedp.CSS(`a[href*="/console/customers?purpose=marketing.email"]`)), chromedp.WaitVisible(chromedp.CSS("button.preview-pick")),
		chromedp.Click(chromedp.CSS("button.preview-pick")), chromedp.WaitVisible(chromedp.ID("preview")))
	to, body := c.text("#preview-to"), c.text("#preview-body")
	if slices.Contains(consenting, to) || !strings.Contains(to, "@") || !strings.Contains(to, "*") {
		t.Fatalf("the preview's address is not masked: %q", to)
	}
	if !strings.Contains(body, "Buyer") || !strings.Contains(body, "/v1/unsubscribe/") {
		t.Fatalf("the preview's body: %q", body)
	}
	if page := c.text("main"); strings.Contains(page, "@example.com") && !strings.Contains(page, to) {
		t.Fatal("the campaign page shows an address")
	}

	// Send, and watch the progress reach done.
	c.do("send", chromedp.Click(chromedp.ID("send")), chromedp.WaitVisible(chromedp.ID("stop")))
	// The page polls its progress, then reloads once done (so the wait
	// is here, across the reload).
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if done, _ := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`!!document.querySelector("#c-status.status-done") && !document.querySelector("#progress[data-poll]")`)); done {
			break
		}
		if time.Now().After(deadline) {
			html, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("the campaign is not done:\n%s\n%s", html, s.log.String())
		}
	}
	if sent := c.text("#c-sent"); sent != "12" {
		t.Fatalf("sent: %s\n%s", sent, s.log.String())
	}
	got := map[string]int{}
	for _, m := range mail.Messages() {
		for _, rcpt := range m.To {
			got[rcpt]++
		}
	}
	for _, addr := range consenting {
		if got[addr] != 1 {
			t.Errorf("%s got %d messages", addr, got[addr])
		}
	}
	if len(got) != len(consenting) {
		t.Errorf("messages went to %d addresses, want %d: %v", len(got), len(consenting), got)
	}
	testenv.Screenshot(t, c.ctx, "console-campaign")
	c.do("list", chromedp.Navigate(s.base+"/console/campaigns"), chromedp.WaitVisible(chromedp.ID("campaigns")))
	if row := c.text("#campaigns tbody"); !strings.Contains(row, "Spring offers") || !strings.Contains(row, "Done") || !strings.Contains(row, "Offers by e-mail") {
		t.Fatalf("the list: %q", row)
	}
	testenv.Screenshot(t, c.ctx, "console-campaigns")
	if strings.Contains(s.log.String(), "buyer00@example.com") {
		t.Fatal("the log holds an address")
	}

	// A role without a marketing purpose: no link, and the pages refused.
	href, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.querySelector("#campaigns tbody a").getAttribute("href")`))
	sup := &console{t: t, ctx: testenv.Tab(t, bctx), s: s}
	sup.enrol("support@shop.example", supportPass)
	sup.do("overview", chromedp.Navigate(s.base+"/console?lang=en"), chromedp.WaitVisible(chromedp.CSS(".stats")))
	if has, _ := chromedp.Run(sup.ctx, chromedp.Evaluate[bool](`!!document.querySelector('a[href^="/console/campaigns"]')`)); has {
		t.Fatal("support sees a Campaigns link")
	}
	for _, path := range []string{"/console/campaigns", href, href + "/progress"} {
		if code := sup.statusOf(path); code != 403 && code != 404 {
			t.Errorf("support GET %s: %d", path, code)
		}
	}
	sup.do("refused page", chromedp.Navigate(s.base+"/console/campaigns"), chromedp.WaitVisible(chromedp.CSS(".error")))
	if e := sup.text(".error"); !strings.Contains(e, "may not open") {
		t.Fatalf("support on the campaigns page: %q", e)
	}
}
