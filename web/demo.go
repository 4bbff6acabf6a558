package web

import (
	"html/template"
	"net/http"

	"github.com/candorhq/candor"
)

var demoPage = template.Must(template.ParseFS(files, "templates/demo.html"))

// demo serves the demo shop: a product page that loads the banner SDK with
// the SDK key, so that a newcomer sees consent, events and their profile.
func (s *Server) demo(w http.ResponseWriter, r *http.Request) {
	lang := candor.LangEN
	if r.URL.Query().Get("lang") == candor.LangZH {
		lang = candor.LangZH
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := demoPage.Execute(w, map[string]any{"Key": s.SDKKey, "Lang": lang, "Org": s.Policy.Organization.Name}); err != nil {
		s.log.Error("web: demo page", "err", err)
	}
}
