package campaign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/candorhq/candor"
)

// waiting is what a pass left for later: how many people were due in
// quiet hours, and when the earliest of them may be sent to.
type waiting struct {
	n     int
	until time.Time
}

// addressField returns the field that holds the channel's address for the
// campaign's purpose.
func (s *Service) addressField(c *candor.Campaign) *candor.Field {
	category := candor.CategoryEmail
	if c.Channel == candor.ChannelSMS {
		category = candor.CategoryPhone
	}
	for _, f := range s.o.Policy.FieldsFor(c.Purpose) {
		if f.Category == category {
			return f
		}
	}
	return nil
}

// categoryField returns the field of the category declared for purpose, or nil.
func (s *Service) categoryField(purpose, category string) *candor.Field {
	for _, f := range s.o.Policy.FieldsFor(purpose) {
		if f.Category == category {
			return f
		}
	}
	return nil
}

// fieldsOf is what a send reads of each person, and nothing more: the
// address, the traits the templates name, and the language and time zone
// when the policy declares them for the purpose.
func (s *Service) fieldsOf(c *candor.Campaign) []string {
	var out []string
	add := func(f *candor.Field) {
		if f != nil && !slices.Contains(out, f.ID) {
			out = append(out, f.ID)
		}
	}
	add(s.addressField(c))
	add(s.categoryField(c.Purpose, candor.CategoryLanguage))
	add(s.categoryField(c.Purpose, candor.CategoryTimeZone))
	for _, t := range []candor.Text{c.Subject, c.Body} {
		for _, v := range t {
			for _, name := range Placeholders(v) {
				add(s.o.Policy.Field(name))
			}
		}
	}
	return out
}

// language is the person's language: their preference.language trait
// when the policy declares one for the purpose, else the organization's.
func (s *Service) language(c *candor.Campaign, fields map[string]string) string {
	if f := s.categoryField(c.Purpose, candor.CategoryLanguage); f != nil {
		v := strings.ToLower(strings.TrimSpace(fields[f.ID]))
		switch {
		case strings.HasPrefix(v, "zh"):
			return candor.LangZH
		case strings.HasPrefix(v, "en"):
			return candor.LangEN
		}
	}
	if l := s.o.Policy.Organization.Language; l != "" {
		return l
	}
	return candor.LangEN
}

