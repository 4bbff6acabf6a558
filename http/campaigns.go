package http

import (
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/campaign"
	"github.com/candorhq/candor/internal/httpx"
	"github.com/candorhq/candor/webhook"
)

func (s *Server) campaigns() (*campaign.Service, error) {
	if s.Campaigns == nil {
		return nil, &candor.Error{Code: candor.EUNAVAILABLE, Message: "campaigns are not configured on this node"}
	}
	return s.Campaigns, nil
}

// createCampaign serves POST /v1/campaigns.
func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, p *principal) error {
	svc, err := s.campaigns()
	if err != nil {
		return err
	}
	var in campaign.Input
	if err := decode(w, r, MaxBodyBytes, &in); err != nil {
		return err
	}
	v, err := svc.Create(r.Context(), p.Actor, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": v.ID, "status": v.Status})
	return nil
}

// listCampaigns serves GET /v1/campaigns?limit=&cursor=.
func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, p *principal) error {
	svc, err := s.campaigns()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return candor.Invalid("limit is a number from 1 to 200", candor.FieldError{Field: "limit", Message: "want 1 to 200"})
		}
		limit = n
	}
	cursor := q.Get("cursor")
	if cursor != "" && !candor.ValidID(candor.PrefixCampaign, cursor) {
		return candor.Invalid("cursor is the next_cursor of the page before", candor.FieldError{Field: "cursor", Message: "not a cursor"})
	}
	list, next, err := svc.List(r.Context(), p.Actor, cursor, limit)
	if err != nil {
		return err
	}
	if list == nil {
		list = []*campaign.View{}
	}
	out := map[string]any{"campaigns": list}
	if next != "" {
		out["next_cursor"] = next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getCampaign serves GET /v1/campaigns/{id}.
func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request, p *principal) error {
	svc, err := s.campaigns()
	if err != nil {
		return err
	}
	v, err := svc.Get(r.Context(), p.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// sendCampaign serves POST /v1/campaigns/{id}/send: 202, sending runs in
// the background.
func (s *Server) sendCampaign(w http.ResponseWriter, r *http.Request, p *principal) error {
	svc, err := s.campaigns()
	if err != nil {
		return err
	}
	v, err := svc.Start(r.Context(), p.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, v)
	return nil
}

// stopCampaign serves POST /v1/campaigns/{id}/stop.
func (s *Server) stopCampaign(w http.ResponseWriter, r *http.Request, p *principal) error {
	svc, err := s.campaigns()
	if err != nil {
		return err
	}
	v, err := svc.Stop(r.Context(), p.Actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// previewCampaign serves POST /v1/campaigns/{id}/preview {"subject_id"}.
func (s *Server) previewCampaign(w http.ResponseWriter, r *http.Request, p *principal) error {
	svc, err := s.campaigns()
	if err != nil {
		return err
	}
	var in struct {
		SubjectID string `json:"subject_id"`
	}
	if err := decode(w, r, MaxBodyBytes, &in); err != nil {
		return err
	}
	if !candor.ValidID(candor.PrefixSubject, in.SubjectID) {
		return candor.Invalid("subject_id is required", candor.FieldError{Field: "subject_id", Message: "not a subject id"})
	}
	pv, err := svc.Preview(r.Context(), p.Actor, r.PathValue("id"), in.SubjectID, requestID(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pv)
	return nil
}

var linkPage = template.Must(template.New("link").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title></head><body>
<h1>{{.Title}}</h1>
{{if .Done}}<p>{{.Done}}</p>{{else}}<p>{{.Ask}}</p>
<form method="post" action=""><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">{{.Button}}</button></form>{{end}}
<p>{{.Org}}</p>
</body></html>`))

type linkText struct {
	Lang, Title, Ask, Button, Done, Org string
}

func linkTexts(kind, lang string, info *campaign.LinkInfo) linkText {
	purpose := info.Purpose.In(lang)
	t := linkText{Lang: lang, Org: info.Organization}
	switch {
	case kind == "unsubscribe" && lang == candor.LangZH:
		t.Title, t.Ask, t.Button = "退订", "不再接收“"+purpose+"”？", "退订"
	case kind == "unsubscribe":
		t.Title, t.Ask, t.Button = "Unsubscribe", "Stop receiving \""+purpose+"\"?", "Unsubscribe"
	case lang == candor.LangZH:
		t.Title, t.Ask, t.Button = "确认订阅", "确认接收“"+purpose+"”？", "确认"
	default:
		t.Title, t.Ask, t.Button = "Confirm", "Confirm that you want \""+purpose+"\"?", "Confirm"
	}
	return t
}

// linkGet serves GET /v1/unsubscribe/{token} and GET /v1/confirm/{token}:
// a small page with a button. A GET changes nothing (mail scanners
// follow links).
func (s *Server) linkGet(kind string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *principal) error {
		svc, err := s.campaigns()
		if err != nil {
			return err
		}
		info, err := svc.Link(r.Context(), kind, r.PathValue("token"))
		if err != nil {
			return err
		}
		return writeLinkPage(w, linkTexts(kind, httpx.PreferredLang(r.Header.Get("Accept-Language")), info))
	}
}

func writeLinkPage(w http.ResponseWriter, t linkText) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "Accept-Language")
	w.WriteHeader(http.StatusOK)
	return linkPage.Execute(w, t)
}

// linkPost serves POST /v1/unsubscribe/{token} (RFC 8058 one-click: the
// form body List-Unsubscribe=One-Click, no cookie, no key; 200, no
// redirect) and POST /v1/confirm/{token}.
func (s *Server) linkPost(kind string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *principal) error {
		svc, err := s.campaigns()
		if err != nil {
			return err
		}
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		io.Copy(io.Discard, r.Body) // the body only says which kind of POST it is
		token := r.PathValue("token")
		info, err := svc.Link(r.Context(), kind, token)
		if err != nil {
			return err
		}
		if kind == "unsubscribe" {
			err = svc.Unsubscribe(r.Context(), token, requestID(r.Context()))
		} else {
			err = svc.Confirm(r.Context(), token, requestID(r.Context()))
		}
		if err != nil {
			return err
		}
		lang := httpx.PreferredLang(r.Header.Get("Accept-Language"))
		t := linkTexts(kind, lang, info)
		switch {
		case kind == "unsubscribe" && lang == candor.LangZH:
			t.Done = "您已退订。"
		case kind == "unsubscribe":
			t.Done = "You are unsubscribed."
		case lang == candor.LangZH:
			t.Done = "已确认，谢谢。"
		default:
			t.Done = "Confirmed. Thank you."
		}
		return writeLinkPage(w, t)
	}
}

// smsReply serves POST /v1/sms/replies: the SMS gateway relay forwards a
// reply {"from","text"}, signed like Candor's webhooks with the gateway's
// secret; TD, 退订 or STOP withdraws the person's SMS marketing purposes.
func (s *Server) smsReply(w http.ResponseWriter, r *http.Request, _ *principal) error {
	svc, err := s.campaigns()
	if err != nil {
		return err
	}
	if len(s.SMSSecret) == 0 {
		return &candor.Error{Code: candor.EUNAVAILABLE, Message: "no SMS gateway is configured"}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<10))
	if err != nil {
		return &candor.Error{Code: candor.ETOOLARGE, Message: "the body is too large"}
	}
	if err := webhook.VerifySignature(s.SMSSecret, b, r.Header.Get(webhook.SignatureHeader), s.Now(), 5*time.Minute); err != nil {
		return candor.Errorf(candor.EUNAUTHORIZED, "the signature does not check")
	}
	var in struct {
		From string `json:"from"`
		Text string `json:"text"`
	}
	if err := decodeBytes(b, &in); err != nil {
		return err
	}
	ok, err := svc.Reply(r.Context(), in.From, in.Text, requestID(r.Context()))
	if err != nil && candor.ErrorCode(err) != candor.EINVALID {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"withdrawn": ok})
	return nil
}

func decodeBytes(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return &candor.Error{Code: candor.EMALFORMED, Message: "the body is not valid JSON"}
	}
	return nil
}
