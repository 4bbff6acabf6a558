package candor

import "time"

// Basis is the legal basis of a purpose.
type Basis string

// Legal bases. PIPL knows no legitimate interest.
const (
	BasisConsent            Basis = "consent"
	BasisContract           Basis = "contract"
	BasisLegalObligation    Basis = "legal_obligation"
	BasisLegitimateInterest Basis = "legitimate_interest"
	BasisVitalInterest      Basis = "vital_interest"
	BasisPublicInterest     Basis = "public_interest"
	JurisdictionPIPL              = "PIPL"
	JurisdictionGDPR              = "GDPR"
	CategoryEmail                 = "contact.email"
	CategoryPhone                 = "contact.phone"
	CategoryBirthDate             = "identity.birth_date"
	UndeclaredDrop                = "drop"
	UndeclaredReject              = "reject"
	GPCDeny                       = "deny"
	PurposeRights                 = "rights" // the built-in purpose under which data-subject requests read data
	RoleAdmin                     = "admin"  // built-in: every purpose, no masking, every endpoint
	RoleWrite                     = "write"  // built-in: ingestion and consent only; reads no personal data
	// RoleBrowser is the built-in role of a key that is public in web
	// pages (the banner SDK's): consents by anonymous id only, and events;
	// no decisions, no reads.
	RoleBrowser             = "browser"
	DefaultAgeOfConsentPIPL = 14
	DefaultAgeOfConsentGDPR = 16
)

// Organization is the controller: who is responsible for the data.
type Organization struct {
	Name          string
	Country       string // ISO 3166-1 alpha-2
	Contact       string // an address people can write to about their data
	Jurisdictions []string
	// AgeOfConsent overrides the default age of consent per jurisdiction
	// (PIPL 14, GDPR 16; GDPR member states may lower it to 13).
	AgeOfConsent map[string]int
	PolicyURL    string
	// TimeZone is the IANA time zone campaigns keep quiet hours in for a
	// person whose own is not known (default Asia/Shanghai in CN, else UTC).
	TimeZone string
	// Language is the language a message goes out in to a person whose
	// own is not known: zh-CN or en (default zh-CN in CN, else en).
	Language string
}

// Purpose is why data is processed.
type Purpose struct {
	ID                string
	Name              Text
	Description       Text
	Basis             Basis
	SeparateConsent   bool   // PIPL Art. 23, 29, 39: granted only when asked for on its own
	AutomatedDecision bool   // PIPL Art. 24: a non-personalized option must exist
	GPC               string // "deny": a Global Privacy Control signal denies this purpose
	// Marketing names the channels ([ChannelEmail], [ChannelSMS]) a
	// campaign may send over for this purpose: only a purpose that rests
	// on consent and names its channels is a marketing purpose.
	Marketing []string
}

// Campaign channels.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// CategoryLanguage and CategoryTimeZone are the categories of the traits
// a campaign reads, when they are declared for its purpose, to write to a
// person in their language and keep quiet hours in their time zone.
const (
	CategoryLanguage = "preference.language"
	CategoryTimeZone = "location.time_zone"
)

// MarketingChannel reports whether a campaign may send over channel for p.
func (p *Purpose) MarketingChannel(channel string) bool {
	return p.Basis == BasisConsent && contains(p.Marketing, channel)
}

// FrequencyCap limits how many campaign messages one person receives over
// one channel: at most Count within any Window.
type FrequencyCap struct {
	Count  int
	Window Duration
}

// QuietHours is a daily window, in the person's time zone, in which no
// campaign message is sent: from Start to End minutes after midnight
// (Start > End wraps past midnight, as 21:00-08:00).
type QuietHours struct {
	Start, End int
}

// Contains reports whether the minute of the day m falls in q.
func (q QuietHours) Contains(m int) bool {
	if q.Start <= q.End {
		return m >= q.Start && m < q.End
	}
	return m >= q.Start || m < q.End
}