// location is the person's time zone: their location.time_zone trait when
// the policy declares one for the purpose and it names an IANA zone, else
// the organization's.
func (s *Service) location(c *candor.Campaign, fields map[string]string) *time.Location {
	if f := s.categoryField(c.Purpose, candor.CategoryTimeZone); f != nil {
		if v := strings.TrimSpace(fields[f.ID]); v != "" && v != "Local" {
			if loc, err := time.LoadLocation(v); err == nil {
				return loc
			}
		}
	}
	if loc, err := time.LoadLocation(s.o.Policy.Organization.TimeZone); err == nil && s.o.Policy.Organization.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// quietUntil reports, when t falls in the channel's quiet hours in loc,
// the end of them.
func (s *Service) quietUntil(channel string, t time.Time, loc *time.Location) (time.Time, bool) {
	q, ok := s.o.Policy.Campaigns.QuietHours[channel]
	if !ok {
		return time.Time{}, false
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	if !q.Contains(m) {
		return time.Time{}, false
	}
	end := time.Date(lt.Year(), lt.Month(), lt.Day(), q.End/60, q.End%60, 0, 0, loc)
	if !end.After(lt) {
		end = end.AddDate(0, 0, 1)
	}
	return end, true
}

// message is one person's rendered message.
type message struct {
	lang, to, subject, body string
	html                    string // with a pixel and tracked links: only when measured (measure.go)
	unsubscribe             string
	confirm                 bool // a double opt-in confirmation request, not the campaign's message
}

// confirmation replaces m with the request to confirm the consent the
// campaign needs (double opt-in), in the person's language.
func (s *Service) confirmation(c *candor.Campaign, subjectID string, m message) message {
	org := s.o.Policy.Organization
	var name string
	if p := s.o.Policy.Purpose(c.Purpose); p != nil {
		name = p.Name.In(m.lang)
	}
	link := s.ConfirmURL(c.ID, subjectID)
	m.confirm = true
	if m.lang == candor.LangZH {
		m.subject = "请确认：" + name
		m.body = fmt.Sprintf("您同意了“%s”。请打开以下链接确认，确认之前我们不会向您发送此类信息：\n%s\n\n如果不是您本人操作，请忽略本邮件。\n--\n发送者：%s，联系方式：%s\n退订：%s\n", name, link, org.Name, org.Contact, m.unsubscribe)
	} else {
		m.subject = "Please confirm: " + name
		m.body = fmt.Sprintf("You agreed to \"%s\". Please confirm it by opening this link; until you do, we send you nothing of the kind:\n%s\n\nIf it was not you, ignore this message.\n--\nSent by %s, contact: %s\nUnsubscribe: %s\n", name, link, org.Name, org.Contact, m.unsubscribe)
	}
	if c.Channel == candor.ChannelSMS {
		if m.lang == candor.LangZH {
			m.body = "【" + org.Name + "】请确认订阅“" + name + "”：" + link + " 回复TD退订"
		} else {
			m.body = org.Name + ": confirm \"" + name + "\": " + link + " Reply STOP to opt out"
		}
	}
	return m
}

// fill replaces each placeholder with the person's trait (empty when
// they have none: a template cannot reveal more than the gate gave).
func fill(t string, fields map[string]string) string {
	return placeholder.ReplaceAllStringFunc(t, func(m string) string {
		return fields[placeholder.FindStringSubmatch(m)[1]]
	})
}

// render writes the person's message in their language, with the way to
// refuse and the sender's identity and contact (China's Advertising Law
// Art. 43; CAN-SPAM; the ePrivacy Directive).
func (s *Service) render(c *candor.Campaign, subjectID string, fields map[string]string) message {
	lang := s.language(c, fields)
	m := message{lang: lang, unsubscribe: s.UnsubscribeURL(c.ID, subjectID)}
	if f := s.addressField(c); f != nil {
		m.to = fields[f.ID]
	}
	org := s.o.Policy.Organization
	purpose := s.o.Policy.Purpose(c.Purpose)
	body := strings.TrimRight(fill(c.Body.In(lang), fields), "\n ")
	if c.Channel == candor.ChannelSMS {
		if lang == candor.LangZH {
			m.body = "【" + org.Name + "】" + body + " 回复TD退订"
		} else {
			m.body = org.Name + ": " + body + " Reply STOP to opt out"
		}
		return m
	}
	subject := c.Subject
	if len(c.SubjectB) > 0 && s.Variant(c, subjectID) == VariantB {
		subject = c.SubjectB
	}
	m.subject = strings.ReplaceAll(strings.ReplaceAll(fill(subject.In(lang), fields), "\r", " "), "\n", " ")
	var name string
	if purpose != nil {
		name = purpose.Name.In(lang)
	}
	if lang == candor.LangZH {
		m.body = fmt.Sprintf("%s\n\n--\n您收到这封邮件，是因为您同意了“%s”。\n退订：%s\n发送者：%s，联系方式：%s\n", body, name, m.unsubscribe, org.Name, org.Contact)
	} else {
		m.body = fmt.Sprintf("%s\n\n--\nYou receive this because you agreed to \"%s\".\nUnsubscribe: %s\nSent by %s, contact: %s\n", body, name, m.unsubscribe, org.Name, org.Contact)
	}
	return m
}

// Tokens: an unsubscribe link names the campaign and the person by their
// random ids (never an address) and carries an HMAC over both under a key
// derived from the vault, so that it cannot be forged or guessed.

func (s *Service) mac(kind, campaignID, subjectID string) string {
	h := hmac.New(sha256.New, s.o.TokenKey)
	h.Write([]byte(kind + "\x00" + campaignID + "\x00" + subjectID))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
}

// UnsubscribeToken returns the token of the person's unsubscribe link.
func (s *Service) UnsubscribeToken(campaignID, subjectID string) string {
	return campaignID + "." + subjectID + "." + s.mac("unsubscribe", campaignID, subjectID)
}

// UnsubscribeURL returns the person's unsubscribe link.
func (s *Service) UnsubscribeURL(campaignID, subjectID string) string {
	return s.o.PublicURL + "/v1/unsubscribe/" + s.UnsubscribeToken(campaignID, subjectID)
}

// parseToken checks a token and returns the campaign and the person.
func (s *Service) parseToken(kind, token string) (campaignID, subjectID string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || !candor.ValidID(candor.PrefixCampaign, parts[0]) || !candor.ValidID(candor.PrefixSubject, parts[1]) {
		return "", "", false
	}
	want := s.mac(kind, parts[0], parts[1])
	return parts[0], parts[1], hmac.Equal([]byte(want), []byte(parts[2]))
}
