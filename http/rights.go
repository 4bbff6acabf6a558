package http

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/rights"
)

type rightsRequest struct {
	Type      string         `json:"type"`
	SubjectID string         `json:"subject_id"`
	UserID    string         `json:"user_id"`
	Verified  bool           `json:"verified"`
	Purposes  []string       `json:"purposes"`
	Lift      bool           `json:"lift"`
	Suppress  bool           `json:"suppress"`
	Traits    map[string]any `json:"traits"`
}

type rightsView struct {
	ID           string           `json:"id"`
	Type         string           `json:"type"`
	SubjectID    string           `json:"subject_id"`
	Status       string           `json:"status"`
	Jurisdiction string           `json:"jurisdiction"`
	ReceivedAt   time.Time        `json:"received_at"`
	DueAt        time.Time        `json:"due_at"`
	UpdatedAt    time.Time        `json:"updated_at"`
	Overdue      bool             `json:"overdue"`
	Stuck        bool             `json:"stuck"` // in one state for longer than the watchdog allows
	Details      map[string]any   `json:"details"`
	Result       map[string]int64 `json:"result,omitempty"`
	// Recipients shows, for an erasure, whether each recipient that
	// received data was told.
	Recipients []deliveryView `json:"recipients,omitempty"`
}

type deliveryView struct {
	Recipient string    `json:"recipient"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// viewRequest shows a request to actor. A refusal reason typed by staff is
// read through the gate, which audits it; when it cannot be read (the
// person was erased, or the audit entry could not be written) the view
// says so instead of showing it.
func (s *Server) viewRequest(ctx context.Context, actor candor.Actor, r *candor.RightsRequest) rightsView {
	d := map[string]any{}
	if len(r.Details.Purposes) > 0 {
		d["purposes"] = r.Details.Purposes
	}
	if r.Details.Lift {
		d["lift"] = true
	}
	if r.Details.Suppress {
		d["suppress"] = true
	}
	if r.Details.VerifiedBy != "" {
		d["verified_by"] = r.Details.VerifiedBy
	}
	if r.Details.Reason != "" || len(r.Details.ReasonSealed) > 0 {
		reason, err := s.Gate.RefusalReason(ctx, actor, r)
		switch {
		case candor.ErrorCode(err) == candor.EGONE:
			d["reason_unavailable"] = "erased"
		case err != nil:
			s.log.Error("request view: refusal reason", "request", r.ID, "err", err)
			d["reason_unavailable"] = "error"
		default:
			d["reason"] = reason
		}
	}
	if f := r.Details.Notes["fields"]; f != "" {
		d["fields"] = strings.Split(f, ",")
	}
	open := r.Status != candor.RequestDone && r.Status != candor.RequestRefused
	var recipients []deliveryView
	if (r.Type == candor.RightErase || r.Type == candor.RightRectify) && r.Status == candor.RequestDone {
		ds, err := s.Store.Deliveries(context.Background(), r.ID)
		if err != nil {
			s.log.Error("request view: deliveries", "request", r.ID, "err", err)
		}
		for _, d := range ds {
			recipients = append(recipients, deliveryView{Recipient: d.Recipient, Status: d.Status, Attempts: d.Attempts, LastError: d.LastError, UpdatedAt: d.UpdatedAt})
		}
	}
	return rightsView{Recipients: recipients, ID: r.ID, Type: r.Type, SubjectID: r.SubjectID, Status: r.Status, Jurisdiction: r.Jurisdiction, ReceivedAt: r.ReceivedAt,
		DueAt: r.DueAt, UpdatedAt: r.UpdatedAt, Overdue: open && s.Now().After(r.DueAt), Stuck: open && s.Now().Sub(r.StateSince) > s.Rights.StuckAfter(),
		Details: d, Result: r.Details.Result}
}

// fileRequest serves POST /v1/rights: staff file a request for a person.
func (s *Server) fileRequest(w http.ResponseWriter, r *http.Request, p *principal) error {
	var in rightsRequest
	if err := decode(w, r, MaxBodyBytes, &in); err != nil {
		return err
	}
	id, err := s.subjectFrom(r, p, in.SubjectID, in.UserID, "", false)
	if err != nil {
		return err
	}
	req, err := s.Rights.File(r.Context(), p.Actor, rights.Input{Type: in.Type, SubjectID: id, Verified: in.Verified, Purposes: in.Purposes, Lift: in.Lift, Suppress: in.Suppress, Traits: in.Traits})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, s.viewRequest(r.Context(), p.Actor, req))
	return nil
}

// getRequest serves GET /v1/rights/{id}.
func (s *Server) getRequest(w http.ResponseWriter, r *http.Request, p *principal) error {
	id := r.PathValue("id")
	if !candor.ValidID(candor.PrefixRequest, id) {
		return candor.Errorf(candor.ENOTFOUND, "request not found")
	}
	req, err := s.Rights.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.viewRequest(r.Context(), p.Actor, req))
	return nil
}

// listRequests serves GET /v1/rights: the open requests by due date, or
// with ?overdue=true the overdue ones, or with ?stuck=true those the
// watchdog flags.
func (s *Server) listRequests(w http.ResponseWriter, r *http.Request, p *principal) error {
	var list []candor.RightsRequest
	var err error
	switch q := r.URL.Query(); {
	case q.Get("overdue") == "true":
		list, err = s.Rights.Overdue(r.Context())
	case q.Get("stuck") == "true":
		list, err = s.Rights.Stuck(r.Context())
	default:
		list, err = s.Rights.Open(r.Context())
	}
	if err != nil {
		return err
	}
	out := make([]rightsView, 0, len(list))
	for i := range list {
		out = append(out, s.viewRequest(r.Context(), p.Actor, &list[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": out})
	return nil
}

// refuseRequest serves POST /v1/rights/{id}/refuse: {"reason": "…"}, told
// to the person (PIPL Art. 50).
func (s *Server) refuseRequest(w http.ResponseWriter, r *http.Request, p *principal) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, MaxBodyBytes, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	if !candor.ValidID(candor.PrefixRequest, id) {
		return candor.Errorf(candor.ENOTFOUND, "request not found")
	}
	req, err := s.Rights.Refuse(r.Context(), p.Actor, id, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.viewRequest(r.Context(), p.Actor, req))
	return nil
}

// verifyRequest serves POST /v1/rights/{id}/verify: staff checked the
// person's identity; the request is carried out.
func (s *Server) verifyRequest(w http.ResponseWriter, r *http.Request, p *principal) error {
	id := r.PathValue("id")
	if !candor.ValidID(candor.PrefixRequest, id) {
		return candor.Errorf(candor.ENOTFOUND, "request not found")
	}
	req, err := s.Rights.Verify(r.Context(), p.Actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.viewRequest(r.Context(), p.Actor, req))
	return nil
}
