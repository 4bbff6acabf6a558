package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/policy"
	"github.com/candorhq/candor/rights"
)

// The privacy portal: a person signs in with a one-time code sent to the
// e-mail or phone on file, sees everything held about them (the access
// report, read through the gate and audited), switches consents, downloads
// the export through a single-use link, and files and follows requests.
func (s *Server) portalRoutes() {
	s.mux.HandleFunc("GET /privacy", s.portalSignIn)
	s.mux.HandleFunc("GET /privacy/{$}", s.portalSignIn)
	s.mux.HandleFunc("POST /privacy/start", s.portalStart)
	s.mux.HandleFunc("GET /privacy/code", s.portalCode)
	s.mux.HandleFunc("POST /privacy/code", s.portalFinish)
	s.mux.HandleFunc("GET /privacy/home", s.personal(s.portalHome))
	s.mux.HandleFunc("POST /privacy/consents", s.personalPost(s.portalConsents))
	s.mux.HandleFunc("POST /privacy/export", s.personalPost(s.portalExport))
	s.mux.HandleFunc("GET /privacy/download", s.personal(s.portalDownload))
	s.mux.HandleFunc("POST /privacy/request", s.personalPost(s.portalRequest))
	s.mux.HandleFunc("POST /privacy/change", s.personalPost(s.portalChange))
	s.mux.HandleFunc("POST /privacy/change/confirm", s.personalPost(s.portalChangeConfirm))
	s.mux.HandleFunc("POST /privacy/signout", s.portalSignOut)
}

type personHandler func(w http.ResponseWriter, r *http.Request, sess *candor.Session)

// personal requires a person's session; without one it sends to sign-in.
func (s *Server) personal(h personHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.session(r, cookiePerson, candor.SessionPerson)
		if err != nil {
			s.fail(w, r, "privacy", err)
			return
		}
		if sess == nil {
			http.Redirect(w, r, "/privacy?expired=1", http.StatusSeeOther)
			return
		}
		h(w, r, sess)
	}
}

// personalPost is personal for a form: it checks the CSRF token too.
func (s *Server) personalPost(h personHandler) http.HandlerFunc {
	return s.personal(func(w http.ResponseWriter, r *http.Request, sess *candor.Session) {
		if !s.form(w, r, "privacy", cookiePerson, 64<<10) {
			return
		}
		h(w, r, sess)
	})
}

func (s *Server) portalSignIn(w http.ResponseWriter, r *http.Request) {
	if sess, _ := s.session(r, cookiePerson, candor.SessionPerson); sess != nil {
		http.Redirect(w, r, "/privacy/home", http.StatusSeeOther)
		return
	}
	p := page{Area: "privacy", Title: text[lang(w, r)]["portal"], CSRF: s.csrfToken(w, r, cookiePerson)}
	if r.URL.Query().Get("expired") != "" {
		p.Notice = text[lang(w, r)]["expired"]
	}
	if r.URL.Query().Get("erased") != "" {
		p.Notice = text[lang(w, r)]["erased_done"]
	}
	s.render(w, r, http.StatusOK, "signin", p)
}

// portalStart sends a code. Its answer is the same whether or not the
// identifier is on file.
func (s *Server) portalStart(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r, "privacy", cookiePerson, 8<<10) {
		return
	}
	l := lang(w, r)
	value := strings.TrimSpace(r.PostFormValue("identifier"))
	kind := candor.IdentEmail
	if value != "" && !strings.Contains(value, "@") {
		kind = candor.IdentPhone
	}
	if value == "" || len(value) > 254 {
		s.render(w, r, http.StatusUnprocessableEntity, "signin", page{Area: "privacy", Title: text[l]["portal"], CSRF: s.csrfToken(w, r, cookiePerson), Error: text[l]["err_identifier"]})
		return
	}
	id, _, err := s.Verifier.Start(r.Context(), kind, value, clientIP(r))
	if err != nil {
		if code := candor.ErrorCode(err); code == candor.EINVALID || code == candor.EBUSY {
			msg := text[l]["err_identifier"]
			if code == candor.EBUSY {
				msg = text[l]["err_busy"]
			}
			s.log.Info("web: code refused", "code", code)
			s.render(w, r, statusOf(code), "signin", page{Area: "privacy", Title: text[l]["portal"], CSRF: s.csrfToken(w, r, cookiePerson), Error: msg})
			return
		}
		s.fail(w, r, "privacy", err)
		return
	}
	setCookie(w, cookieChallenge, id, linkLifetime)
	http.Redirect(w, r, "/privacy/code", http.StatusSeeOther)
}

