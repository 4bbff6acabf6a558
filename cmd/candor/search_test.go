package main

import (
	"strings"
	"testing"
)

// TestSubjectSearch: a look-up by e-mail, phone or user id in the body,
// read through the gate for a purpose: masked per role, refused before any
// look-up for a purpose the role lacks (the same answer for a known and an
// unknown person), refused when the person's decision denies, 404 when
// nobody holds the identifier.
func TestSubjectSearch(t *testing.T) {
	s := startServer(t, t.TempDir(), "")
	id := s.newSubject(map[string]any{"user_id": "u-find", "email": "Find.Me@example.com", "phone": "13800138000", "traits": map[string]any{"city": "Wenzhou"}})
	marketer := s.json("POST", "/v1/apikeys", s.admin, map[string]any{"name": "m", "role": "marketer"}, 201)["key"].(string)

	for _, body := range []map[string]any{
		{"purpose": "service", "email": "find.me@EXAMPLE.com"},
		{"purpose": "service", "phone": "+86 138 0013 8000"},
		{"purpose": "service", "user_id": "u-find"},
	} {
		got := s.json("POST", "/v1/subjects/search", s.admin, body, 200)
		if got["id"] != id || got["fields"].(map[string]any)["email"] != "find.me@example.com" {
			t.Fatalf("search %v: %v", body, got)
		}
	}
	if code, _, _ := s.do("POST", "/v1/subjects/search", s.admin, map[string]any{"purpose": "service", "email": "nobody@example.com"}); code != 404 {
		t.Fatalf("an unknown e-mail: %d", code)
	}
	// A purpose the role lacks: refused before the look-up, alike for
	// a known and an unknown person.
	var answers []string
	for _, e := range []string{"find.me@example.com", "nobody@example.com"} {
		code, out, _ := s.do("POST", "/v1/subjects/search", marketer, map[string]any{"purpose": "service", "email": e})
		if code != 403 {
			t.Fatalf("a marketer searching for service: %d %s", code, out)
		}
		answers = append(answers, strings.Split(string(out), `"request_id"`)[0])
	}
	if answers[0] != answers[1] {
		t.Fatalf("the refusals differ for a known and an unknown person:\n%s\n%s", answers[0], answers[1])
	}
	// Without consent, the gate refuses; with it, the e-mail is masked for a marketer.
	if code, _, _ := s.do("POST", "/v1/subjects/search", marketer, map[string]any{"purpose": "marketing.email", "email": "find.me@example.com"}); code != 403 {
		t.Fatalf("no consent: %d", code)
	}
	s.consent(map[string]any{"subject_id": id, "choices": map[string]bool{"marketing.email": true}})
	got := s.json("POST", "/v1/subjects/search", marketer, map[string]any{"purpose": "marketing.email", "email": "find.me@example.com"}, 200)
	if e, _ := got["fields"].(map[string]any)["email"].(string); e == "" || e == "find.me@example.com" {
		t.Fatalf("the marketer's e-mail is not masked: %v", got)
	}
	for _, body := range []map[string]any{{"email": "find.me@example.com"}, {"purpose": "service"}, {"purpose": "service", "email": "a@example.com", "user_id": "u"}, {"purpose": "nope", "user_id": "u-find"}} {
		if code, _, _ := s.do("POST", "/v1/subjects/search", s.admin, body); code != 422 {
			t.Fatalf("bad search %v: %d", body, code)
		}
	}
	if code, _, _ := s.do("POST", "/v1/subjects/search", s.write, map[string]any{"purpose": "service", "user_id": "u-find"}); code != 403 {
		t.Fatalf("the write key searching: %d", code)
	}
}
