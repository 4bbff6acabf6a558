package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/internal/testenv"
)

var listUnsubscribe = regexp.MustCompile(`(?m)^List-Unsubscribe: <https://candor\.shop\.example(/v1/unsubscribe/[^>]+)>`)

// TestCampaignAPI: through the real server, on both stores, with a real
// SMTP server: a template naming an undeclared trait is refused (422,
// naming it) and nothing is stored or sent; a campaign sends one message
// to each consenting person in the background; the RFC 8058 one-click
// unsubscribe (POST, form body, no cookie, no key) answers 200 without a
// redirect and withdraws, while a GET of the link changes nothing; the
// next campaign leaves out only the person who clicked.
func TestCampaignAPI(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testCampaignAPI(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		url, schema := testenv.Postgres(t)
		testCampaignAPI(t, func(c *Config) { c.DB, c.Store.DBSchema = url, schema })
	})
}

func testCampaignAPI(t *testing.T, opt serverOpt) {
	s, mail := startMailingServer(t, opt)
	v := s.noticeVersion()
	var ids []string
	for i, addr := range []string{"one@example.com", "two@example.com", "three@example.com"} {
		id := s.newSubject(map[string]any{"user_id": "c-" + addr, "email": addr, "traits": map[string]any{"name": "N" + string(rune('1'+i))}})
		s.consent(map[string]any{"subject_id": id, "notice_version": v, "scope": "all"})
		ids = append(ids, id)
	}
	no := s.newSubject(map[string]any{"user_id": "c-no", "email": "no@example.com"})
	s.consent(map[string]any{"subject_id": no, "notice_version": v, "choices": map[string]bool{"marketing.email": false}})
	marketer := s.json("POST", "/v1/apikeys", s.admin, map[string]any{"name": "m", "role": "marketer"}, 201)["key"].(string)
	analyst := s.json("POST", "/v1/apikeys", s.admin, map[string]any{"name": "a", "role": "analyst"}, 201)["key"].(string)

	body := func(subject string) map[string]any {
		return map[string]any{"name": "Spring", "channel": "email", "purpose": "marketing.email",
			"subject": map[string]string{"en": subject, "zh-CN": "春季促销"}, "body": map[string]string{"en": "Dear {{name}}", "zh-CN": "亲爱的{{name}}"}}
	}
	code, out, _ := s.do("POST", "/v1/campaigns", marketer, body("Hi {{nickname}}"))
	if code != 422 || !strings.Contains(string(out), "nickname") {
		t.Fatalf("undeclared trait: %d %s", code, out)
	}
	if code, _, _ := s.do("POST", "/v1/campaigns", analyst, body("Hi")); code != 403 {
		t.Errorf("analyst: %d", code)
	}
	if list := s.json("GET", "/v1/campaigns", marketer, nil, 200)["campaigns"].([]any); len(list) != 0 {
		t.Fatalf("a refused campaign was stored: %v", list)
	}
	id := s.json("POST", "/v1/campaigns", marketer, body("Spring sale"), 201)["id"].(string)
	pv := s.json("POST", "/v1/campaigns/"+id+"/preview", marketer, map[string]any{"subject_id": ids[0]}, 200)
	if to := pv["to"].(string); to == "one@example.com" || !strings.Contains(pv["body"].(string), "亲爱的N1") || pv["language"] != "zh-CN" {
		t.Errorf("preview: %v", pv)
	}
	s.json("POST", "/v1/campaigns/"+id+"/send", marketer, nil, 202)
	if _, ok := mail.Wait(3, 20*time.Second); !ok {
		t.Fatalf("%d messages", len(mail.Messages()))
	}
	var view map[string]any
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if view = s.json("GET", "/v1/campaigns/"+id, marketer, nil, 200); view["status"] == "done" {
			break
		}
	}
	if view["status"] != "done" || view["stats"].(map[string]any)["sent"].(float64) != 3 {
		t.Fatalf("campaign: %v", view)
	}
	links := map[string]string{}
	for _, m := range mail.Messages() {
		if l := listUnsubscribe.FindStringSubmatch(m.Data); l != nil {
			links[m.To[0]] = l[1]
		}
		if m.To[0] == "no@example.com" {
			t.Error("mail to the person who declined")
		}
	}
	if len(links) != 3 {
		t.Fatalf("links: %v", links)
	}
	// A GET shows a page with a button and changes nothing.
	resp, err := http.Get(s.base + links["two@example.com"])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// One click: POST, the form body, no cookie, no key; 200, no redirect.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", s.base+links["one@example.com"], strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Location") != "" || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("one-click: %d %v", resp.StatusCode, resp.Header)
	}
	if d := s.decide(ids[0], "marketing.email"); d["allow"] != false {
		t.Errorf("after one-click: %v", d)
	}
	if d := s.decide(ids[1], "marketing.email"); d["allow"] != true {
		t.Errorf("a GET withdrew: %v", d)
	}
	second := s.json("POST", "/v1/campaigns", marketer, body("Second"), 201)["id"].(string)
	s.json("POST", "/v1/campaigns/"+second+"/send", marketer, nil, 202)
	if _, ok := mail.Wait(5, 20*time.Second); !ok {
		t.Fatalf("%d messages", len(mail.Messages()))
	}
	time.Sleep(200 * time.Millisecond)
	n := 0
	for _, m := range mail.Messages() {
		if m.To[0] == "one@example.com" {
			n++
		}
	}
	if n != 1 || len(mail.Messages()) != 5 {
		t.Errorf("after one-click: %d to the person, %d in all", n, len(mail.Messages()))
	}
	if list := s.json("GET", "/v1/campaigns?limit=1", marketer, nil, 200); list["next_cursor"] == nil || len(list["campaigns"].([]any)) != 1 {
		t.Errorf("paged list: %v", list)
	}
}

