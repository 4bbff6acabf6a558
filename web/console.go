package web

import (
	"context"
	"encoding/base64"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/staff"
)

// The staff console: sign-in with an Argon2id password and a TOTP second
// factor (enrolled by QR code, with recovery codes), then the overview,
// the request queue, the subject look-up through the gate, the audit log,
// the policy and, for admins, the staff accounts.

// Session states of a staff sign-in, in Session.Data.
const (
	stepTOTP  = "totp"  // password checked; waiting for the code
	stepEnrol = "enrol" // password checked; no second factor yet
)

func (s *Server) consoleRoutes() {
	s.mux.HandleFunc("GET /console", s.staffPage(s.consoleOverview))
	s.mux.HandleFunc("GET /console/{$}", s.staffPage(s.consoleOverview))
	s.mux.HandleFunc("POST /console/signin", s.consoleSignIn)
	s.mux.HandleFunc("GET /console/totp", s.pendingPage(stepTOTP, s.consoleTOTPForm))
	s.mux.HandleFunc("POST /console/totp", s.pendingPost(stepTOTP, s.consoleTOTP))
	s.mux.HandleFunc("GET /console/enrol", s.pendingPage(stepEnrol, s.consoleEnrolForm))
	s.mux.HandleFunc("POST /console/enrol", s.pendingPost(stepEnrol, s.consoleEnrol))
	s.mux.HandleFunc("GET /console/requests", s.staffPage(s.consoleRequests, candor.RoleAdmin, gate.RoleDPO))
	s.mux.HandleFunc("POST /console/requests/{id}/verify", s.staffPost(s.consoleVerify, candor.RoleAdmin, gate.RoleDPO))
	s.mux.HandleFunc("POST /console/requests/{id}/refuse", s.staffPost(s.consoleRefuse, candor.RoleAdmin, gate.RoleDPO))
	s.mux.HandleFunc("GET /console/customers", s.staffPage(s.consoleCustomers))
	s.mux.HandleFunc("GET /console/segments", s.staffPage(s.consoleSegments))
	s.mux.HandleFunc("POST /console/segments", s.staffPost(s.consoleCreateSegment))
	s.mux.HandleFunc("POST /console/segments/count", s.staffPost(s.consoleCountSegment))
	s.mux.HandleFunc("POST /console/segments/{id}/delete", s.staffPost(s.consoleDeleteSegment))
	s.campaignRoutes()
	s.mux.HandleFunc("GET /console/subject", s.staffPage(s.consoleSubjectForm))
	s.mux.HandleFunc("POST /console/subject", s.staffPost(s.consoleSubject))
	s.mux.HandleFunc("GET /console/audit", s.staffPage(s.consoleAudit, candor.RoleAdmin, gate.RoleDPO))
	s.mux.HandleFunc("GET /console/policy", s.staffPage(s.consolePolicy))
	s.mux.HandleFunc("GET /console/staff", s.staffPage(s.consoleStaff, candor.RoleAdmin))
	s.mux.HandleFunc("POST /console/staff", s.staffPost(s.consoleAddStaff, candor.RoleAdmin))
	s.mux.HandleFunc("POST /console/staff/{id}/disable", s.staffPost(s.consoleDisable, candor.RoleAdmin))
	s.mux.HandleFunc("POST /console/staff/{id}/reset", s.staffPost(s.consoleResetTOTP, candor.RoleAdmin))
	s.mux.HandleFunc("POST /console/signout", s.consoleSignOut)
}

type staffHandler func(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page)

// staffMember returns the signed-in staff member with a full session, or
// nil; a disabled account has no session.
func (s *Server) staffMember(r *http.Request) (*candor.Session, *candor.StaffMember, error) {
	sess, err := s.session(r, cookieStaff, candor.SessionStaff)
	if err != nil || sess == nil {
		return nil, nil, err
	}
	m, err := s.Staff.Get(r.Context(), sess.Principal)
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return sess, nil, nil
	}
	if err != nil || m.Disabled {
		return sess, nil, err
	}
	return sess, m, nil
}

