// Package httpx holds the small HTTP pieces that the API (package http)
// and the web pages (package web) share.
package httpx

import "net/http"

// StatusWriter records the status a handler answered with, for the access
// log and the metrics.
type StatusWriter struct {
	http.ResponseWriter
	Status int
}

// WriteHeader implements [http.ResponseWriter].
func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements [http.ResponseWriter].
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets [http.ResponseController] reach the writer beneath.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