// CampaignPolicy is the policy's optional campaigns section: what limits
// every campaign, whoever writes it.
type CampaignPolicy struct {
	Frequency  map[string]FrequencyCap // by channel
	QuietHours map[string]QuietHours   // by channel
	// DoubleOptIn lists the purposes whose consent counts for a campaign
	// only once the person confirmed it through a link sent to them.
	DoubleOptIn []string
	// Triggers are the triggered messages, by name ([TriggerWelcome],
	// [TriggerAbandonedCart]); absent ones are not sent.
	Triggers map[string]*TriggerPolicy
	// Measure says how campaigns are measured; nil: opens, clicks and
	// conversions are not measured (sent, failed, bounced, complaints and
	// unsubscribes always are: they need no tracking).
	Measure *MeasurePolicy
}

// Triggered messages.
const (
	// TriggerWelcome greets a person the first time they consent to the
	// trigger's purpose (once per person and purpose, ever).
	TriggerWelcome = "welcome"
	// TriggerAbandonedCart reminds a person of a Product Added followed by
	// no Order Completed within After.
	TriggerAbandonedCart = "abandoned_cart"
)

// Events the abandoned-cart trigger and conversions read.
const (
	EventProductAdded   = "Product Added"
	EventOrderCompleted = "Order Completed"
)

// TriggerPolicy is one triggered message: sent for a marketing purpose
// over e-mail, with the same checks as a campaign.
type TriggerPolicy struct {
	Name    string
	Purpose string
	// After is how long a cart waits for an order before the reminder;
	// Within is how far back a trigger looks (a consent, a cart).
	After, Within Duration
	Subject, Body Text
}

// MeasurePolicy says for which purpose campaigns are measured (opens and
// clicks only for people whose decision allows it at send time;
// conversions read through the gate for it) and what a conversion is.
type MeasurePolicy struct {
	Purpose    string
	Conversion string   // the event counted, such as Order Completed
	Within     Duration // after a message
}

// NeedsConsent reports whether p rests on consent.
func (p *Purpose) NeedsConsent() bool { return p.Basis == BasisConsent }

// Field is a declared trait of a subject.
type Field struct {
	ID        string
	Category  string // such as contact.email, location.city, identity.birth_date
	Type      string // string, email, phone, date, number, boolean; derived from the category when not given
	Sensitive bool   // PIPL Art. 28 sensitive personal information
	Purposes  []string
	Retention Duration
}

// Event is a declared kind of behavioural event.
type Event struct {
	Name       string
	Purposes   []string
	Retention  Duration
	Properties map[string]string // property name → type: string, number, integer, boolean, timestamp
}

// Recipient is a third party that may receive declared fields for declared purposes.
type Recipient struct {
	ID       string
	Name     string
	Country  string
	Purposes []string
	Fields   []string
	// Webhook is where the recipient is told of erasures and
	// rectifications of data it received (https, or http on loopback).
	Webhook string
}

// Role is a staff or API role: the purposes it may read for and the fields it sees only masked.
type Role struct {
	ID       string
	Purposes []string
	Masked   []string
}

// Policy is a loaded, checked candor.yaml: the catalog of everything Candor
// may hold and why. It is immutable once loaded.
type Policy struct {
	Organization Organization
	Undeclared   string // "drop" or "reject"
	Purposes     []Purpose
	Fields       []Field
	Events       []Event
	Recipients   []Recipient
	Roles        []Role
	Campaigns    CampaignPolicy
	// Source is the file the policy was read from, for messages.
	Source string

	purposes   map[string]*Purpose
	fields     map[string]*Field
	events     map[string]*Event
	recipients map[string]*Recipient
	roles      map[string]*Role
}

