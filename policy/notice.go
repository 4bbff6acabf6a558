package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/candorhq/candor"
)

// Notice is the privacy notice generated from a policy, in every language,
// versioned by the SHA-256 of its canonical form.
//
// The canonical form is JSON with sorted keys and no insignificant
// whitespace, and its lists sorted by id, so it changes when anything people
// are told changes (a purpose's text, basis or flags, a field, an event, a
// recipient, a retention period, the organization) and never because of how
// the YAML was written. Whether undeclared data is dropped or rejected is not
// part of it.
type Notice struct {
	Hash      string // "sha256:" + 64 hex digits of SHA-256(Canonical)
	Version   string // the first 12 hex digits of the hash
	Canonical []byte // the canonical JSON form
	// PurposeHashes holds, per purpose id, "sha256:" + hex over the canonical
	// JSON of that purpose's definition: the purpose itself (names,
	// descriptions, basis, flags), the fields declared for it (id, category,
	// sensitive, retention), the events for it, and the recipients that
	// receive data for it (id, name, country, and those of its fields that
	// serve the purpose). It changes when, and only when, what a person
	// agreed to for that purpose changes.
	PurposeHashes map[string]string

	policy *candor.Policy
	by     *byPurpose
}

// byPurpose indexes what the policy declares for each purpose, in policy
// order.
type byPurpose struct {
	fields     map[string][]*candor.Field
	events     map[string][]*candor.Event
	recipients map[string][]*candor.Recipient
}

func index(p *candor.Policy) *byPurpose {
	b := &byPurpose{fields: map[string][]*candor.Field{}, events: map[string][]*candor.Event{}, recipients: map[string][]*candor.Recipient{}}
	for i := range p.Fields {
		for _, id := range unique(p.Fields[i].Purposes) {
			b.fields[id] = append(b.fields[id], &p.Fields[i])
		}
	}
	for i := range p.Events {
		for _, id := range unique(p.Events[i].Purposes) {
			b.events[id] = append(b.events[id], &p.Events[i])
		}
	}
	for i := range p.Recipients {
		for _, id := range unique(p.Recipients[i].Purposes) {
			b.recipients[id] = append(b.recipients[id], &p.Recipients[i])
		}
	}
	return b
}

