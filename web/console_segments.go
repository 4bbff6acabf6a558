package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/internal/httpx"
	"github.com/candorhq/candor/policy"
	"github.com/candorhq/candor/segment"
)

// The segments page: the saved segments of the staff member's role
// purposes, a rule editor (JSON) with a live count as the rule is edited
// (debounced in the page: one count per 600 ms pause in typing; the
// person's access report shows the counts of one day as one line), and
// each segment's people through the customer list.

type segmentRow struct {
	candor.Segment
	Rule string
}

type segmentsData struct {
	Purposes []policy.ViewPurpose
	Names    map[string]string
	Segments []segmentRow
	// The form as sent, when it was refused.
	Name, Purpose, Rule string
	Snapshot            bool
	Errors              []ruleError
	Example             string
}

// ruleError is a refusal of a rule: the path it names, and what is wrong
// in the reader's language.
type ruleError struct {
	Path string `json:"path"`
	Text string `json:"text"`
}

// marketingRole reports whether role may use a marketing purpose (one
// resting on consent that is not analytics-only): the roles the segments
// page is for. The admin may use every purpose.
func (s *Server) marketingRole(role string) bool {
	for _, p := range s.Policy.Purposes {
		if strings.HasPrefix(p.ID, "marketing.") || p.ID == "personalization" {
			if s.Policy.RoleAllows(role, p.ID) {
				return true
			}
		}
	}
	return false
}

const exampleRule = `{"all": [
  {"event": "Product Viewed", "within": "30d", "min": 1},
  {"trait": "city", "op": "exists"}
]}`

func (s *Server) consoleSegments(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	s.renderSegments(w, r, m, p, segmentsData{Rule: exampleRule}, http.StatusOK)
}

func (s *Server) renderSegments(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page, d segmentsData, status int) {
	if !s.marketingRole(m.Role) {
		p.Error = text[p.Lang]["err_role"]
		s.render(w, r, http.StatusForbidden, "message", p)
		return
	}
	view := s.Notices.Current().View(p.Lang)
	d.Purposes, d.Names, d.Example = s.rolePurposes(view, m.Role), map[string]string{}, exampleRule
	for _, vp := range view.Purposes {
		d.Names[vp.ID] = vp.Name
	}
	segs, _, err := s.Segments.List(r.Context(), staffActor(m), "", 200)
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	for _, seg := range segs {
		d.Segments = append(d.Segments, segmentRow{Segment: seg, Rule: string(seg.Rule)})
	}
	p.Title, p.Data = text[p.Lang]["segments"], d
	s.render(w, r, status, "console-segments", p)
}

// ruleErrors words a refusal of a rule in the reader's language.
func ruleErrors(l string, err error) []ruleError {
	var ce *candor.Error
	if !errors.As(err, &ce) {
		return nil
	}
	var out []ruleError
	for _, f := range ce.Fields {
		out = append(out, ruleError{Path: f.Field, Text: ruleErrorText(l, f.Message)})
	}
	if len(out) == 0 {
		out = append(out, ruleError{Path: "rule", Text: text[l]["seg_err_other"]})
	}
	return out
}

// ruleErrorText maps the checker's message to the catalog.
func ruleErrorText(l, msg string) string {
	for _, c := range []struct{ prefix, key string }{
		{"not declared in the policy", "seg_err_undeclared"},
		{"not a purpose of the policy", "seg_err_undeclared"},
		{"not declared for", "seg_err_not_for"},
		{"not collected for", "seg_err_not_collected"},
		{"your role sees", "seg_err_masked"},
		{"your role may not use", "seg_err_role"},
		{"unknown member", "seg_err_member"},
		{"required", "seg_err_required"},
		{"want one of", "seg_err_kind"},
		{"1 to 100 characters", "seg_err_name"},
	} {
		if strings.HasPrefix(msg, c.prefix) || strings.Contains(msg, c.prefix) {
			return text[l][c.key]
		}
	}
	return text[l]["seg_err_other"]
}

func (s *Server) consoleCreateSegment(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	d := segmentsData{Name: r.PostFormValue("name"), Purpose: r.PostFormValue("purpose"), Rule: r.PostFormValue("rule"), Snapshot: r.PostFormValue("snapshot") != ""}
	if !s.marketingRole(m.Role) {
		s.renderSegments(w, r, m, p, d, http.StatusForbidden)
		return
	}
	seg, err := s.Segments.Create(r.Context(), staffActor(m), httpx.RequestID(r.Context()), segment.Input{Name: d.Name, Purpose: d.Purpose,
		Rule: json.RawMessage(d.Rule), Snapshot: d.Snapshot})
	switch candor.ErrorCode(err) {
	case "":
		p.Notice = text[p.Lang]["seg_saved"] + " " + seg.Name
		s.renderSegments(w, r, m, p, segmentsData{Rule: exampleRule}, http.StatusOK)
	case candor.EINVALID:
		d.Errors = ruleErrors(p.Lang, err)
		p.Error = text[p.Lang]["seg_refused"]
		s.renderSegments(w, r, m, p, d, http.StatusUnprocessableEntity)
	case candor.EFORBIDDEN:
		p.Error = text[p.Lang]["err_purpose"] + " " + s.denialText(p.Lang, err, d.Purpose)
		s.renderSegments(w, r, m, p, d, http.StatusForbidden)
	default:
		s.fail(w, r, "console", err)
	}
}

// consoleCountSegment answers the page's live count: JSON {"count",
// "count_below"} or {"errors": [{"path","text"}]}.
func (s *Server) consoleCountSegment(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	w.Header().Set("Content-Type", "application/json")
	out := map[string]any{}
	status := http.StatusOK
	if !s.marketingRole(m.Role) {
		status, out["errors"] = http.StatusForbidden, []ruleError{{Path: "purpose", Text: text[p.Lang]["err_role"]}}
	} else {
		name := strings.TrimSpace(r.PostFormValue("name"))
		if len(name) > 300 {
			name = ""
		}
		c, err := s.Segments.CountRule(r.Context(), staffActor(m), httpx.RequestID(r.Context()), r.PostFormValue("purpose"), json.RawMessage(r.PostFormValue("rule")), segment.Label(name, "count"))
		switch candor.ErrorCode(err) {
		case "":
			out["count"] = c.N
			if c.N == nil {
				out["count_below"] = c.Below
				out["text"] = strings.ReplaceAll(text[p.Lang]["seg_fewer"], "{n}", "10")
			}
		case candor.EINVALID:
			status, out["errors"] = http.StatusUnprocessableEntity, ruleErrors(p.Lang, err)
		case candor.EFORBIDDEN:
			status, out["errors"] = http.StatusForbidden, []ruleError{{Path: "purpose", Text: text[p.Lang]["seg_err_role"]}}
		default:
			s.log.Error("web: segment count", "err", err)
			status, out["errors"] = http.StatusInternalServerError, []ruleError{{Path: "", Text: text[p.Lang]["seg_err_other"]}}
		}
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(out)
}

func (s *Server) consoleDeleteSegment(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	err := s.Segments.Delete(r.Context(), staffActor(m), httpx.RequestID(r.Context()), r.PathValue("id"))
	if err != nil && candor.ErrorCode(err) != candor.ENOTFOUND && candor.ErrorCode(err) != candor.EFORBIDDEN {
		s.fail(w, r, "console", err)
		return
	}
	http.Redirect(w, r, "/console/segments", http.StatusSeeOther)
}
