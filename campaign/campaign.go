// Package campaign sends e-mail and text-message campaigns for a marketing
// purpose, asking at the moment each message is sent: the gate's decision
// for the purpose, the suppression list, the policy's frequency caps per
// channel, its quiet hours in the person's time zone (a message due in
// quiet hours waits), and a confirmed consent where the policy asks for
// double opt-in. A per-recipient send log, claimed before a message goes
// out, makes sending idempotent: a crash, a restart or a second node never
// sends anyone a campaign twice.
//
// Every message carries the way to refuse: an e-mail, List-Unsubscribe
// and List-Unsubscribe-Post (RFC 8058) and a visible link; a text message,
// "回复TD退订" or "Reply STOP to opt out". Both are withdrawals in the
// consent ledger, honoured by the next decision on every node.
//
// The package reads personal data only through the gate: the audience as
// a bulk run (one audit entry per page), a preview as one audited read.
package campaign

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/smtp"
)

// Limits on what a campaign holds.
const (
	MaxName    = 200
	MaxSubject = 300
	MaxBody    = 64 << 10
	MaxSMS     = 500 // characters of a text message's template
)

// Mailer sends one e-mail. [smtp.Pool] is one.
type Mailer interface {
	Send(ctx context.Context, m smtp.Mail) error
}

// Audience draws a campaign's recipients from a segment. The segment
// package implements it; without one, a campaign that names a segment is
// refused.
type Audience interface {
	// Check returns an EINVALID, ENOTFOUND or EFORBIDDEN error when the
	// actor may not send a campaign for purpose to the segment.
	Check(ctx context.Context, actor candor.Actor, segmentID, purpose string) error
	// Scan is base, the campaign's bulk read through the gate, narrowed to
	// the segment: it reads besides base's fields what the segment's rule
	// needs, and yields only the people the segment holds at the moment
	// each is read (one run, audited per page, as any bulk read).
	Scan(ctx context.Context, segmentID string, base gate.ScanRequest, yield func(*gate.Person) error) error
}

// Options configures a [Service].
type Options struct {
	Policy  *candor.Policy
	Store   candor.Store
	Gate    *gate.Gate
	Ledger  *consent.Ledger
	Auditor candor.Auditor
	// Blind computes an identifier's blind index, for the suppression
	// list and for the inbound replies (the vault's BlindIndex).
	Blind func(kind, normalized string) []byte
	// Mail sends e-mail; SMS sends text messages (the SMS gateway). A
	// campaign over a channel without a sender is refused at its start.
	Mail Mailer
	SMS  candor.Sender
	// PublicURL is where people reach Candor (CANDOR_PUBLIC_URL): links
	// in messages start with it.
	PublicURL string
	// TokenKey is the HMAC key of unsubscribe and confirmation links (at
	// least 32 bytes; derived from the vault so every node has it).
	TokenKey []byte
	Audience Audience
	// Node names this node in the send log and the campaign leases.
	Node string
	// Workers is how many messages are sent at once (default 8).
	Workers int
	// Poll is how often the runner looks for campaigns to send (default 2s).
	Poll time.Duration
	// TriggerEvery is how often a triggered message looks for the people
	// it is due to (default a minute).
	TriggerEvery time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
}

// Service creates, previews and sends campaigns.
type Service struct {
	o    Options
	kick chan struct{}
	mu   sync.Mutex
	// running holds the campaigns this node sends now; wait, when each
	// may go on (after quiet hours).
	running map[string]bool
	cancels map[string]context.CancelFunc // the passes running on this node, to stop at once
	waits   map[string]waiting
	wg      sync.WaitGroup
}

