package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/httpx"
	"github.com/candorhq/candor/policy"
	"github.com/candorhq/candor/staff"
)

// chartDays is how far back the overview's consent chart looks.
const chartDays = 30

type overviewData struct {
	Subjects      int
	Open, Overdue int
	Due           []candor.RightsRequest
	Chart         template.HTML // an SVG drawn here: no script
	Rates         []purposeRate
	Findings      []candor.MinimizationCount
	From, To      string
	Names         map[string]string
	AuditOK       bool
	AuditEntries  int64
}

type purposeRate struct {
	Purpose, Name, Color string
	Granted, Refused     int
	Rate                 string
}

var palette = []string{"#1f5fbf", "#17663a", "#b5651d", "#8e3aa8", "#b3261e", "#00796b", "#5d4037", "#455a64", "#c2185b"}

func (s *Server) consoleOverview(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	ctx := r.Context()
	now := s.Now().UTC()
	d := overviewData{To: now.Format(time.DateOnly), From: now.AddDate(0, 0, -(chartDays - 1)).Format(time.DateOnly), Names: map[string]string{}}
	view := s.Notices.Current().View(p.Lang)
	for _, vp := range view.Purposes {
		d.Names[vp.ID] = vp.Name
	}
	var err error
	if d.Subjects, err = s.Store.CountSubjects(ctx); err != nil {
		s.fail(w, r, "console", err)
		return
	}
	open, err := s.Rights.Open(ctx)
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	d.Open = len(open)
	for _, q := range open {
		if q.DueAt.Before(now) {
			d.Overdue++
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].DueAt.Before(open[j].DueAt) })
	d.Due = open[:min(5, len(open))]
	days, err := s.Store.ConsentDays(ctx, d.From, d.To)
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	d.Chart, d.Rates = consentChart(days, s.Policy, d.Names, now, p.Lang)
	mins, err := s.Store.Minimization(ctx, d.From, d.To)
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	d.Findings = topFindings(mins, 8)
	p.Title, p.Data = text[p.Lang]["overview"], d
	s.render(w, r, http.StatusOK, "console-overview", p)
}

