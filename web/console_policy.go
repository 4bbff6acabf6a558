package web

import (
	"net/http"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/policy"
)

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