// New returns a service. It panics without a policy, a store, a gate, a
// ledger, an auditor, a blind index or a token key of 32 bytes.
func New(o Options) *Service {
	switch {
	case o.Policy == nil, o.Store == nil, o.Gate == nil, o.Ledger == nil, o.Auditor == nil, o.Blind == nil:
		panic("campaign: New without a policy, store, gate, ledger, auditor or blind index")
	case len(o.TokenKey) < 32:
		panic("campaign: New without a token key of 32 bytes")
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.TriggerEvery <= 0 {
		o.TriggerEvery = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Node == "" {
		o.Node = candor.NewID(candor.PrefixNode)
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	return &Service{o: o, kick: make(chan struct{}, 1), running: map[string]bool{}, cancels: map[string]context.CancelFunc{}, waits: map[string]waiting{}}
}

// Input is a new campaign as the API receives it.
type Input struct {
	Name    string      `json:"name"`
	Channel string      `json:"channel"`
	Segment string      `json:"segment"`
	Purpose string      `json:"purpose"`
	Subject candor.Text `json:"subject"`
	// SubjectB is a second subject line (an A/B test); Holdout the
	// percentage of people sent nothing and counted (0 to MaxHoldout).
	SubjectB candor.Text `json:"subject_b"`
	Holdout  int         `json:"holdout"`
	Body     candor.Text `json:"body"`
}

// View is a campaign as the API shows it.
type View struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Channel  string      `json:"channel"`
	Segment  string      `json:"segment,omitempty"`
	Purpose  string      `json:"purpose"`
	Subject  candor.Text `json:"subject,omitempty"`
	SubjectB candor.Text `json:"subject_b,omitempty"`
	Holdout  int         `json:"holdout,omitempty"`
	Trigger  string      `json:"trigger,omitempty"`
	Body     candor.Text `json:"body"`
	Status   string      `json:"status"`
	Stats    Stats       `json:"stats"`
	Created  time.Time   `json:"created_at"`
	Updated  time.Time   `json:"updated_at"`
}

// Stats is what a campaign's send log counts.
type Stats struct {
	Sent    int            `json:"sent"`
	Failed  int            `json:"failed"`
	Sending int            `json:"sending"`
	Waiting int            `json:"waiting,omitempty"` // due in quiet hours at the last pass
	Skipped map[string]int `json:"skipped"`
	// Bounced and Complaints count the mail events webhook's reports;
	// Unsubscribed, the withdrawals through this campaign's link.
	Bounced      int `json:"bounced"`
	Complaints   int `json:"complaints"`
	Unsubscribed int `json:"unsubscribed"`
	// Opened and Clicked count messages (once each) of people whose
	// decision allowed the measure purpose when sent; absent without
	// campaigns.measure in the policy.
	Opened  *int `json:"opened,omitempty"`
	Clicked *int `json:"clicked,omitempty"`
	// Variants counts people and conversions per variant (a, b, holdout),
	// on GET of one campaign when the policy measures.
	Variants map[string]*VariantStats `json:"variants,omitempty"`
}

var placeholder = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// Placeholders returns the field ids the template names, in order, once each.
func Placeholders(t string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(t, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// authorize returns EFORBIDDEN unless the actor may process for purpose.
func (s *Service) authorize(actor candor.Actor, purpose string) error {
	if !s.o.Policy.RoleAllows(actor.Role, purpose) {
		return &candor.Error{Code: candor.EFORBIDDEN, Message: fmt.Sprintf("role %s may not process data for %s", actor.Role, purpose), Reason: gate.CodeRole}
	}
	return nil
}

// Create validates and stores a draft. It returns EINVALID naming what is
// wrong: a purpose that is not a marketing purpose for the channel, a
// placeholder naming an undeclared field or one not declared for the
// purpose, a template missing in a language; EFORBIDDEN when the actor's
// role may not use the purpose.
func (s *Service) Create(ctx context.Context, actor candor.Actor, in Input) (*View, error) {
	pol := s.o.Policy
	var errs []candor.FieldError
	bad := func(field, msg string) { errs = append(errs, candor.FieldError{Field: field, Message: msg}) }
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > MaxName || !utf8.ValidString(in.Name) {
		bad("name", fmt.Sprintf("required, at most %d bytes", MaxName))
	}
	if in.Channel != candor.ChannelEmail && in.Channel != candor.ChannelSMS {
		bad("channel", `want "email" or "sms"`)
	}
	p := pol.Purpose(in.Purpose)
	switch {
	case p == nil:
		bad("purpose", "not declared in the policy")
	case p.Basis != candor.BasisConsent:
		bad("purpose", fmt.Sprintf("%s rests on %s: a campaign may only send for a marketing purpose that rests on consent", p.ID, p.Basis))
	case len(p.Marketing) == 0:
		bad("purpose", p.ID+" is not a marketing purpose: the policy gives it no marketing: [email] or [sms]")
	case in.Channel != "" && !p.MarketingChannel(in.Channel):
		bad("purpose", fmt.Sprintf("%s is a marketing purpose for %s, not %s", p.ID, strings.Join(p.Marketing, ", "), in.Channel))
	}
	if p != nil && len(errs) == 0 {
		if err := s.authorize(actor, p.ID); err != nil {
			return nil, err
		}
	}
	check := func(member string, t candor.Text, max int) {
		for _, lang := range candor.Languages {
			v := t[lang]
			if strings.TrimSpace(v) == "" {
				bad(member+"."+lang, "required")
				continue
			}
			if len(v) > max || !utf8.ValidString(v) {
				bad(member+"."+lang, fmt.Sprintf("at most %d bytes of UTF-8", max))
				continue
			}
			for _, name := range Placeholders(v) {
				f := pol.Field(name)
				switch {
				case f == nil:
					bad(member+"."+lang, fmt.Sprintf("{{%s}} names an undeclared trait: the policy declares no field %s", short(name), short(name)))
				case p != nil && !slices.Contains(f.Purposes, p.ID):
					bad(member+"."+lang, fmt.Sprintf("{{%s}} names a trait not declared for %s", name, p.ID))
				case f.Sensitive:
					bad(member+"."+lang, fmt.Sprintf("{{%s}} names sensitive personal information, which a campaign does not write into messages", name))
				}
			}
		}
		for lang := range t {
			if !slices.Contains(candor.Languages, lang) {
				bad(member+"."+short(lang), "not a notice language (en, zh-CN)")
			}
		}
	}
	max := MaxBody
	if in.Channel == candor.ChannelSMS {
		max = MaxSMS
		if len(in.Subject) > 0 {
			bad("subject", "a text message has no subject")
		}
	} else {
		check("subject", in.Subject, MaxSubject)
		if len(in.SubjectB) > 0 {
			check("subject_b", in.SubjectB, MaxSubject)
		}
	}
	if in.Holdout < 0 || in.Holdout > MaxHoldout {
		bad("holdout", fmt.Sprintf("a percentage from 0 to %d", MaxHoldout))
	}
	check("body", in.Body, max)
	if in.Segment != "" && len(errs) == 0 {
		if s.o.Audience == nil {
			bad("segment", "segments are not available in this build: leave segment out to send to everyone the purpose allows")
		} else if err := s.o.Audience.Check(ctx, actor, in.Segment, in.Purpose); err != nil {
			return nil, err
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, candor.Invalid("the campaign is not valid", errs...)
	}
	now := s.o.Now().UTC()
	c := candor.Campaign{ID: candor.NewID(candor.PrefixCampaign), Name: in.Name, Channel: in.Channel, Purpose: p.ID, Segment: in.Segment,
		Subject: in.Subject, SubjectB: in.SubjectB, Holdout: in.Holdout, Body: in.Body, Status: candor.CampaignDraft, Actor: actor.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.o.Store.PutCampaign(ctx, c); err != nil {
		return nil, err
	}
	return s.view(ctx, &c)
}

func short(s string) string {
	if len(s) > 64 || !utf8.ValidString(s) {
		return "(a long or invalid name)"
	}
	return s
}

func (s *Service) view(ctx context.Context, c *candor.Campaign) (*View, error) {
	st, err := s.o.Store.CampaignStats(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	v := &View{ID: c.ID, Name: c.Name, Channel: c.Channel, Segment: c.Segment, Purpose: c.Purpose, Subject: c.Subject, Body: c.Body,
		SubjectB: c.SubjectB, Holdout: c.Holdout, Trigger: c.Trigger,
		Status: c.Status, Created: c.CreatedAt, Updated: c.UpdatedAt,
		Stats: Stats{Sent: st.Sent, Failed: st.Failed, Sending: st.Claimed, Skipped: st.Skipped}}
	if st.Interrupted > 0 {
		v.Stats.Skipped[candor.SendInterrupted] += st.Interrupted
	}
	s.mu.Lock()
	v.Stats.Waiting = s.waits[c.ID].n
	s.mu.Unlock()
	if err := s.measure(ctx, c, v, false); err != nil {
		return nil, err
	}
	return v, nil
}

// campaign returns a campaign the actor may see: ENOTFOUND, EFORBIDDEN.
func (s *Service) campaign(ctx context.Context, actor candor.Actor, id string) (*candor.Campaign, error) {
	c, err := s.o.Store.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(actor, c.Purpose); err != nil {
		return nil, err
	}
	return c, nil
}

// Get returns a campaign with its stats, with the conversions per variant
// when the policy measures campaigns (one bulk read through the gate for
// the measure purpose, audited) and the campaign is no longer sending (or
// is a trigger's): a script polling a campaign while it sends does not
// read its audience at every poll. ENOTFOUND, EFORBIDDEN.
func (s *Service) Get(ctx context.Context, actor candor.Actor, id string) (*View, error) {
	return s.get(ctx, actor, id, true)
}

// Progress is Get without the conversions: what a page polling a campaign
// that is sending needs, read from the send log alone.
func (s *Service) Progress(ctx context.Context, actor candor.Actor, id string) (*View, error) {
	return s.get(ctx, actor, id, false)
}

func (s *Service) get(ctx context.Context, actor candor.Actor, id string, conversions bool) (*View, error) {
	c, err := s.campaign(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	v, err := s.view(ctx, c)
	if err != nil {
		return nil, err
	}
	if s.o.Policy.Campaigns.Measure != nil && (c.Status != candor.CampaignDraft || c.Trigger != "") {
		if err := s.measure(ctx, c, v, conversions && (c.Status != candor.CampaignSending || c.Trigger != "")); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// List returns up to limit campaigns after the cursor that the actor's
// role may see, and the cursor of the next page ("" at the end).
func (s *Service) List(ctx context.Context, actor candor.Actor, after string, limit int) ([]*View, string, error) {
	limit = min(max(limit, 1), 200)
	var out []*View
	for len(out) < limit {
		page, err := s.o.Store.Campaigns(ctx, after, limit)
		if err != nil {
			return nil, "", err
		}
		for i := range page {
			after = page[i].ID
			if s.authorize(actor, page[i].Purpose) != nil {
				continue
			}
			v, err := s.view(ctx, &page[i])
			if err != nil {
				return nil, "", err
			}
			if out = append(out, v); len(out) == limit {
				break
			}
		}
		if len(page) < limit {
			return out, "", nil
		}
	}
	return out, after, nil
}

// Start moves a draft to sending; the runner sends it in the background.
// It returns ECONFLICT when the campaign is not a draft, and EINVALID
// when its channel has no sender configured.
func (s *Service) Start(ctx context.Context, actor candor.Actor, id string) (*View, error) {
	c, err := s.campaign(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if (c.Channel == candor.ChannelEmail && s.o.Mail == nil) || (c.Channel == candor.ChannelSMS && s.o.SMS == nil) {
		return nil, candor.Invalid("no sender is configured for "+c.Channel+" (CANDOR_SMTP_URL or CANDOR_SMS_URL)", candor.FieldError{Field: "channel", Message: "no sender"})
	}
	if s.o.PublicURL == "" {
		return nil, candor.Invalid("CANDOR_PUBLIC_URL is not set: messages need a link people can unsubscribe with")
	}
	c.SentBy, c.SentRole = actor.ID, actor.Role
	ok, err := s.o.Store.SetCampaignStatus(ctx, *c, []string{candor.CampaignDraft}, candor.CampaignSending, s.o.Now().UTC())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &candor.Error{Code: candor.ECONFLICT, Message: "the campaign is not a draft", Reason: "not_draft"}
	}
	s.Kick()
	return s.Get(ctx, actor, id)
}

// Stop stops a draft or a sending campaign: on this node no message is
// handed to the server after Stop returns; a pass on another node sees
// the stop within LeaseFor/3. ECONFLICT when done.
func (s *Service) Stop(ctx context.Context, actor candor.Actor, id string) (*View, error) {
	c, err := s.campaign(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	ok, err := s.o.Store.SetCampaignStatus(ctx, *c, []string{candor.CampaignDraft, candor.CampaignSending}, candor.CampaignStopped, s.o.Now().UTC())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &candor.Error{Code: candor.ECONFLICT, Message: "the campaign is done or stopped already", Reason: "finished"}
	}
	s.mu.Lock()
	cancel := s.cancels[id]
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return s.Get(ctx, actor, id)
}

// Preview is one person's message, as it would be sent now.
type Preview struct {
	SubjectID string `json:"subject_id"`
	Language  string `json:"language"`
	To        string `json:"to"` // masked per the actor's role
	Subject   string `json:"subject,omitempty"`
	Body      string `json:"body"`
}

// Preview renders the campaign for one person, reading their fields
// through the gate for the campaign's purpose as the actor (masked per
// the actor's role; audited). EFORBIDDEN when the person's decision does
// not allow the purpose; ENOTFOUND.
func (s *Service) Preview(ctx context.Context, actor candor.Actor, id, subjectID, requestID string) (*Preview, error) {
	c, err := s.campaign(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	res, err := s.o.Gate.Read(ctx, gate.ReadRequest{Actor: actor, Purpose: c.Purpose, SubjectID: subjectID, Fields: s.fieldsOf(c), RequestID: requestID})
	if err != nil {
		return nil, err
	}
	m := s.render(c, subjectID, res.Fields)
	return &Preview{SubjectID: subjectID, Language: m.lang, To: m.to, Subject: m.subject, Body: m.body}, nil
}
