package web

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/policy"
)

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
