package http

import (
	"net/http"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/internal/httpx"
)

// Header limits. Candor refuses a request whose request line (with its
// query string) and header fields together exceed MaxHeaderBytes with 431
// as problem+json; the Go server, which would answer in text/plain, is set
// to read up to ServerMaxHeaderBytes, so that only a request far beyond
// Candor's own limit meets the server's plain answer.
const (
	MaxHeaderBytes       = 64 << 10
	ServerMaxHeaderBytes = 1 << 20
)

var errHeaderTooLarge = candor.Error{Code: httpx.CodeHeaderTooLarge,
	Message: "the request line and header fields are larger than 65536 bytes; send less (a long query string belongs in a POST body)"}

// LimitHeaders answers 431 Request Header Fields Too Large, as
// problem+json, to a request whose request line and header fields are
// larger than [MaxHeaderBytes], before next sees it. Set the http.Server's
// MaxHeaderBytes to [ServerMaxHeaderBytes] so that such a request reaches
// it. It wraps everything the server serves (API and pages), so that no
// path answers in text/plain.
func (s *Server) LimitHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := headerSize(r); n > MaxHeaderBytes {
			w.Header().Set("Connection", "close")
			s.writeError(w, r, &errHeaderTooLarge)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// headerSize is the size of the request line and the header fields as they
// came on the wire (for HTTP/1.1; near enough for HTTP/2).
func headerSize(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n + 2
}