// Index builds the look-up maps. Loaders call it once after filling the slices.
func (p *Policy) Index() {
	p.purposes = make(map[string]*Purpose, len(p.Purposes))
	for i := range p.Purposes {
		p.purposes[p.Purposes[i].ID] = &p.Purposes[i]
	}
	p.fields = make(map[string]*Field, len(p.Fields))
	for i := range p.Fields {
		p.fields[p.Fields[i].ID] = &p.Fields[i]
	}
	p.events = make(map[string]*Event, len(p.Events))
	for i := range p.Events {
		p.events[p.Events[i].Name] = &p.Events[i]
	}
	p.recipients = make(map[string]*Recipient, len(p.Recipients))
	for i := range p.Recipients {
		p.recipients[p.Recipients[i].ID] = &p.Recipients[i]
	}
	p.roles = make(map[string]*Role, len(p.Roles))
	for i := range p.Roles {
		p.roles[p.Roles[i].ID] = &p.Roles[i]
	}
}

// Purpose returns the purpose with the given id, or nil.
func (p *Policy) Purpose(id string) *Purpose { return p.purposes[id] }

// Field returns the field with the given id, or nil.
func (p *Policy) Field(id string) *Field { return p.fields[id] }

// Event returns the event with the given name, or nil.
func (p *Policy) Event(name string) *Event { return p.events[name] }

// Recipient returns the recipient with the given id, or nil.
func (p *Policy) Recipient(id string) *Recipient { return p.recipients[id] }

// Role returns the role with the given id, or nil. The built-in roles
// [RoleAdmin], [RoleWrite] and [RoleBrowser] are not in the policy.
func (p *Policy) Role(id string) *Role { return p.roles[id] }

// FieldByCategory returns the first field of the given category, or nil.
func (p *Policy) FieldByCategory(category string) *Field {
	for i := range p.Fields {
		if p.Fields[i].Category == category {
			return &p.Fields[i]
		}
	}
	return nil
}

// FieldsFor returns the fields declared for purpose, in policy order.
func (p *Policy) FieldsFor(purpose string) []*Field {
	var out []*Field
	for i := range p.Fields {
		if contains(p.Fields[i].Purposes, purpose) {
			out = append(out, &p.Fields[i])
		}
	}
	return out
}

// RecipientsFor returns the recipients that receive data for purpose.
func (p *Policy) RecipientsFor(purpose string) []*Recipient {
	var out []*Recipient
	for i := range p.Recipients {
		if contains(p.Recipients[i].Purposes, purpose) {
			out = append(out, &p.Recipients[i])
		}
	}
	return out
}

// RoleAllows reports whether role may process for purpose. The admin role may
// process for every purpose; the write role for none.
func (p *Policy) RoleAllows(role, purpose string) bool {
	switch role {
	case RoleAdmin:
		return p.Purpose(purpose) != nil || purpose == PurposeRights
	case RoleWrite, RoleBrowser:
		return false
	}
	r := p.Role(role)
	return r != nil && contains(r.Purposes, purpose)
}

// AgeOfConsent returns the age below which a person needs a guardian's
// consent: the highest over the organization's jurisdictions, so that the
// strictest law applies.
func (p *Policy) AgeOfConsent() int {
	age := 0
	for _, j := range p.Organization.Jurisdictions {
		a, ok := p.Organization.AgeOfConsent[j]
		if !ok {
			switch j {
			case JurisdictionPIPL:
				a = DefaultAgeOfConsentPIPL
			case JurisdictionGDPR:
				a = DefaultAgeOfConsentGDPR
			}
		}
		if a > age {
			age = a
		}
	}
	if age == 0 {
		age = DefaultAgeOfConsentGDPR
	}
	return age
}

// IsChild reports whether a person born on birth is younger than the age of
// consent at time now.
func (p *Policy) IsChild(birth, now time.Time) bool {
	return now.Before(birth.AddDate(p.AgeOfConsent(), 0, 0))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DoubleOptInFor reports whether the policy asks a confirmed consent for purpose.
func (c CampaignPolicy) DoubleOptInFor(purpose string) bool { return contains(c.DoubleOptIn, purpose) }
