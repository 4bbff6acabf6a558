package main

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/candorhq/candor/internal/testenv"
)

// TestListSubjects: GET /v1/subjects pages through the people whose
// decision allows a purpose, on both stores: only them (not whoever
// declined or is restricted), their fields masked for the role, each page
// one audit entry, the cursor going through everyone once; a role without
// the purpose, the write key and a bad cursor get nothing; the person's
// access report names the run.
func TestListSubjects(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testListSubjects(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		url, schema := testenv.Postgres(t)
		testListSubjects(t, func(c *Config) { c.DB, c.Store.DBSchema = url, schema })
	})
}

func testListSubjects(t *testing.T, opt serverOpt) {
	var opts []serverOpt
	if opt != nil {
		opts = append(opts, opt)
	}
	s := startServer(t, t.TempDir(), "", opts...)
	v := s.noticeVersion()
	var allowed []string
	for i := range 12 {
		id := s.newSubject(map[string]any{"user_id": fmt.Sprintf("l-%d", i), "email": fmt.Sprintf("list%d@example.com", i)})
		s.consent(map[string]any{"subject_id": id, "notice_version": v, "scope": "all"})
		allowed = append(allowed, id)
	}
	declined := s.newSubject(map[string]any{"user_id": "l-no", "email": "declined@example.com"})
	s.consent(map[string]any{"subject_id": declined, "notice_version": v, "choices": map[string]bool{"marketing.email": false}})
	restricted := s.newSubject(map[string]any{"user_id": "l-r", "email": "restricted@example.com"})
	s.consent(map[string]any{"subject_id": restricted, "notice_version": v, "scope": "all"})
	s.json("POST", "/v1/rights", s.admin, map[string]any{"type": "restrict", "subject_id": restricted, "verified": true}, 202)
	marketer := s.json("POST", "/v1/apikeys", s.admin, map[string]any{"name": "m", "role": "marketer"}, 201)["key"].(string)

	var got []string
	cursor, pages := "", 0
	for {
		q := url.Values{"purpose": {"marketing.email"}, "limit": {"5"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page := s.json("GET", "/v1/subjects?"+q.Encode(), marketer, nil, 200)
		pages++
		for _, x := range page["subjects"].([]any) {
			p := x.(map[string]any)
			got = append(got, p["id"].(string))
			if e := p["fields"].(map[string]any)["email"].(string); !strings.Contains(e, "***") || strings.HasPrefix(e, "list") {
				t.Errorf("the marketer sees an e-mail unmasked: %v", p)
			}
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
		if pages > 5 {
			t.Fatal("the cursor does not advance")
		}
	}
	slices.Sort(got)
	want := slices.Clone(allowed)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d people %v, want the %d who allow marketing.email", len(got), got, len(want))
	}
	if pages != 3 {
		t.Errorf("%d pages of 5 for 12 people", pages)
	}
	for _, c := range []struct {
		name, key, query string
		want             int
	}{
		{"a purpose the role lacks", marketer, "purpose=legal", 403},
		{"the write key", s.write, "purpose=marketing.email", 403},
		{"no purpose", marketer, "", 422},
		{"an unknown purpose", marketer, "purpose=nope", 422},
		{"a bad cursor", marketer, "purpose=marketing.email&cursor=list0@example.com", 422},
		{"a limit too large", marketer, "purpose=marketing.email&limit=100000", 422},
		{"a field of another purpose", marketer, "purpose=marketing.email&fields=national_id", 403},
		{"no key", "", "purpose=marketing.email", 401},
	} {
		code, out, _ := s.do("GET", "/v1/subjects?"+c.query, c.key, nil)
		if code != c.want || strings.Contains(string(out), "example.com") {
			t.Errorf("%s: %d, want %d: %s", c.name, code, c.want, out)
		}
	}
	rep := s.json("POST", "/v1/rights", s.admin, map[string]any{"type": "access", "subject_id": allowed[0], "verified": true}, 202)
	report := s.json("GET", "/v1/rights/"+rep["id"].(string)+"/report", s.admin, nil, 200)
	if runs, _ := report["runs"].([]any); len(runs) != 1 || runs[0].(map[string]any)["purpose"] != "marketing.email" {
		t.Errorf("the person's report does not name the run: %v", report["runs"])
	}
	rep = s.json("POST", "/v1/rights", s.admin, map[string]any{"type": "access", "subject_id": declined, "verified": true}, 202)
	report = s.json("GET", "/v1/rights/"+rep["id"].(string)+"/report", s.admin, nil, 200)
	if runs, _ := report["runs"].([]any); len(runs) != 0 {
		t.Errorf("the declining person's report names a run: %v", report["runs"])
	}
}
