package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/internal/testenv"
)

// TestSegmentsAPI: the segments endpoints on both stores, adversarially:
// a role without the purpose gets 403 (audited) to save, count and list; a
// rule on a trait not declared for the purpose, or an event not collected
// for it, gets 422 naming the path; a prefix on an e-mail the marketer
// sees masked is refused; a withdrawal is not counted; an erased person
// leaves a snapshot; counts under 10 are hidden from the marketer on
// marketing.email, not from the admin; the segment's people are listed
// through /v1/subjects?segment= for its purpose only.
func TestSegmentsAPI(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testSegmentsAPI(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		url, schema := testenv.Postgres(t)
		testSegmentsAPI(t, func(c *Config) { c.DB, c.Store.DBSchema = url, schema })
	})
}

func testSegmentsAPI(t *testing.T, opt serverOpt) {
	var opts []serverOpt
	if opt != nil {
		opts = append(opts, opt)
	}
	s := startServer(t, t.TempDir(), "", opts...)
	v := s.noticeVersion()
	var ids []string
	for i := range 12 {
		id := s.newSubject(map[string]any{"user_id": fmt.Sprintf("sg-%d", i), "email": fmt.Sprintf("seg%d@example.com", i), "traits": map[string]any{"city": "Hangzhou"}})
		s.consent(map[string]any{"subject_id": id, "notice_version": v, "scope": "all"})
		ids = append(ids, id)
	}
	for i := range 3 {
		s.json("POST", "/v1/track", s.write, map[string]any{"event": "Product Viewed", "userId": fmt.Sprintf("sg-%d", i), "messageId": fmt.Sprintf("m-%d", i),
			"timestamp": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "properties": map[string]any{"category": "tea"}}, 200)
	}
	marketer := s.json("POST", "/v1/apikeys", s.admin, map[string]any{"name": "m", "role": "marketer"}, 201)["key"].(string)
	analyst := s.json("POST", "/v1/apikeys", s.admin, map[string]any{"name": "a", "role": "analyst"}, 201)["key"].(string)

	viewed := map[string]any{"event": "Product Viewed", "within": "30d", "where": map[string]any{"property": "category", "op": "eq", "value": "tea"}}
	for _, c := range []struct {
		name, method, path, key string
		body                    any
		want                    int
		has                     string
	}{
		{"create without the purpose", "POST", "/v1/segments", analyst, map[string]any{"name": "x", "purpose": "personalization", "rule": viewed}, 403, ""},
		{"count without the purpose", "POST", "/v1/segments/count", analyst, map[string]any{"purpose": "personalization", "rule": viewed}, 403, ""},
		{"list without the purpose", "GET", "/v1/subjects?purpose=personalization&segment=seg_aaaaaaaaaaaaaaaaaaaaaaaaaa", analyst, nil, 404, ""},
		{"a trait not declared for the purpose", "POST", "/v1/segments", marketer, map[string]any{"name": "x", "purpose": "marketing.email",
			"rule": map[string]any{"all": []any{map[string]any{"trait": "email", "op": "exists"}, map[string]any{"trait": "city", "op": "eq", "value": "Hangzhou"}}}}, 422, `"rule.all[1].trait"`},
		{"an undeclared trait", "POST", "/v1/segments/count", marketer, map[string]any{"purpose": "personalization", "rule": map[string]any{"trait": "shoe_size", "op": "exists"}}, 422, `"rule.trait"`},
		{"an event not collected for the purpose", "POST", "/v1/segments/count", marketer, map[string]any{"purpose": "marketing.email", "rule": viewed}, 422, `"rule.event"`},
		{"a prefix on a masked e-mail", "POST", "/v1/segments/count", marketer, map[string]any{"purpose": "marketing.email", "rule": map[string]any{"trait": "email", "op": "prefix", "value": "seg1"}}, 422, `"rule.op"`},
		{"an unknown member", "POST", "/v1/segments/count", marketer, map[string]any{"purpose": "personalization", "rule": map[string]any{"trait": "city", "op": "exists", "sql": "1"}}, 422, `"rule.sql"`},
		{"an unknown member of the body", "POST", "/v1/segments/count", marketer, map[string]any{"purpose": "personalization", "rule": viewed, "x": 1}, 422, ""},
		{"the write key", "POST", "/v1/segments/count", s.write, map[string]any{"purpose": "personalization", "rule": viewed}, 403, ""},
		{"no key", "GET", "/v1/segments", "", nil, 401, ""},
	} {
		code, out, _ := s.do(c.method, c.path, c.key, c.body)
		if code != c.want || !strings.Contains(string(out), c.has) || strings.Contains(string(out), "example.com") {
			t.Errorf("%s: %d, want %d with %s: %s", c.name, code, c.want, c.has, out)
		}
	}
	// The analyst's refusals are audited.
	audit := s.json("GET", "/v1/audit/verify", s.admin, nil, 200)
	if audit["ok"] != true {
		t.Errorf("audit %v", audit)
	}

	// Live counts: 3 viewed tea; the marketer reads personalization's people.
	if c := s.json("POST", "/v1/segments/count", marketer, map[string]any{"purpose": "personalization", "rule": viewed}, 200); c["count"] != 3.0 {
		t.Errorf("live count %v", c)
	}
	// marketing.email: the marketer sees e-mails masked: fewer than 10 hidden.
	small := map[string]any{"all": []any{map[string]any{"trait": "email", "op": "exists"}, map[string]any{"not": map[string]any{"consent": "personalization"}}}}
	if c := s.json("POST", "/v1/segments/count", marketer, map[string]any{"purpose": "marketing.email", "rule": small}, 200); c["count"] != nil || c["count_below"] != 10.0 {
		t.Errorf("a count of 0 to the marketer: %v", c)
	}
	if c := s.json("POST", "/v1/segments/count", s.admin, map[string]any{"purpose": "marketing.email", "rule": small}, 200); c["count"] != 0.0 {
		t.Errorf("a count of 0 to the admin: %v", c)
	}
	all := map[string]any{"trait": "email", "op": "exists"}
	if c := s.json("POST", "/v1/segments/count", marketer, map[string]any{"purpose": "marketing.email", "rule": all}, 200); c["count"] != 12.0 {
		t.Errorf("a count of 12 to the marketer: %v", c)
	}

	// A dynamic segment, and a snapshot.
	dyn := s.json("POST", "/v1/segments", marketer, map[string]any{"name": "Tea lovers", "purpose": "personalization", "rule": viewed}, 201)["id"].(string)
	snap := s.json("POST", "/v1/segments", marketer, map[string]any{"name": "Tea snapshot", "purpose": "personalization", "rule": viewed, "snapshot": true}, 201)
	if snap["members"] != 3.0 {
		t.Fatalf("snapshot %v", snap)
	}
	snapID := snap["id"].(string)
	// ids[0] withdraws; ids[1] is erased.
	s.consent(map[string]any{"subject_id": ids[0], "notice_version": v, "choices": map[string]bool{"personalization": false}})
	s.json("POST", "/v1/rights", s.admin, map[string]any{"type": "erase", "subject_id": ids[1], "verified": true}, 202)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := s.json("GET", "/v1/segments/"+snapID, marketer, nil, 200)
		if got["members"] == 2.0 {
			if got["count"] != 1.0 || got["name"] != "Tea snapshot" || got["snapshot"] != true {
				t.Errorf("snapshot after a withdrawal and an erasure: %v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the erased person is still in the snapshot: %v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := s.json("GET", "/v1/segments/"+dyn, marketer, nil, 200); got["count"] != 1.0 {
		t.Errorf("dynamic after a withdrawal and an erasure: %v", got)
	}
	page := s.json("GET", "/v1/subjects?"+url.Values{"purpose": {"personalization"}, "segment": {snapID}}.Encode(), marketer, nil, 200)
	if people := page["subjects"].([]any); len(people) != 1 || people[0].(map[string]any)["id"] != ids[2] {
		t.Errorf("the snapshot's people: %v", page)
	}
	if code, out, _ := s.do("GET", "/v1/subjects?purpose=marketing.email&segment="+dyn, marketer, nil); code != 422 {
		t.Errorf("a segment for another purpose: %d %s", code, out)
	}
	if code, _, _ := s.do("GET", "/v1/segments/"+dyn, analyst, nil); code != 403 {
		t.Errorf("the analyst reads a personalization segment: %d", code)
	}
	if code, _, _ := s.do("GET", "/v1/subjects?purpose=personalization&segment="+dyn, analyst, nil); code != 403 {
		t.Errorf("the analyst lists a personalization segment: %d", code)
	}
	// A marketing.email segment of fewer than 10: the marketer may not list it.
	few := s.json("POST", "/v1/segments", marketer, map[string]any{"name": "few", "purpose": "marketing.email", "rule": small}, 201)["id"].(string)
	if code, out, _ := s.do("GET", "/v1/subjects?purpose=marketing.email&segment="+few, marketer, nil); code != 403 || !strings.Contains(string(out), "fewer") {
		t.Errorf("the marketer lists fewer than 10: %d %s", code, out)
	}
	if got := s.json("GET", "/v1/segments/"+few, marketer, nil, 200); got["count"] != nil || got["count_below"] != 10.0 {
		t.Errorf("a small segment to the marketer: %v", got)
	}
	list := s.json("GET", "/v1/segments", marketer, nil, 200)["segments"].([]any)
	if len(list) != 3 {
		t.Errorf("segments listed %v", list)
	}
	if l := s.json("GET", "/v1/segments", analyst, nil, 200)["segments"].([]any); len(l) != 0 {
		t.Errorf("the analyst sees segments of other purposes: %v", l)
	}
	if code, _, _ := s.do("DELETE", "/v1/segments/"+few, marketer, nil); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code, _, _ := s.do("GET", "/v1/segments/"+few, marketer, nil); code != 404 {
		t.Errorf("a deleted segment: %d", code)
	}
	// The person's access report: the segment's runs, each label one line a day.
	rep := s.json("POST", "/v1/rights", s.admin, map[string]any{"type": "access", "subject_id": ids[2], "verified": true}, 202)
	report := s.json("GET", "/v1/rights/"+rep["id"].(string)+"/report", s.admin, nil, 200)
	labels := map[string]bool{}
	for _, r := range report["runs"].([]any) {
		labels[r.(map[string]any)["label"].(string)] = true
	}
	for _, want := range []string{"segment 'Tea lovers' (count)", "segment 'Tea snapshot' (snapshot)", "segment being edited (count)", "segment 'Tea snapshot' (list)"} {
		if !labels[want] {
			t.Errorf("the report does not name %q: %v", want, labels)
		}
	}
}
