package candor

import (
	"errors"
	"fmt"
)

// Error codes. Every error that crosses a package boundary toward a client
// carries one of them; the HTTP layer maps each to one status and problem type.
const (
	EINVALID      = "invalid"      // the input breaks a rule (422, or 400 when it is not even well formed)
	EMALFORMED    = "malformed"    // the input could not be parsed (400)
	ENOTFOUND     = "not_found"    // the thing asked for does not exist (404)
	ECONFLICT     = "conflict"     // the request conflicts with what is stored (409)
	EUNAUTHORIZED = "unauthorized" // no valid credentials (401)
	EFORBIDDEN    = "forbidden"    // credentials valid, action refused (403)
	ETOOLARGE     = "too_large"    // a body or value over its limit (413)
	EUNAVAILABLE  = "unavailable"  // a dependency is down; retry later (503)
	EBUSY         = "busy"         // too much work queued; retry after a moment (429)
	EGONE         = "gone"         // the subject was erased; its data can never be read again (410)
	EINTERNAL     = "internal"     // anything else; never shown to a client in detail (500)
)

// Error is the one error type of Candor. Message is safe to show to the
// caller: it never holds personal data or internal detail. Fields names the
// input members at fault, for validation errors.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// Reason is a short machine-readable reason, used where a decision was
	// refused (for example "withdrawn" or "restricted").
	Reason string
}

// FieldError names one member of the input and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("candor: %s: %s", e.Code, e.Message)
}

// Errorf returns an [*Error] with the given code and a formatted message.
// The message must not hold personal data.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID [*Error] naming the fields at fault.
func Invalid(msg string, fields ...FieldError) *Error {
	return &Error{Code: EINVALID, Message: msg, Fields: fields}
}

// ErrorCode returns the code of the first [*Error] in err's chain, "" for a
// nil error and [EINTERNAL] for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: the message of its
// [*Error], or "internal error" for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
