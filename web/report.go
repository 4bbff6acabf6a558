package web

import (
	"html/template"
	"io"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/policy"
)

// reportPages are the access report as a page of its own, per language:
// what GET /v1/rights/{id}/report?format=html answers, worded from the
// same catalog as the portal.
var reportPages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, l := range candor.Languages {
		out[l] = template.Must(template.New("report.html").Funcs(funcs).Funcs(words(l).funcs()).ParseFS(files, "templates/report.html"))
	}
	return out
}()

type reportData struct {
	Lang, Org, RequestID string
	R                    *gate.Report
	Idents               []identRow
	Names                map[string]string // purpose id → name
	FieldNames           map[string]string // field id → what it is
}

// WriteReport writes rep, the access report of request requestID, as a
// page in lang (English for a language Candor does not speak), in the
// words of the notice n.
func WriteReport(w io.Writer, lang string, rep *gate.Report, n *policy.Notice, requestID string) error {
	tm, ok := reportPages[lang]
	if !ok {
		lang, tm = candor.LangEN, reportPages[candor.LangEN]
	}
	view := n.View(lang)
	d := reportData{Lang: lang, Org: view.Organization.Name, RequestID: requestID, R: rep, Idents: identRows(rep.Identifiers),
		Names: map[string]string{}, FieldNames: map[string]string{}}
	for _, p := range view.Purposes {
		d.Names[p.ID] = p.Name
	}
	d.Names[candor.PurposeRights] = text[lang]["audit_purpose_rights"]
	for _, f := range view.Fields {
		d.FieldNames[f.ID] = f.CategoryText
	}
	return tm.Execute(w, d)
}
