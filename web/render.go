package web

import (
	"bytes"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/internal/httpx"
)

// page is what every template gets.
type page struct {
	Lang  string
	Org   string
	Title string
	CSRF  string
	// Area is "privacy" or "console": the navigation shown.
	Area string
	// Staff is the signed-in staff member (console pages).
	Staff *candor.StaffMember
	// Marketing says the staff member's role may use a marketing purpose
	// (the segments page is in the navigation).
	Marketing bool
	// Campaigns says the role may use a marketing purpose campaigns send
	// for (the campaigns pages are in the navigation).
	Campaigns bool
	// Notice is a message shown on top (a done action, an error).
	Notice, Error string
	// Data is the page's own.
	Data any
	// Path is the page's path; LangLinks its address in each language
	// (the same query, another lang).
	Path      string
	LangLinks map[string]string
	// Insecure says that the page came over plain HTTP to an address other
	// than this machine's own, where browsers drop the Secure cookies that
	// every form needs.
	Insecure bool
}

// plainHTTPElsewhere reports whether r came over plain HTTP to a host that
// is not a loopback one. Browsers treat http://localhost and 127.0.0.1 as
// secure and keep Secure (and __Host-) cookies there; anywhere else over
// plain HTTP they drop them, so that no form of the portal or the console
// can work. A proxy that says it received HTTPS is believed: this only
// decides whether to explain, never what is allowed.
func plainHTTPElsewhere(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "" || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return false
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return false
	}
	return true
}

// lang returns the page language: ?lang= (remembered in a cookie), the
// cookie, or the browser's preference; zh-CN or en.
func lang(w http.ResponseWriter, r *http.Request) string {
	if q := r.URL.Query().Get("lang"); q == candor.LangZH || q == candor.LangEN {
		if w != nil {
			http.SetCookie(w, &http.Cookie{Name: cookieLang, Value: q, Path: "/", MaxAge: 365 * 86400, Secure: true, SameSite: http.SameSiteLaxMode})
		}
		return q
	}
	if c, err := r.Cookie(cookieLang); err == nil && (c.Value == candor.LangZH || c.Value == candor.LangEN) {
		return c.Value
	}
	return httpx.PreferredLang(r.Header.Get("Accept-Language"))
}

var funcs = template.FuncMap{
	"languages": func() []string { return candor.Languages },
	"join":      func(s []string) string { return strings.Join(s, ", ") },
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"contains": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
}

// templates parses layout.html with each page, once per language, with
// "t" giving that language's words.
func templates(names ...string) map[string]map[string]*template.Template {
	out := map[string]map[string]*template.Template{}
	for _, l := range candor.Languages {
		out[l] = map[string]*template.Template{}
		for _, n := range names {
			out[l][n] = template.Must(template.New("layout.html").Funcs(funcs).Funcs(words(l).funcs()).
				ParseFS(files, "templates/layout.html", "templates/"+n+".html"))
		}
	}
	return out
}

var pages = templates("signin", "code", "home", "change", "message", "console-signin", "console-totp", "console-enrol", "console-customers",
	"console-overview", "console-requests", "console-subject", "console-audit", "console-policy", "console-staff",
	"console-segments", "console-campaigns", "console-campaign")

// render writes a page with the status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if p.Lang == "" {
		p.Lang = lang(w, r)
	}
	tm, ok := pages[p.Lang][name]
	if !ok {
		panic("web: no template " + name + " in " + p.Lang)
	}
	if p.Org == "" {
		p.Org = s.Policy.Organization.Name
	}
	p.Path = r.URL.Path
	p.Insecure = plainHTTPElsewhere(r)
	q := url.Values{}
	if r.Method != http.MethodGet {
		// A page answering a form: its language links go to the area's
		// start (the form's own path takes only POST).
		p.Path = "/" + p.Area
	} else if status < 300 {
		// A filter or a page of the audit log, say; never on a refusal,
		// which echoes nothing it was sent.
		q = r.URL.Query()
	}
	p.LangLinks = map[string]string{}
	for _, l := range candor.Languages {
		q.Set("lang", l)
		p.LangLinks[l] = p.Path + "?" + q.Encode()
	}
	var buf bytes.Buffer
	if err := tm.Execute(&buf, p); err != nil {
		s.log.Error("web: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if status == http.StatusTooManyRequests && s.Throttled != nil {
		s.Throttled(r.Pattern)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorKeys are the catalog's words for each error code a page shows.
var errorKeys = map[string]string{
	candor.EINVALID: "err_invalid", candor.EUNAUTHORIZED: "err_unauthorized", candor.EFORBIDDEN: "err_forbidden",
	candor.ENOTFOUND: "err_notfound", candor.ECONFLICT: "err_conflict", candor.EBUSY: "err_busy", candor.EGONE: "err_gone",
	candor.EUNAVAILABLE: "err_unavailable", candor.EINTERNAL: "err_internal", candor.ETOOLARGE: "err_too_large",
}

// fail renders a clear page for an error: never a stack trace or an
// internal message. Internal errors are logged, without personal data.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, area string, err error) {
	code := candor.ErrorCode(err)
	status, _ := httpx.Status(code)
	key, ok := errorKeys[code]
	if !ok {
		status, key = http.StatusInternalServerError, "err_internal"
	}
	l := lang(w, r)
	msg := text[l][key]
	if code != candor.EINTERNAL && code != candor.EUNAVAILABLE {
		// Candor's own messages are written for the person and hold no
		// personal data; they are in English.
		if m := candor.ErrorMessage(err); m != "" && l == candor.LangEN {
			msg = m
		}
		s.log.Info("web: refused", "path", r.URL.Path, "code", code)
	} else {
		s.log.Error("web: failed", "path", r.URL.Path, "err", err)
	}
	s.render(w, r, status, "message", page{Area: area, Title: text[l]["error"], Error: msg})
}
