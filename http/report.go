package http

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
)

//go:embed templates/report.html
var templates embed.FS

// reportText holds the report page's words in each language.
var reportText = map[string]map[string]string{
	candor.LangEN: {
		"title": "What we hold about you", "intro": "This report lists every personal datum held about you by", "generated": "generated",
		"request": "request", "identifiers": "How we recognize you", "kind": "Kind", "value": "Value", "none": "None.",
		"fields": "Information we hold", "field": "Field", "purposes": "Used for", "kept_until": "Kept until", "sensitive": "sensitive", "masked": "masked for your role", "source": "Where it came from",
		"decisions": "What we may do with it now", "purpose": "Purpose", "now": "Allowed now", "why": "Why", "yes": "yes", "no": "no",
		"restricted": "You restricted the processing of your data: only what the law requires continues.", "objections": "You objected to",
		"consents": "Your consents", "when": "When", "state": "Choice", "notice": "Notice version", "channel": "Where", "guardian": "by a guardian",
		"recipients": "Who received your data", "recipient": "Recipient", "what": "What", "no_recipients": "Nobody has received your data.",
		"automated": "Automated decisions", "applies": "Applies to you now", "events": "Your activity", "event": "Event", "count": "Count",
		"first": "First", "last": "Last", "export_hint": "Ask for an export to receive all of it, each event included, as JSON and CSV files.",
	},
	candor.LangZH: {
		"title": "我们持有的您的个人信息", "intro": "本报告列出以下处理者持有的您的全部个人信息：", "generated": "生成于",
		"request": "请求编号", "identifiers": "我们识别您的方式", "kind": "类型", "value": "内容", "none": "无。",
		"fields": "我们持有的信息", "field": "字段", "purposes": "处理目的", "kept_until": "保存至", "sensitive": "敏感个人信息", "masked": "按您的角色已遮蔽", "source": "来源",
		"decisions": "目前可进行的处理", "purpose": "目的", "now": "当前是否允许", "why": "原因", "yes": "是", "no": "否",
		"restricted": "您已限制对您个人信息的处理：仅继续法律要求的处理。", "objections": "您已拒绝的处理目的",
		"consents": "您的同意记录", "when": "时间", "state": "选择", "notice": "告知版本", "channel": "渠道", "guardian": "由监护人作出",
		"recipients": "接收过您个人信息的第三方", "recipient": "接收方", "what": "提供的信息", "no_recipients": "没有第三方接收过您的个人信息。",
		"automated": "自动化决策", "applies": "目前是否适用于您", "events": "您的行为记录", "event": "事件", "count": "次数",
		"first": "首次", "last": "最近", "export_hint": "如需获取全部信息（包括每一条行为记录）的 JSON 和 CSV 文件，请申请导出。",
	},
}

var reportPage = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"t":    func(string) string { return "" }, // replaced per request
	"join": func(s []string) string { return strings.Join(s, ", ") },
}).ParseFS(templates, "templates/report.html"))

// accessRequest returns a done access or export request, for its report.
func (s *Server) accessRequest(r *http.Request) (*candor.RightsRequest, error) {
	id := r.PathValue("id")
	if !candor.ValidID("req_", id) {
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
		lang = preferredLang(r.Header.Get("Accept-Language"))
	}
	words, ok := reportText[lang]
	if !ok {
		lang, words = candor.LangEN, reportText[candor.LangEN]
	}
	page, err := reportPage.Clone()
	if err != nil {
		return err
	}
	page.Funcs(template.FuncMap{"t": func(k string) string { return words[k] }})
	var buf bytes.Buffer
	if err := page.Execute(&buf, map[string]any{"Lang": lang, "R": rep, "Org": s.Policy.Organization.Name, "RequestID": req.ID}); err != nil {
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