// staffPage requires a signed-in staff member (with one of roles, when
// given); without a session it shows the sign-in form.
func (s *Server) staffPage(h staffHandler, roles ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, m, err := s.staffMember(r)
		if err != nil {
			s.fail(w, r, "console", err)
			return
		}
		if m == nil || sess.Data != "" {
			if r.URL.Path != "/console" && r.URL.Path != "/console/" {
				http.Redirect(w, r, "/console?expired=1", http.StatusSeeOther)
				return
			}
			s.consoleSignInForm(w, r, "")
			return
		}
		l := lang(w, r)
		p := page{Area: "console", Staff: m, Marketing: s.marketingRole(m.Role), Campaigns: s.Campaigns != nil && s.campaignRole(m.Role), CSRF: s.csrfToken(w, r, cookieStaff), Lang: l}
		if len(roles) > 0 && !slices.Contains(roles, m.Role) {
			s.log.Info("web: console page refused", "path", r.URL.Path, "role", m.Role)
			p.Title, p.Error = text[l]["error"], text[l]["err_role"]
			s.render(w, r, http.StatusForbidden, "message", p)
			return
		}
		h(w, r, m, p)
	}
}

// staffPost is staffPage for a form: it checks the CSRF token first.
func (s *Server) staffPost(h staffHandler, roles ...string) http.HandlerFunc {
	page := s.staffPage(h, roles...)
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.form(w, r, "console", cookieStaff, 64<<10) {
			return
		}
		page(w, r)
	}
}

func (s *Server) consoleSignInForm(w http.ResponseWriter, r *http.Request, msg string) {
	l := lang(w, r)
	p := page{Area: "console", Title: text[l]["console_signin"], CSRF: s.csrfToken(w, r, cookieStaff), Error: msg}
	status := http.StatusOK
	if msg != "" {
		status = http.StatusUnauthorized
	}
	if r.URL.Query().Get("expired") != "" {
		p.Notice = text[l]["expired"]
	}
	s.render(w, r, status, "console-signin", p)
}

// consoleSignIn checks the password, rate-limited per client address and
// per account, then asks for the second factor (or its enrolment).
func (s *Server) consoleSignIn(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r, "console", cookieStaff, 8<<10) {
		return
	}
	l := lang(w, r)
	email, _ := staff.NormalizeEmail(r.PostFormValue("email"))
	now := s.Now()
	if !s.ipLimit.allow("ip:"+clientIP(r), now) || !s.idLimit.allow("staff:"+email, now) {
		if ok, suppressed := s.warnings.Allow("console sign-in"); ok {
			s.log.Warn("web: console sign-in rate-limited", "suppressed", suppressed)
		}
		w.Header().Set("Retry-After", "900")
		s.render(w, r, http.StatusTooManyRequests, "console-signin", page{Area: "console", Title: text[l]["console_signin"],
			CSRF: s.csrfToken(w, r, cookieStaff), Error: text[l]["err_busy"]})
		return
	}
	m, err := s.Staff.SignIn(r.Context(), email, r.PostFormValue("password"))
	if candor.ErrorCode(err) == candor.EUNAUTHORIZED {
		s.log.Info("web: console sign-in failed")
		s.consoleSignInForm(w, r, text[l]["err_signin"])
		return
	}
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	step, next := stepTOTP, "/console/totp"
	if !staff.Enrolled(m) {
		step, next = stepEnrol, "/console/enrol"
	}
	if !s.newStaffSession(w, r, m.ID, step, pendingSession) {
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

type pendingHandler func(w http.ResponseWriter, r *http.Request, sess *candor.Session, p page)

// pendingPage requires a sign-in waiting at step.
func (s *Server) pendingPage(step string, h pendingHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.session(r, cookieStaff, candor.SessionStaff)
		if err != nil {
			s.fail(w, r, "console", err)
			return
		}
		if sess == nil || sess.Data != step {
			http.Redirect(w, r, "/console?expired=1", http.StatusSeeOther)
			return
		}
		l := lang(w, r)
		h(w, r, sess, page{Area: "console", Lang: l, Title: text[l]["console_signin"], CSRF: s.csrfToken(w, r, cookieStaff)})
	}
}

func (s *Server) pendingPost(step string, h pendingHandler) http.HandlerFunc {
	page := s.pendingPage(step, h)
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.form(w, r, "console", cookieStaff, 8<<10) {
			return
		}
		page(w, r)
	}
}

func (s *Server) consoleTOTPForm(w http.ResponseWriter, r *http.Request, _ *candor.Session, p page) {
	s.render(w, r, http.StatusOK, "console-totp", p)
}

