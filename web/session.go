package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/candorhq/candor"
)

// Cookies. The __Host- prefix makes the browser refuse them unless they are
// Secure, for the whole host and path /, so no subdomain or path can plant
// one. Browsers treat http://localhost and 127.0.0.1 as secure, so the demo
// works over plain HTTP on loopback.
const (
	cookiePerson    = "__Host-candor_person"
	cookieStaff     = "__Host-candor_staff"
	cookieChallenge = "__Host-candor_challenge"
	cookieChange    = "__Host-candor_change" // the challenge of a new e-mail or phone
	cookieCSRF      = "__Host-candor_csrf"
	cookieLang      = "candor_lang"
)

// Lifetimes.
const (
	personSession  = 30 * time.Minute
	staffSession   = 8 * time.Hour
	pendingSession = 5 * time.Minute // a staff sign-in waiting for its second factor
	linkLifetime   = 10 * time.Minute
)

// newToken returns a secret token and the hash the store keeps.
func newToken() (string, []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	t := base64.RawURLEncoding.EncodeToString(b[:])
	return t, tokenHash(t)
}

func tokenHash(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

func setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// startSession stores a new session and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, cookie, kind, principal, data string, life time.Duration) error {
	token, hash := newToken()
	now := s.Now().UTC()
	if err := s.Sessions.PutSession(r.Context(), candor.Session{Hash: hash, Kind: kind, Principal: principal, Data: data,
		CreatedAt: now, ExpiresAt: now.Add(life)}); err != nil {
		return err
	}
	setCookie(w, cookie, token, life)
	return nil
}

// session returns the caller's unexpired session of kind from cookie, or
// nil.
func (s *Server) session(r *http.Request, cookie, kind string) (*candor.Session, error) {
	c, err := r.Cookie(cookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil
	}
	sess, err := s.Sessions.Session(r.Context(), tokenHash(c.Value), s.Now().UTC())
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if sess.Kind != kind {
		return nil, nil
	}
	return sess, nil
}

// endSession deletes the session named by cookie and clears the cookie.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, cookie string) {
	if c, err := r.Cookie(cookie); err == nil && c.Value != "" && len(c.Value) <= 100 {
		if err := s.Sessions.DeleteSession(r.Context(), tokenHash(c.Value)); err != nil {
			s.log.Error("web: sign out", "err", err)
		}
	}
	clearCookie(w, cookie)
}

// csrfSeed is what a form's CSRF token is bound to: the session cookie
// when there is one, else a random cookie of its own (set here when
// missing), so that a token taken from one browser is worthless in another.
func (s *Server) csrfSeed(w http.ResponseWriter, r *http.Request, cookie string) string {
	if c, err := r.Cookie(cookie); err == nil && c.Value != "" {
		return cookie + ":" + hex.EncodeToString(tokenHash(c.Value))
	}
	if c, err := r.Cookie(cookieCSRF); err == nil && len(c.Value) == 43 {
		return "pre:" + c.Value
	}
	if w == nil {
		return ""
	}
	t, _ := newToken()
	setCookie(w, cookieCSRF, t, 12*time.Hour)
	r.AddCookie(&http.Cookie{Name: cookieCSRF, Value: t})
	return "pre:" + t
}

// csrfToken returns the token a form carries.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request, cookie string) string {
	m := hmac.New(sha256.New, s.CSRFKey)
	m.Write([]byte("csrf\x00" + s.csrfSeed(w, r, cookie)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF verifies a form's token, and that the browser says the form
// came from this site.
func (s *Server) checkCSRF(r *http.Request, cookie string) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	got := r.PostFormValue("csrf")
	seed := s.csrfSeed(nil, r, cookie)
	if got == "" || seed == "" {
		return false
	}
	m := hmac.New(sha256.New, s.CSRFKey)
	m.Write([]byte("csrf\x00" + seed))
	want := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// limiter counts attempts per key in fixed windows, in memory (per node).
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	seen   map[string]*window
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(max int, per time.Duration) *limiter {
	return &limiter{max: max, window: per, seen: map[string]*window{}}
}

// allow counts an attempt for key and reports whether it is within the
// limit.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) > 100000 { // bounded memory: forget old windows
		for k, w := range l.seen {
			if now.Sub(w.start) > l.window {
				delete(l.seen, k)
			}
		}
	}
	w := l.seen[key]
	if w == nil || now.Sub(w.start) > l.window {
		w = &window{start: now}
		l.seen[key] = w
	}
	w.n++
	return w.n <= l.max
}

// clientIP is the peer's address, for rate limits. Candor does not trust
// X-Forwarded-For; behind a proxy, limits apply to the proxy's address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// form limits a form's body to limit bytes and checks its CSRF token
// against the session cookie; when the token is wrong it answers with a
// clear page (and a log line without personal data) and returns false.
func (s *Server) form(w http.ResponseWriter, r *http.Request, area, cookie string, limit int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	l := lang(w, r)
	var tooLarge *http.MaxBytesError
	if err := r.ParseForm(); errors.As(err, &tooLarge) {
		s.render(w, r, http.StatusRequestEntityTooLarge, "message", page{Lang: l, Area: area, Title: text[l]["error"], Error: text[l]["err_too_large"]})
		return false
	}
	if s.checkCSRF(r, cookie) {
		return true
	}
	s.log.Warn("web: CSRF token refused", "path", r.URL.Path, "plain_http", plainHTTPElsewhere(r))
	msg := text[l]["err_csrf"]
	if plainHTTPElsewhere(r) {
		// The browser dropped the Secure cookies: the form never had a
		// chance. Say why, not "expired".
		msg = text[l]["err_insecure"]
	}
	s.render(w, r, http.StatusForbidden, "message", page{Lang: l, Area: area, Title: text[l]["error"], Error: msg})
	return false
}
