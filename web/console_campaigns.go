package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/campaign"
	"github.com/candorhq/candor/internal/httpx"
)

// The campaigns pages: the campaigns of the staff member's marketing
// purposes with their stats, a form for a new one (templates in en and
// zh-CN, the placeholders each purpose allows listed), and a campaign's
// own page: a preview for one person (read through the gate as the staff
// member, masked per role, audited), send, stop, and its progress, which
// campaigns.js polls while it is sending. Everything goes through
// campaign.Service, which checks the role and the policy again.

// campaignRow is a campaign as the pages show it: its codes in words.
type campaignRow struct {
	*campaign.View
	PurposeName, SegmentName, StatusText, ChannelText string
	Skipped                                           []skipRow
	SkippedTotal                                      int
}

// skipRow is one reason people were skipped, in words, and how many.
type skipRow struct {
	Reason string `json:"reason"`
	Text   string `json:"text"`
	N      int    `json:"n"`
}

// campaignPurpose is a marketing purpose of the role, offered in the form
// with the placeholders its templates may use.
type campaignPurpose struct {
	ID, Name     string
	Channels     []string // "email", "sms"
	ChannelTexts string
	Placeholders []placeholderRow
}

type placeholderRow struct{ Tag, Text string }

// segmentChoice is a segment the role may send a campaign to.
type segmentChoice struct{ ID, Name, Purpose, PurposeName string }

// campaignForm is the create form as sent.
type campaignForm struct {
	Name, Channel, Purpose, Segment      string
	SubjectEN, SubjectZH, BodyEN, BodyZH string
}

// fieldError is a refusal of one form field in the reader's language,
// with the placeholder it names (shown as code), if any.
type fieldError struct{ Text, Code string }

type campaignsData struct {
	Campaigns []campaignRow
	Purposes  []campaignPurpose
	Segments  []segmentChoice
	Form      campaignForm
	Errors    map[string]*fieldError
	Next      string
}

type campaignData struct {
	Campaign  campaignRow
	Preview   *campaign.Preview
	SubjectID string
	Errors    map[string]*fieldError
	// Sending: the page polls its progress.
	Sending bool
}

// campaignRole reports whether role may use a purpose campaigns send for
// (the Campaigns pages are for these roles only).
func (s *Server) campaignRole(role string) bool {
	return len(s.marketingPurposes(role)) > 0
}

