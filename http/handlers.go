package http

import (
	_ "embed"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/httpx"
	"github.com/candorhq/candor/subjects"
)

//go:embed openapi.json
var openapiDoc []byte

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := s.Store.Ping(r.Context()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request, _ *principal) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiDoc)
	return nil
}

func (s *Server) notice(w http.ResponseWriter, r *http.Request, _ *principal) error {
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = httpx.PreferredLang(r.Header.Get("Accept-Language"))
	}
	if lang != candor.LangEN && lang != candor.LangZH {
		return candor.Invalid("unknown language", candor.FieldError{Field: "lang", Message: `want "zh-CN" or "en"`})
	}
	w.Header().Set("Vary", "Accept-Language")
	writeJSON(w, http.StatusOK, s.Ledger.Notices().Current().View(lang))
	return nil
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request, _ *principal) error {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, map[string]any{"keys": s.JWKs})
	return nil
}

type subjectRequest struct {
	UserID      string         `json:"user_id"`
	AnonymousID string         `json:"anonymous_id"`
	Email       string         `json:"email"`
	Phone       string         `json:"phone"`
	Traits      map[string]any `json:"traits"`
}

func (s *Server) createSubject(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req subjectRequest
	if err := decode(w, r, MaxBodyBytes, &req); err != nil {
		return err
	}
	id, created, err := s.Subjects.Upsert(r.Context(), p.Actor, requestID(r.Context()), subjects.Input{
		UserID: req.UserID, AnonymousID: req.AnonymousID, Email: req.Email, Phone: req.Phone, Traits: req.Traits,
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/subjects/"+id)
	}
	writeJSON(w, status, map[string]any{"id": id, "created": created})
	return nil
}

func (s *Server) readSubject(w http.ResponseWriter, r *http.Request, p *principal) error {
	id := r.PathValue("id")
	q := r.URL.Query()
	purpose := q.Get("purpose")
	if purpose == "" {
		return candor.Invalid("purpose is required: every read names why", candor.FieldError{Field: "purpose", Message: "required"})
	}
	if !candor.ValidID(candor.PrefixSubject, id) {
		return candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	var fields []string
	if f := q.Get("fields"); f != "" {
		fields = strings.Split(f, ",")
	}
	res, err := s.Gate.Read(r.Context(), gate.ReadRequest{Actor: p.Actor, Purpose: purpose, SubjectID: id, Fields: fields, RequestID: requestID(r.Context())})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// MaxListLimit bounds the limit of GET /v1/subjects.
const MaxListLimit = 1000

// listSubjects serves GET /v1/subjects?purpose=P&limit=&cursor=: a page of
// the people whose decision allows P now, with the fields the gate lets
// through for it (masked per role), read by one bulk run of the gate (one
// audit entry for the page, its members kept for each person's report).
// The cursor is the last subject id of the page before; next_cursor is
// absent on the last page.
func (s *Server) listSubjects(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	purpose := q.Get("purpose")
	if purpose == "" {
		return candor.Invalid("purpose is required: every read names why", candor.FieldError{Field: "purpose", Message: "required"})
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			return candor.Invalid("limit is a number from 1 to 1000", candor.FieldError{Field: "limit", Message: "want 1 to 1000"})
		}
		limit = n
	}
	cursor := q.Get("cursor")
	if cursor != "" && !candor.ValidID(candor.PrefixSubject, cursor) {
		return candor.Invalid("cursor is the next_cursor of the page before", candor.FieldError{Field: "cursor", Message: "not a cursor"})
	}
	var fields []string
	if f := q.Get("fields"); f != "" {
		fields = strings.Split(f, ",")
	}
	if id := q.Get("segment"); id != "" {
		return s.listSegmentPeople(w, r, p, purpose, id, cursor, limit, fields)
	}
	people := make([]*gate.Person, 0, min(limit, 100))
	res, err := s.Gate.Scan(r.Context(), gate.ScanRequest{Actor: p.Actor, Purpose: purpose, Fields: fields, After: cursor, Limit: limit,
		PageSize: limit, RequestID: requestID(r.Context())}, func(x *gate.Person) error {
		people = append(people, x)
		return nil
	})
	if err != nil {
		return err
	}
	out := map[string]any{"subjects": people, "run": res.RunID}
	if res.Next != "" {
		out["next_cursor"] = res.Next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// searchSubject serves POST /v1/subjects/search: a look-up by one
// identifier, given in the body (never in a URL, where logs and proxies
// keep it), then a read through the gate for the purpose. The role's
// purpose is checked before anyone is looked up, and a look-up that finds
// nobody is audited too.
func (s *Server) searchSubject(w http.ResponseWriter, r *http.Request, p *principal) error {
	var in struct {
		Purpose     string   `json:"purpose"`
		Email       string   `json:"email"`
		Phone       string   `json:"phone"`
		UserID      string   `json:"user_id"`
		AnonymousID string   `json:"anonymous_id"`
		Fields      []string `json:"fields"`
	}
	if err := decode(w, r, 4096, &in); err != nil {
		return err
	}
	if in.Purpose == "" {
		return candor.Invalid("purpose is required: every read names why", candor.FieldError{Field: "purpose", Message: "required"})
	}
	var kind, value string
	n := 0
	for _, c := range []struct{ kind, value string }{{candor.IdentEmail, in.Email}, {candor.IdentPhone, in.Phone}, {candor.IdentUserID, in.UserID}, {candor.IdentAnonymousID, in.AnonymousID}} {
		if c.value != "" {
			kind, value, n = c.kind, c.value, n+1
		}
	}
	if n != 1 {
		return candor.Invalid("name the person by exactly one of email, phone, user_id or anonymous_id",
			candor.FieldError{Field: "email", Message: "exactly one identifier required"})
	}
	if s.Policy.Purpose(in.Purpose) == nil {
		return candor.Invalid("unknown purpose", candor.FieldError{Field: "purpose", Message: "not declared in the policy"})
	}
	if !s.Policy.RoleAllows(p.Role, in.Purpose) {
		// Refused, and audited, before anyone is looked up: the answer
		// says nothing about whether the person is known.
		_, err := s.Gate.Read(r.Context(), gate.ReadRequest{Actor: p.Actor, Purpose: in.Purpose, RequestID: requestID(r.Context())})
		return err
	}
	id, err := s.Subjects.Find(r.Context(), kind, value)
	if code := candor.ErrorCode(err); code == candor.ENOTFOUND || code == candor.EINVALID {
		if aerr := s.Auditor.Append(r.Context(), candor.AuditEntry{Time: s.Now(), Actor: p.ID, Action: candor.ActionSubjectSearch, Purpose: in.Purpose,
			Fields: []string{kind}, Decision: candor.DecisionDeny, Reason: "not_found", TraceID: requestID(r.Context())}); aerr != nil {
			return aerr
		}
		return candor.Errorf(candor.ENOTFOUND, "nobody holds that %s", kind)
	} else if err != nil {
		return err
	}
	res, err := s.Gate.Read(r.Context(), gate.ReadRequest{Actor: p.Actor, Purpose: in.Purpose, SubjectID: id, Fields: in.Fields, RequestID: requestID(r.Context())})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

type consentRequest struct {
	SubjectID     string            `json:"subject_id"`
	UserID        string            `json:"user_id"`
	AnonymousID   string            `json:"anonymous_id"`
	NoticeVersion string            `json:"notice_version"`
	Choices       map[string]bool   `json:"choices"`
	Scope         string            `json:"scope"`
	Channel       string            `json:"channel"`
	GPC           bool              `json:"gpc"`
	Guardian      *consent.Guardian `json:"guardian"`
	Language      string            `json:"language"`
}

// subjectFrom resolves the one identifier a request names. With create, an
// unknown user or anonymous id makes a new subject.
func (s *Server) subjectFrom(r *http.Request, p *principal, subjectID, userID, anonID string, create bool) (string, error) {
	n := 0
	for _, v := range []string{subjectID, userID, anonID} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return "", candor.Invalid("name the subject by exactly one of subject_id, user_id or anonymous_id",
			candor.FieldError{Field: "subject_id", Message: "exactly one identifier required"})
	}
	if subjectID != "" {
		if !candor.ValidID(candor.PrefixSubject, subjectID) {
			return "", candor.Errorf(candor.ENOTFOUND, "subject not found")
		}
		return subjectID, nil
	}
	kind, value := candor.IdentUserID, userID
	if anonID != "" {
		kind, value = candor.IdentAnonymousID, anonID
	}
	if create {
		return s.Subjects.Resolve(r.Context(), p.Actor, requestID(r.Context()), kind, value)
	}
	return s.Subjects.Find(r.Context(), kind, value)
}

func (s *Server) recordConsent(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req consentRequest
	if err := decode(w, r, 64<<10, &req); err != nil {
		return err
	}
	if p.Role == candor.RoleBrowser && (req.SubjectID != "" || req.UserID != "" || req.Guardian != nil) {
		// The key is public in the shop's pages: whoever holds it may speak
		// for the browser's own visitor, never for a customer it names.
		return &candor.Error{Code: candor.EFORBIDDEN, Message: "a browser key records consents by anonymous_id only; record a signed-in customer's or a guardian's consent from your server with the write key",
			Reason: "browser_key"}
	}
	id, err := s.subjectFrom(r, p, req.SubjectID, req.UserID, req.AnonymousID, true)
	if err != nil {
		return err
	}
	if p.Role == candor.RoleBrowser {
		// The browser's anonymous id may belong to a customer who signed in
		// on it: a public key then speaks for nobody in particular, and
		// changes nothing of the account.
		if account, err := s.Subjects.IsAccount(r.Context(), id); err != nil {
			return err
		} else if account {
			return &candor.Error{Code: candor.EFORBIDDEN, Reason: "browser_key",
				Message: "this anonymous_id belongs to a signed-in customer: record their consent from your server with the write key"}
		}
	}
	res, err := s.Ledger.Record(r.Context(), p.Actor, requestID(r.Context()), id, consent.Choice{
		NoticeVersion: req.NoticeVersion, Choices: req.Choices, Scope: req.Scope, Channel: req.Channel,
		GPC: req.GPC || r.Header.Get("Sec-GPC") == "1", Guardian: req.Guardian, Language: req.Language,
	})
	if err != nil {
		return err
	}
	state, err := s.stateOf(r, id)
	if err != nil {
		return err
	}
	overridden := res.Overridden
	if overridden == nil {
		overridden = []string{}
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"subject_id": id, "receipt_id": res.ReceiptID, "receipt": res.Receipt, "state": state, "gpc_overrode": overridden,
	})
	return nil
}

// stateOf returns the decision for every consent purpose.
func (s *Server) stateOf(r *http.Request, subjectID string) (map[string]gate.Decision, error) {
	out := map[string]gate.Decision{}
	for _, p := range s.Policy.Purposes {
		if !p.NeedsConsent() {
			continue
		}
		d, err := s.Gate.Decide(r.Context(), subjectID, p.ID)
		if err != nil {
			return nil, err
		}
		out[p.ID] = d
	}
	return out, nil
}

type consentView struct {
	Seq        int64     `json:"seq"`
	ReceiptID  string    `json:"receipt_id"`
	Purpose    string    `json:"purpose"`
	State      string    `json:"state"`
	Notice     string    `json:"notice_hash"`
	Channel    string    `json:"channel"`
	GPC        bool      `json:"gpc"`
	Explicit   bool      `json:"explicit"`
	Guardian   bool      `json:"guardian"`
	Actor      string    `json:"actor"`
	RecordedAt time.Time `json:"at"`
}

func (s *Server) consents(w http.ResponseWriter, r *http.Request, p *principal) error {
	id := r.PathValue("id")
	if !candor.ValidID(candor.PrefixSubject, id) {
		return candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	if _, err := s.Store.Subject(r.Context(), id); err != nil {
		return err
	}
	hist, err := s.Ledger.History(r.Context(), id)
	if err != nil {
		return err
	}
	state, err := s.stateOf(r, id)
	if err != nil {
		return err
	}
	views := make([]consentView, 0, len(hist))
	for _, c := range hist {
		views = append(views, consentView{c.Seq, c.ReceiptID, c.Purpose, string(c.State), c.NoticeHash, c.Channel, c.GPC, c.Explicit, c.Guardian, c.Actor, c.At})
	}
	// Audited under the built-in purpose rights: showing the ledger is how
	// the controller demonstrates consent (GDPR Art. 7(1), PIPL Art. 14),
	// a duty owed to the person, and "rights" is the one purpose every
	// policy knows (an undeclared "accountability" named a purpose that no
	// notice declares, so a person reading the log could not be told it).
	if err := s.Auditor.Append(r.Context(), candor.AuditEntry{Time: s.Now(), Actor: p.ID, Action: candor.ActionConsentsRead, Purpose: candor.PurposeRights,
		SubjectID: id, Decision: candor.DecisionAllow, Reason: "consent history", TraceID: requestID(r.Context())}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"subject_id": id, "state": state, "history": views})
	return nil
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	purpose := q.Get("purpose")
	if purpose == "" {
		return candor.Invalid("purpose is required", candor.FieldError{Field: "purpose", Message: "required"})
	}
	if s.Policy.Purpose(purpose) == nil {
		return candor.Invalid("unknown purpose", candor.FieldError{Field: "purpose", Message: "not declared in the policy"})
	}
	id, err := s.subjectFrom(r, p, q.Get("subject_id"), q.Get("user_id"), q.Get("anonymous_id"), false)
	var d gate.Decision
	switch {
	case candor.ErrorCode(err) == candor.ENOTFOUND:
		// Unknown subjects are denied like any other: the answer does not
		// say more than "no".
		d = gate.Decision{Purpose: purpose, Basis: string(s.Policy.Purpose(purpose).Basis), Code: gate.CodeUnknownSubject, Reason: "no such subject"}
	case err != nil:
		return err
	default:
		if d, err = s.Gate.Decide(r.Context(), id, purpose); err != nil {
			return err
		}
	}
	allow := "false"
	if d.Allow {
		allow = "true"
	}
	s.decided.WithLabelValues(purpose, allow).Inc()
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request, _ *principal) error {
	rep, err := audit.Verify(r.Context(), s.Store, audit.VerifyOptions{Anchors: s.Store.Keys(), Keys: s.AuditKeys})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

type keyRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

func (s *Server) issueKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req keyRequest
	if err := decode(w, r, 4096, &req); err != nil {
		return err
	}
	var errs []candor.FieldError
	if n := strings.TrimSpace(req.Name); n == "" || len(n) > 100 {
		errs = append(errs, candor.FieldError{Field: "name", Message: "required, at most 100 bytes"})
	}
	if req.Role != candor.RoleAdmin && req.Role != candor.RoleWrite && req.Role != candor.RoleBrowser && s.Policy.Role(req.Role) == nil {
		errs = append(errs, candor.FieldError{Field: "role", Message: "not a role of the policy, nor admin, write or browser"})
	}
	if len(errs) > 0 {
		return candor.Invalid("the key request is not valid", errs...)
	}
	rec, key, err := s.APIKeys.Issue(r.Context(), strings.TrimSpace(req.Name), req.Role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": rec.ID, "name": rec.Name, "role": rec.Role, "key": key, "created_at": rec.CreatedAt})
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, _ *principal) error {
	keys, err := s.Store.APIKeys(r.Context())
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]any{"id": k.ID, "name": k.Name, "role": k.Role, "created_at": k.CreatedAt, "revoked_at": k.RevokedAt})
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["id"].(string) < out[j]["id"].(string) })
	writeJSON(w, http.StatusOK, map[string]any{"keys": out})
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	id := r.PathValue("id")
	if p.key != nil && p.key.ID == id {
		return candor.Errorf(candor.ECONFLICT, "a key cannot revoke itself")
	}
	if err := s.APIKeys.Revoke(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