// unique returns list without repeats, in order.
func unique(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := list[:0:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// NewNotice builds the notice of p, which must be a policy [Parse] returned
// without findings.
func NewNotice(p *candor.Policy) *Notice {
	canon := canonicalJSON(noticeDoc(p))
	n := &Notice{Hash: hashOf(canon), Canonical: canon, PurposeHashes: make(map[string]string, len(p.Purposes)), policy: p, by: index(p)}
	n.Version = n.Hash[len("sha256:") : len("sha256:")+12]
	for i := range p.Purposes {
		n.PurposeHashes[p.Purposes[i].ID] = hashOf(canonicalJSON(purposeDoc(n.by, &p.Purposes[i])))
	}
	return n
}

// Stored returns the notice as the store keeps it, created at now.
func (n *Notice) Stored(now time.Time) candor.StoredNotice {
	return candor.StoredNotice{
		Hash:          n.Hash,
		Version:       n.Version,
		Canonical:     bytes.Clone(n.Canonical),
		PurposeHashes: maps.Clone(n.PurposeHashes),
		CreatedAt:     now,
	}
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// canonicalJSON encodes v, built of maps, slices, strings, numbers and
// booleans, with sorted keys and no insignificant whitespace.
func canonicalJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("policy: canonical form: " + err.Error()) // only maps, slices and scalars go in
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

type doc = map[string]any

// retentionText formats a retention period in days, or in hours when it is
// not a whole number of days: "730d", "12h".
func retentionText(d candor.Duration) string {
	td := time.Duration(d)
	if td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	return strconv.FormatInt(int64((td+time.Hour-1)/time.Hour), 10) + "h"
}

func sortedCopy(list []string) []string {
	out := slices.Clone(list)
	if out == nil {
		out = []string{}
	}
	sort.Strings(out)
	return out
}

func textDoc(t candor.Text) map[string]string {
	m := make(map[string]string, len(t))
	maps.Copy(m, t)
	return m
}

func purposeObj(p *candor.Purpose) doc {
	return doc{
		"id":                 p.ID,
		"name":               textDoc(p.Name),
		"description":        textDoc(p.Description),
		"basis":              string(p.Basis),
		"separate_consent":   p.SeparateConsent,
		"automated_decision": p.AutomatedDecision,
		"gpc":                p.GPC,
	}
}

// ages is the age of consent in each of the organization's jurisdictions.
func ages(o *candor.Organization) map[string]int {
	m := map[string]int{}
	for _, j := range o.Jurisdictions {
		a, ok := o.AgeOfConsent[j]
		if !ok {
			switch j {
			case candor.JurisdictionPIPL:
				a = candor.DefaultAgeOfConsentPIPL
			case candor.JurisdictionGDPR:
				a = candor.DefaultAgeOfConsentGDPR
			}
		}
		m[j] = a
	}
	return m
}

// noticeDoc is what the whole notice says.
func noticeDoc(p *candor.Policy) doc {
	o := &p.Organization
	purposes := make([]doc, 0, len(p.Purposes))
	for i := range p.Purposes {
		purposes = append(purposes, purposeObj(&p.Purposes[i]))
	}
	sort.Slice(purposes, func(i, j int) bool { return purposes[i]["id"].(string) < purposes[j]["id"].(string) })
	fields := make([]doc, 0, len(p.Fields))
	for _, f := range p.Fields {
		fields = append(fields, doc{"id": f.ID, "category": f.Category, "sensitive": f.Sensitive, "purposes": sortedCopy(f.Purposes), "retention": retentionText(f.Retention)})
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i]["id"].(string) < fields[j]["id"].(string) })
	events := make([]doc, 0, len(p.Events))
	for _, e := range p.Events {
		events = append(events, doc{"name": e.Name, "purposes": sortedCopy(e.Purposes), "retention": retentionText(e.Retention), "properties": sortedCopy(slices.Collect(maps.Keys(e.Properties)))})
	}
	sort.Slice(events, func(i, j int) bool { return events[i]["name"].(string) < events[j]["name"].(string) })
	recipients := make([]doc, 0, len(p.Recipients))
	for _, r := range p.Recipients {
		recipients = append(recipients, doc{"id": r.ID, "name": r.Name, "country": r.Country, "purposes": sortedCopy(r.Purposes), "fields": sortedCopy(r.Fields)})
	}
	sort.Slice(recipients, func(i, j int) bool { return recipients[i]["id"].(string) < recipients[j]["id"].(string) })
	return doc{
		"organization": doc{
			"name": o.Name, "country": o.Country, "contact": o.Contact, "policy_url": o.PolicyURL,
			"jurisdictions": sortedCopy(o.Jurisdictions), "age_of_consent": ages(o),
		},
		"purposes":   purposes,
		"fields":     fields,
		"events":     events,
		"recipients": recipients,
	}
}

// purposeDoc is what the notice says about one purpose: what a person
// agrees to when they consent to it.
func purposeDoc(by *byPurpose, pu *candor.Purpose) doc {
	fields := []doc{}
	forPurpose := map[string]bool{}
	for _, f := range by.fields[pu.ID] {
		forPurpose[f.ID] = true
		fields = append(fields, doc{"id": f.ID, "category": f.Category, "sensitive": f.Sensitive, "retention": retentionText(f.Retention)})
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i]["id"].(string) < fields[j]["id"].(string) })
	events := []doc{}
	for _, e := range by.events[pu.ID] {
		events = append(events, doc{"name": e.Name, "retention": retentionText(e.Retention), "properties": sortedCopy(slices.Collect(maps.Keys(e.Properties)))})
	}
	sort.Slice(events, func(i, j int) bool { return events[i]["name"].(string) < events[j]["name"].(string) })
	recipients := []doc{}
	for _, r := range by.recipients[pu.ID] {
		given := []string{}
		for _, f := range r.Fields {
			if forPurpose[f] {
				given = append(given, f)
			}
		}
		recipients = append(recipients, doc{"id": r.ID, "name": r.Name, "country": r.Country, "fields": sortedCopy(given)})
	}
	sort.Slice(recipients, func(i, j int) bool { return recipients[i]["id"].(string) < recipients[j]["id"].(string) })
	return doc{"purpose": purposeObj(pu), "fields": fields, "events": events, "recipients": recipients}
}

