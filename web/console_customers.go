package web

import (
	"net/http"
	"strings"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/httpx"
	"github.com/candorhq/candor/policy"
)

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
	// Segment is the saved segment the list is of, if any.
	Segment *candor.Segment
	// Campaign is the campaign whose preview each row offers, if any.
	Campaign string
	Cols     int
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
	if c := q.Get("campaign"); candor.ValidID(candor.PrefixCampaign, c) && s.campaignRole(m.Role) {
		d.Campaign = c
		d.Cols++
	}
	var next string
	var err error
	if id := q.Get("segment"); id != "" && s.Segments != nil {
		// The segment's people, through the gate for its purpose.
		if d.Segment, err = s.Segments.Get(r.Context(), staffActor(m), httpx.RequestID(r.Context()), id); err == nil && d.Segment.Purpose != d.Purpose {
			err = candor.Invalid("the segment is for another purpose")
		}
		if candor.ErrorCode(err) == candor.EINVALID || candor.ErrorCode(err) == candor.ENOTFOUND {
			d.Purpose, d.Segment = "", nil
			p.Error, p.Data = text[p.Lang]["err_customers"], d
			s.render(w, r, http.StatusUnprocessableEntity, "console-customers", p)
			return
		}
		if err == nil {
			next, err = s.Segments.People(r.Context(), staffActor(m), httpx.RequestID(r.Context()), d.Segment, cursor, customersPage, nil, func(x *gate.Person) error {
				d.People = append(d.People, x)
				return nil
			})
		}
		if candor.ErrorCode(err) == candor.EFORBIDDEN && strings.Contains(err.Error(), "fewer than") {
			d.Purpose, d.Fields, d.People = "", nil, nil
			p.Error, p.Data = strings.ReplaceAll(text[p.Lang]["seg_fewer_list"], "{n}", "10"), d
			s.render(w, r, http.StatusForbidden, "console-customers", p)
			return
		}
	} else {
		var res gate.ScanResult
		res, err = s.Gate.Scan(r.Context(), gate.ScanRequest{Actor: staffActor(m), Purpose: d.Purpose, After: cursor, Limit: customersPage, PageSize: customersPage,
			RequestID: httpx.RequestID(r.Context())}, func(x *gate.Person) error {
			d.People = append(d.People, x)
			return nil
		})
		next = res.Next
	}
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
	d.Next = next
	p.Data = d
	s.render(w, r, http.StatusOK, "console-customers", p)
}