// topFindings sums the minimization counts over days and returns the
// largest.
func topFindings(in []candor.MinimizationCount, n int) []candor.MinimizationCount {
	type key struct{ event, item, action, detector string }
	sum := map[key]int64{}
	for _, c := range in {
		sum[key{c.Event, c.Item, c.Action, c.Detector}] += c.Count
	}
	out := make([]candor.MinimizationCount, 0, len(sum))
	for k, v := range sum {
		out = append(out, candor.MinimizationCount{Event: k.event, Item: k.item, Action: k.action, Detector: k.detector, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Event+out[i].Item < out[j].Event+out[j].Item
	})
	return out[:min(n, len(out))]
}

// consentChart draws, per consent purpose, the share of the choices
// recorded each day that granted it, over the last chartDays days, as an
// SVG; days without a choice leave a gap. It returns the totals too, for
// the table beside it (which screen readers read instead).
func consentChart(days []candor.ConsentDay, pol *candor.Policy, names map[string]string, now time.Time, lang string) (template.HTML, []purposeRate) {
	const w, h, left, right, top, bottom = 720.0, 240.0, 40.0, 10.0, 10.0, 24.0
	start := now.AddDate(0, 0, -(chartDays - 1)).Format(time.DateOnly)
	index := func(day string) int {
		t, _ := time.Parse(time.DateOnly, day)
		s, _ := time.Parse(time.DateOnly, start)
		return int(t.Sub(s).Hours() / 24)
	}
	byPurpose := map[string]map[int]candor.ConsentDay{}
	for _, d := range days {
		if byPurpose[d.Purpose] == nil {
			byPurpose[d.Purpose] = map[int]candor.ConsentDay{}
		}
		byPurpose[d.Purpose][index(d.Day)] = d
	}
	x := func(i int) float64 { return left + float64(i)*(w-left-right)/float64(chartDays-1) }
	y := func(rate float64) float64 { return top + (1-rate)*(h-top-bottom) }
	var b strings.Builder
	title := map[string]string{candor.LangEN: "Consent rate per purpose, by day", candor.LangZH: "各目的每日同意率"}[lang]
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="chart-title"><title id="chart-title">%s</title>`, w, h, template.HTMLEscapeString(title))
	for _, pct := range []float64{0, .25, .5, .75, 1} {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e3e6ec"/><text x="%.1f" y="%.1f" font-size="10" text-anchor="end" fill="#5b6475">%.0f%%</text>`,
			left, w-right, y(pct), y(pct), left-4, y(pct)+3, pct*100)
	}
	for i := 0; i < chartDays; i += 7 {
		day := now.AddDate(0, 0, -(chartDays-1)+i).Format("01-02")
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="#5b6475">%s</text>`, x(i), h-6, day)
	}
	var rates []purposeRate
	n := 0
	for _, p := range pol.Purposes {
		if !p.NeedsConsent() {
			continue
		}
		color := palette[n%len(palette)]
		n++
		pr := purposeRate{Purpose: p.ID, Name: names[p.ID], Color: color, Rate: "—"}
		type point struct{ x, y float64 }
		var seg []point
		flush := func() {
			switch {
			case len(seg) == 1:
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, seg[0].x, seg[0].y, color)
			case len(seg) > 1:
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="`, color)
				for i, pt := range seg {
					if i > 0 {
						b.WriteByte(' ')
					}
					fmt.Fprintf(&b, "%.1f,%.1f", pt.x, pt.y)
				}
				b.WriteString(`"/>`)
			}
			seg = seg[:0]
		}
		for i := 0; i < chartDays; i++ {
			d, ok := byPurpose[p.ID][i]
			if !ok || d.Granted+d.Refused == 0 {
				flush()
				continue
			}
			pr.Granted += d.Granted
			pr.Refused += d.Refused
			seg = append(seg, point{x(i), y(float64(d.Granted) / float64(d.Granted+d.Refused))})
		}
		flush()
		if t := pr.Granted + pr.Refused; t > 0 {
			pr.Rate = fmt.Sprintf("%.0f%%", 100*float64(pr.Granted)/float64(t))
		}
		rates = append(rates, pr)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()), rates
}

// The request queue.

type requestsData struct {
	Requests []requestRow
}

type requestRow struct {
	candor.RightsRequest
	Overdue, Stuck bool
}

func (s *Server) consoleRequests(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	open, err := s.Rights.Open(r.Context())
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	now := s.Now()
	sort.Slice(open, func(i, j int) bool { return open[i].DueAt.Before(open[j].DueAt) })
	d := requestsData{}
	for _, q := range open {
		d.Requests = append(d.Requests, requestRow{RightsRequest: q, Overdue: q.DueAt.Before(now), Stuck: now.Sub(q.StateSince) > s.Rights.StuckAfter()})
	}
	if k := r.URL.Query().Get("done"); k != "" {
		p.Notice = text[p.Lang]["done_"+k]
	}
	p.Title, p.Data = text[p.Lang]["requests"], d
	s.render(w, r, http.StatusOK, "console-requests", p)
}

// consoleVerify records that the staff member checked the person's
// identity, which carries the request out.
func (s *Server) consoleVerify(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	if _, err := s.Rights.Verify(r.Context(), staffActor(m), r.PathValue("id")); err != nil {
		s.fail(w, r, "console", err)
		return
	}
	http.Redirect(w, r, "/console/requests?done=verified", http.StatusSeeOther)
}

func (s *Server) consoleRefuse(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		s.fail(w, r, "console", candor.Invalid("a refusal gives the person its reason"))
		return
	}
	if _, err := s.Rights.Refuse(r.Context(), staffActor(m), r.PathValue("id"), reason); err != nil {
		s.fail(w, r, "console", err)
		return
	}
	http.Redirect(w, r, "/console/requests?done=refused", http.StatusSeeOther)
}

// The subject look-up: a purpose first, then the read through the gate,
// which audits it. The identifier travels in the form's body, never in a
// URL.

