package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/webhook"
)

var (
	clickLink = regexp.MustCompile(`https://candor\.shop\.example(/v1/c/[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])`)
	openLink  = regexp.MustCompile(`https://candor\.shop\.example(/v1/o/[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])`)
)

// TestMeasureAPI: through the real server, on both stores, with a real
// SMTP server: a tracked link redirects (302) to the template's link and
// an altered one is 404, never a redirect elsewhere; the pixel is a GIF;
// the mail events webhook refuses a bad or missing signature (401) and,
// signed, suppresses the bounced address, which the next campaign sends
// nothing; the campaign's stats count the bounce, the open and the click.
func TestMeasureAPI(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testMeasureAPI(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		url, schema := testenv.Postgres(t)
		testMeasureAPI(t, func(c *Config) { c.DB, c.Store.DBSchema = url, schema })
	})
}

func testMeasureAPI(t *testing.T, opt serverOpt) {
	mail := testenv.NewMailServer(t)
	secret := "mail-events-secret-0123456789abcdef"
	opts := []serverOpt{func(c *Config) {
		c.SMTPURL, c.SMTPFrom, c.PublicURL, c.MailEventsSecret = mail.URL, "news@shop.example", "https://candor.shop.example", secret
	}}
	if opt != nil {
		opts = append(opts, opt)
	}
	s := startServer(t, t.TempDir(), "", opts...)
	v := s.noticeVersion()
	for _, addr := range []string{"one@example.com", "two@example.com"} {
		id := s.newSubject(map[string]any{"user_id": "m-" + addr, "email": addr, "traits": map[string]any{"name": "N"}})
		s.consent(map[string]any{"subject_id": id, "notice_version": v, "scope": "all"})
	}
	marketer := s.json("POST", "/v1/apikeys", s.admin, map[string]any{"name": "m", "role": "marketer"}, 201)["key"].(string)
	body := func(name string) map[string]any {
		return map[string]any{"name": name, "channel": "email", "purpose": "marketing.email", "holdout": 0,
			"subject": map[string]string{"en": "A", "zh-CN": "甲"}, "subject_b": map[string]string{"en": "B", "zh-CN": "乙"},
			"body": map[string]string{"en": "See https://shop.example/spring", "zh-CN": "请看 https://shop.example/spring"}}
	}
	send := func(name string, want int) string {
		id := s.json("POST", "/v1/campaigns", marketer, body(name), 201)["id"].(string)
		s.json("POST", "/v1/campaigns/"+id+"/send", marketer, nil, 202)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if view := s.json("GET", "/v1/campaigns/"+id, marketer, nil, 200); view["status"] == "done" {
				break
			}
		}
		if _, ok := mail.Wait(want, 10*time.Second); !ok {
			t.Fatalf("%d messages, want %d", len(mail.Messages()), want)
		}
		return id
	}
	first := send("First", 2)
	var m testenv.Mail
	for _, x := range mail.Messages() {
		if x.To[0] == "one@example.com" {
			m = x
		}
	}
	click, open := clickLink.FindStringSubmatch(m.Body()), openLink.FindStringSubmatch(m.HTML())
	if click == nil || open == nil {
		t.Fatalf("no tracked link or pixel:\n%s", m.Data)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) *http.Response {
		resp, err := client.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get(click[1]); resp.StatusCode != 302 || resp.Header.Get("Location") != "https://shop.example/spring" {
		t.Errorf("click: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	parts := strings.Split(click[1], ".")
	parts[2] = "1"
	if resp := get(strings.Join(parts, ".")); resp.StatusCode != 404 || resp.Header.Get("Location") != "" {
		t.Errorf("an altered click token: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := get(open[1]); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" {
		t.Errorf("pixel: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	event, _ := json.Marshal(map[string]any{"type": "bounce", "email": "two@example.com"})
	post := func(sig string) int {
		req, _ := http.NewRequest("POST", s.base+"/v1/mail/events", bytes.NewReader(event))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set(webhook.SignatureHeader, sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(""); code != 401 {
		t.Errorf("unsigned: %d", code)
	}
	if code := post(webhook.Sign([]byte("another secret"), event, time.Now())); code != 401 {
		t.Errorf("signed with another secret: %d", code)
	}
	if code := post(webhook.Sign([]byte(secret), event, time.Now().Add(-time.Hour))); code != 401 {
		t.Errorf("an old signature: %d", code)
	}
	if code := post(webhook.Sign([]byte(secret), event, time.Now())); code != 200 {
		t.Fatalf("signed: %d", code)
	}
	second := send("Second", 3)
	time.Sleep(200 * time.Millisecond)
	n := 0
	for _, x := range mail.Messages() {
		if x.To[0] == "two@example.com" {
			n++
		}
	}
	if n != 1 || len(mail.Messages()) != 3 {
		t.Errorf("after the bounce: %d to the address, %d in all", n, len(mail.Messages()))
	}
	st := s.json("GET", "/v1/campaigns/"+second, marketer, nil, 200)["stats"].(map[string]any)
	if st["skipped"].(map[string]any)["suppressed"] != 1.0 {
		t.Errorf("second: %v", st)
	}
	st = s.json("GET", "/v1/campaigns/"+first, marketer, nil, 200)["stats"].(map[string]any)
	if st["bounced"] != 1.0 || st["opened"] != 1.0 || st["clicked"] != 1.0 || st["variants"] == nil {
		t.Errorf("first: %v", st)
	}
}
