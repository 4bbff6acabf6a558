// Package http serves Candor's JSON API over the standard library's
// ServeMux: problem+json errors, API-key authentication with roles from the
// policy, request ids, body limits, metrics, and the OpenAPI document that a
// test checks against the routes registered here.
package http

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/apikeys"
	"github.com/candorhq/candor/campaign"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/httpx"
	"github.com/candorhq/candor/internal/ratelog"
	"github.com/candorhq/candor/rights"
	"github.com/candorhq/candor/segment"
	"github.com/candorhq/candor/subjects"
	"github.com/candorhq/candor/verify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Limits.
const (
	MaxBodyBytes = 1 << 20 // 1 MiB for API requests
)

// Server is Candor's HTTP API.
type Server struct {
	Policy   *candor.Policy
	Store    candor.Store
	APIKeys  *apikeys.Service
	Subjects *subjects.Service
	Ledger   *consent.Ledger
	Gate     *gate.Gate
	// Collector collects events (the Segment endpoints).
	Collector *collect.Collector
	// Rights carries out data-subject requests.
	Rights *rights.Service
	// Segments keeps segments and counts their people.
	Segments *segment.Service
	// Verifier proves a person's control of an identifier on file.
	Verifier *verify.Verifier
	// Campaigns creates and sends campaigns, and takes unsubscribes.
	Campaigns *campaign.Service
	// SMSSecret verifies the SMS gateway's signed replies.
	SMSSecret []byte
	// MailEventsSecret verifies the signed bounces and complaints.
	MailEventsSecret []byte
	Auditor          candor.Auditor
	// AuditKeys finds the public key that verifies audit checkpoints.
	AuditKeys func(keyID string) ed25519.PublicKey
	// JWKs are the public keys published at /.well-known/candor/keys.json.
	JWKs []map[string]string
	// Metrics registers the server's metrics; nil makes a new registry.
	Metrics *prometheus.Registry
	// MetricsOnMain serves /metrics on the API handler too (when no admin
	// address is set).
	MetricsOnMain bool
	Logger        *slog.Logger
	Now           func() time.Time

	log      *slog.Logger
	mux      *http.ServeMux
	routes   []Route
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	decided  *prometheus.CounterVec
	// throttled counts every answer 429 Too Many Requests, the API's and
	// (through [Server.CountThrottled]) the pages'.
	throttled *prometheus.CounterVec
	// warnings keeps the warning written per 429 or 503 to one line per
	// 10 seconds per code.
	warnings ratelog.Limiter
}

// Route is one registered route, as the OpenAPI test sees it.
type Route struct {
	Method, Path string
	// Roles may call it; empty means anyone. "staff" means any role but
	// write and browser.
	Roles []string
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, p *principal) error

// principal is the authenticated caller.
type principal struct {
	candor.Actor
	key *candor.APIKey
}