func statusOf(code string) int {
	switch code {
	case candor.EBUSY:
		return http.StatusTooManyRequests
	case candor.EUNAUTHORIZED:
		return http.StatusUnauthorized
	}
	return http.StatusUnprocessableEntity
}

func (s *Server) portalCode(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieChallenge); err != nil || c.Value == "" {
		http.Redirect(w, r, "/privacy", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "code", page{Area: "privacy", Title: text[lang(w, r)]["portal"], CSRF: s.csrfToken(w, r, cookiePerson)})
}

// portalFinish checks the code, files the access request that the visit
// is (so that each sign-in is on record) and starts the session.
func (s *Server) portalFinish(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r, "privacy", cookiePerson, 8<<10) {
		return
	}
	l := lang(w, r)
	c, err := r.Cookie(cookieChallenge)
	if err != nil || c.Value == "" {
		http.Redirect(w, r, "/privacy?expired=1", http.StatusSeeOther)
		return
	}
	code := strings.TrimSpace(r.PostFormValue("code"))
	token, _, err := s.Verifier.Finish(r.Context(), c.Value, code, clientIP(r))
	if err != nil {
		ec := candor.ErrorCode(err)
		if ec == candor.EINVALID || ec == candor.EBUSY || ec == candor.EUNAUTHORIZED || ec == candor.ENOTFOUND {
			s.log.Info("web: code not accepted", "code", ec)
			msg := text[l]["err_code"]
			if ec == candor.EBUSY {
				msg = text[l]["err_busy"]
			}
			s.render(w, r, statusOf(ec), "code", page{Area: "privacy", Title: text[l]["portal"], CSRF: s.csrfToken(w, r, cookiePerson), Error: msg})
			return
		}
		s.fail(w, r, "privacy", err)
		return
	}
	proof, err := s.Verifier.Check(token)
	if err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	req, err := s.Rights.File(r.Context(), gate.SubjectActor(proof.SubjectID), rights.Input{Type: candor.RightAccess, SubjectID: proof.SubjectID,
		Verified: true, VerifiedBy: "code:" + proof.Kind})
	if err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	clearCookie(w, cookieChallenge)
	s.endSession(w, r, cookiePerson)
	if err := s.startSession(w, r, cookiePerson, candor.SessionPerson, proof.SubjectID, req.ID, personSession); err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	http.Redirect(w, r, "/privacy/home", http.StatusSeeOther)
}

// homeData is what the portal's home page shows.
type homeData struct {
	Report     *gate.Report
	Notice     policy.View
	Purposes   []purposeSwitch
	Requests   []candor.RightsRequest
	Fields     []policy.ViewField // the fields a person may ask to correct
	Objectable []policy.ViewPurpose
	Names      map[string]string // purpose id → name
	FieldNames map[string]string // field id → what it is, in words
	Download   string            // a single-use export link, when one was made
	Idents     []identRow        // how we recognize the person, in words
}

type purposeSwitch struct {
	ID, Name, Description string
	Separate, Allowed     bool
}