type subjectData struct {
	Purposes []policy.ViewPurpose
	Kinds    []string
	Kind     string
	Value    string
	Purpose  string
	Result   *gate.ReadResult
	Names    map[string]string
	Fields   map[string]string // field id → what it is
	Cats     map[string]string // field id → category, for the words of its values
	NotFound bool
}

func (s *Server) subjectForm(p page) subjectData {
	view := s.Notices.Current().View(p.Lang)
	d := subjectData{Purposes: s.rolePurposes(view, p.Staff.Role), Kinds: []string{"subject_id", candor.IdentEmail, candor.IdentPhone, candor.IdentUserID}, Names: map[string]string{}, Fields: map[string]string{}, Cats: map[string]string{}}
	for _, vp := range view.Purposes {
		d.Names[vp.ID] = vp.Name
	}
	for _, f := range view.Fields {
		d.Fields[f.ID], d.Cats[f.ID] = f.CategoryText, f.Category
	}
	return d
}

func (s *Server) consoleSubjectForm(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	p.Title, p.Data = text[p.Lang]["lookup"], s.subjectForm(p)
	s.render(w, r, http.StatusOK, "console-subject", p)
}

func (s *Server) consoleSubject(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	d := s.subjectForm(p)
	d.Kind, d.Value, d.Purpose = r.PostFormValue("kind"), strings.TrimSpace(r.PostFormValue("value")), r.PostFormValue("purpose")
	p.Title = text[p.Lang]["lookup"]
	if s.Policy.Purpose(d.Purpose) == nil || d.Value == "" || !slices.Contains(d.Kinds, d.Kind) {
		p.Error, p.Data = text[p.Lang]["err_lookup"], d
		s.render(w, r, http.StatusUnprocessableEntity, "console-subject", p)
		return
	}
	actor := staffActor(m)
	// The purpose first: a role that may not read for it learns nothing,
	// not even whether the person is on file, and the attempt is audited.
	if !s.Policy.RoleAllows(m.Role, d.Purpose) {
		if err := s.Auditor.Append(r.Context(), candor.AuditEntry{Time: s.Now(), Actor: actor.ID, Action: candor.ActionRead, Purpose: d.Purpose,
			Decision: candor.DecisionDeny, Reason: gate.CodeRole, TraceID: httpx.RequestID(r.Context())}); err != nil {
			s.fail(w, r, "console", err)
			return
		}
		s.log.Info("web: look-up refused", "purpose", d.Purpose, "role", m.Role)
		p.Error = text[p.Lang]["err_purpose"] + " " + words(p.Lang).why(gate.Decision{Code: gate.CodeRole}, d.Names[d.Purpose], true)
		p.Data = d
		s.render(w, r, http.StatusForbidden, "console-subject", p)
		return
	}
	notFound := func() {
		// A look-up that found nobody is on record too.
		if err := s.Auditor.Append(r.Context(), candor.AuditEntry{Time: s.Now(), Actor: actor.ID, Action: candor.ActionLookup, Purpose: d.Purpose,
			Decision: candor.DecisionNotFound, TraceID: httpx.RequestID(r.Context())}); err != nil {
			s.fail(w, r, "console", err)
			return
		}
		d.NotFound = true
		p.Data = d
		s.render(w, r, http.StatusNotFound, "console-subject", p)
	}
	id := d.Value
	if d.Kind != "subject_id" {
		var err error
		id, err = s.Subjects.Find(r.Context(), d.Kind, d.Value)
		if ec := candor.ErrorCode(err); ec == candor.ENOTFOUND || ec == candor.EINVALID {
			notFound()
			return
		} else if err != nil {
			s.fail(w, r, "console", err)
			return
		}
	} else if !candor.ValidID(candor.PrefixSubject, id) {
		notFound()
		return
	}
	res, err := s.Gate.Read(r.Context(), gate.ReadRequest{Actor: actor, Purpose: d.Purpose, SubjectID: id, RequestID: httpx.RequestID(r.Context()), Events: true})
	switch candor.ErrorCode(err) {
	case "":
	case candor.ENOTFOUND:
		notFound()
		return
	case candor.EFORBIDDEN:
		s.log.Info("web: look-up refused", "purpose", d.Purpose, "role", m.Role)
		p.Error, p.Data = text[p.Lang]["err_purpose"]+" "+s.denialText(p.Lang, err, d.Names[d.Purpose]), d
		s.render(w, r, http.StatusForbidden, "console-subject", p)
		return
	default:
		s.fail(w, r, "console", err)
		return
	}
	d.Result = res
	p.Data = d
	s.render(w, r, http.StatusOK, "console-subject", p)
}