// consoleTOTP checks the code (or a recovery code) and turns the pending
// sign-in into a session: a new token, so that the pending one is dead.
func (s *Server) consoleTOTP(w http.ResponseWriter, r *http.Request, sess *candor.Session, p page) {
	if !s.idLimit.allow("totp:"+sess.Principal, s.Now()) {
		p.Error = text[p.Lang]["err_busy"]
		s.render(w, r, http.StatusTooManyRequests, "console-totp", p)
		return
	}
	var err error
	if rc := strings.TrimSpace(r.PostFormValue("recovery")); rc != "" {
		err = s.Staff.UseRecoveryCode(r.Context(), sess.Principal, rc)
	} else {
		err = s.Staff.CheckTOTP(r.Context(), sess.Principal, strings.TrimSpace(r.PostFormValue("code")))
	}
	if ec := candor.ErrorCode(err); ec == candor.EUNAUTHORIZED || ec == candor.EINVALID {
		s.log.Info("web: console second factor refused")
		p.Error = text[p.Lang]["err_totp"]
		s.render(w, r, http.StatusUnauthorized, "console-totp", p)
		return
	}
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	if !s.newStaffSession(w, r, sess.Principal, "", staffSession) {
		return
	}
	s.log.Info("web: console sign-in", "staff", sess.Principal)
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

type enrolData struct {
	Secret string
	QR     template.URL // a data: URL of the PNG drawn here (html/template would refuse a plain string in src)
	Codes  []string
}

// consoleEnrolForm shows a new TOTP secret as a QR code, to the person
// who just proved their password, once.
func (s *Server) consoleEnrolForm(w http.ResponseWriter, r *http.Request, sess *candor.Session, p page) {
	secret, _, png, err := s.Staff.Enrolment(r.Context(), sess.Principal)
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	p.Data = enrolData{Secret: secret, QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}
	status := http.StatusOK
	if p.Error != "" {
		status = http.StatusUnauthorized // a wrong code
	}
	s.render(w, r, status, "console-enrol", p)
}

func (s *Server) consoleEnrol(w http.ResponseWriter, r *http.Request, sess *candor.Session, p page) {
	codes, err := s.Staff.ConfirmEnrolment(r.Context(), sess.Principal, strings.TrimSpace(r.PostFormValue("code")))
	if ec := candor.ErrorCode(err); ec == candor.EINVALID || ec == candor.EUNAUTHORIZED {
		p.Error = text[p.Lang]["err_totp"]
		s.consoleEnrolForm(w, r, sess, p)
		return
	}
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	if !s.newStaffSession(w, r, sess.Principal, "", staffSession) {
		return
	}
	p.Data, p.CSRF = enrolData{Codes: codes}, "" // the page has no form; the new session's token would need its cookie
	s.log.Info("web: console sign-in", "staff", sess.Principal)
	p.Notice = text[p.Lang]["enrolled"]
	s.render(w, r, http.StatusOK, "console-enrol", p)
}

func (s *Server) consoleSignOut(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r, "console", cookieStaff, 8<<10) {
		return
	}
	s.endSession(w, r, cookieStaff)
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// newStaffSession replaces the caller's staff session (a pending one, or
// none) with a new one under a new token, so that a token seen before a
// step cannot be used after it; on failure it answers and returns false.
func (s *Server) newStaffSession(w http.ResponseWriter, r *http.Request, id, step string, life time.Duration) bool {
	s.endSession(w, r, cookieStaff)
	if err := s.startSession(w, r, cookieStaff, candor.SessionStaff, id, step, life); err != nil {
		s.fail(w, r, "console", err)
		return false
	}
	return true
}

// staffActor is who a staff member is to the gate and the audit log.
func staffActor(m *candor.StaffMember) candor.Actor {
	return candor.Actor{ID: "staff:" + m.ID, Role: m.Role}
}

// auditStatus caches the result of verifying the audit chain, which reads
// the whole log, for a minute.
type auditStatus struct {
	mu  sync.Mutex
	at  time.Time
	rep audit.Report
	err error
}

func (a *auditStatus) get(ctx context.Context, now time.Time, verify func(context.Context) (audit.Report, error)) (audit.Report, time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.at.IsZero() || now.Sub(a.at) > time.Minute || a.err != nil {
		a.rep, a.err = verify(ctx)
		a.at = now
	}
	return a.rep, a.at, a.err
}