// View is the notice as people read it in one language (it is served as
// JSON at GET /v1/notice). It holds everything a consent banner shows.
type View struct {
	Version      string           `json:"version"`
	Hash         string           `json:"hash"`
	Language     string           `json:"language"`
	Organization ViewOrganization `json:"organization"`
	Purposes     []ViewPurpose    `json:"purposes"`
	Fields       []ViewField      `json:"fields"`
	Events       []ViewEvent      `json:"events"`
	Recipients   []ViewRecipient  `json:"recipients"`
	// Retention maps each field id and event name to how long it is kept,
	// such as "730d".
	Retention map[string]string `json:"retention"`
	Rights    []ViewRight       `json:"rights"`
	// AgeOfConsent is the age below which a guardian must consent.
	AgeOfConsent int `json:"age_of_consent"`
}

// ViewOrganization is the controller as the notice names it.
type ViewOrganization struct {
	Name          string   `json:"name"`
	Country       string   `json:"country"`
	Contact       string   `json:"contact"`
	Jurisdictions []string `json:"jurisdictions"`
	PolicyURL     string   `json:"policy_url"`
}

// ViewPurpose is one purpose as the notice explains it.
type ViewPurpose struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Basis       string `json:"basis"`
	BasisText   string `json:"basis_text"`
	// NeedsConsent is true when the purpose rests on consent, so that a
	// banner offers a choice for it.
	NeedsConsent      bool                 `json:"needs_consent"`
	SeparateConsent   bool                 `json:"separate_consent"`
	AutomatedDecision bool                 `json:"automated_decision"`
	GPC               string               `json:"gpc"`
	Fields            []string             `json:"fields"`
	Events            []string             `json:"events"`
	Recipients        []ViewRecipientBrief `json:"recipients"`
}

// ViewRecipientBrief names a recipient within a purpose.
type ViewRecipientBrief struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Country string `json:"country"`
}

// ViewField is one declared field as the notice explains it.
type ViewField struct {
	ID            string   `json:"id"`
	Category      string   `json:"category"`
	CategoryText  string   `json:"category_text"`
	Sensitive     bool     `json:"sensitive"`
	Purposes      []string `json:"purposes"`
	Retention     string   `json:"retention"`
	RetentionDays int      `json:"retention_days"`
}

// ViewEvent is one declared kind of event as the notice lists it.
type ViewEvent struct {
	Name          string   `json:"name"`
	Purposes      []string `json:"purposes"`
	Properties    []string `json:"properties"`
	Retention     string   `json:"retention"`
	RetentionDays int      `json:"retention_days"`
}

// ViewRecipient is one recipient as the notice lists it. CrossBorder is true
// when it is in another country than the organization.
type ViewRecipient struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Country     string   `json:"country"`
	Purposes    []string `json:"purposes"`
	Fields      []string `json:"fields"`
	CrossBorder bool     `json:"cross_border"`
}

