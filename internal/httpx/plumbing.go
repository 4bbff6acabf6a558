package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"

	"github.com/candorhq/candor"
)

// Codes of problems that only HTTP has.
const (
	CodeMethodNotAllowed = "method_not_allowed"
	CodeHeaderTooLarge   = "header_too_large"
)

// statuses maps each error code to its HTTP status: the one table of it,
// for the API's problems and the pages' errors alike.
var statuses = map[string]int{
	candor.EINVALID:      http.StatusUnprocessableEntity,
	candor.EMALFORMED:    http.StatusBadRequest,
	candor.ENOTFOUND:     http.StatusNotFound,
	candor.ECONFLICT:     http.StatusConflict,
	candor.EUNAUTHORIZED: http.StatusUnauthorized,
	candor.EFORBIDDEN:    http.StatusForbidden,
	candor.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	candor.EUNAVAILABLE:  http.StatusServiceUnavailable,
	candor.EBUSY:         http.StatusTooManyRequests,
	candor.EGONE:         http.StatusGone,
	candor.EINTERNAL:     http.StatusInternalServerError,
	CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	CodeHeaderTooLarge:   http.StatusRequestHeaderFieldsTooLarge,
}

// Status returns the HTTP status of an error code, and whether the code is
// known (an unknown one is 500).
func Status(code string) (int, bool) {
	s, ok := statuses[code]
	if !ok {
		return http.StatusInternalServerError, false
	}
	return s, true
}

// PreferredLang picks zh-CN or en from an Accept-Language header (en when
// it names neither).
func PreferredLang(acceptLanguage string) string {
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return candor.LangZH
		case strings.HasPrefix(tag, "en"):
			return candor.LangEN
		}
	}
	return candor.LangEN
}

// Request ids: one per request, the caller's X-Request-Id when it is a
// plain token, else a new one; it travels in the context to the log
// lines and the audit entries of the request.

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// RequestIDFrom returns r's request id: its X-Request-Id header when that
// is a plain token of at most 64 characters, else a new random one.
func RequestIDFrom(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); validRequestID.MatchString(id) {
		return id
	}
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// WithRequestID returns ctx carrying the request id, as the trace id of
// everything the request does ([candor.WithTraceID]): the audit log names
// it in the request's entries.
func WithRequestID(ctx context.Context, id string) context.Context {
	return candor.WithTraceID(ctx, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string { return candor.TraceID(ctx) }
