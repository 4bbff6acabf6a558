// Package web serves Candor's faces: the consent banner SDK (/sdk/), the
// demo shop (/demo), the privacy portal for people (/privacy) and the staff
// console (/console). Pages are rendered on the server with html/template
// from embedded files, in zh-CN and en; the little JavaScript there is
// comes from files of its own, so that the Content-Security-Policy forbids
// inline scripts.
package web

import (
	"context"
	"crypto/ed25519"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/campaign"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/httpx"
	"github.com/candorhq/candor/internal/ratelog"
	"github.com/candorhq/candor/rights"
	"github.com/candorhq/candor/segment"
	"github.com/candorhq/candor/staff"
	"github.com/candorhq/candor/subjects"
	"github.com/candorhq/candor/verify"
)

//go:embed static templates
var files embed.FS

// Server serves the web pages. Handler must be called once before use.
type Server struct {
	Policy  *candor.Policy
	Store   candor.Store
	Notices *consent.Notices
	Ledger  *consent.Ledger
	Gate    *gate.Gate
	Rights  *rights.Service
	// Segments keeps segments and counts their people.
	Segments *segment.Service
	// Campaigns creates, previews, sends and stops campaigns (the
	// console's Campaigns pages).
	Campaigns *campaign.Service
	Verifier  *verify.Verifier
	Auditor   candor.Auditor
	// Sessions keeps the portal's and the console's sessions and the
	// single-use links.
	Sessions candor.SessionStore
	// CSRFKey signs the forms' CSRF tokens: 32 secret bytes, the same on
	// every node.
	CSRFKey []byte
	// Staff manages the console's accounts.
	Staff *staff.Service
	// Subjects finds the subject an identifier names (the console's
	// look-up).
	Subjects *subjects.Service
	// AuditKeys finds the public key that verifies audit checkpoints.
	AuditKeys func(keyID string) ed25519.PublicKey
	// IdentitySecret makes the demo shop's identity tokens (see
	// collect.IdentityToken).
	IdentitySecret []byte
	// SDKKey is the write key that the demo shop's page gives the SDK
	// (public in the page, as a write key always is in a browser).
	SDKKey string
	Logger *slog.Logger
	Now    func() time.Time

	// Throttled, when set, is called for each page answered 429 Too Many
	// Requests, with the page's route pattern (for a metric).
	Throttled func(route string)

	log      *slog.Logger
	mux      *http.ServeMux
	ipLimit  *limiter // sign-in attempts per client address
	idLimit  *limiter // sign-in attempts per account
	requests *limiter // requests filed per person

	auditStatus auditStatus

	// warnings keeps a rate-limit warning to one line per 10 seconds per
	// kind.
	warnings ratelog.Limiter
}

// Handler builds the routes.
func (s *Server) Handler() http.Handler {
	s.log = s.Logger
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.ipLimit, s.idLimit, s.requests = newLimiter(30, 15*time.Minute), newLimiter(10, 15*time.Minute), newLimiter(20, time.Hour)
	s.mux = http.NewServeMux()
	static, _ := fs.Sub(files, "static")
	s.mux.Handle("GET /sdk/", http.StripPrefix("/sdk/", assets(static)))
	s.mux.HandleFunc("GET /demo", s.demo)
	s.mux.HandleFunc("POST /demo/signin", s.demoSignIn)
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", assets(static)))
	s.portalRoutes()
	s.consoleRoutes()
	return s.secure(s.mux)
}

// Prefixes are the paths the web server answers; the rest is the API's.
var Prefixes = []string{"/sdk/", "/static/", "/demo", "/demo/", "/privacy", "/privacy/", "/console", "/console/"}

// assets serves the embedded static files with a short cache lifetime and
// no directory listings.
func assets(fsys fs.FS) http.Handler {
	h := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || r.URL.Path[len(r.URL.Path)-1] == '/' {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		// The SDK is loaded by shops' pages on other origins.
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		h.ServeHTTP(w, r)
	})
}

// secure sets the headers every page carries: no inline scripts or styles,
// no framing (clickjacking), no sniffing, no referrer beyond the origin.
func (s *Server) secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		start := time.Now()
		id := httpx.RequestIDFrom(r)
		hd.Set("X-Request-Id", id)
		r = r.WithContext(httpx.WithRequestID(r.Context(), id))
		sw := &httpx.StatusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("web: panic", "request_id", id, "path", r.URL.Path, "panic", fmt.Sprint(v))
				if sw.Status == 0 {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
			}
			// The path only: a query may hold a link's token.
			s.log.Info("page", "request_id", id, "method", r.Method, "path", r.URL.Path, "status", sw.Status, "ms", float64(time.Since(start).Microseconds())/1000)
		}()
		h.ServeHTTP(sw, r)
	})
}

// PurgeSessions deletes expired sessions and links every interval until
// ctx ends.
func (s *Server) PurgeSessions(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.Sessions.PurgeSessions(ctx, s.Now().UTC()); err != nil {
				s.log.Error("web: purge sessions", "err", err)
			} else if n > 0 {
				s.log.Info("web: purged expired sessions", "sessions", n)
			}
		}
	}
}
