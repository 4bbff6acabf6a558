package web

import (
	"errors"
	"net/http"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/staff"
)

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