// Handler builds the routes and returns the API handler.
func (s *Server) Handler() http.Handler {
	s.log = s.Logger
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Metrics == nil {
		s.Metrics = prometheus.NewRegistry()
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "candor_http_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "candor_http_request_seconds", Help: "HTTP request latency by route.", Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1}}, []string{"route"})
	s.decided = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "candor_decisions_total", Help: "Decisions by purpose and outcome."}, []string{"purpose", "allow"})
	s.throttled = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "candor_http_throttled_total", Help: "Requests answered 429 Too Many Requests, by route (the API's route pattern, or the page's)."}, []string{"route"})
	s.Metrics.MustRegister(s.requests, s.latency, s.decided, s.throttled)
	s.warnings.Now = s.Now

	s.mux = http.NewServeMux()
	admin, dpo, service, write, browser := candor.RoleAdmin, "dpo", "service", candor.RoleWrite, candor.RoleBrowser
	s.handle("GET /healthz", nil, s.healthz)
	s.handle("GET /v1/openapi.json", nil, s.openapi)
	s.handle("GET /v1/notice", nil, s.notice)
	s.handle("GET /.well-known/candor/keys.json", nil, s.jwks)
	s.handle("POST /v1/subjects", []string{admin, service}, s.createSubject)
	s.handle("GET /v1/subjects", []string{"staff"}, s.listSubjects)
	s.handle("GET /v1/subjects/{id}", []string{"staff"}, s.readSubject)
	s.handle("POST /v1/subjects/search", []string{"staff"}, s.searchSubject)
	s.handle("POST /v1/consents", []string{admin, write, browser}, s.recordConsent)
	s.handle("GET /v1/subjects/{id}/consents", []string{admin, dpo}, s.consents)
	s.handle("GET /v1/decisions", []string{admin, write, service}, s.decide)
	s.handle("GET /v1/subjects/{id}/profile", []string{"staff"}, s.profile)
	for _, typ := range []string{collect.TypeTrack, collect.TypePage, collect.TypeScreen, collect.TypeIdentify, collect.TypeGroup, collect.TypeAlias} {
		s.handle("POST /v1/"+typ, []string{admin, write, browser}, s.collectOne(typ))
	}
	s.handle("POST /v1/batch", []string{admin, write, browser}, s.collectBatch)
	s.handle("GET /v1/reports/minimization", []string{"staff"}, s.minimizationReport)
	s.handle("POST /v1/rights", []string{admin, dpo}, s.fileRequest)
	s.handle("GET /v1/rights", []string{admin, dpo}, s.listRequests)
	s.handle("GET /v1/rights/{id}", []string{admin, dpo}, s.getRequest)
	s.handle("POST /v1/rights/{id}/refuse", []string{admin, dpo}, s.refuseRequest)
	s.handle("POST /v1/rights/{id}/verify", []string{admin, dpo}, s.verifyRequest)
	s.handle("GET /v1/rights/{id}/report", []string{admin, dpo}, s.report)
	s.handle("GET /v1/rights/{id}/export", []string{admin, dpo}, s.export)
	// The person themself, after proving control of an identifier on file.
	s.handle("POST /v1/verify", nil, s.verifyStart)
	s.handle("POST /v1/verify/{id}", nil, s.verifyFinish)
	s.handle("POST /v1/me/rights", nil, s.personFile)
	s.handle("GET /v1/me/rights/{id}", nil, s.personGet)
	s.handle("GET /v1/me/rights/{id}/report", nil, s.personReport(false))
	s.handle("GET /v1/me/rights/{id}/export", nil, s.personReport(true))
	s.handle("POST /v1/segments", []string{"staff"}, s.createSegment)
	s.handle("GET /v1/segments", []string{"staff"}, s.listSegments)
	s.handle("POST /v1/segments/count", []string{"staff"}, s.countRule)
	s.handle("GET /v1/segments/{id}", []string{"staff"}, s.getSegment)
	s.handle("DELETE /v1/segments/{id}", []string{"staff"}, s.deleteSegment)
	s.handle("GET /v1/audit/verify", []string{admin, dpo}, s.auditVerify)
	// Campaigns: any staff role; the service checks that the role is
	// allowed the campaign's purpose.
	s.handle("POST /v1/campaigns", []string{"staff"}, s.createCampaign)
	s.handle("GET /v1/campaigns", []string{"staff"}, s.listCampaigns)
	s.handle("GET /v1/campaigns/{id}", []string{"staff"}, s.getCampaign)
	s.handle("POST /v1/campaigns/{id}/send", []string{"staff"}, s.sendCampaign)
	s.handle("POST /v1/campaigns/{id}/stop", []string{"staff"}, s.stopCampaign)
	s.handle("POST /v1/campaigns/{id}/preview", []string{"staff"}, s.previewCampaign)
	// The person, from a message: no key, no cookie; the token is the proof.
	s.handle("GET /v1/unsubscribe/{token}", nil, s.linkGet("unsubscribe"))
	s.handle("POST /v1/unsubscribe/{token}", nil, s.linkPost("unsubscribe"))
	s.handle("GET /v1/confirm/{token}", nil, s.linkGet("confirm"))
	s.handle("POST /v1/confirm/{token}", nil, s.linkPost("confirm"))
	// The SMS gateway relay, signed.
	s.handle("POST /v1/sms/replies", nil, s.smsReply)
	// Measuring: the mail server's bounces and complaints, signed; an open
	// pixel and tracked links (only in the messages of people whose
	// decision allowed the measure purpose).
	s.handle("POST /v1/mail/events", nil, s.mailEvent)
	s.handle("GET /v1/o/{token}", nil, s.openPixel)
	s.handle("GET /v1/c/{token}", nil, s.clickLink)
	s.handle("POST /v1/apikeys", []string{admin}, s.issueKey)
	s.handle("GET /v1/apikeys", []string{admin}, s.listKeys)
	s.handle("DELETE /v1/apikeys/{id}", []string{admin}, s.revokeKey)
	if s.MetricsOnMain {
		s.routes = append(s.routes, Route{Method: "GET", Path: "/metrics"})
		s.mux.Handle("GET /metrics", s.MetricsHandler())
	}
	return s.middleware(http.HandlerFunc(s.route))
}

