package campaign

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"html"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/subjects"
)

// Measuring without tracking. What a campaign counts needs no tracking:
// sent, failed, bounced and complaints (the mail events webhook), and
// unsubscribes through the campaign's own link, all marks on the send
// log. Opens and clicks are measured only for people whose decision
// allowed the policy's measure purpose (campaigns.measure) at the moment
// their message was sent: only they get a pixel and tracked links; the
// others get the template's links as written and no pixel. Conversions
// are the orders (the measure's conversion event) within its window after
// a message, read through the gate for the measure purpose, and so only
// for people whose decision allows it when counted; they are shown as
// aggregates per variant (A, B, holdout), never per person.

// Variants of an A/B campaign.
const (
	VariantA       = "a"
	VariantB       = "b"
	VariantHoldout = "holdout"
)

// SkipHoldout is the skip reason of the people held out of a campaign.
const SkipHoldout = "holdout"

// MaxHoldout is the largest holdout percentage.
const MaxHoldout = 50

// Variant returns the person's variant of the campaign: holdout for
// Holdout percent of people, else A or B (A when there is no B), from a
// keyed hash of the campaign and the person, so every node and every pass
// agrees, and no one can choose theirs.
func (s *Service) Variant(c *candor.Campaign, subjectID string) string {
	h := hmac.New(sha256.New, s.o.TokenKey)
	h.Write([]byte("variant\x00" + c.ID + "\x00" + subjectID))
	n := binary.BigEndian.Uint64(h.Sum(nil))
	switch {
	case int(n%100) < c.Holdout:
		return VariantHoldout
	case len(c.SubjectB) > 0 && (n/100)%2 == 1:
		return VariantB
	}
	return VariantA
}

