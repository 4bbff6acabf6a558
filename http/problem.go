package http

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/internal/httpx"
)

var titles = map[string]string{
	candor.EINVALID:            "The request is not valid",
	candor.EMALFORMED:          "The request could not be read",
	candor.ENOTFOUND:           "Not found",
	candor.ECONFLICT:           "Conflict",
	candor.EUNAUTHORIZED:       "Authentication required",
	candor.EFORBIDDEN:          "Forbidden",
	candor.ETOOLARGE:           "Too large",
	candor.EUNAVAILABLE:        "Temporarily unavailable",
	candor.EBUSY:               "Too many requests",
	candor.EGONE:               "Gone",
	httpx.CodeMethodNotAllowed: "Method not allowed",
	httpx.CodeHeaderTooLarge:   "Request header fields too large",
	candor.EINTERNAL:           "Internal error",
}

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail"`
	Code      string              `json:"code,omitempty"`
	Reason    string              `json:"reason,omitempty"`
	Errors    []candor.FieldError `json:"errors,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
}

// ProblemType returns the type URI of a problem code.
func ProblemType(code string) string { return "urn:candor:problem:" + code }

// writeError writes err as problem+json. An internal error is logged in
// full and shown to the client only as "internal error".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := candor.ErrorCode(err)
	status, ok := httpx.Status(code)
	if !ok {
		code = candor.EINTERNAL
	}
	p := Problem{Type: ProblemType(code), Title: titles[code], Status: status, Detail: candor.ErrorMessage(err), Code: code, RequestID: requestID(r.Context())}
	var e *candor.Error
	if errors.As(err, &e) {
		p.Errors, p.Reason = e.Fields, e.Reason
	}
	if code == candor.EINTERNAL {
		s.log.ErrorContext(r.Context(), "internal error", "request_id", p.RequestID, "route", r.Pattern, "err", err)
	} else if code == candor.EUNAVAILABLE || code == candor.EBUSY {
		w.Header().Set("Retry-After", "1")
		// One line per 10 seconds per code, however many are refused: a
		// flood of 429s must not flood the log (the metrics count each).
		if ok, suppressed := s.warnings.Allow(code); ok {
			s.log.WarnContext(r.Context(), "unavailable", "code", code, "request_id", p.RequestID, "route", r.Pattern, "err", err, "suppressed", suppressed)
		}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="candor"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}

// writeJSON writes v as JSON with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}
