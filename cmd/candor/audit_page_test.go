package main

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// staffClient is a staff member's browser without a browser: it keeps the
// cookies by name and follows no redirect.
type staffClient struct {
	t       *testing.T
	s       *testServer
	cookies map[string]*http.Cookie
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *staffClient) do(method, path string, form url.Values) (int, string, http.Header) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.s.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = &http.Cookie{Name: ck.Name, Value: ck.Value}
		}
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (c *staffClient) csrf(page string) string {
	c.t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no CSRF token in %.300s", page)
	}
	return m[1]
}

// staffSignIn signs a staff member added with addStaff in for the first
// time over plain HTTP: the password, then the enrolment of the second
// factor with a code from the secret the page shows.
func staffSignIn(t *testing.T, s *testServer, email, password string) *staffClient {
	t.Helper()
	c := &staffClient{t: t, s: s, cookies: map[string]*http.Cookie{}}
	_, page, _ := c.do("GET", "/console?lang=en", nil)
	code, _, h := c.do("POST", "/console/signin", url.Values{"csrf": {c.csrf(page)}, "email": {email}, "password": {password}})
	if code != http.StatusSeeOther || h.Get("Location") != "/console/enrol" {
		t.Fatalf("sign-in of %s: %d %s", email, code, h.Get("Location"))
	}
	_, page, _ = c.do("GET", "/console/enrol", nil)
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no TOTP secret on the enrolment page: %.500s", page)
	}
	otp, err := totp.GenerateCode(m[1], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if code, page, _ := c.do("POST", "/console/enrol", url.Values{"csrf": {c.csrf(page)}, "code": {otp}}); code != http.StatusOK || !strings.Contains(page, "recovery-codes") {
		t.Fatalf("enrolment of %s: %d %.500s", email, code, page)
	}
	return c
}

// auditRow is a row of the audit page.
type auditRow struct {
	Seq                             int64
	Actor, Action, Purpose, Subject string
}

var (
	auditRowRE = regexp.MustCompile(`<tr><td class="num">(\d+)</td><td>[^<]*</td><td><code>([^<]*)</code></td><td><code>([^<]*)</code></td><td data-purpose="([^"]*)">.*?</td><td><code>([^<]*)</code></td>`)
	hrefRE     = func(class string) *regexp.Regexp {
		return regexp.MustCompile(`<a href="([^"]*)" class="` + class + `"`)
	}
	olderRE  = hrefRE("pager-older")
	newerRE  = hrefRE("pager-newer")
	latestRE = hrefRE("pager-latest")
)

// auditPage is one page of the audit log as the console shows it.
type auditPage struct {
	Rows                 []auditRow
	Older, Newer, Latest string
	Body                 string
}

func (c *staffClient) auditPage(path string) auditPage {
	c.t.Helper()
	code, body, _ := c.do("GET", path, nil)
	if code != http.StatusOK {
		c.t.Fatalf("GET %s: %d\n%.1000s", path, code, body)
	}
	p := auditPage{Body: body}
	for _, m := range auditRowRE.FindAllStringSubmatch(body, -1) {
		seq, _ := strconv.ParseInt(m[1], 10, 64)
		p.Rows = append(p.Rows, auditRow{Seq: seq, Actor: html.UnescapeString(m[2]), Action: html.UnescapeString(m[3]), Purpose: html.UnescapeString(m[4]), Subject: m[5]})
	}
	link := func(re *regexp.Regexp) string {
		if m := re.FindStringSubmatch(body); m != nil {
			return html.UnescapeString(m[1])
		}
		return ""
	}
	p.Older, p.Newer, p.Latest = link(olderRE), link(newerRE), link(latestRE)
	return p
}

func (p auditPage) seqs() []int64 {
	out := make([]int64, len(p.Rows))
	for i, r := range p.Rows {
		out[i] = r.Seq
	}
	return out
}

// walk follows the pager from path in one direction (older or newer) to
// its end, and returns the pages seen.
func (c *staffClient) walk(path string, older bool) []auditPage {
	c.t.Helper()
	var pages []auditPage
	for path != "" {
		p := c.auditPage(path)
		pages = append(pages, p)
		if len(pages) > 50 {
			c.t.Fatalf("the pager does not end: %s", path)
		}
		path = p.Newer
		if older {
			path = p.Older
		}
	}
	return pages
}