// ViewRight is one right of the person, explained.
type ViewRight struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// View returns the notice in lang, [candor.LangEN] or [candor.LangZH]; any
// other language falls back to English.
func (n *Notice) View(lang string) View {
	if lang != candor.LangZH {
		lang = candor.LangEN
	}
	p := n.policy
	o := &p.Organization
	v := View{
		Version: n.Version, Hash: n.Hash, Language: lang,
		Organization: ViewOrganization{
			Name: o.Name, Country: o.Country, Contact: o.Contact,
			Jurisdictions: nonNil(slices.Clone(o.Jurisdictions)), PolicyURL: o.PolicyURL,
		},
		Purposes:     make([]ViewPurpose, 0, len(p.Purposes)),
		Fields:       make([]ViewField, 0, len(p.Fields)),
		Events:       make([]ViewEvent, 0, len(p.Events)),
		Recipients:   make([]ViewRecipient, 0, len(p.Recipients)),
		Retention:    map[string]string{},
		AgeOfConsent: p.AgeOfConsent(),
	}
	automated := false
	for i := range p.Purposes {
		pu := &p.Purposes[i]
		automated = automated || pu.AutomatedDecision
		vp := ViewPurpose{
			ID: pu.ID, Name: pu.Name.In(lang), Description: pu.Description.In(lang),
			Basis: string(pu.Basis), BasisText: basisTexts[pu.Basis].In(lang), NeedsConsent: pu.NeedsConsent(),
			SeparateConsent: pu.SeparateConsent, AutomatedDecision: pu.AutomatedDecision, GPC: pu.GPC,
			Fields: []string{}, Events: []string{}, Recipients: []ViewRecipientBrief{},
		}
		for _, f := range n.by.fields[pu.ID] {
			vp.Fields = append(vp.Fields, f.ID)
		}
		for _, e := range n.by.events[pu.ID] {
			vp.Events = append(vp.Events, e.Name)
		}
		for _, r := range n.by.recipients[pu.ID] {
			vp.Recipients = append(vp.Recipients, ViewRecipientBrief{ID: r.ID, Name: r.Name, Country: r.Country})
		}
		v.Purposes = append(v.Purposes, vp)
	}
	for _, f := range p.Fields {
		cat, _ := lookupCategory(f.Category)
		v.Fields = append(v.Fields, ViewField{
			ID: f.ID, Category: f.Category, CategoryText: cat.text.In(lang), Sensitive: f.Sensitive,
			Purposes: nonNil(slices.Clone(f.Purposes)), Retention: retentionText(f.Retention), RetentionDays: f.Retention.Days(),
		})
		v.Retention[f.ID] = retentionText(f.Retention)
	}
	for _, e := range p.Events {
		v.Events = append(v.Events, ViewEvent{
			Name: e.Name, Purposes: nonNil(slices.Clone(e.Purposes)), Properties: sortedCopy(slices.Collect(maps.Keys(e.Properties))),
			Retention: retentionText(e.Retention), RetentionDays: e.Retention.Days(),
		})
		v.Retention[e.Name] = retentionText(e.Retention)
	}
	for _, r := range p.Recipients {
		v.Recipients = append(v.Recipients, ViewRecipient{
			ID: r.ID, Name: r.Name, Country: r.Country, Purposes: nonNil(slices.Clone(r.Purposes)),
			Fields: nonNil(slices.Clone(r.Fields)), CrossBorder: o.Country != "" && r.Country != o.Country,
		})
	}
	for _, r := range rightTexts {
		if r.id == "automated" && !automated {
			continue
		}
		text := r.text.In(lang)
		if r.id == "contact" {
			text = fmt.Sprintf(text, o.Name, o.Contact)
		}
		v.Rights = append(v.Rights, ViewRight{ID: r.id, Text: text})
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// basisTexts explains each legal basis to the people it concerns.
var basisTexts = map[candor.Basis]candor.Text{
	candor.BasisConsent: {
		candor.LangEN: "Your consent. You may refuse it or withdraw it at any time; the services that do not depend on it stay available to you.",
		candor.LangZH: "基于您的同意。您可以拒绝或随时撤回同意，不影响您使用不依赖该同意的服务。",
	},
	candor.BasisContract: {
		candor.LangEN: "Necessary to perform a contract with you, such as delivering the order you placed.",
		candor.LangZH: "为订立、履行您作为一方当事人的合同所必需，例如配送您下的订单。",
	},
	candor.BasisLegalObligation: {
		candor.LangEN: "Necessary to meet a legal obligation, such as keeping tax records for the period the law sets.",
		candor.LangZH: "为履行法定职责或者法定义务所必需，例如按法律规定的期限保存税务记录。",
	},
	candor.BasisLegitimateInterest: {
		candor.LangEN: "Our legitimate interests, weighed against your rights and interests. You may object to it at any time.",
		candor.LangZH: "基于我们的正当利益，并已与您的权益进行权衡。您可以随时提出反对。",
	},
	candor.BasisVitalInterest: {
		candor.LangEN: "Necessary to protect someone's life, health or property in an emergency.",
		candor.LangZH: "为应对突发公共卫生事件，或者紧急情况下为保护自然人的生命健康和财产安全所必需。",
	},
	candor.BasisPublicInterest: {
		candor.LangEN: "Necessary for a task carried out in the public interest, such as news reporting, within reasonable limits.",
		candor.LangZH: "为公共利益实施新闻报道、舆论监督等行为，在合理的范围内处理。",
	},
}

// rightTexts lists the person's rights, in the order the notice shows them.
// The text of "contact" takes the organization's name and contact.
var rightTexts = []struct {
	id   string
	text candor.Text
}{
	{"access", candor.Text{
		candor.LangEN: "Access: ask us what personal information we hold about you, how we use it, and to whom we give it.",
		candor.LangZH: "查阅：向我们了解我们持有您的哪些个人信息、如何使用以及向谁提供。",
	}},
	{"copy", candor.Text{
		candor.LangEN: "Copy: receive a copy of your personal information in a common machine-readable format, or have it transferred to another service where the law allows.",
		candor.LangZH: "复制、转移：以通用的机器可读格式获取您个人信息的副本，或在符合法定条件时请求将其转移至其他服务提供者。",
	}},
	{"rectify", candor.Text{
		candor.LangEN: "Correction: have inaccurate personal information corrected and incomplete information completed.",
		candor.LangZH: "更正、补充：要求更正不准确的个人信息，补充不完整的个人信息。",
	}},
	{"erase", candor.Text{
		candor.LangEN: "Deletion: have your personal information deleted, for example when it is no longer needed or when you withdraw your consent, unless the law requires us to keep it.",
		candor.LangZH: "删除：在信息不再需要、您撤回同意等情形下，要求删除您的个人信息，法律法规要求保存的除外。",
	}},
	{"restrict", candor.Text{
		candor.LangEN: "Restriction and objection: have the processing of your personal information restricted, or object to it.",
		candor.LangZH: "限制、拒绝：要求限制我们处理您的个人信息，或拒绝我们处理。",
	}},
	{"automated", candor.Text{
		candor.LangEN: "Automated decisions: ask us to explain a decision made by automated means, refuse decisions made solely that way, and choose options that are not based on your personal characteristics.",
		candor.LangZH: "自动化决策：要求我们说明通过自动化决策作出的决定，拒绝仅通过自动化决策的方式作出决定，并可选择不针对您个人特征的选项。",
	}},
	{"withdraw", candor.Text{
		candor.LangEN: "Withdrawal: withdraw your consent at any time, as easily as you gave it. The withdrawal does not affect processing done before it.",
		candor.LangZH: "撤回同意：随时撤回您的同意，撤回与作出同意一样便捷。撤回不影响撤回前基于同意已进行的处理。",
	}},
	{"complaint", candor.Text{
		candor.LangEN: "Complaint: complain to the authority that protects personal information (in the European Union, the data protection authority where you live or work).",
		candor.LangZH: "投诉、举报：向履行个人信息保护职责的部门投诉、举报（在欧盟，可向您居住地或工作地的数据保护监管机构投诉）。",
	}},
	{"contact", candor.Text{
		candor.LangEN: "To exercise these rights, contact %s at %s. We answer without undue delay, and within one month at the latest.",
		candor.LangZH: "如需行使上述权利，请通过 %[2]s 联系%[1]s。我们会及时答复，最迟不超过一个月。",
	}},
}