// The customer list: the people a purpose of the staff member's role
// allows now, a page at a time, read by a bulk run of the gate (audited
// per page; each person's report names the run).

// customersPage is how many people the customer list shows at a time.
const customersPage = 50

type customersData struct {
	Purposes   []policy.ViewPurpose // only those the role may use
	Purpose    string
	Names      map[string]string
	Fields     []string          // the purpose's fields, in the policy's order
	FieldNames map[string]string // field id → what it is
	Cats       map[string]string // field id → category
	People     []*gate.Person
	Next       string
	Cols       int
}

// rolePurposes returns the notice's purposes that role may use.
func (s *Server) rolePurposes(view policy.View, role string) []policy.ViewPurpose {
	var out []policy.ViewPurpose
	for _, vp := range view.Purposes {
		if s.Policy.RoleAllows(role, vp.ID) {
			out = append(out, vp)
		}
	}
	return out
}

func (s *Server) consoleCustomers(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	view := s.Notices.Current().View(p.Lang)
	d := customersData{Purposes: s.rolePurposes(view, m.Role), Names: map[string]string{}, FieldNames: map[string]string{}, Cats: map[string]string{}}
	for _, vp := range view.Purposes {
		d.Names[vp.ID] = vp.Name
	}
	for _, f := range view.Fields {
		d.FieldNames[f.ID], d.Cats[f.ID] = f.CategoryText, f.Category
	}
	p.Title = text[p.Lang]["customers"]
	q := r.URL.Query()
	d.Purpose = q.Get("purpose")
	if d.Purpose == "" {
		p.Data = d
		s.render(w, r, http.StatusOK, "console-customers", p)
		return
	}
	cursor := q.Get("cursor")
	if s.Policy.Purpose(d.Purpose) == nil || (cursor != "" && !candor.ValidID(candor.PrefixSubject, cursor)) {
		d.Purpose = ""
		p.Error, p.Data = text[p.Lang]["err_customers"], d
		s.render(w, r, http.StatusUnprocessableEntity, "console-customers", p)
		return
	}
	for _, f := range s.Policy.FieldsFor(d.Purpose) {
		d.Fields = append(d.Fields, f.ID)
	}
	d.Cols = len(d.Fields) + 1
	res, err := s.Gate.Scan(r.Context(), gate.ScanRequest{Actor: staffActor(m), Purpose: d.Purpose, After: cursor, Limit: customersPage, PageSize: customersPage,
		RequestID: httpx.RequestID(r.Context())}, func(x *gate.Person) error {
		d.People = append(d.People, x)
		return nil
	})
	if candor.ErrorCode(err) == candor.EFORBIDDEN {
		// A purpose of another role: refused (and audited by the gate),
		// before anyone is read.
		s.log.Info("web: customer list refused", "purpose", d.Purpose, "role", m.Role)
		purpose := d.Purpose
		d.Purpose, d.Fields = "", nil
		p.Error, p.Data = text[p.Lang]["err_purpose"]+" "+s.denialText(p.Lang, err, d.Names[purpose]), d
		s.render(w, r, http.StatusForbidden, "console-customers", p)
		return
	}
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	d.Next = res.Next
	p.Data = d
	s.render(w, r, http.StatusOK, "console-customers", p)
}

// The audit log, newest first, a page of auditPageSize entries at a time,
// by sequence number (?before=SEQ for older, ?after=SEQ for newer), and
// filtered by who, what, whom and why. The query string holds ids only:
// the form's patterns keep a browser from sending anything else, and the
// handler refuses what is not an id.