// TestConsoleAuditPaging fills the audit log with more than two pages of
// reads (two subjects, three purposes), then pages through it in the
// console: 100 entries a page, newest first, Older down to entry 1 and
// Newer back up to the head, with no Older link on the page of entry 1 and
// no Newer or Latest on the head page; each filter, alone and combined,
// shows exactly its entries and keeps itself across pages.
func TestConsoleAuditPaging(t *testing.T) {
	s := startServer(t, t.TempDir(), "")
	addStaff(t, s, "auditor@shop.example", "dpo", "auditing all day 2026")
	subs := []string{s.newSubject(map[string]any{"user_id": "audited-0"}), s.newSubject(map[string]any{"user_id": "audited-1"})}
	purposes := []string{"service", "analytics", "personalization"}
	const reads = 230
	for i := range reads {
		// Allowed or refused by consent, each read is audited.
		if code, body, _ := s.do("GET", "/v1/subjects/"+subs[i%2]+"?purpose="+purposes[i%3], s.admin, nil); code != 200 && code != 403 {
			t.Fatalf("read %d: %d %s", i, code, body)
		}
	}
	c := staffSignIn(t, s, "auditor@shop.example", "auditing all day 2026")

	head := c.auditPage("/console/audit?lang=en")
	if len(head.Rows) != 100 || head.Newer != "" || head.Latest != "" || head.Older == "" {
		t.Fatalf("head page: %d rows, newer %q, latest %q, older %q", len(head.Rows), head.Newer, head.Latest, head.Older)
	}
	last := head.Rows[0].Seq
	if last < reads {
		t.Fatalf("the log ends at %d, before the %d reads", last, reads)
	}
	if !strings.Contains(head.Body, fmt.Sprintf("The log ends at entry %d.", last)) || !strings.Contains(head.Body, `id="audit-status"`) {
		t.Errorf("the head page does not say where the log ends or whether it verifies")
	}
	// Older, to entry 1.
	down := c.walk("/console/audit", true)
	var all []int64
	for i, p := range down {
		all = append(all, p.seqs()...)
		if i < len(down)-1 && len(p.Rows) != 100 {
			t.Errorf("page %d: %d rows", i, len(p.Rows))
		}
		if (i == 0) != (p.Newer == "") || (i == 0) != (p.Latest == "") {
			t.Errorf("page %d: newer %q, latest %q", i, p.Newer, p.Latest)
		}
		if p.Latest != "" && p.Latest != "/console/audit" {
			t.Errorf("page %d: latest %q", i, p.Latest)
		}
	}
	oldest := down[len(down)-1]
	if want := descending(last, 1); !slices.Equal(all, want) {
		t.Fatalf("paged older: %d entries, want %d (%v…)", len(all), len(want), all[:min(5, len(all))])
	}
	if oldest.Older != "" || oldest.Rows[len(oldest.Rows)-1].Seq != 1 {
		t.Errorf("the page of entry 1 links older: %q", oldest.Older)
	}
	// Newer, from the page of entry 1 back to the head.
	if oldest.Newer == "" {
		t.Fatal("the page of entry 1 does not link newer")
	}
	up := c.walk(oldest.Newer, false)
	top := up[len(up)-1]
	if top.Newer != "" || top.Latest != "" || top.Rows[0].Seq != last {
		t.Errorf("paging newer ends at %v…, newer %q, latest %q", top.seqs()[:1], top.Newer, top.Latest)
	}
	var back []int64
	for i := len(up) - 1; i >= 0; i-- {
		back = append(back, up[i].seqs()...)
	}
	back = append(back, oldest.seqs()...)
	if !slices.Equal(back, all) {
		t.Errorf("paging newer shows other entries than paging older: %d against %d", len(back), len(all))
	}
	// Past either end: an empty page that links back.
	if p := c.auditPage("/console/audit?before=1"); len(p.Rows) != 0 || p.Older != "" || p.Newer == "" || !strings.Contains(p.Body, "No entries here.") {
		t.Errorf("before the first entry: %d rows, older %q, newer %q", len(p.Rows), p.Older, p.Newer)
	}
	if p := c.auditPage(fmt.Sprintf("/console/audit?after=%d", last)); len(p.Rows) != 0 || p.Newer != "" || p.Older != fmt.Sprintf("/console/audit?before=%d", last+1) {
		t.Errorf("after the head: %d rows, newer %q, older %q", len(p.Rows), p.Newer, p.Older)
	}

	// The reads' actor: the admin key (the newest entries are the
	// sign-in's).
	var actor string
	for _, r := range head.Rows {
		if r.Action == "read" {
			actor = r.Actor
			break
		}
	}
	if !strings.HasPrefix(actor, "apikey:") {
		t.Fatalf("the reads are by %q, not the admin key", actor)
	}
	for _, f := range []struct {
		name  string
		query url.Values
		match func(auditRow) bool
		min   int
	}{
		{"actor", url.Values{"actor": {actor}}, func(r auditRow) bool { return r.Actor == actor }, reads},
		{"action", url.Values{"action": {"read"}}, func(r auditRow) bool { return r.Action == "read" }, reads},
		{"subject", url.Values{"subject": {subs[1]}}, func(r auditRow) bool { return r.Subject == subs[1] }, reads / 2},
		{"purpose", url.Values{"purpose": {"analytics"}}, func(r auditRow) bool { return r.Purpose == "analytics" }, reads / 3},
		{"all four", url.Values{"actor": {actor}, "action": {"read"}, "subject": {subs[0]}, "purpose": {"personalization"}}, func(r auditRow) bool {
			return r.Actor == actor && r.Action == "read" && r.Subject == subs[0] && r.Purpose == "personalization"
		}, reads / 6},
	} {
		pages := c.walk("/console/audit?"+f.query.Encode(), true)
		var got []int64
		for i, p := range pages {
			for _, r := range p.Rows {
				if !f.match(r) {
					t.Errorf("%s: page %d shows %+v", f.name, i, r)
				}
			}
			got = append(got, p.seqs()...)
			for _, link := range []string{p.Older, p.Newer, p.Latest} {
				if link == "" {
					continue
				}
				u, _ := url.Parse(link)
				for k := range f.query {
					if u.Query().Get(k) != f.query.Get(k) {
						t.Errorf("%s: page %d links to %s, without its %s", f.name, i, link, k)
					}
				}
			}
			if !strings.Contains(p.Body, "Only the entries that match the filter are shown.") {
				t.Errorf("%s: page %d does not say it is filtered", f.name, i)
			}
		}
		if len(got) < f.min || !slices.IsSortedFunc(got, func(a, b int64) int { return int(b - a) }) {
			t.Errorf("%s: %d entries (want at least %d), in order %v", f.name, len(got), f.min, slices.IsSortedFunc(got, func(a, b int64) int { return int(b - a) }))
		}
		if n := len(pages); (len(got) > 100) != (n > 1) || pages[0].Newer != "" || pages[n-1].Older != "" {
			t.Errorf("%s: %d entries on %d pages", f.name, len(got), n)
		}
		// Every matching entry of the whole log, none left out.
		var want []int64
		for _, p := range down {
			for _, r := range p.Rows {
				if f.match(r) {
					want = append(want, r.Seq)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d entries, the unfiltered pages hold %d", f.name, len(got), len(want))
		}
	}
	// The form keeps the filter, in both languages.
	p := c.auditPage("/console/audit?lang=zh-CN&purpose=analytics&subject=" + subs[0])
	if !strings.Contains(p.Body, "筛选审计日志") || !strings.Contains(p.Body, `value="`+subs[0]+`"`) || !strings.Contains(p.Body, `<option value="analytics" selected>`) {
		t.Errorf("the zh-CN page does not keep the filter:\n%.3000s", p.Body)
	}
}

// descending returns from, from-1, …, to.
func descending(from, to int64) []int64 {
	var out []int64
	for s := from; s >= to; s-- {
		out = append(out, s)
	}
	return out
}

// TestConsoleAuditRefusals: a role that may not open the audit page still
// cannot, with or without a filter or a page, valid or not (the role is
// checked before the query is read, so a refusal says nothing about the
// parameters); nobody signed in is sent to the sign-in page; SQL, markup,
// an e-mail address, a number too large and values far too long are
// refused with 422 and the form, never a 500, never echoed, and they
// change nothing in the log.
func TestConsoleAuditRefusals(t *testing.T) {
	s := startServer(t, t.TempDir(), "")
	addStaff(t, s, "admin.audit@shop.example", "admin", "the admin password 2026")
	addStaff(t, s, "marketer.audit@shop.example", "marketer", "the marketer password 2026")
	addStaff(t, s, "support.audit@shop.example", "support", "the support password 2026")
	sub := s.newSubject(map[string]any{"user_id": "refusals"})
	queries := []string{"", "?actor=staff:x", "?subject=" + sub, "?purpose=service&before=5", "?after=1", "?before=abc", "?actor=%27+OR+1%3D1--"}
	for _, who := range []string{"marketer", "support"} {
		c := staffSignIn(t, s, who+".audit@shop.example", "the "+who+" password 2026")
		for _, q := range queries {
			code, body, _ := c.do("GET", "/console/audit"+q, nil)
			if code != http.StatusForbidden || !strings.Contains(body, "Your role may not open this page.") ||
				strings.Contains(body, "audit-filter") || strings.Contains(body, `<td class="num">`) || strings.Contains(body, sub) {
				t.Errorf("%s GET /console/audit%s: %d\n%.600s", who, q, code, body)
			}
		}
	}
	anon := &staffClient{t: t, s: s, cookies: map[string]*http.Cookie{}}
	for _, q := range queries {
		if code, _, h := anon.do("GET", "/console/audit"+q, nil); code != http.StatusSeeOther || h.Get("Location") != "/console?expired=1" {
			t.Errorf("signed out, GET /console/audit%s: %d %s", q, code, h.Get("Location"))
		}
	}

	c := staffSignIn(t, s, "admin.audit@shop.example", "the admin password 2026")
	before := c.auditPage("/console/audit?lang=en")
	long := strings.Repeat("a", 40000)
	for _, bad := range []struct {
		query  string
		fields []string
		echo   string // what must not come back
	}{
		{"actor=" + url.QueryEscape("' OR '1'='1"), []string{"actor"}, "OR '1'"},
		{"actor=" + url.QueryEscape(`staff:x"; DROP TABLE audit_log; --`), []string{"actor"}, "DROP TABLE"},
		{"actor=" + url.QueryEscape("<script>alert(1)</script>"), []string{"actor"}, "alert(1)"},
		{"actor=" + url.QueryEscape("someone@example.com"), []string{"actor"}, "someone@example.com"},
		{"actor=" + long, []string{"actor"}, long[:200]},
		{"actor=a&actor=b", []string{"actor"}, ""},
		{"action=" + url.QueryEscape("read' --"), []string{"action"}, "read' --"},
		{"action=READ", []string{"action"}, "READ"},
		{"action=" + url.QueryEscape("read\x00"), []string{"action"}, ""},
		{"subject=" + url.QueryEscape("someone@example.com"), []string{"subject"}, "someone@example.com"},
		{"subject=" + url.QueryEscape("+8613800138000"), []string{"subject"}, "13800138000"},
		{"subject=sub_" + strings.Repeat("a", 25), []string{"subject"}, "sub_aaaa"},
		{"subject=" + url.QueryEscape(sub+"' OR 1=1"), []string{"subject"}, "OR 1=1"},
		{"purpose=nope", []string{"purpose"}, `value="nope"`},
		{"purpose=" + url.QueryEscape("service'; DELETE FROM audit_log; --"), []string{"purpose"}, "DELETE FROM"},
		{"before=0", []string{"before"}, ""},
		{"before=-1", []string{"before"}, ""},
		{"before=abc", []string{"before"}, ""},
		{"before=99999999999999999999", []string{"before"}, "99999999999999999999"},
		{"after=1e3", []string{"after"}, ""},
		{"after=" + url.QueryEscape("1 OR 1=1"), []string{"after"}, "OR 1=1"},
		{"before=10&after=2", []string{"before", "after"}, ""},
		{"actor=staff:ok&subject=bad&purpose=nope", []string{"subject", "purpose"}, ""},
	} {
		code, body, _ := c.do("GET", "/console/audit?"+bad.query, nil)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="audit-filter-error"`) || !strings.Contains(body, `id="audit-filter"`) ||
			strings.Contains(body, `<td class="num">`) || strings.Contains(body, "Something went wrong") {
			t.Errorf("%.80s: %d\n%.800s", bad.query, code, body)
			continue
		}
		for _, f := range bad.fields {
			if !strings.Contains(body, `id="audit-error-`+f+`"`) {
				t.Errorf("%.80s: no message for %s", bad.query, f)
			}
		}
		if bad.echo != "" && strings.Contains(html.UnescapeString(body), bad.echo) {
			t.Errorf("%.80s: the refused value is echoed", bad.query)
		}
	}
	// The valid part of a refused filter stays in the form; a value far
	// beyond any header limit is refused by the server before the page.
	if _, body, _ := c.do("GET", "/console/audit?actor=staff:ok&subject=bad", nil); !strings.Contains(body, `value="staff:ok"`) {
		t.Error("the valid actor of a refused filter was not kept")
	}
	if code, _, _ := c.do("GET", "/console/audit?actor="+strings.Repeat("a", 70<<10), nil); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 70 KiB filter: %d", code)
	}
	if code, body, _ := c.do("GET", "/console/audit?lang=zh-CN&purpose=nope", nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "目的：不是政策中的处理目的。") {
		t.Errorf("a refused filter in zh-CN: %d", code)
	}
	// Nothing was written or removed: the same log, and it verifies.
	after := c.auditPage("/console/audit?lang=en")
	if !slices.Equal(after.seqs(), before.seqs()) || !strings.Contains(after.Body, "The chain and its signed checkpoints verify.") {
		t.Errorf("the log changed: %v then %v\n%s", before.seqs(), after.seqs(), s.log.String())
	}
	if strings.Contains(s.log.String(), "someone@example.com") || strings.Contains(s.log.String(), "DROP TABLE") {
		t.Error("the log of the server holds a refused value")
	}
	// The dpo role keeps the page.
	addStaff(t, s, "dpo.audit@shop.example", "dpo", "the dpo password 2026")
	if p := staffSignIn(t, s, "dpo.audit@shop.example", "the dpo password 2026").auditPage("/console/audit?subject=" + sub); len(p.Rows) == 0 {
		t.Error("the dpo sees no entry of the subject")
	}
}
