package http

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/httpx"
	"github.com/candorhq/candor/web"
)

// accessRequest returns a done access or export request, for its report.
func (s *Server) accessRequest(r *http.Request) (*candor.RightsRequest, error) {
	id := r.PathValue("id")
	if !candor.ValidID(candor.PrefixRequest, id) {
		return nil, candor.Errorf(candor.ENOTFOUND, "request not found")
	}
	req, err := s.Rights.Get(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if req.Type != candor.RightAccess && req.Type != candor.RightExport {
		return nil, candor.Invalid("only an access or export request has a report", candor.FieldError{Field: "id", Message: "not an access or export request"})
	}
	if req.Status != candor.RequestDone {
		return nil, candor.Errorf(candor.ECONFLICT, "the request is %s, not done", req.Status)
	}
	return req, nil
}

// report serves GET /v1/rights/{id}/report: the access report, as JSON, or
// as a page in the person's language (?format=html&lang=zh-CN|en).
func (s *Server) report(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := s.accessRequest(r)
	if err != nil {
		return err
	}
	rep, err := s.Gate.Report(r.Context(), p.Actor, req.SubjectID, req.ID)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") != "html" {
		writeJSON(w, http.StatusOK, rep)
		return nil
	}
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = httpx.PreferredLang(r.Header.Get("Accept-Language"))
	}
	var buf bytes.Buffer
	if err := web.WriteReport(&buf, lang, rep, s.Ledger.Notices().Current(), req.ID); err != nil {
		return fmt.Errorf("report page: %w", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
	return nil
}

// export serves GET /v1/rights/{id}/export: the person's data, to take
// with them (PIPL Art. 45, GDPR Art. 20), as a zip of JSON and CSV files.
func (s *Server) export(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := s.accessRequest(r)
	if err != nil {
		return err
	}
	rep, err := s.Gate.Report(r.Context(), p.Actor, req.SubjectID, req.ID)
	if err != nil {
		return err
	}
	b, err := gate.ExportZip(rep)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="candor-export-`+req.ID+`.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
	return nil
}