// heldOut reports whether the person is in the campaign's holdout group.
func (s *Service) heldOut(c *candor.Campaign, subjectID string) bool {
	return c.Holdout > 0 && s.Variant(c, subjectID) == VariantHoldout
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"'（）()\[\]{}，。]+`)

// templateLinks returns the links the campaign's body templates hold, in
// order (en, then zh-CN), once each: the only places a click link may
// lead to.
func templateLinks(c *candor.Campaign) []string {
	var out []string
	for _, lang := range candor.Languages {
		for _, u := range linkPattern.FindAllString(c.Body[lang], -1) {
			u = strings.TrimRight(u, ".,;:!?")
			if !strings.Contains(u, "{{") && !containsString(out, u) {
				out = append(out, u)
			}
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// OpenURL returns the person's open pixel.
func (s *Service) OpenURL(campaignID, subjectID string) string {
	return s.o.PublicURL + "/v1/o/" + campaignID + "." + subjectID + "." + s.mac("open", campaignID, subjectID)
}

// ClickURL returns the person's tracked link to the campaign template's
// i-th link.
func (s *Service) ClickURL(campaignID, subjectID string, i int) string {
	n := strconv.Itoa(i)
	return s.o.PublicURL + "/v1/c/" + campaignID + "." + subjectID + "." + n + "." + s.mac("click", campaignID, subjectID+"\x00"+n)
}

// track adds, when the person's decision allows the measure purpose now,
// an open pixel (in an HTML part) and tracked links to an e-mail; it
// leaves the message as it is for everyone else. The decision is the
// run's recheck for the measure purpose (gate.Gate.Recheck): free unless
// the person's state changed since their page was read.
func (s *Service) track(ctx context.Context, c *candor.Campaign, p *gate.Person, m message) (message, error) {
	mp := s.o.Policy.Campaigns.Measure
	if mp == nil || c.Channel != candor.ChannelEmail || m.confirm {
		return m, nil
	}
	d, err := s.o.Gate.Recheck(ctx, p, mp.Purpose)
	if err != nil || !d.Allow {
		return m, err
	}
	return s.tracked(c, p.SubjectID, m), nil
}

// tracked is m with an open pixel (in an HTML part) and tracked links:
// the message of a person whose decision allows the measure purpose.
func (s *Service) tracked(c *candor.Campaign, subjectID string, m message) message {
	links := templateLinks(c)
	for i, u := range links {
		m.body = replaceLink(m.body, u, s.ClickURL(c.ID, subjectID, i))
	}
	var b strings.Builder
	b.WriteString("<!doctype html><html><body><pre style=\"font-family:inherit;white-space:pre-wrap\">")
	b.WriteString(linkify(html.EscapeString(m.body)))
	b.WriteString("</pre><img src=\"" + html.EscapeString(s.OpenURL(c.ID, subjectID)) + "\" width=\"1\" height=\"1\" alt=\"\"></body></html>")
	m.html = b.String()
	return m
}

// replaceLink replaces u in body where it stands as a whole link.
func replaceLink(body, u, with string) string {
	return linkPattern.ReplaceAllStringFunc(body, func(found string) string {
		trimmed := strings.TrimRight(found, ".,;:!?")
		if trimmed == u {
			return with + found[len(trimmed):]
		}
		return found
	})
}

func linkify(escaped string) string {
	return linkPattern.ReplaceAllStringFunc(escaped, func(u string) string {
		return `<a href="` + u + `">` + u + `</a>`
	})
}

// Open records that the message the token names was opened (once per
// message). ErrBadLink.
func (s *Service) Open(ctx context.Context, token string) error {
	campaignID, subjectID, ok := s.parseToken("open", token)
	if !ok {
		return ErrBadLink
	}
	_, err := s.o.Store.MarkSend(ctx, campaignID, subjectID, candor.ChannelEmail, candor.MarkOpened, s.o.Now().UTC())
	return err
}

// Click records a click on the link the token names (once per message)
// and returns where it leads: always a link of the campaign's template,
// so a click link cannot be made to lead anywhere else. ErrBadLink.
func (s *Service) Click(ctx context.Context, token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 4 || !candor.ValidID(candor.PrefixCampaign, parts[0]) || !candor.ValidID(candor.PrefixSubject, parts[1]) {
		return "", ErrBadLink
	}
	i, err := strconv.Atoi(parts[2])
	if err != nil || i < 0 || strconv.Itoa(i) != parts[2] {
		return "", ErrBadLink
	}
	if !hmac.Equal([]byte(s.mac("click", parts[0], parts[1]+"\x00"+parts[2])), []byte(parts[3])) {
		return "", ErrBadLink
	}
	c, err := s.o.Store.Campaign(ctx, parts[0])
	if err != nil {
		return "", ErrBadLink
	}
	links := templateLinks(c)
	if i >= len(links) {
		return "", ErrBadLink
	}
	if _, err := s.o.Store.MarkSend(ctx, c.ID, parts[1], candor.ChannelEmail, candor.MarkClicked, s.o.Now().UTC()); err != nil {
		return "", err
	}
	return links[i], nil
}

// Mail event types the mail events webhook accepts.
const (
	MailBounce    = "bounce"
	MailComplaint = "complaint"
)

// MailEvent handles a bounce or a complaint that the mail server or relay
// reports for an address: the address goes on the suppression list (by
// its blind index) at once, so that no later message is sent to it, and
// the message is counted on its campaign (campaignID, or else the
// person's latest e-mail). EINVALID for an unknown type or an address
// that is not one.
func (s *Service) MailEvent(ctx context.Context, kind, email, campaignID string) error {
	mark := map[string]string{MailBounce: candor.MarkBounced, MailComplaint: candor.MarkComplained}[kind]
	if mark == "" {
		return candor.Invalid(`type is "bounce" or "complaint"`, candor.FieldError{Field: "type", Message: "want bounce or complaint"})
	}
	if campaignID != "" && !candor.ValidID(candor.PrefixCampaign, campaignID) {
		return candor.Invalid("campaign is a campaign id", candor.FieldError{Field: "campaign", Message: "not a campaign id"})
	}
	normalized, err := subjects.Normalize(candor.IdentEmail, email)
	if err != nil {
		return candor.Invalid("email is not an address", candor.FieldError{Field: "email", Message: "not an e-mail address"})
	}
	blind := s.o.Blind(candor.IdentEmail, normalized)
	now := s.o.Now().UTC()
	if err := s.o.Store.Keys().Suppress(ctx, candor.IdentEmail, blind, now); err != nil {
		return err
	}
	subjectID, err := s.o.Store.FindSubject(ctx, candor.IdentEmail, blind)
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.o.Store.MarkSend(ctx, campaignID, subjectID, candor.ChannelEmail, mark, now)
	return err
}

// VariantStats counts one variant: how many people it had (sent, or held
// out), and how many of those whose decision allows the measure purpose
// now converted within the window after their message.
type VariantStats struct {
	People    int `json:"people"`
	Measured  int `json:"measured"`
	Converted int `json:"converted"`
	Orders    int `json:"orders"`
}

// measure adds the send log's marks to v's stats, and, with
// conversions, counts them through the gate.
func (s *Service) measure(ctx context.Context, c *candor.Campaign, v *View, conversions bool) error {
	marks, err := s.o.Store.CampaignMarks(ctx, c.ID)
	if err != nil {
		return err
	}
	v.Stats.Bounced, v.Stats.Complaints, v.Stats.Unsubscribed = marks[candor.MarkBounced], marks[candor.MarkComplained], marks[candor.MarkUnsubscribed]
	mp := s.o.Policy.Campaigns.Measure
	if mp == nil {
		return nil
	}
	v.Stats.Opened, v.Stats.Clicked = &[]int{marks[candor.MarkOpened]}[0], &[]int{marks[candor.MarkClicked]}[0]
	if !conversions {
		return nil
	}
	vs, err := s.Conversions(ctx, c)
	if err != nil {
		return err
	}
	v.Stats.Variants = vs
	return nil
}

// Conversions counts, per variant, the people the campaign sent to or
// held out, and of those whose decision allows the measure purpose now,
// how many completed an order (the measure's conversion event) within its
// window after their message (a held-out person: after the moment theirs
// would have gone). It is one bulk read through the gate for the measure
// purpose, of no field and only the conversion events, audited per page;
// what it returns are counts only.
func (s *Service) Conversions(ctx context.Context, c *candor.Campaign) (map[string]*VariantStats, error) {
	mp := s.o.Policy.Campaigns.Measure
	out := map[string]*VariantStats{}
	stat := func(v string) *VariantStats {
		if out[v] == nil {
			out[v] = &VariantStats{}
		}
		return out[v]
	}
	var mu sync.Mutex
	at := map[string]time.Time{}
	source := func(ctx context.Context, after string, limit int) ([]string, error) {
		rows, err := s.o.Store.CampaignSends(ctx, c.ID, SkipHoldout, after, limit)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(rows))
		mu.Lock()
		for i, r := range rows {
			ids[i] = r.SubjectID
			at[r.SubjectID] = r.At
			stat(s.Variant(c, r.SubjectID)).People++
		}
		mu.Unlock()
		return ids, nil
	}
	days := int(s.o.Now().Sub(c.CreatedAt)/(24*time.Hour)) + 2
	days = min(max(days, 1), gate.MaxEventDays)
	req := gate.ScanRequest{Actor: candor.Actor{ID: "campaign:" + c.ID, Role: candor.RoleAdmin}, Purpose: mp.Purpose, Fields: []string{},
		EventDays: days, Source: source, Label: "conversions of campaign " + c.Name, RequestID: c.ID}
	_, err := s.o.Gate.Scan(ctx, req, func(p *gate.Person) error {
		mu.Lock()
		sent := at[p.SubjectID]
		delete(at, p.SubjectID)
		mu.Unlock()
		st := stat(s.Variant(c, p.SubjectID))
		st.Measured++
		orders := 0
		for _, a := range p.Activity {
			if a.Name == mp.Conversion && !a.Time.Before(sent) && a.Time.Sub(sent) <= time.Duration(mp.Within) {
				orders++
			}
		}
		if orders > 0 {
			st.Converted++
			st.Orders += orders
		}
		return nil
	})
	return out, err
}
