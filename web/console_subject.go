package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/httpx"
	"github.com/candorhq/candor/policy"
)

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
