package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/candorhq/candor/internal/testenv"
)

// addStaffOn is addStaff on the server's store, SQLite or PostgreSQL.
func addStaffOn(t *testing.T, s *testServer, opt serverOpt, email, role, password string) {
	t.Helper()
	t.Setenv("CANDOR_STAFF_PASSWORD", password)
	args := []string{"add", "-email", email, "-name", "Test " + role, "-role", role, "-data", filepath.Join(s.dir, "data")}
	if opt != nil {
		var cfg Config
		opt(&cfg)
		t.Setenv("CANDOR_DB_SCHEMA", cfg.Store.DBSchema)
		args = append(args, "-db", cfg.DB)
	}
	if err := staffCmd(context.Background(), args, io.Discard, io.Discard); err != nil {
		t.Fatalf("staff add: %v", err)
	}
}

// TestConsoleCustomersForARole: a marketer in the console sees only what
// their role may open (no requests, audit log or staff in the navigation,
// only their purposes in the drop-downs), lists the customers a purpose
// of theirs allows with the e-mail masked, pages through them, and gets a
// refusal (audited, nobody shown) for a purpose of another role, whether
// asked for in the address or not; the admin sees every purpose.
func TestConsoleCustomersForARole(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testConsoleCustomers(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		url, schema := testenv.Postgres(t)
		testConsoleCustomers(t, func(c *Config) { c.DB, c.Store.DBSchema = url, schema })
	})
}

func testConsoleCustomers(t *testing.T, opt serverOpt) {
	var opts []serverOpt
	if opt != nil {
		opts = append(opts, opt)
	}
	s := startServer(t, t.TempDir(), "", opts...)
	v := s.noticeVersion()
	for i := range 55 {
		id := s.newSubject(map[string]any{"user_id": fmt.Sprintf("c-%d", i), "email": fmt.Sprintf("customer%d@example.com", i), "traits": map[string]any{"national_id": "110101199003074514"}})
		s.consent(map[string]any{"subject_id": id, "notice_version": v, "scope": "all"})
	}
	addStaffOn(t, s, opt, "marketer@shop.example", "marketer", "a long marketer password")
	addStaffOn(t, s, opt, "admin@shop.example", "admin", "a long admin password")
	m := staffSignIn(t, s, "marketer@shop.example", "a long marketer password")

	option := regexp.MustCompile(`<option value="([a-z.]+)"`)
	for _, path := range []string{"/console?lang=en", "/console/customers", "/console/subject"} {
		code, page, h := m.do("GET", path, nil)
		if code != 200 || len(h.Get("X-Request-Id")) < 16 {
			t.Fatalf("%s: %d, request id %q", path, code, h.Get("X-Request-Id"))
		}
		for _, hidden := range []string{`href="/console/requests"`, `href="/console/audit"`, `href="/console/staff"`} {
			if strings.Contains(page, hidden) {
				t.Errorf("%s shows the marketer %s", path, hidden)
			}
		}
		if path == "/console?lang=en" {
			continue
		}
		for _, o := range option.FindAllStringSubmatch(page, -1) {
			switch o[1] {
			case "marketing.email", "marketing.sms", "personalization", "email", "phone", "user_id", "subject_id":
			default:
				t.Errorf("%s offers the marketer the purpose %s", path, o[1])
			}
		}
	}
	// The list: 50, then 5, the e-mails masked, no ID number.
	seen := map[string]bool{}
	path := "/console/customers?purpose=marketing.email"
	for pages := 0; path != ""; pages++ {
		code, page, _ := m.do("GET", path, nil)
		if code != 200 || pages > 3 {
			t.Fatalf("%s: %d", path, code)
		}
		for _, id := range regexp.MustCompile(`<tr><td><code>(sub_[a-z2-7]+)</code>`).FindAllStringSubmatch(page, -1) {
			seen[id[1]] = true
		}
		if strings.Contains(page, "@example.com") && regexp.MustCompile(`customer\d+@example\.com`).MatchString(page) {
			t.Error("the marketer sees an e-mail unmasked")
		}
		if strings.Contains(page, "110101199003074514") {
			t.Error("the list shows an ID number")
		}
		next := regexp.MustCompile(`href="(/console/customers\?purpose=marketing\.email&amp;cursor=sub_[a-z2-7]+)"`).FindStringSubmatch(page)
		path = ""
		if next != nil {
			path = strings.ReplaceAll(next[1], "&amp;", "&")
		}
	}
	if len(seen) != 55 {
		t.Errorf("the list showed %d people of 55", len(seen))
	}
	// A purpose of another role, asked for in the address: refused,
	// nobody shown.
	for _, purpose := range []string{"legal", "service", "rights"} {
		code, page, _ := m.do("GET", "/console/customers?purpose="+purpose, nil)
		if code == 200 || strings.Contains(page, "<code>sub_") {
			t.Errorf("the marketer listed %s: %d", purpose, code)
		}
	}
	for _, bad := range []string{"purpose=marketing.email&cursor=customer1@example.com", "purpose=%27%20OR%201=1"} {
		if code, page, _ := m.do("GET", "/console/customers?"+bad, nil); code != 422 || strings.Contains(page, "customer1@example.com") {
			t.Errorf("%s: %d", bad, code)
		}
	}
	a := staffSignIn(t, s, "admin@shop.example", "a long admin password")
	_, page, _ := a.do("GET", "/console/audit?action=read.bulk&lang=en", nil)
	if n := strings.Count(page, "<code>read.bulk</code>"); n < 2 {
		t.Errorf("the customer list's pages are not in the audit log (%d entries)", n)
	}
	if !strings.Contains(testenv.Visible(page), "denied") {
		t.Error("the marketer's refused list is not in the audit log")
	}
	_, page, _ = a.do("GET", "/console/customers", nil)
	if !strings.Contains(page, `<option value="legal"`) || !strings.Contains(page, `href="/console/audit"`) {
		t.Error("the admin does not see every purpose and page")
	}
}
