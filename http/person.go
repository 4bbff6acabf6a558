package http

import (
	"net"
	"net/http"
	"strings"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/rights"
	"github.com/candorhq/candor/verify"
)

// clientIP is the peer's address, for rate limits. Candor does not trust
// X-Forwarded-For; behind a proxy, limits apply to the proxy's address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// verifyStart serves POST /v1/verify: {"email"} or {"phone"}. The answer is
// the same whether anyone holds the identifier; a code goes to it only if
// someone does.
func (s *Server) verifyStart(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var in struct {
		Email string `json:"email"`
		Phone string `json:"phone"`
	}
	if err := decode(w, r, 4096, &in); err != nil {
		return err
	}
	kind, value := candor.IdentEmail, in.Email
	if (in.Email == "") == (in.Phone == "") {
		return candor.Invalid("give an e-mail address or a phone number", candor.FieldError{Field: "email", Message: "exactly one of email and phone"})
	}
	if in.Phone != "" {
		kind, value = candor.IdentPhone, in.Phone
	}
	id, exp, err := s.Verifier.Start(r.Context(), kind, value, clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"challenge_id": id, "expires_at": exp,
		"message": "If this " + kind + " is on file, a code was sent to it."})
	return nil
}

// verifyFinish serves POST /v1/verify/{id}: {"code"} → a token.
func (s *Server) verifyFinish(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var in struct {
		Code string `json:"code"`
	}
	if err := decode(w, r, 4096, &in); err != nil {
		return err
	}
	token, exp, err := s.Verifier.Finish(r.Context(), r.PathValue("id"), in.Code, clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": token, "expires_at": exp})
	return nil
}

// person checks the verification token of a person acting for themself.
func (s *Server) person(r *http.Request) (*verify.Proof, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, candor.Errorf(candor.EUNAUTHORIZED, "verify first: Authorization: Bearer TOKEN from POST /v1/verify/{id}")
	}
	return s.Verifier.Check(strings.TrimSpace(token))
}

// personFile serves POST /v1/me/rights: a request by the person themself.
func (s *Server) personFile(w http.ResponseWriter, r *http.Request, _ *principal) error {
	proof, err := s.person(r)
	if err != nil {
		return err
	}
	var in struct {
		Type     string         `json:"type"`
		Purposes []string       `json:"purposes"`
		Lift     bool           `json:"lift"`
		Suppress bool           `json:"suppress"`
		Traits   map[string]any `json:"traits"`
	}
	if err := decode(w, r, 4096, &in); err != nil {
		return err
	}
	req, err := s.Rights.File(r.Context(), gate.SubjectActor(proof.SubjectID), rights.Input{Type: in.Type, SubjectID: proof.SubjectID,
		Verified: true, VerifiedBy: "code:" + proof.Kind, Purposes: in.Purposes, Lift: in.Lift, Suppress: in.Suppress, Traits: in.Traits})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, s.viewRequest(r.Context(), gate.SubjectActor(proof.SubjectID), req))
	return nil
}

// personRequest returns the person's own request named in the path; any
// other is "not found", whether it exists or not.
func (s *Server) personRequest(r *http.Request) (*verify.Proof, *candor.RightsRequest, error) {
	proof, err := s.person(r)
	if err != nil {
		return nil, nil, err
	}
	id := r.PathValue("id")
	notFound := candor.Errorf(candor.ENOTFOUND, "request not found")
	if !candor.ValidID(candor.PrefixRequest, id) {
		return nil, nil, notFound
	}
	req, err := s.Rights.Get(r.Context(), id)
	if candor.ErrorCode(err) == candor.ENOTFOUND || (err == nil && req.SubjectID != proof.SubjectID) {
		return nil, nil, notFound
	}
	return proof, req, err
}

// personGet serves GET /v1/me/rights/{id}.
func (s *Server) personGet(w http.ResponseWriter, r *http.Request, _ *principal) error {
	proof, req, err := s.personRequest(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.viewRequest(r.Context(), gate.SubjectActor(proof.SubjectID), req))
	return nil
}

// personReport serves GET /v1/me/rights/{id}/report and /export.
func (s *Server) personReport(export bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *principal) error {
		proof, _, err := s.personRequest(r)
		if err != nil {
			return err
		}
		p := &principal{Actor: gate.SubjectActor(proof.SubjectID)}
		if export {
			return s.export(w, r, p)
		}
		return s.report(w, r, p)
	}
}
