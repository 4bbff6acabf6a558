package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/internal/testenv"
)

// TestIdentityTakeover tries, on both stores, the chains of ordinary API
// calls with which a holder of the write key or of the public browser key
// took over a person's data: attaching their own e-mail to the person and
// signing in with it, merging an identified account into theirs through
// its anonymous id, rewriting an account through its anonymous id, and
// collecting a suppressed address again.
func TestIdentityTakeover(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testIdentityTakeover(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		url, schema := testenv.Postgres(t)
		testIdentityTakeover(t, func(c *Config) { c.DB, c.Store.DBSchema = url, schema })
	})
}

func testIdentityTakeover(t *testing.T, opt serverOpt) {
	ms := testenv.NewMailServer(t)
	opts := []serverOpt{func(c *Config) { c.SMTPURL, c.SMTPFrom = ms.URL, "privacy@shop.example" }}
	if opt != nil {
		opts = append(opts, opt)
	}
	s := startServer(t, t.TempDir(), "", opts...)
	noMail := func(to string) {
		t.Helper()
		time.Sleep(300 * time.Millisecond)
		for _, m := range ms.Messages() {
			if strings.Contains(strings.Join(m.To, ","), to) {
				t.Fatalf("a code went to %s", to)
			}
		}
	}
	victim := s.newSubject(map[string]any{"user_id": "u-victim", "email": "victim@example.com", "traits": map[string]any{"address": "1 Victim Road"}})

	// 1. A second e-mail attached with the write key is not taken, and a
	// code asked for it goes nowhere.
	if code, out, _ := s.post("/v1/identify", s.write, []byte(`{"userId":"u-victim","traits":{"email":"attacker@evil.example"}}`)); code != 200 {
		t.Fatalf("identify: %d %s", code, out)
	}
	if code, out, _ := s.do("POST", "/v1/subjects", s.admin, map[string]any{"user_id": "u-victim", "email": "attacker@evil.example"}); code != 409 || !strings.Contains(string(out), "verified change") {
		t.Fatalf("a second e-mail through POST /v1/subjects: %d %s", code, out)
	}
	got := s.json("GET", "/v1/subjects/"+victim+"?purpose=service", s.admin, nil, 200)["fields"].(map[string]any)
	if got["email"] != "victim@example.com" {
		t.Fatalf("the victim's e-mail became %v", got["email"])
	}
	chl := s.json("POST", "/v1/verify", "", map[string]any{"email": "attacker@evil.example"}, 202)["challenge_id"].(string)
	noMail("attacker@evil.example")
	if code, _, _ := s.do("POST", "/v1/verify/"+chl, "", map[string]any{"code": "000000"}); code != 422 {
		t.Fatalf("a code for the attacker's address: %d", code)
	}
	// A person created with a user id only: an e-mail given later is
	// kept (the shop's server gave it) but signs nobody in.
	s.newSubject(map[string]any{"user_id": "u-quiet"})
	if code, out, _ := s.post("/v1/identify", s.write, []byte(`{"userId":"u-quiet","traits":{"email":"squatter@evil.example"}}`)); code != 200 {
		t.Fatalf("identify: %d %s", code, out)
	}
	s.json("POST", "/v1/verify", "", map[string]any{"email": "squatter@evil.example"}, 202)
	noMail("squatter@evil.example")
	// The person's own address still works.
	own := s.json("POST", "/v1/verify", "", map[string]any{"email": "victim@example.com"}, 202)["challenge_id"].(string)
	m, ok := ms.Wait(1, 10*time.Second)
	if !ok || m.To[0] != "victim@example.com" {
		t.Fatalf("the victim's own code: %v %+v", ok, m)
	}

	// 4. The person's own token applies the portal's rules: no e-mail,
	// ID number or sensitive field without the shop's check, and no
	// birth date that makes a child an adult.
	tok := s.json("POST", "/v1/verify/"+own, "", map[string]any{"code": m.Code()}, 200)["token"].(string)
	for _, traits := range []map[string]any{{"email": "attacker@evil.example"}, {"national_id": "110101199003074258"}, {"allergies": "none"}} {
		if code, out, _ := s.do("POST", "/v1/me/rights", tok, map[string]any{"type": "rectify", "traits": traits}); code != 403 {
			t.Fatalf("rectify %v with a token: %d %s", traits, code, out)
		}
	}
	s.json("POST", "/v1/me/rights", tok, map[string]any{"type": "rectify", "traits": map[string]any{"city": "Hangzhou"}}, 202)
	s.newSubject(map[string]any{"user_id": "u-child", "email": "child@example.com", "traits": map[string]any{"birth_date": time.Now().AddDate(-10, 0, 0).Format(time.DateOnly)}})
	cc := s.json("POST", "/v1/verify", "", map[string]any{"email": "child@example.com"}, 202)["challenge_id"].(string)
	cm, ok := ms.Wait(2, 10*time.Second)
	if !ok {
		t.Fatal("no code for the child")
	}
	ctok := s.json("POST", "/v1/verify/"+cc, "", map[string]any{"code": cm.Code()}, 200)["token"].(string)
	if code, out, _ := s.do("POST", "/v1/me/rights", ctok, map[string]any{"type": "rectify", "traits": map[string]any{"birth_date": "1990-01-01"}}); code != 403 || !strings.Contains(string(out), "shop") {
		t.Fatalf("a child made an adult with a token: %d %s", code, out)
	}

	// 2. An identified account is never merged into another through its
	// anonymous id: not by the browser key with the attacker's own token,
	// not by the write key.
	if code, out, _ := s.post("/v1/identify", s.write, []byte(`{"userId":"u-victim","anonymousId":"victim-device"}`)); code != 200 {
		t.Fatalf("identify: %d %s", code, out)
	}
	attacker := s.newSubject(map[string]any{"user_id": "u-attacker", "email": "attacker@evil.example"})
	browser := s.json("POST", "/v1/apikeys", s.admin, map[string]any{"name": "banner", "role": "browser"}, 201)["key"].(string)
	var secret bytes.Buffer
	args := []string{"keys", "identity-secret", "-data", filepath.Join(s.dir, "data")}
	if opt != nil {
		var cfg Config
		opt(&cfg)
		t.Setenv("CANDOR_DB_SCHEMA", cfg.Store.DBSchema)
		args = append(args, "-db", cfg.DB)
	}
	if err := runMain(context.Background(), args, &secret, io.Discard); err != nil {
		t.Fatal(err)
	}
	token := collect.IdentityToken([]byte(strings.TrimSpace(secret.String())), "u-attacker", time.Now().Add(time.Hour))
	if code, out, _ := s.post("/v1/alias", browser, []byte(`{"userId":"u-attacker","previousId":"victim-device","context":{"candorIdentity":"`+token+`"}}`)); code == 200 {
		t.Fatalf("alias into the attacker's account: %d %s", code, out)
	}
	for _, body := range []string{`{"userId":"u-attacker","anonymousId":"victim-device"}`, `{"userId":"u-fresh","anonymousId":"victim-device"}`} {
		if code, out, _ := s.post("/v1/identify", s.write, []byte(body)); code != 200 {
			t.Fatalf("identify %s: %d %s", body, code, out)
		}
	}
	got = s.json("GET", "/v1/subjects/"+victim+"?purpose=service", s.admin, nil, 200)["fields"].(map[string]any)
	if got["email"] != "victim@example.com" || got["address"] != "1 Victim Road" {
		t.Fatalf("the victim after the merge attempts: %v", got)
	}
	if id := s.json("POST", "/v1/subjects", s.admin, map[string]any{"user_id": "u-fresh"}, 200)["id"]; id == victim {
		t.Fatal("the victim's account took a second user id")
	}
	if id := s.json("POST", "/v1/subjects", s.admin, map[string]any{"user_id": "u-attacker"}, 200)["id"]; id != attacker {
		t.Fatal("the attacker's account moved")
	}

	// 7. The browser key naming only the account's anonymous id changes
	// nothing of it: no traits, no consents.
	if code, out, _ := s.post("/v1/identify", browser, []byte(`{"anonymousId":"victim-device","traits":{"address":"2 Attacker St","birth_date":"2015-01-01"}}`)); code != 403 {
		t.Fatalf("identify by the account's anonymous id with the browser key: %d %s", code, out)
	}
	v := s.noticeVersion()
	if code, out, _ := s.do("POST", "/v1/consents", browser, map[string]any{"anonymous_id": "victim-device", "notice_version": v, "scope": "all",
		"choices": map[string]bool{"sharing.ads": true}}); code != 403 {
		t.Fatalf("a consent by the account's anonymous id with the browser key: %d %s", code, out)
	}
	if d := s.decide(victim, "sharing.ads"); d["allow"] != false {
		t.Fatalf("the victim's sharing.ads: %v", d)
	}
	got = s.json("GET", "/v1/subjects/"+victim+"?purpose=service", s.admin, nil, 200)["fields"].(map[string]any)
	if got["address"] != "1 Victim Road" || got["birth_date"] != nil {
		t.Fatalf("the victim's traits were changed: %v", got)
	}
	// A visitor who never signed in still answers the banner.
	s.json("POST", "/v1/consents", browser, map[string]any{"anonymous_id": "fresh-device", "notice_version": v, "scope": "all"}, 201)

	// 5. A suppressed address is not collected again.
	gone := s.newSubject(map[string]any{"user_id": "u-gone", "email": "gone@example.com", "phone": "13900001111"})
	s.json("POST", "/v1/rights", s.admin, map[string]any{"type": "erase", "subject_id": gone, "verified": true, "suppress": true}, 202)
	for _, body := range []map[string]any{{"user_id": "u-back", "email": "Gone@Example.com"}, {"user_id": "u-back2", "phone": "139 0000 1111"}} {
		if code, out, _ := s.do("POST", "/v1/subjects", s.admin, body); code != 422 || !strings.Contains(string(out), "suppression list") {
			t.Fatalf("a suppressed identifier: %d %s", code, out)
		}
	}
	if code, out, _ := s.post("/v1/identify", s.write, []byte(`{"userId":"u-back3","traits":{"email":"gone@example.com","city":"Ningbo"}}`)); code != 200 {
		t.Fatalf("identify: %d %s", code, out)
	}
	back := s.json("POST", "/v1/subjects", s.admin, map[string]any{"user_id": "u-back3"}, 200)["id"].(string)
	if f := s.json("GET", "/v1/subjects/"+back+"?purpose=service", s.admin, nil, 200)["fields"].(map[string]any); f["email"] != nil {
		t.Fatalf("the suppressed e-mail was collected: %v", f)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rep := s.json("GET", "/v1/reports/minimization?from="+time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly), s.admin, nil, 200)
		j := string(mustJSON(t, rep))
		if strings.Contains(j, "suppressed") && strings.Contains(j, "unverified_change") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the minimization report does not count the suppressed and unverified identifiers: %s", j)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if strings.Contains(s.log.String(), "attacker@evil.example") || strings.Contains(s.log.String(), "gone@example.com") {
		t.Fatal("the log holds an address")
	}
}