// TestCampaignToSegment: a campaign that names a segment sends, through
// the real server on both stores, one message to each person the
// segment's rule picks whose decision allows the purpose, and to no one
// else (not someone outside the rule, not someone in it who declined); a
// segment of another purpose is refused.
func TestCampaignToSegment(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testCampaignToSegment(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		url, schema := testenv.Postgres(t)
		testCampaignToSegment(t, func(c *Config) { c.DB, c.Store.DBSchema = url, schema })
	})
}

func testCampaignToSegment(t *testing.T, opt serverOpt) {
	s, mail := startMailingServer(t, opt)
	v := s.noticeVersion()
	for _, p := range []struct {
		name, email string
		consents    bool
	}{
		{"VIP Ann", "ann@example.com", true},
		{"VIP Bo", "bo@example.com", true},
		{"Cy", "cy@example.com", true},
		{"VIP Dee", "dee@example.com", false},
	} {
		id := s.newSubject(map[string]any{"user_id": "seg-" + p.email, "email": p.email, "traits": map[string]any{"name": p.name}})
		if p.consents {
			s.consent(map[string]any{"subject_id": id, "notice_version": v, "scope": "all"})
		} else {
			s.consent(map[string]any{"subject_id": id, "notice_version": v, "choices": map[string]bool{"marketing.email": false}})
		}
	}
	seg := s.json("POST", "/v1/segments", s.admin, map[string]any{"name": "VIPs", "purpose": "marketing.email",
		"rule": map[string]any{"trait": "name", "op": "prefix", "value": "VIP"}}, 201)["id"].(string)
	other := s.json("POST", "/v1/segments", s.admin, map[string]any{"name": "Shoppers", "purpose": "personalization",
		"rule": map[string]any{"consent": "personalization"}}, 201)["id"].(string)
	campaign := func(segment string) map[string]any {
		return map[string]any{"name": "VIP week", "channel": "email", "purpose": "marketing.email", "segment": segment,
			"subject": map[string]string{"en": "For you", "zh-CN": "为您"}, "body": map[string]string{"en": "Dear {{name}}", "zh-CN": "亲爱的{{name}}"}}
	}
	if code, out, _ := s.do("POST", "/v1/campaigns", s.admin, campaign(other)); code != 422 || !strings.Contains(string(out), "segment") {
		t.Errorf("a segment of another purpose: %d %s", code, out)
	}
	id := s.json("POST", "/v1/campaigns", s.admin, campaign(seg), 201)["id"].(string)
	s.json("POST", "/v1/campaigns/"+id+"/send", s.admin, nil, 202)
	var view map[string]any
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if view = s.json("GET", "/v1/campaigns/"+id, s.admin, nil, 200); view["status"] == "done" {
			break
		}
	}
	if view["status"] != "done" || view["stats"].(map[string]any)["sent"].(float64) != 2 {
		t.Fatalf("campaign: %v", view)
	}
	time.Sleep(200 * time.Millisecond)
	got := map[string]int{}
	for _, m := range mail.Messages() {
		got[m.To[0]]++
	}
	if len(got) != 2 || got["ann@example.com"] != 1 || got["bo@example.com"] != 1 {
		t.Errorf("messages per recipient: %v, want one each to ann and bo", got)
	}
}

// startMailingServer starts a server (opt, when not nil, sets the store)
// whose campaigns go to a real SMTP server on loopback, with links to
// https://candor.shop.example.
func startMailingServer(t *testing.T, opt serverOpt) (*testServer, *testenv.MailServer) {
	mail := testenv.NewMailServer(t)
	opts := []serverOpt{func(c *Config) {
		c.SMTPURL, c.SMTPFrom, c.PublicURL = mail.URL, "news@shop.example", "https://candor.shop.example"
	}}
	if opt != nil {
		opts = append(opts, opt)
	}
	return startServer(t, t.TempDir(), "", opts...), mail
}
