package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/sms"
	"github.com/candorhq/candor/webhook"
)

// TestPersonVerifiesAndActs: a person asks for a code, reads it from the
// real SMTP server it was sent through, sends it back, and with the token
// exports and then erases their own data; an unknown address gets the same
// answer and no mail; someone else's request is not found.
func TestPersonVerifiesAndActs(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testPersonVerifiesAndActs(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		url, schema := testenv.Postgres(t)
		testPersonVerifiesAndActs(t, func(c *Config) { c.DB, c.Store.DBSchema = url, schema })
	})
}

func testPersonVerifiesAndActs(t *testing.T, opt serverOpt) {
	ms := testenv.NewMailServer(t)
	opts := []serverOpt{func(c *Config) { c.SMTPURL, c.SMTPFrom = ms.URL, "privacy@shop.example" }}
	if opt != nil {
		opts = append(opts, opt)
	}
	s := startServer(t, t.TempDir(), "", opts...)
	id := s.newSubject(map[string]any{"user_id": "person", "email": "Person.Self@example.com", "traits": map[string]any{"city": "Jinhua"}})
	other := s.newSubject(map[string]any{"user_id": "other", "email": "other.person@example.com"})
	otherReq := s.json("POST", "/v1/rights", s.admin, map[string]any{"type": "access", "subject_id": other, "verified": true}, 202)["id"].(string)

	known := s.json("POST", "/v1/verify", "", map[string]any{"email": "person.self@example.com"}, 202)
	unknown := s.json("POST", "/v1/verify", "", map[string]any{"email": "no.such.person@example.com"}, 202)
	if known["message"] != unknown["message"] || len(known) != len(unknown) {
		t.Fatalf("the answers differ: %v / %v", known, unknown)
	}
	m, ok := ms.Wait(1, 10*time.Second)
	if !ok || m.To[0] != "person.self@example.com" {
		t.Fatalf("mail: %v %+v", ok, m)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(ms.Messages()); n != 1 {
		t.Fatalf("%d mails: the unknown address got one", n)
	}
	chl := known["challenge_id"].(string)
	if code, _, _ := s.do("POST", "/v1/verify/"+chl, "", map[string]any{"code": "abcdef"}); code != 422 {
		t.Fatalf("a wrong code: %d", code)
	}
	token := s.json("POST", "/v1/verify/"+chl, "", map[string]any{"code": m.Code()}, 200)["token"].(string)
	if !strings.HasPrefix(token, "cndv_") {
		t.Fatalf("token %q", token)
	}
	if code, _, _ := s.do("POST", "/v1/me/rights", "", map[string]any{"type": "export"}); code != 401 {
		t.Fatalf("without a token: %d", code)
	}
	exp := s.json("POST", "/v1/me/rights", token, map[string]any{"type": "export"}, 202)
	if exp["status"] != "done" || exp["subject_id"] != id {
		t.Fatalf("export request %v", exp)
	}
	code, body, h := s.do("GET", "/v1/me/rights/"+exp["id"].(string)+"/export", token, nil)
	if code != 200 || h.Get("Content-Type") != "application/zip" || len(body) < 100 {
		t.Fatalf("export download: %d %s", code, h.Get("Content-Type"))
	}
	if code, _, _ := s.do("GET", "/v1/me/rights/"+otherReq, token, nil); code != 404 {
		t.Fatalf("someone else's request: %d", code)
	}
	if code, _, _ := s.do("GET", "/v1/me/rights/"+otherReq+"/report", token, nil); code != 404 {
		t.Fatalf("someone else's report: %d", code)
	}
	page := s.json("GET", "/v1/me/rights/"+exp["id"].(string)+"/report", token, nil, 200)
	if !strings.Contains(string(mustJSON(t, page)), "Jinhua") {
		t.Fatal("the person's report lacks their city")
	}
	er := s.json("POST", "/v1/me/rights", token, map[string]any{"type": "erase", "suppress": true}, 202)
	if er["status"] != "done" {
		t.Fatalf("erase %v", er)
	}
	if code, _, _ := s.do("GET", "/v1/subjects/"+id+"?purpose=service", s.admin, nil); code != http.StatusNotFound {
		t.Fatalf("after the person's erasure: %d", code)
	}
	if strings.Contains(s.log.String(), m.Code()) || strings.Contains(s.log.String(), "person.self@example.com") {
		t.Error("the log holds the code or the address")
	}
}

// TestPersonVerifiesByPhone: a code for a phone on file goes through the
// SMS gateway (a real HTTP receiver that checks the signature) and proves
// the person's control of the number.
func TestPersonVerifiesByPhone(t *testing.T) {
	secret := "an SMS gateway secret of 32 bytes or more"
	texts := make(chan sms.Message, 4)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.VerifySignature([]byte(secret), body, r.Header.Get(webhook.SignatureHeader), time.Now(), time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m sms.Message
		json.Unmarshal(body, &m)
		texts <- m
	}))
	defer gw.Close()
	s := startServer(t, t.TempDir(), "", func(c *Config) { c.SMSURL, c.SMSSecret = gw.URL+"/send", secret })
	id := s.newSubject(map[string]any{"user_id": "by-phone", "phone": "138 1234 5678"})
	chl := s.json("POST", "/v1/verify", "", map[string]any{"phone": "+86 138-1234-5678"}, 202)["challenge_id"].(string)
	var m sms.Message
	select {
	case m = <-texts:
	case <-time.After(10 * time.Second):
		t.Fatal("no text message")
	}
	if m.To != "+8613812345678" {
		t.Fatalf("sent to %q", m.To)
	}
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(m.Text)
	token := s.json("POST", "/v1/verify/"+chl, "", map[string]any{"code": code}, 200)["token"].(string)
	if r := s.json("POST", "/v1/me/rights", token, map[string]any{"type": "access"}, 202); r["subject_id"] != id {
		t.Fatalf("the phone's token acts for %v, want %s", r["subject_id"], id)
	}
	if strings.Contains(s.log.String(), "13812345678") {
		t.Fatal("the log holds the phone number")
	}
}
