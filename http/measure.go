package http

import (
	"io"
	"net/http"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/webhook"
)

// mailEvent serves POST /v1/mail/events: the mail server or relay reports
// a bounce or a complaint {"type": "bounce"|"complaint", "email",
// "campaign"?}, signed like the SMS gateway's replies with
// CANDOR_MAIL_EVENTS_SECRET; the address goes on the suppression list.
func (s *Server) mailEvent(w http.ResponseWriter, r *http.Request, _ *principal) error {
	svc, err := s.campaigns()
	if err != nil {
		return err
	}
	if len(s.MailEventsSecret) == 0 {
		return &candor.Error{Code: candor.EUNAVAILABLE, Message: "no mail events secret is configured (CANDOR_MAIL_EVENTS_SECRET)"}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<10))
	if err != nil {
		return &candor.Error{Code: candor.ETOOLARGE, Message: "the body is too large"}
	}
	if err := webhook.VerifySignature(s.MailEventsSecret, b, r.Header.Get(webhook.SignatureHeader), s.Now(), 5*time.Minute); err != nil {
		return candor.Errorf(candor.EUNAUTHORIZED, "the signature does not check")
	}
	var in struct {
		Type     string `json:"type"`
		Email    string `json:"email"`
		Campaign string `json:"campaign"`
	}
	if err := decodeBytes(b, &in); err != nil {
		return err
	}
	if err := svc.MailEvent(r.Context(), in.Type, in.Email, in.Campaign); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"suppressed": true})
	return nil
}

// pixel is a transparent 1x1 GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// openPixel serves GET /v1/o/{token}: a 1x1 GIF; the message's open is
// counted once.
func (s *Server) openPixel(w http.ResponseWriter, r *http.Request, _ *principal) error {
	svc, err := s.campaigns()
	if err != nil {
		return err
	}
	if err := svc.Open(r.Context(), r.PathValue("token")); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(pixel)
	return err
}

// clickLink serves GET /v1/c/{token}: a redirect to the link of the
// campaign's template that the token names, never anywhere else.
func (s *Server) clickLink(w http.ResponseWriter, r *http.Request, _ *principal) error {
	svc, err := s.campaigns()
	if err != nil {
		return err
	}
	to, err := svc.Click(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, to, http.StatusFound)
	return nil
}