// auditPageSize is how many entries a page of the audit log shows.
const auditPageSize = 100

type auditData struct {
	Entries  []candor.AuditEntry
	Report   audit.Report
	Checked  time.Time
	Err      string
	Head     int64
	Newest   int64 // the first entry shown
	Oldest   int64 // the last entry shown
	Filter   auditFilter
	Filtered bool
	Purposes []policy.ViewPurpose
	Names    map[string]string // purpose id → name
	// Actions are the actions Candor writes, offered by the action filter
	// (which takes any dotted word: a log may hold older ones).
	Actions []candor.AuditAction
	// Refused names the query parameters that were not valid; the page
	// then shows the form and why, and no entries.
	Refused []string
	// The pager's links; empty when there is no such page.
	Latest, Newer, Older string
}

// auditFilter is the filter as the form shows it.
type auditFilter struct{ Actor, Action, Subject, Purpose string }

// RefusedParam reports whether the query parameter name was refused.
func (d auditData) RefusedParam(name string) bool { return slices.Contains(d.Refused, name) }

// Limits on the audit filter's ids. An actor is a kind and an id
// ("staff:stf_…", "apikey:key_…", "job:retention"), an action a dotted
// word ("subject.erase"): never an address or free text.
const (
	maxAuditActor  = 120
	maxAuditAction = 64
)

func validAuditWord(s string, max int, extra string) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune(extra, c)) {
			return false
		}
	}
	return true
}

// auditQuery reads the filter and the page from the query string. It
// returns the names of the parameters it refused; a refused value is not
// kept in the filter (the form does not echo it).
func (s *Server) auditQuery(r *http.Request) (candor.AuditQuery, auditFilter, []string) {
	v := r.URL.Query()
	var q candor.AuditQuery
	var f auditFilter
	var refused []string
	one := func(name string) (string, bool) {
		vs := v[name]
		switch {
		case len(vs) == 0 || len(vs) == 1 && vs[0] == "":
			return "", false
		case len(vs) > 1:
			refused = append(refused, name)
			return "", false
		}
		return vs[0], true
	}
	check := func(name string, ok bool, val string, to ...*string) {
		if !ok {
			refused = append(refused, name)
			return
		}
		for _, p := range to {
			*p = val
		}
	}
	if a, set := one("actor"); set {
		check("actor", validAuditWord(a, maxAuditActor, "ABCDEFGHIJKLMNOPQRSTUVWXYZ:._-"), a, &q.Actor, &f.Actor)
	}
	if a, set := one("action"); set {
		check("action", validAuditWord(a, maxAuditAction, "._-"), a, &f.Action)
		q.Action = candor.AuditAction(f.Action)
	}
	if id, set := one("subject"); set {
		check("subject", candor.ValidID(candor.PrefixSubject, id), id, &q.SubjectID, &f.Subject)
	}
	if p, set := one("purpose"); set {
		check("purpose", s.Policy.Purpose(p) != nil || p == candor.PurposeRights, p, &q.Purpose, &f.Purpose)
	}
	seq := func(name string, to *int64) {
		if x, set := one(name); set {
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil || n < 1 || len(x) > 19 {
				refused = append(refused, name)
				return
			}
			*to = n
		}
	}
	seq("before", &q.Before)
	seq("after", &q.After)
	if q.Before > 0 && q.After > 0 {
		refused = append(refused, "before", "after")
	}
	return q, f, refused
}