func (s *Server) portalHome(w http.ResponseWriter, r *http.Request, sess *candor.Session) {
	s.home(w, r, sess, page{})
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, sess *candor.Session, p page) {
	l := lang(w, r)
	rep, err := s.Gate.Report(r.Context(), gate.SubjectActor(sess.Principal), sess.Principal, sess.Data)
	if candor.ErrorCode(err) == candor.EGONE || candor.ErrorCode(err) == candor.ENOTFOUND {
		s.endSession(w, r, cookiePerson)
		http.Redirect(w, r, "/privacy?erased=1", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	view := s.Notices.Current().View(l)
	d := homeData{Report: rep, Notice: view, Names: map[string]string{}, FieldNames: map[string]string{}, Idents: identRows(rep.Identifiers)}
	allowed := map[string]gate.Decision{}
	for _, dec := range rep.Decisions {
		allowed[dec.Purpose] = dec
	}
	for _, vp := range view.Purposes {
		d.Names[vp.ID] = vp.Name
		if vp.NeedsConsent {
			dec := allowed[vp.ID]
			d.Purposes = append(d.Purposes, purposeSwitch{ID: vp.ID, Name: vp.Name, Description: vp.Description, Separate: vp.SeparateConsent, Allowed: dec.Allow})
		}
		if vp.Basis != string(candor.BasisLegalObligation) && vp.Basis != string(candor.BasisContract) {
			d.Objectable = append(d.Objectable, vp)
		}
	}
	for _, f := range view.Fields {
		d.FieldNames[f.ID] = f.CategoryText
		if rights.SelfCorrectable(s.Policy, f.ID) {
			d.Fields = append(d.Fields, f)
		}
	}
	if d.Requests, err = s.Store.Requests(r.Context(), candor.RequestFilter{SubjectID: sess.Principal, Limit: 50}); err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	slices.SortFunc(d.Requests, func(a, b candor.RightsRequest) int { return b.ReceivedAt.Compare(a.ReceivedAt) })
	for i := range d.Requests {
		// A refusal reason typed by staff is sealed: the gate opens it for
		// the person, and audits the reading. The copy shown is in memory.
		q := &d.Requests[i]
		if len(q.Details.ReasonSealed) == 0 {
			if q.Details.Reason != "" || q.Details.ReasonCode != "" {
				// Candor's own reason, in the page's language.
				q.Details.Reason = words(l).requestRefusal(q.Details.ReasonCode, q.Details.Reason)
			}
			continue
		}
		reason, err := s.Gate.RefusalReason(r.Context(), gate.SubjectActor(sess.Principal), q)
		if err != nil {
			s.fail(w, r, "privacy", err)
			return
		}
		q.Details.Reason, q.Details.ReasonSealed = reason, nil
	}
	if p.Notice == "" {
		if k := r.URL.Query().Get("done"); k != "" {
			p.Notice = text[l]["done_"+k]
		}
	}
	if dl, ok := p.Data.(string); ok {
		d.Download = dl
	}
	p.Area, p.Title, p.CSRF, p.Data = "privacy", text[l]["portal"], s.csrfToken(w, r, cookiePerson), d
	status := http.StatusOK
	if p.Error != "" {
		status = http.StatusUnprocessableEntity // a request that could not be filed, shown with the page
	}
	s.render(w, r, status, "home", p)
}

// portalConsents records the switches: every consent purpose, each on or
// off, against the current notice. A withdrawal applies from the next
// decision on.
func (s *Server) portalConsents(w http.ResponseWriter, r *http.Request, sess *candor.Session) {
	choices := map[string]bool{}
	for _, p := range s.Policy.Purposes {
		if p.NeedsConsent() {
			choices[p.ID] = r.PostFormValue("purpose:"+p.ID) == "on"
		}
	}
	_, err := s.Ledger.Record(r.Context(), gate.SubjectActor(sess.Principal), sess.Data, sess.Principal, consent.Choice{
		NoticeVersion: s.Notices.Current().Version, Choices: choices, Channel: "portal", GPC: r.Header.Get("Sec-GPC") == "1", Language: lang(w, r)})
	if err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	http.Redirect(w, r, "/privacy/home?done=consents#consents", http.StatusSeeOther)
}

// portalExport files an export request (carried out at once: the identity
// was verified) and offers its archive through a single-use link that
// expires, and that works only with this session.
func (s *Server) portalExport(w http.ResponseWriter, r *http.Request, sess *candor.Session) {
	if !s.requests.allow(sess.Principal, s.Now()) {
		s.fail(w, r, "privacy", candor.Errorf(candor.EBUSY, "too many requests; try again later"))
		return
	}
	req, err := s.Rights.File(r.Context(), gate.SubjectActor(sess.Principal), rights.Input{Type: candor.RightExport, SubjectID: sess.Principal,
		Verified: true, VerifiedBy: "portal"})
	if err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	token, hash := newToken()
	now := s.Now().UTC()
	if err := s.Sessions.PutSession(r.Context(), candor.Session{Hash: hash, Kind: candor.SessionLink, Principal: sess.Principal, Data: req.ID,
		CreatedAt: now, ExpiresAt: now.Add(linkLifetime)}); err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	s.home(w, r, sess, page{Notice: text[lang(w, r)]["done_export"], Data: "/privacy/download?t=" + token})
}

// portalDownload serves the export once: the link's token is taken (a
// second use finds nothing), and must belong to the signed-in person.
func (s *Server) portalDownload(w http.ResponseWriter, r *http.Request, sess *candor.Session) {
	t := r.URL.Query().Get("t")
	if t == "" || len(t) > 100 {
		s.fail(w, r, "privacy", candor.Errorf(candor.ENOTFOUND, "this link is not valid"))
		return
	}
	link, err := s.Sessions.TakeSession(r.Context(), tokenHash(t), candor.SessionLink, sess.Principal, s.Now().UTC())
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		s.fail(w, r, "privacy", candor.Errorf(candor.ENOTFOUND, "this link was used already or has expired; prepare a new export"))
		return
	}
	if err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	rep, err := s.Gate.Report(r.Context(), gate.SubjectActor(sess.Principal), sess.Principal, link.Data)
	if err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	b, err := gate.ExportZip(rep)
	if err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="my-data-`+link.Data+`.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// portalRequest files a rectification, erasure, restriction or objection.
func (s *Server) portalRequest(w http.ResponseWriter, r *http.Request, sess *candor.Session) {
	l := lang(w, r)
	if !s.requests.allow(sess.Principal, s.Now()) {
		s.fail(w, r, "privacy", candor.Errorf(candor.EBUSY, "too many requests; try again later"))
		return
	}
	in := rights.Input{Type: r.PostFormValue("type"), SubjectID: sess.Principal, Verified: true, VerifiedBy: "portal"}
	switch in.Type {
	case candor.RightRectify:
		field, value := r.PostFormValue("field"), strings.TrimSpace(r.PostFormValue("value"))
		if field == "" || value == "" || !rights.SelfCorrectable(s.Policy, field) {
			s.home(w, r, sess, page{Error: text[l]["err_rectify"]})
			return
		}
		in.Traits = map[string]any{field: value}
	case candor.RightErase:
		if r.PostFormValue("confirm") != "on" {
			s.home(w, r, sess, page{Error: text[l]["err_confirm"]})
			return
		}
		in.Suppress = r.PostFormValue("suppress") == "on"
	case candor.RightRestrict:
		in.Lift = r.PostFormValue("lift") == "on"
	case candor.RightObject:
		in.Purposes = r.PostForm["purposes"]
		if len(in.Purposes) == 0 {
			s.home(w, r, sess, page{Error: text[l]["err_object"]})
			return
		}
	default:
		s.fail(w, r, "privacy", candor.Invalid("unknown request type"))
		return
	}
	req, err := s.Rights.File(r.Context(), gate.SubjectActor(sess.Principal), in)
	if err != nil {
		if code := candor.ErrorCode(err); code == candor.EINVALID || code == candor.ECONFLICT {
			s.log.Info("web: request refused", "type", in.Type, "code", code)
			s.home(w, r, sess, page{Error: text[l]["err_request"] + " " + words(l).refusal(err)})
			return
		}
		s.fail(w, r, "privacy", err)
		return
	}
	if in.Type == candor.RightErase && req.Status == candor.RequestDone {
		s.endSession(w, r, cookiePerson)
		http.Redirect(w, r, "/privacy?erased=1", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/privacy/home?done=request#requests", http.StatusSeeOther)
}

// changeData is what the page that asks for the code of a new address
// carries back.
type changeData struct {
	Kind, Value string
}

// portalChange starts the change of the person's e-mail or phone: a code
// goes to the new address, which replaces the old one only once the code
// comes back (so that nobody with a session can put an address of theirs
// in place of the person's, and lock them out).
func (s *Server) portalChange(w http.ResponseWriter, r *http.Request, sess *candor.Session) {
	l := lang(w, r)
	kind, value := r.PostFormValue("kind"), strings.TrimSpace(r.PostFormValue("value"))
	if (kind != candor.IdentEmail && kind != candor.IdentPhone) || value == "" || len(value) > 254 {
		s.home(w, r, sess, page{Error: text[l]["err_identifier"]})
		return
	}
	id, _, err := s.Verifier.StartChange(r.Context(), sess.Principal, sess.Hash, kind, value, clientIP(r))
	if ec := candor.ErrorCode(err); ec == candor.EBUSY {
		// A limit (per person, session, address or client): a page of its
		// own, answered 429, that says so.
		s.fail(w, r, "privacy", err)
		return
	} else if ec == candor.EINVALID {
		s.home(w, r, sess, page{Error: text[l]["err_identifier"]})
		return
	} else if err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	setCookie(w, cookieChange, id, linkLifetime)
	s.render(w, r, http.StatusOK, "change", page{Area: "privacy", Title: text[l]["portal"], CSRF: s.csrfToken(w, r, cookiePerson),
		Data: changeData{Kind: kind, Value: value}})
}

// portalChangeConfirm checks the code for the new address and files the
// rectification that puts it in place of the old one (told to the
// recipients that received the old one, as every rectification is).
func (s *Server) portalChangeConfirm(w http.ResponseWriter, r *http.Request, sess *candor.Session) {
	l := lang(w, r)
	kind, value := r.PostFormValue("kind"), strings.TrimSpace(r.PostFormValue("value"))
	c, err := r.Cookie(cookieChange)
	if err != nil || c.Value == "" {
		s.home(w, r, sess, page{Error: text[l]["err_code"]})
		return
	}
	err = s.Verifier.FinishChange(r.Context(), c.Value, strings.TrimSpace(r.PostFormValue("code")), sess.Principal, kind, value, clientIP(r))
	if ec := candor.ErrorCode(err); ec == candor.EINVALID || ec == candor.EBUSY {
		s.log.Info("web: change code not accepted", "code", ec)
		s.render(w, r, statusOf(ec), "change", page{Area: "privacy", Title: text[l]["portal"], CSRF: s.csrfToken(w, r, cookiePerson),
			Error: text[l]["err_code"], Data: changeData{Kind: kind, Value: value}})
		return
	} else if err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	clearCookie(w, cookieChange)
	_, err = s.Rights.File(r.Context(), gate.SubjectActor(sess.Principal), rights.Input{Type: candor.RightRectify, SubjectID: sess.Principal,
		Verified: true, VerifiedBy: "code:" + kind, Traits: map[string]any{kind: value}, Proved: kind})
	if candor.ErrorCode(err) == candor.ECONFLICT {
		// The person proved they control the address: they may learn that
		// another account holds it.
		s.home(w, r, sess, page{Error: text[l]["err_change_taken"]})
		return
	}
	if err != nil {
		s.fail(w, r, "privacy", err)
		return
	}
	http.Redirect(w, r, "/privacy/home?done=changed#requests", http.StatusSeeOther)
}

func (s *Server) portalSignOut(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r, "privacy", cookiePerson, 8<<10) {
		return
	}
	s.endSession(w, r, cookiePerson)
	http.Redirect(w, r, "/privacy", http.StatusSeeOther)
}
