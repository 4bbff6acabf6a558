package main

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/candorhq/candor/internal/testenv"
)

// TestAccessAndExport, on both stores: an access request's report holds
// every identifier, field, consent and event, as JSON and as a page in
// zh-CN and en; the export zip round-trips to the same data; each reading
// is audited; other roles are refused.
func TestAccessAndExport(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testAccessAndExport(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		url, schema := testenv.Postgres(t)
		testAccessAndExport(t, func(c *Config) { c.DB, c.Store.DBSchema = url, schema })
	})
}

func testAccessAndExport(t *testing.T, opt serverOpt) {
	var opts []serverOpt
	if opt != nil {
		opts = append(opts, opt)
	}
	s := startServer(t, t.TempDir(), "", opts...)
	id := s.newSubject(map[string]any{"user_id": "access-me", "email": "access.me@example.com", "phone": "13800001111",
		"traits": map[string]any{"city": "Suzhou", "name": "Access Me"}})
	s.consent(map[string]any{"subject_id": id, "scope": "all"})
	s.consent(map[string]any{"subject_id": id, "choices": map[string]bool{"marketing.sms": false}})
	for i := range 4 {
		s.post("/v1/track", s.write, mustJSON(t, map[string]any{"type": "track", "userId": "access-me", "event": "Product Viewed",
			"messageId": fmt.Sprint("acc-", i), "properties": map[string]any{"product_id": fmt.Sprint("P", i), "category": "books"}}))
	}
	req := s.json("POST", "/v1/rights", s.admin, map[string]any{"type": "access", "subject_id": id, "verified": true}, 202)
	if req["status"] != "done" {
		t.Fatalf("access request %v", req)
	}
	rid := req["id"].(string)
	if code, out, _ := s.do("GET", "/v1/rights/"+rid+"/report", s.admin, nil); code != 200 {
		t.Fatalf("report: %d %s\n%s", code, out, s.log.String())
	}
	rep := s.json("GET", "/v1/rights/"+rid+"/report", s.admin, nil, 200)
	body := string(mustJSON(t, rep))
	for _, want := range []string{"access.me@example.com", "+8613800001111", "Suzhou", "Access Me", `"retain_until"`, `"purpose":"marketing.sms","state":"withdrawn"`,
		`"notice_version":"`, `"source":"api"`, `"automated_decisions":[{"applies":true,"purpose":"personalization"}]`, `"total":4`, `"product_id":"P3"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the report lacks %s", want)
		}
	}
	if n := len(rep["consents"].([]any)); n != 5 { // four by "accept all", one withdrawal
		t.Errorf("the report has %d consent entries", n)
	}
	for _, lang := range []string{"en", "zh-CN"} {
		code, page, h := s.do("GET", "/v1/rights/"+rid+"/report?format=html&lang="+lang, s.admin, nil)
		word := map[string]string{"en": "What we hold about you", "zh-CN": "我们持有的您的个人信息"}[lang]
		if code != 200 || !strings.Contains(string(page), word) || !strings.Contains(string(page), "access.me@example.com") || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Errorf("%s page: %d %s", lang, code, page)
		}
		if h.Get("Content-Security-Policy") == "" || strings.Contains(string(page), "<script") {
			t.Errorf("%s page: no CSP, or a script", lang)
		}
	}
	// The export: a zip whose report.json and CSV files hold the same data.
	req2, _ := http.NewRequest("GET", s.base+"/v1/rights/"+rid+"/export", nil)
	req2.Header.Set("Authorization", "Bearer "+s.admin)
	resp, err := http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	var again map[string]any
	if err := json.Unmarshal(files["report.json"], &again); err != nil {
		t.Fatal(err)
	}
	if again["subject_id"] != id || len(again["fields"].([]any)) != len(rep["fields"].([]any)) {
		t.Errorf("report.json differs from the report")
	}
	events, err := csv.NewReader(bytes.NewReader(files["events.csv"])).ReadAll()
	if err != nil || len(events) != 5 || events[0][2] != "name" {
		t.Errorf("events.csv: %v %v", events, err)
	}
	fields, _ := csv.NewReader(bytes.NewReader(files["fields.csv"])).ReadAll()
	if !strings.Contains(fmt.Sprint(fields), "Suzhou") {
		t.Errorf("fields.csv: %v", fields)
	}
	for _, name := range []string{"identifiers.csv", "consents.csv", "recipients.csv"} {
		if _, ok := files[name]; !ok {
			t.Errorf("the export lacks %s", name)
		}
	}
	// Only admin and dpo; not for a request of another type or not done.
	if code, _, _ := s.do("GET", "/v1/rights/"+rid+"/report", s.write, nil); code != 403 {
		t.Errorf("the write key read a report: %d", code)
	}
	restrict := s.json("POST", "/v1/rights", s.admin, map[string]any{"type": "restrict", "subject_id": id}, 202)
	if code, _, _ := s.do("GET", "/v1/rights/"+restrict["id"].(string)+"/report", s.admin, nil); code != 422 {
		t.Errorf("a report for a restriction: %d", code)
	}
	waiting := s.json("POST", "/v1/rights", s.admin, map[string]any{"type": "access", "subject_id": id}, 202)
	if code, _, _ := s.do("GET", "/v1/rights/"+waiting["id"].(string)+"/report", s.admin, nil); code != 409 {
		t.Errorf("a report for an unverified request: %d", code)
	}
	list := s.json("GET", "/v1/rights", s.admin, nil, 200)["requests"].([]any)
	if len(list) != 2 {
		t.Errorf("open requests: %v", list)
	}
	if code, _, _ := s.do("GET", "/v1/rights/req_doesnotexist0000000000000", s.admin, nil); code != 404 {
		t.Errorf("an unknown request: %d", code)
	}
	if rep := s.json("GET", "/v1/audit/verify", s.admin, nil, 200); rep["ok"] != true {
		t.Errorf("audit: %v", rep)
	}
}