// route serves a request through the mux, answering an unknown path with
// 404 and a known path with the wrong method with 405, as problem+json.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		c := r.Clone(r.Context())
		c.Method = m
		if _, pattern := s.mux.Handler(c); pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		s.writeError(w, r, candor.Errorf(candor.ENOTFOUND, "no such endpoint"))
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	s.writeError(w, r, &candor.Error{Code: httpx.CodeMethodNotAllowed, Message: "method not allowed; allowed: " + strings.Join(allow, ", ")})
}

// CountThrottled counts one answer 429 Too Many Requests given outside
// the API (by the pages), under its route pattern. Call it only after
// [Server.Handler].
func (s *Server) CountThrottled(route string) {
	if route == "" {
		route = "other"
	}
	s.throttled.WithLabelValues(route).Inc()
}

// MetricsHandler serves the Prometheus metrics.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{})
}

// Routes returns the registered routes.
func (s *Server) Routes() []Route { return s.routes }

func (s *Server) handle(pattern string, roles []string, h handlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, Route{Method: method, Path: path, Roles: roles})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		var p *principal
		if roles != nil {
			var err error
			if p, err = s.authenticate(r); err != nil {
				s.writeError(w, r, err)
				return
			}
			if !roleIn(p.Role, roles) {
				s.writeError(w, r, candor.Errorf(candor.EFORBIDDEN, "role %s may not call this endpoint", p.Role))
				return
			}
			setActor(r.Context(), p.ID)
		}
		if err := h(w, r, p); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func roleIn(role string, roles []string) bool {
	if slices.Contains(roles, role) || role == candor.RoleAdmin {
		return true
	}
	return slices.Contains(roles, "staff") && role != candor.RoleWrite && role != candor.RoleBrowser
}

// authenticate finds the caller's key: "Authorization: Bearer KEY", or HTTP
// Basic with the key as user name (the Segment convention).
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	var key string
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		key = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	} else if u, _, ok := r.BasicAuth(); ok {
		key = u
	}
	if key == "" {
		return nil, candor.Errorf(candor.EUNAUTHORIZED, "an API key is required: Authorization: Bearer KEY")
	}
	rec, err := s.APIKeys.Check(r.Context(), key)
	if err != nil {
		return nil, err
	}
	return &principal{Actor: candor.Actor{ID: "apikey:" + rec.ID, Role: rec.Role}, key: rec}, nil
}

// ctxKey holds per-request values.
type ctxKey struct{}

type reqInfo struct {
	id    string
	actor string
}

func requestID(ctx context.Context) string { return httpx.RequestID(ctx) }

func setActor(ctx context.Context, actor string) {
	if ri, ok := ctx.Value(ctxKey{}).(*reqInfo); ok {
		ri.actor = actor
	}
}

// browserPaths are the endpoints the banner SDK calls from other origins.
var browserPaths = map[string]bool{"/v1/notice": true, "/v1/consents": true, "/v1/track": true, "/v1/page": true,
	"/v1/identify": true, "/v1/screen": true, "/v1/group": true, "/v1/alias": true, "/v1/batch": true}

// middleware adds a request id, security headers, panic recovery, metrics
// and an access log line without personal data (the route pattern, not the
// URL; no query string, no body).
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := httpx.RequestIDFrom(r)
		ri := &reqInfo{id: id}
		r = r.WithContext(httpx.WithRequestID(context.WithValue(r.Context(), ctxKey{}, ri), id))
		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		if browserPaths[r.URL.Path] {
			// The banner SDK runs on the shop's own pages: let any origin
			// call what it calls, with the write key in the Authorization
			// header (never a cookie: no credentials are allowed).
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Vary", "Origin")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		sw := &httpx.StatusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "request_id", id, "route", r.Pattern, "panic", v)
				if sw.Status == 0 {
					s.writeError(sw, r, candor.Errorf(candor.EINTERNAL, "internal error"))
				}
			}
			route := r.Pattern
			if route == "" || route == "/" {
				route = "other"
			}
			d := time.Since(start)
			s.requests.WithLabelValues(route, itoa(sw.Status)).Inc()
			if sw.Status == http.StatusTooManyRequests {
				s.throttled.WithLabelValues(route).Inc()
			}
			s.latency.WithLabelValues(route).Observe(d.Seconds())
			s.log.Info("request", "request_id", id, "method", r.Method, "route", route, "status", sw.Status, "ms", float64(d.Microseconds())/1000, "actor", ri.actor)
		}()
		next.ServeHTTP(sw, r)
	})
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [8]byte
	i := len(b)
	for n > 0 && i > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