// link is the audit page's address with the filter and one bound.
func (f auditFilter) link(bound string, seq int64) string {
	v := url.Values{}
	for _, kv := range [][2]string{{"actor", f.Actor}, {"action", f.Action}, {"subject", f.Subject}, {"purpose", f.Purpose}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if bound != "" {
		v.Set(bound, strconv.FormatInt(seq, 10))
	}
	if len(v) == 0 {
		return "/console/audit"
	}
	return "/console/audit?" + v.Encode()
}

func (s *Server) consoleAudit(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	ctx := r.Context()
	q, f, refused := s.auditQuery(r)
	d := auditData{Filter: f, Filtered: f != auditFilter{}, Purposes: s.Notices.Current().View(p.Lang).Purposes, Refused: refused, Names: map[string]string{},
		Actions: candor.AuditActions}
	for _, vp := range d.Purposes {
		d.Names[vp.ID] = vp.Name
	}
	d.Names[candor.PurposeRights] = text[p.Lang]["audit_purpose_rights"]
	p.Title = text[p.Lang]["audit"]
	if len(refused) > 0 {
		s.log.Info("web: audit filter refused", "params", refused) // the names, never the values
		p.Data = d
		s.render(w, r, http.StatusUnprocessableEntity, "console-audit", p)
		return
	}
	head, _, err := s.Store.AuditHead(ctx)
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	d.Head = head
	// One more than a page, to know whether there is another beyond it
	// in the direction asked; the other direction is one probe.
	q.Limit = auditPageSize + 1
	entries, err := s.Store.AuditSearch(ctx, q)
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	// exists reports whether an entry matches the filter with a seq above
	// after (after > 0) or below before (before > 0).
	exists := func(after, before int64) (bool, error) {
		e := q
		e.After, e.Before, e.Limit = after, before, 1
		got, err := s.Store.AuditSearch(ctx, e)
		return len(got) > 0, err
	}
	var older, newer bool
	if q.After > 0 {
		if newer = len(entries) > auditPageSize; newer {
			entries = entries[1:] // the extra one is the newest
		}
		switch {
		case len(entries) > 0:
			older, err = exists(0, entries[len(entries)-1].Seq)
		case q.After < math.MaxInt64:
			older, err = exists(0, q.After+1) // entries at or below After
		default:
			older, err = exists(0, 0)
		}
	} else {
		if older = len(entries) > auditPageSize; older {
			entries = entries[:auditPageSize]
		}
		if q.Before > 0 {
			switch {
			case len(entries) > 0:
				newer, err = exists(entries[0].Seq, 0)
			case q.Before > 1:
				newer, err = exists(q.Before-1, 0) // entries at or above Before
			default:
				newer, err = exists(0, 0)
			}
		}
	}
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	d.Entries = entries
	if len(entries) > 0 {
		d.Newest, d.Oldest = entries[0].Seq, entries[len(entries)-1].Seq
	}
	if newer {
		d.Latest = f.link("", 0)
		switch {
		case len(entries) > 0:
			d.Newer = f.link("after", d.Newest)
		case q.After > 0:
			d.Newer = f.link("after", q.After)
		case q.Before > 1:
			d.Newer = f.link("after", q.Before-1)
		default:
			d.Newer = d.Latest
		}
	}
	if older {
		switch {
		case len(entries) > 0:
			d.Older = f.link("before", d.Oldest)
		case q.Before > 0:
			d.Older = f.link("before", q.Before)
		case q.After < math.MaxInt64:
			d.Older = f.link("before", q.After+1)
		default:
			d.Older = d.Latest
		}
	}
	var verr error
	d.Report, d.Checked, verr = s.auditStatus.get(ctx, s.Now(), func(ctx context.Context) (audit.Report, error) {
		return audit.Verify(ctx, s.Store, audit.VerifyOptions{Anchors: s.Store.Keys(), Keys: s.AuditKeys})
	})
	if verr != nil {
		s.log.Error("web: audit verify", "err", verr)
		d.Err = text[p.Lang]["err_internal"]
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "console-audit", p)
}

// denialText words a refused read for a staff member: the decision when
// the gate says which; else the refusal's code.
func (s *Server) denialText(l string, err error, purpose string) string {
	var dn *gate.Denial
	if errors.As(err, &dn) {
		return words(l).why(dn.Decision, purpose, true)
	}
	var ce *candor.Error
	if errors.As(err, &ce) && ce.Reason != "" {
		return words(l).why(gate.Decision{Code: ce.Reason, Reason: ce.Message}, purpose, true)
	}
	return words(l).refusal(err)
}

// The policy and the notice as people see it.

type policyData struct {
	Notice policy.View
	Roles  []candor.Role
	Names  map[string]string
}

func (s *Server) consolePolicy(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	view := s.Notices.Current().View(p.Lang)
	d := policyData{Notice: view, Roles: s.Policy.Roles, Names: map[string]string{}}
	for _, vp := range view.Purposes {
		d.Names[vp.ID] = vp.Name
	}
	p.Title, p.Data = text[p.Lang]["policy"], d
	s.render(w, r, http.StatusOK, "console-policy", p)
}

// Staff accounts (admins).

type staffData struct {
	Staff []staffRow
	Roles []string
}

type staffRow struct {
	candor.StaffMember
	Enrolled bool
}

func (s *Server) staffRoles() []string {
	roles := []string{candor.RoleAdmin}
	for _, r := range s.Policy.Roles {
		if r.ID != "service" {
			roles = append(roles, r.ID)
		}
	}
	return roles
}

func (s *Server) consoleStaff(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	list, err := s.Staff.List(r.Context())
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	d := staffData{Roles: s.staffRoles()}
	for _, x := range list {
		d.Staff = append(d.Staff, staffRow{StaffMember: x, Enrolled: staff.Enrolled(&x)})
	}
	if k := r.URL.Query().Get("done"); k != "" {
		p.Notice = text[p.Lang]["done_"+k]
	}
	p.Title, p.Data = text[p.Lang]["staff"], d
	s.render(w, r, http.StatusOK, "console-staff", p)
}

func (s *Server) consoleAddStaff(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	ctx := staff.WithActor(r.Context(), "staff:"+m.ID)
	_, err := s.Staff.Add(ctx, r.PostFormValue("email"), r.PostFormValue("name"), r.PostFormValue("role"), r.PostFormValue("password"))
	if ec := candor.ErrorCode(err); ec == candor.EINVALID || ec == candor.ECONFLICT {
		list, _ := s.Staff.List(r.Context())
		d := staffData{Roles: s.staffRoles()}
		for _, x := range list {
			d.Staff = append(d.Staff, staffRow{StaffMember: x, Enrolled: staff.Enrolled(&x)})
		}
		p.Title, p.Data, p.Error = text[p.Lang]["staff"], d, fieldErrors(p.Lang, err)
		s.render(w, r, http.StatusUnprocessableEntity, "console-staff", p)
		return
	}
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	http.Redirect(w, r, "/console/staff?done=staff_added", http.StatusSeeOther)
}

// fieldErrors writes a validation error with its fields, for a form: in
// English, Candor's messages; in another language, the refusal's words and
// the form's labels of the fields at fault.
func fieldErrors(l string, err error) string {
	var ce *candor.Error
	if l != candor.LangEN {
		msg := words(l).refusal(err)
		if errors.As(err, &ce) {
			for _, f := range ce.Fields {
				msg += " " + words(l).code("", f.Field)
			}
		}
		return msg
	}
	msg := candor.ErrorMessage(err)
	if errors.As(err, &ce) {
		for _, f := range ce.Fields {
			msg += " " + f.Field + ": " + f.Message + "."
		}
	}
	return msg
}

func (s *Server) consoleDisable(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	id := r.PathValue("id")
	if id == m.ID {
		s.fail(w, r, "console", candor.Invalid("you cannot disable your own account"))
		return
	}
	if err := s.Staff.Disable(staff.WithActor(r.Context(), "staff:"+m.ID), id); err != nil {
		s.fail(w, r, "console", err)
		return
	}
	http.Redirect(w, r, "/console/staff?done=staff_disabled", http.StatusSeeOther)
}

func (s *Server) consoleResetTOTP(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	if err := s.Staff.ResetTOTP(staff.WithActor(r.Context(), "staff:"+m.ID), r.PathValue("id")); err != nil {
		s.fail(w, r, "console", err)
		return
	}
	http.Redirect(w, r, "/console/staff?done=staff_reset", http.StatusSeeOther)
}