// marketingPurposes returns the policy's marketing purposes (resting on
// consent, naming the channels campaigns use) that role may use.
func (s *Server) marketingPurposes(role string) []*candor.Purpose {
	var out []*candor.Purpose
	for i := range s.Policy.Purposes {
		p := &s.Policy.Purposes[i]
		if p.Basis == candor.BasisConsent && len(p.Marketing) > 0 && s.Policy.RoleAllows(role, p.ID) {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) campaignRoutes() {
	s.mux.HandleFunc("GET /console/campaigns", s.staffPage(s.consoleCampaigns))
	s.mux.HandleFunc("POST /console/campaigns", s.staffPost(s.consoleCreateCampaign))
	s.mux.HandleFunc("GET /console/campaigns/{id}", s.staffPage(s.consoleCampaign))
	s.mux.HandleFunc("GET /console/campaigns/{id}/progress", s.staffPage(s.consoleCampaignProgress))
	s.mux.HandleFunc("POST /console/campaigns/{id}/preview", s.staffPost(s.consoleCampaignPreview))
	s.mux.HandleFunc("POST /console/campaigns/{id}/send", s.staffPost(s.consoleCampaignSend))
	s.mux.HandleFunc("POST /console/campaigns/{id}/stop", s.staffPost(s.consoleCampaignStop))
}

// campaignsRefused answers a role without a marketing purpose, or a
// server without campaigns: 403, before anything is read.
func (s *Server) campaignsRefused(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) bool {
	if s.Campaigns != nil && s.campaignRole(m.Role) {
		return false
	}
	s.log.Info("web: campaigns page refused", "path", r.URL.Path, "role", m.Role)
	p.Title, p.Error = text[p.Lang]["error"], text[p.Lang]["err_role"]
	s.render(w, r, http.StatusForbidden, "message", p)
	return true
}

func (s *Server) purposeNames(l string) map[string]string {
	names := map[string]string{}
	for _, vp := range s.Notices.Current().View(l).Purposes {
		names[vp.ID] = vp.Name
	}
	return names
}

// row words a campaign's codes and sorts its skips by count.
func (s *Server) row(l string, v *campaign.View, names map[string]string, segNames map[string]string) campaignRow {
	row := campaignRow{View: v, PurposeName: names[v.Purpose], StatusText: words(l).code("cam_status_", v.Status), ChannelText: words(l).code("cam_channel_", v.Channel)}
	if v.Segment != "" {
		row.SegmentName = segNames[v.Segment]
	}
	for reason, n := range v.Stats.Skipped {
		if n == 0 {
			continue
		}
		t, ok := text[l]["cam_skip_"+reason]
		if !ok {
			t = text[l]["cam_skip_other"]
		}
		row.Skipped = append(row.Skipped, skipRow{Reason: reason, Text: t, N: n})
		row.SkippedTotal += n
	}
	sort.Slice(row.Skipped, func(i, j int) bool {
		if row.Skipped[i].N != row.Skipped[j].N {
			return row.Skipped[i].N > row.Skipped[j].N
		}
		return row.Skipped[i].Reason < row.Skipped[j].Reason
	})
	return row
}

// segmentNames maps the ids of the segments the actor may see to their
// names.
func (s *Server) segmentNames(r *http.Request, m *candor.StaffMember) (map[string]string, []candor.Segment, error) {
	out := map[string]string{}
	if s.Segments == nil {
		return out, nil, nil
	}
	segs, _, err := s.Segments.List(r.Context(), staffActor(m), "", 200)
	if err != nil {
		return nil, nil, err
	}
	for _, seg := range segs {
		out[seg.ID] = seg.Name
	}
	return out, segs, nil
}

func (s *Server) consoleCampaigns(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	s.renderCampaigns(w, r, m, p, campaignsData{Form: campaignForm{Channel: candor.ChannelEmail}}, http.StatusOK)
}

func (s *Server) renderCampaigns(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page, d campaignsData, status int) {
	if s.campaignsRefused(w, r, m, p) {
		return
	}
	names := s.purposeNames(p.Lang)
	segNames, segs, err := s.segmentNames(r, m)
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	after := ""
	if c := r.URL.Query().Get("cursor"); r.Method == http.MethodGet && candor.ValidID(candor.PrefixCampaign, c) {
		after = c
	}
	list, next, err := s.Campaigns.List(r.Context(), staffActor(m), after, 50)
	if err != nil {
		s.fail(w, r, "console", err)
		return
	}
	for _, v := range list {
		d.Campaigns = append(d.Campaigns, s.row(p.Lang, v, names, segNames))
	}
	d.Next = next
	view := s.Notices.Current().View(p.Lang)
	cats := map[string]string{}
	for _, f := range view.Fields {
		cats[f.ID] = f.CategoryText
	}
	for _, mp := range s.marketingPurposes(m.Role) {
		cp := campaignPurpose{ID: mp.ID, Name: names[mp.ID], Channels: mp.Marketing}
		var chs []string
		for _, ch := range mp.Marketing {
			chs = append(chs, words(p.Lang).code("cam_channel_", ch))
		}
		cp.ChannelTexts = strings.Join(chs, text[p.Lang]["sep"])
		for _, f := range s.Policy.FieldsFor(mp.ID) {
			if !f.Sensitive {
				cp.Placeholders = append(cp.Placeholders, placeholderRow{Tag: "{{" + f.ID + "}}", Text: cats[f.ID]})
			}
		}
		d.Purposes = append(d.Purposes, cp)
		// The segments of this purpose that the role may read and send to.
		for _, seg := range segs {
			if seg.Purpose == mp.ID && s.Segments.Audience().Check(r.Context(), staffActor(m), seg.ID, seg.Purpose) == nil {
				d.Segments = append(d.Segments, segmentChoice{ID: seg.ID, Name: seg.Name, Purpose: seg.Purpose, PurposeName: names[seg.Purpose]})
			}
		}
	}
	if d.Form.Purpose == "" && len(d.Purposes) > 0 {
		d.Form.Purpose = d.Purposes[0].ID
	}
	p.Title, p.Data = text[p.Lang]["campaigns"], d
	s.render(w, r, status, "console-campaigns", p)
}

func (s *Server) consoleCreateCampaign(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	f := campaignForm{Name: r.PostFormValue("name"), Channel: r.PostFormValue("channel"), Purpose: r.PostFormValue("purpose"), Segment: r.PostFormValue("segment"),
		SubjectEN: r.PostFormValue("subject_en"), SubjectZH: r.PostFormValue("subject_zh"), BodyEN: r.PostFormValue("body_en"), BodyZH: r.PostFormValue("body_zh")}
	if s.campaignsRefused(w, r, m, p) {
		return
	}
	in := campaign.Input{Name: f.Name, Channel: f.Channel, Purpose: f.Purpose, Segment: f.Segment,
		Body: candor.Text{candor.LangEN: f.BodyEN, candor.LangZH: f.BodyZH}}
	if f.Channel != candor.ChannelSMS {
		in.Subject = candor.Text{candor.LangEN: f.SubjectEN, candor.LangZH: f.SubjectZH}
	}
	v, err := s.Campaigns.Create(r.Context(), staffActor(m), in)
	d := campaignsData{Form: f}
	switch candor.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/console/campaigns/"+v.ID+"?created=1", http.StatusSeeOther)
	case candor.EINVALID:
		d.Errors = campaignErrors(p.Lang, err)
		p.Error = text[p.Lang]["cam_refused"]
		s.renderCampaigns(w, r, m, p, d, http.StatusUnprocessableEntity)
	case candor.ENOTFOUND:
		d.Errors = map[string]*fieldError{"segment": {Text: text[p.Lang]["cam_err_segment"]}}
		p.Error = text[p.Lang]["cam_refused"]
		s.renderCampaigns(w, r, m, p, d, http.StatusUnprocessableEntity)
	case candor.EFORBIDDEN:
		var ce *candor.Error
		if errors.As(err, &ce) && ce.Reason == "rule_not_for_role" {
			d.Errors = map[string]*fieldError{"segment": {Text: text[p.Lang]["cam_err_segment_role"]}}
		}
		p.Error = text[p.Lang]["err_purpose"] + " " + s.denialText(p.Lang, err, s.purposeNames(p.Lang)[f.Purpose])
		s.renderCampaigns(w, r, m, p, d, http.StatusForbidden)
	default:
		s.fail(w, r, "console", err)
	}
}

// campaignErrors words the service's refusal of a campaign, by the form
// field each names.
func campaignErrors(l string, err error) map[string]*fieldError {
	var ce *candor.Error
	out := map[string]*fieldError{}
	if !errors.As(err, &ce) {
		return out
	}
	for _, fe := range ce.Fields {
		field := fe.Field
		switch {
		case field == "subject":
			field = "subject." + candor.LangEN
		case strings.HasPrefix(field, "subject.") || strings.HasPrefix(field, "body."):
			if lang := field[strings.IndexByte(field, '.')+1:]; !slices.Contains(candor.Languages, lang) {
				field = "form"
			}
		case !slices.Contains([]string{"name", "channel", "purpose", "segment"}, field):
			field = "form"
		}
		e := campaignErrorText(l, fe.Message)
		if prev := out[field]; prev != nil {
			// One line per field: the first refusal, and the placeholders
			// of the others.
			if e.Code != "" && !strings.Contains(prev.Code, e.Code) {
				prev.Code = strings.TrimSpace(prev.Code + " " + e.Code)
			}
			continue
		}
		out[field] = &e
	}
	if len(out) == 0 {
		out["form"] = &fieldError{Text: text[l]["cam_err_other"]}
	}
	return out
}

var placeholderIn = regexp.MustCompile(`\{\{[^{}]{1,64}\}\}`)

// campaignErrorText maps the service's message to the catalog.
func campaignErrorText(l, msg string) fieldError {
	for _, c := range []struct{ has, key string }{
		{"names an undeclared trait", "cam_err_undeclared"},
		{"names a trait not declared for", "cam_err_not_for"},
		{"names sensitive", "cam_err_sensitive"},
		{"not declared in the policy", "cam_err_purpose"},
		{"rests on", "cam_err_not_marketing"},
		{"is not a marketing purpose", "cam_err_not_marketing"},
		{"is a marketing purpose for", "cam_err_channel_purpose"},
		{`want "email" or "sms"`, "cam_err_channel"},
		{"required, at most", "cam_err_name"},
		{"a text message has no subject", "cam_err_sms_subject"},
		{"not a notice language", "cam_err_other"},
		{"required", "cam_err_required"},
		{"at most", "cam_err_long"},
		{"for another purpose", "cam_err_segment_purpose"},
		{", not ", "cam_err_segment_purpose"},
	} {
		if strings.Contains(msg, c.has) {
			return fieldError{Text: text[l][c.key], Code: placeholderIn.FindString(msg)}
		}
	}
	return fieldError{Text: text[l]["cam_err_other"]}
}

// campaignOf returns the campaign named in the path, worded, or answers
// (404 for an id of the wrong shape or unknown, 403 for a purpose of
// another role) and returns false.
func (s *Server) campaignOf(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) (campaignRow, bool) {
	return s.campaignRead(w, r, m, p, s.Campaigns.Get)
}

// campaignRead is campaignOf, reading the campaign with get.
func (s *Server) campaignRead(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page, get func(context.Context, candor.Actor, string) (*campaign.View, error)) (campaignRow, bool) {
	if s.campaignsRefused(w, r, m, p) {
		return campaignRow{}, false
	}
	id := r.PathValue("id")
	if !candor.ValidID(candor.PrefixCampaign, id) {
		s.fail(w, r, "console", &candor.Error{Code: candor.ENOTFOUND, Message: "no such campaign"})
		return campaignRow{}, false
	}
	v, err := get(r.Context(), staffActor(m), id)
	if err != nil {
		s.fail(w, r, "console", err)
		return campaignRow{}, false
	}
	segNames := map[string]string{}
	if v.Segment != "" && s.Segments != nil {
		if seg, err := s.Segments.Get(r.Context(), staffActor(m), httpx.RequestID(r.Context()), v.Segment); err == nil {
			segNames[seg.ID] = seg.Name
		}
	}
	return s.row(p.Lang, v, s.purposeNames(p.Lang), segNames), true
}

func (s *Server) renderCampaign(w http.ResponseWriter, r *http.Request, p page, d campaignData, status int) {
	d.Sending = d.Campaign.Status == candor.CampaignSending
	p.Title, p.Data = d.Campaign.Name, d
	s.render(w, r, status, "console-campaign", p)
}

func (s *Server) consoleCampaign(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	row, ok := s.campaignOf(w, r, m, p)
	if !ok {
		return
	}
	q := r.URL.Query()
	switch {
	case q.Get("created") != "":
		p.Notice = text[p.Lang]["cam_created"]
	case q.Get("sent") != "":
		p.Notice = text[p.Lang]["cam_started"]
	case q.Get("stopped") != "":
		p.Notice = text[p.Lang]["cam_stopped"]
	}
	s.renderCampaign(w, r, p, campaignData{Campaign: row}, http.StatusOK)
}

// consoleCampaignProgress answers the page's poll: the status and stats
// in words, as JSON.
func (s *Server) consoleCampaignProgress(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	// Polled every second while sending: the send log's counts only, not
	// the conversions (a read of the audience).
	row, ok := s.campaignRead(w, r, m, p, s.Campaigns.Progress)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	skipped := row.Skipped
	if skipped == nil {
		skipped = []skipRow{}
	}
	json.NewEncoder(w).Encode(map[string]any{"status": row.Status, "status_text": row.StatusText, "sent": row.Stats.Sent, "failed": row.Stats.Failed,
		"sending": row.Stats.Sending, "waiting": row.Stats.Waiting, "skipped": skipped, "skipped_total": row.SkippedTotal})
}

func (s *Server) consoleCampaignPreview(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	row, ok := s.campaignOf(w, r, m, p)
	if !ok {
		return
	}
	d := campaignData{Campaign: row, SubjectID: strings.TrimSpace(r.PostFormValue("subject_id"))}
	if !candor.ValidID(candor.PrefixSubject, d.SubjectID) {
		d.Errors = map[string]*fieldError{"subject_id": {Text: text[p.Lang]["cam_err_subject_id"]}}
		s.renderCampaign(w, r, p, d, http.StatusUnprocessableEntity)
		return
	}
	pv, err := s.Campaigns.Preview(r.Context(), staffActor(m), row.ID, d.SubjectID, httpx.RequestID(r.Context()))
	switch candor.ErrorCode(err) {
	case "":
		d.Preview = pv
		s.renderCampaign(w, r, p, d, http.StatusOK)
	case candor.ENOTFOUND:
		d.Errors = map[string]*fieldError{"subject_id": {Text: text[p.Lang]["not_found_subject"]}}
		s.renderCampaign(w, r, p, d, http.StatusNotFound)
	case candor.EFORBIDDEN, candor.EGONE:
		// The person's decision does not allow the purpose (audited by
		// the gate): nothing of theirs is shown.
		d.Errors = map[string]*fieldError{"subject_id": {Text: text[p.Lang]["err_purpose"] + " " + s.denialText(p.Lang, err, row.PurposeName)}}
		s.renderCampaign(w, r, p, d, http.StatusForbidden)
	default:
		s.fail(w, r, "console", err)
	}
}

func (s *Server) consoleCampaignSend(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	s.campaignAction(w, r, m, p, s.Campaigns.Start, "sent")
}

func (s *Server) consoleCampaignStop(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page) {
	s.campaignAction(w, r, m, p, s.Campaigns.Stop, "stopped")
}

// campaignAction starts or stops a campaign, then shows its page.
func (s *Server) campaignAction(w http.ResponseWriter, r *http.Request, m *candor.StaffMember, p page,
	act func(ctx context.Context, actor candor.Actor, id string) (*campaign.View, error), done string) {
	row, ok := s.campaignOf(w, r, m, p)
	if !ok {
		return
	}
	_, err := act(r.Context(), staffActor(m), row.ID)
	var status int
	switch candor.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/console/campaigns/"+row.ID+"?"+done+"=1", http.StatusSeeOther)
		return
	case candor.ECONFLICT:
		status, p.Error = http.StatusConflict, text[p.Lang]["cam_err_"+done+"_conflict"]
	case candor.EINVALID:
		status, p.Error = http.StatusUnprocessableEntity, text[p.Lang]["cam_err_no_sender"]
	case candor.EFORBIDDEN:
		status, p.Error = http.StatusForbidden, text[p.Lang]["err_purpose"]+" "+s.denialText(p.Lang, err, row.PurposeName)
	default:
		s.fail(w, r, "console", err)
		return
	}
	if row2, ok := s.campaignOf(w, r, m, p); ok {
		row = row2
	} else {
		return
	}
	s.renderCampaign(w, r, p, campaignData{Campaign: row}, status)
}
