package policy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/policy"
)

const org = "organization: {name: Shop, country: CN, contact: privacy@shop.example, jurisdictions: [PIPL, GDPR]}"

// doc joins lines into a YAML file: line i of the file is lines[i-1].
func doc(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// purpose is one purpose in flow style, with name and description.
func purpose(id, basis, extra string) string {
	return fmt.Sprintf("  - {id: %s, basis: %s, name: {en: N, zh-CN: 名称}, description: {en: D, zh-CN: 说明}%s}", id, basis, extra)
}

// field is one field in flow style with a retention.
func field(id, category, purposes, extra string) string {
	return fmt.Sprintf("  - {id: %s, category: %s, purposes: [%s], retention: 30d%s}", id, category, purposes, extra)
}

func TestExampleHasNoFindings(t *testing.T) {
	p, findings := policy.Parse("examples/candor.yaml", examples.Policy)
	for _, f := range findings {
		t.Error(f)
	}
	if p == nil {
		t.Fatal("no policy")
	}
	if p.Source != "examples/candor.yaml" {
		t.Errorf("Source = %q", p.Source)
	}
	if p.Organization.Country != "CN" || p.Undeclared != candor.UndeclaredDrop || p.AgeOfConsent() != 16 {
		t.Errorf("organization %+v, undeclared %q", p.Organization, p.Undeclared)
	}
	for _, id := range []string{"service", "legal", "personalization", "marketing.email", "marketing.sms", "analytics", "sharing.ads"} {
		if p.Purpose(id) == nil {
			t.Errorf("purpose %s missing", id)
		}
	}
	if s := p.Purpose("sharing.ads"); s == nil || !s.SeparateConsent || s.GPC != candor.GPCDeny || s.Basis != candor.BasisConsent {
		t.Errorf("sharing.ads = %+v", s)
	}
	if s := p.Purpose("personalization"); s == nil || !s.AutomatedDecision {
		t.Errorf("personalization = %+v", s)
	}
	for id, typ := range map[string]string{"email": "email", "phone": "phone", "birth_date": "date", "city": "string", "national_id": "string"} {
		if f := p.Field(id); f == nil || f.Type != typ {
			t.Errorf("field %s = %+v, want type %s", id, f, typ)
		}
	}
	if f := p.Field("email"); f.Retention.Days() != 730 || f.Category != candor.CategoryEmail {
		t.Errorf("email = %+v", f)
	}
	if f := p.Field("national_id"); !f.Sensitive {
		t.Error("national_id is not sensitive")
	}
	if e := p.Event("Order Completed"); e == nil || e.Properties["revenue"] != "number" || e.Retention.Days() != 1095 {
		t.Errorf("Order Completed = %+v", e)
	}
	if e := p.Event("Product Added"); e == nil || e.Properties["quantity"] != "integer" {
		t.Errorf("Product Added = %+v", e)
	}
	if r := p.Recipient("acme-ads"); r == nil || r.Country != "CN" || strings.Join(r.Fields, ",") != "city,age_band" {
		t.Errorf("acme-ads = %+v", r)
	}
	if r := p.Role("support"); r == nil || strings.Join(r.Masked, ",") != "email,phone,address" {
		t.Errorf("support = %+v", r)
	}
	for _, role := range []string{"support", "marketer", "analyst", "dpo", "service"} {
		if p.Role(role) == nil {
			t.Errorf("role %s missing", role)
		}
	}
	if !p.RoleAllows("support", "service") || p.RoleAllows("support", "marketing.email") {
		t.Error("support role")
	}
}

// TestBlockAndFlowStyle: the same policy written in block and in flow style
// parses to the same notice.
func TestBlockAndFlowStyle(t *testing.T) {
	block := doc(
		"organization:",
		"  name: Shop",
		"  country: CN",
		"  contact: https://shop.example/contact",
		"  jurisdictions:",
		"    - PIPL",
		"purposes:",
		"  - id: s",
		"    basis: contract",
		"    name:",
		"      en: N",
		"      zh-CN: 名称",
		"    description:",
		"      en: D",
		"      zh-CN: 说明",
		"fields:",
		"  - id: email",
		"    category: contact.email",
		"    purposes:",
		"      - s",
		"    retention: 30d",
		"roles:",
		"  support:",
		"    purposes:",
		"      - s",
	)
	flow := doc(
		"{organization: {name: Shop, country: CN, contact: 'https://shop.example/contact', jurisdictions: [PIPL]},",
		" purposes: [{id: s, basis: contract, name: {en: N, zh-CN: 名称}, description: {en: D, zh-CN: 说明}}],",
		" fields: [{id: email, category: contact.email, purposes: [s], retention: 30d}],",
		" roles: {support: {purposes: [s]}}}",
	)
	pb, fb := policy.Parse("block.yaml", []byte(block))
	pf, ff := policy.Parse("flow.yaml", []byte(flow))
	if len(fb) > 0 || len(ff) > 0 {
		t.Fatalf("findings: %v %v", fb, ff)
	}
	if policy.NewNotice(pb).Hash != policy.NewNotice(pf).Hash {
		t.Error("block and flow style give different notices")
	}
	if pb.Role("support") == nil || pf.Role("support") == nil {
		t.Error("role missing")
	}
}

func TestChecks(t *testing.T) {
	valid := []string{
		org,
		"purposes:",
		purpose("s", "contract", ""),
		"fields:",
		field("email", "contact.email", "s", ""),
	}
	if _, fs := policy.Parse("c.yaml", []byte(doc(valid...))); len(fs) > 0 {
		t.Fatalf("the base case has findings: %v", fs)
	}
	cases := []struct {
		name string
		yaml string
		line int
		want string // "" means: no finding at all
	}{
		// 1. Unknown keys, wrong kinds and types.
		{"unknown top-level key", doc(append(valid, "colour: red")...), 6, `unknown key "colour" (allowed: organization, undeclared, purposes, fields, events, recipients, roles, campaigns)`},
		{"unknown purpose key", doc(org, "purposes:", "  - id: s", "    basis: contract", "    colour: red", "    name: {en: N, zh-CN: 名称}", "    description: {en: D, zh-CN: 说明}", "fields:", field("e", "contact.email", "s", "")),
			5, `purpose "s": unknown key "colour"`},
		{"unknown field key", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", ", encrypted: true")), 5, `field "e": unknown key "encrypted"`},
		{"unknown language", doc(org, "purposes:", "  - {id: s, basis: contract, name: {en: N, zh-CN: 名, fr: X}, description: {en: D, zh-CN: 说明}}", "fields:", field("e", "contact.email", "s", "")), 3, `unknown key "fr" (allowed: en, zh-CN)`},
		{"text where a list is expected", doc(org, "purposes: s"), 2, "purposes must be a list, not a text"},
		{"list where a mapping is expected", doc("organization: [Shop]", "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 1, "organization must be a mapping, not a list"},
		{"purposes of a field not a list", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", "  - {id: e, category: contact.email, purposes: s, retention: 30d}"), 5, `field "e" purposes must be a list, not a text`},
		{"non-bool for a bool", doc(org, "purposes:", purpose("s", "consent", ", separate_consent: \"yes\""), "fields:", field("e", "contact.email", "s", "")), 3, `separate_consent must be true or false, not "yes"`},
		{"non-bool sensitive", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", ", sensitive: 1")), 5, `sensitive must be true or false`},
		{"roles as a list", doc(append(valid, "roles:", "  - support")...), 7, "roles must be a mapping, not a list"},
		{"bad undeclared", doc(append(valid, "undeclared: keep")...), 6, `undeclared must be drop or reject, not "keep"`},
		{"bad property type", doc(append(valid, "events:", "  - {name: E, purposes: [s], retention: 1d, properties: {x: float}}")...), 7, `property x has unknown type "float"`},
		{"empty file", "", 1, "the file is empty"},
		{"syntax error", doc(org, "purposes:", "  - {id: s", "fields: [x]"), 3, "not valid YAML: did not find expected ',' or '}'"},
		{"scanner error", doc(org, "purposes:", "  - id: @s"), 3, "not valid YAML: found character that cannot start any token"},
		{"bad indentation", doc(org, "purposes:", "  - id: s", "    basis: contract", "   name: x"), 3, "not valid YAML: did not find expected '-' indicator"},
		{"unknown anchor", doc(org, "purposes:", "  - id: s", "    basis: *b"), 4, "not valid YAML: unknown anchor 'b' referenced"},
		{"two documents", doc(append(valid, "---", "x: 1")...), 6, "more than one YAML document"},
		{"custom tag", doc(org, "purposes:", purpose("s", "!secret contract", ""), "fields:", field("e", "contact.email", "s", "")), 3, "the tag !secret is not allowed"},

		// 2. Missing required keys.
		{"no organization name", doc("organization: {country: CN, contact: a@b.example, jurisdictions: [PIPL]}", "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 1, "organization has no name"},
		{"no organization contact", doc("organization: {name: X, country: CN, jurisdictions: [PIPL]}", "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 1, "organization has no contact"},
		{"no jurisdictions", doc("organization: {name: X, country: CN, contact: a@b.example}", "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 1, "organization has no jurisdictions"},
		{"no organization", doc("purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 1, "the policy has no organization"},
		{"no purpose id", doc(org, "purposes:", "  - {basis: contract, name: {en: N, zh-CN: 名}, description: {en: D, zh-CN: 说明}}"), 3, "purpose has no id"},
		{"no basis", doc(org, "purposes:", "  - {id: s, name: {en: N, zh-CN: 名}, description: {en: D, zh-CN: 说明}}", "fields:", field("e", "contact.email", "s", "")), 3, `purpose "s" has no basis`},
		{"no zh-CN name", doc(org, "purposes:", "  - {id: s, basis: contract, name: {en: N}, description: {en: D, zh-CN: 说明}}", "fields:", field("e", "contact.email", "s", "")), 3, `purpose "s" has no name in zh-CN`},
		{"no en description", doc(org, "purposes:", "  - {id: s, basis: contract, name: {en: N, zh-CN: 名}, description: {zh-CN: 说明}}", "fields:", field("e", "contact.email", "s", "")), 3, `purpose "s" has no description in en`},
		{"no description", doc(org, "purposes:", "  - {id: s, basis: contract, name: {en: N, zh-CN: 名}}", "fields:", field("e", "contact.email", "s", "")), 3, `purpose "s" has no description`},
		{"name as one text", doc(org, "purposes:", "  - {id: s, basis: contract, name: Service, description: {en: D, zh-CN: 说明}}", "fields:", field("e", "contact.email", "s", "")), 3, `purpose "s" name must be given in each language`},
		{"empty name in a language", doc(org, "purposes:", "  - {id: s, basis: contract, name: {en: N, zh-CN: ''}, description: {en: D, zh-CN: 说明}}", "fields:", field("e", "contact.email", "s", "")), 3, `purpose "s" name in zh-CN is empty`},
		{"no field category", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", "  - {id: e, purposes: [s], retention: 1d}"), 5, `field "e" has no category`},
		{"no field purposes", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", field("x", "contact.email", "s", ""), "  - {id: e, category: location.city, retention: 1d}"), 6, `field "e" has no purposes`},
		{"empty field purposes", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", field("x", "contact.email", "s", ""), "  - {id: e, category: location.city, purposes: [], retention: 1d}"), 6, `field "e" purposes is an empty list`},
		{"no event purposes", doc(append(valid, "events:", "  - {name: E, retention: 1d}")...), 7, `event "E" has no purposes`},
		{"no event name", doc(append(valid, "events:", "  - {purposes: [s], retention: 1d}")...), 7, `event has no name`},
		{"no recipient country", doc(append(valid, "recipients:", "  - {id: r, name: R, purposes: [s], fields: [email]}")...), 7, `recipient "r" has no country`},
		{"no recipient fields", doc(append(valid, "recipients:", "  - {id: r, name: R, country: CN, purposes: [s]}")...), 7, `recipient "r" has no fields`},
		{"no role purposes", doc(append(valid, "roles:", "  support: {masked: [email]}")...), 7, `role "support" has no purposes`},

		// 3. Duplicates.
		{"duplicate purpose", doc(org, "purposes:", purpose("s", "contract", ""), purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 4, `duplicate purpose id "s" (first on line 3)`},
		{"duplicate field", doc(append(valid, field("email", "contact.email", "s", ""))...), 6, `duplicate field id "email" (first on line 5)`},
		{"duplicate event", doc(append(valid, "events:", "  - {name: E, purposes: [s], retention: 1d}", "  - {name: E, purposes: [s], retention: 2d}")...), 8, `duplicate event "E" (first on line 7)`},
		{"duplicate recipient", doc(append(valid, "recipients:", "  - {id: r, name: R, country: CN, purposes: [s], fields: [email]}", "  - {id: r, name: R2, country: CN, purposes: [s], fields: [email]}")...), 8, `duplicate recipient id "r" (first on line 7)`},
		{"duplicate role", doc(append(valid, "roles:", "  support: {purposes: [s]}", "  support: {purposes: [s]}")...), 8, `roles: duplicate key "support" (first on line 7)`},
		{"duplicate mapping key", doc(org, "purposes:", "  - id: s", "    basis: contract", "    basis: consent", "    name: {en: N, zh-CN: 名称}", "    description: {en: D, zh-CN: 说明}", "fields:", field("e", "contact.email", "s", "")), 5, `duplicate key "basis" (first on line 4)`},
		{"duplicate top-level key", doc(append(valid, "purposes: []")...), 6, `the policy: duplicate key "purposes" (first on line 2)`},
		{"duplicate in a list", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s, s", "")), 5, `"s" is listed twice`},

		// 4. Unknown references.
		{"field refers to unknown purpose", doc(org, "purposes:", purpose("marketing.email", "consent", ""), "fields:", field("e", "contact.email", "marketing.mail", ""), field("f", "location.city", "marketing.email", "")), 5, `field "e" refers to unknown purpose "marketing.mail" (did you mean "marketing.email"?)`},
		{"event refers to unknown purpose", doc(append(valid, "events:", "  - {name: E, purposes: [nope], retention: 1d}")...), 7, `event "E" refers to unknown purpose "nope"`},
		{"recipient refers to unknown purpose", doc(append(valid, "recipients:", "  - {id: r, name: R, country: CN, purposes: [s, nope], fields: [email]}")...), 7, `recipient "r" refers to unknown purpose "nope"`},
		{"role refers to unknown purpose", doc(append(valid, "roles:", "  support:", "    purposes: [s, nope]")...), 8, `role "support" refers to unknown purpose "nope"`},
		{"recipient refers to unknown field", doc(append(valid, "recipients:", "  - {id: r, name: R, country: CN, purposes: [s], fields: [mail]}")...), 7, `recipient "r" refers to unknown field "mail" (did you mean "email"?)`},
		{"role masks unknown field", doc(append(valid, "roles:", "  support: {purposes: [s], masked: [phone]}")...), 7, `role "support" refers to unknown field "phone"`},

		// 5. Unused purposes.
		{"unused purpose", doc(org, "purposes:", purpose("s", "contract", ""), purpose("idle", "consent", ""), "fields:", field("e", "contact.email", "s", "")), 4, `purpose "idle" is not used`},
		{"purpose used only by a role", doc(org, "purposes:", purpose("s", "contract", ""), purpose("r", "contract", ""), "fields:", field("e", "contact.email", "s", ""), "roles:", "  x: {purposes: [r]}"), 0, ""},

		// 6. Retention.
		{"field without retention", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", "  - {id: e, category: contact.email, purposes: [s]}"), 5, `field "e" has no retention`},
		{"event without retention", doc(append(valid, "events:", "  - {name: Signed Up, purposes: [s]}")...), 7, `event "Signed Up" has no retention`},
		{"bad retention", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", "  - id: e", "    category: contact.email", "    purposes: [s]", "    retention: 2 years"), 8, `field "e": retention "2 years"`},
		{"bad retention unit", doc(append(valid, "events:", "  - {name: E, purposes: [s], retention: 3m}")...), 7, `unknown unit "m"`},
		{"retention without unit", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", "  - {id: e, category: contact.email, purposes: [s], retention: 30}"), 5, `retention "30" has no unit`},

		// 7. Sensitive data under consent needs separate consent.
		{"sensitive without separate consent", doc(org, "purposes:", purpose("care", "consent", ""), "fields:", field("allergies", "health.data", "care", ", sensitive: true")), 5, `field "allergies" is sensitive, but purpose "care" rests on consent without separate_consent: true; PIPL Art. 29`},
		{"sensitive with separate consent", doc(org, "purposes:", purpose("care", "consent", ", separate_consent: true"), "fields:", field("allergies", "health.data", "care", ", sensitive: true")), 0, ""},
		{"sensitive under a legal obligation", doc(org, "purposes:", purpose("legal", "legal_obligation", ""), "fields:", field("national_id", "identity.government_id", "legal", ", sensitive: true")), 0, ""},
		{"sensitive category not marked", doc(org, "purposes:", purpose("legal", "legal_obligation", ""), "fields:", field("national_id", "identity.government_id", "legal", "")), 5, "sensitive personal information (PIPL Art. 28): set sensitive: true"},

		// 8. No legitimate interest under PIPL.
		{"legitimate interest under PIPL", doc(org, "purposes:", "  - id: s", "    basis: legitimate_interest", "    name: {en: N, zh-CN: 名称}", "    description: {en: D, zh-CN: 说明}", "fields:", field("e", "contact.email", "s", "")), 4, `purpose "s" rests on legitimate_interest, which PIPL does not allow (PIPL Art. 13`},
		{"legitimate interest under GDPR only", doc("organization: {name: Shop, country: DE, contact: privacy@shop.example, jurisdictions: [GDPR]}", "purposes:", purpose("s", "legitimate_interest", ""), "fields:", field("e", "contact.email", "s", "")), 0, ""},

		// 9. A recipient's fields must serve its purposes.
		{"recipient field outside its purposes", doc(org, "purposes:", purpose("s", "contract", ""), purpose("ads", "consent", ", separate_consent: true"), "fields:", field("email", "contact.email", "s", ""), field("city", "location.city", "ads", ""), "recipients:", "  - {id: acme, name: ACME, country: CN, purposes: [ads], fields: [city, email]}"),
			9, `recipient "acme" is given field "email", but none of its purposes (ads) is a purpose of that field (s)`},

		// 10. Transfers abroad need separate consent under PIPL.
		{"cross-border without separate consent", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", field("email", "contact.email", "s", ""), "recipients:", "  - id: mailer", "    name: Mailer", "    country: SG", "    purposes: [s]", "    fields: [email]"),
			10, `recipient "mailer" is in SG, outside CN, and receives data for purpose "s", which does not rest on separate consent; PIPL Art. 39`},
		{"cross-border with separate consent", doc(org, "purposes:", purpose("intl", "consent", ", separate_consent: true"), "fields:", field("email", "contact.email", "intl", ""), "recipients:", "  - {id: mailer, name: Mailer, country: SG, purposes: [intl], fields: [email]}"), 0, ""},
		// 10b. Giving data to another handler on consent needs separate consent under PIPL.
		{"recipient on consent without separate consent", doc(org, "purposes:", purpose("ads", "consent", ""), "fields:", field("city", "location.city", "ads", ""), "recipients:", "  - id: acme", "    name: ACME", "    country: CN", "    purposes: [ads]", "    fields: [city]"),
			10, `recipient "acme" receives data for purpose "ads", which rests on consent without separate_consent: true; PIPL Art. 23`},
		{"recipient on separate consent", doc(org, "purposes:", purpose("ads", "consent", ", separate_consent: true"), "fields:", field("city", "location.city", "ads", ""), "recipients:", "  - {id: acme, name: ACME, country: CN, purposes: [ads], fields: [city]}"), 0, ""},
		{"recipient on consent under GDPR only", doc("organization: {name: Shop, country: DE, contact: privacy@shop.example, jurisdictions: [GDPR]}", "purposes:", purpose("ads", "consent", ""), "fields:", field("city", "location.city", "ads", ""), "recipients:", "  - {id: acme, name: ACME, country: DE, purposes: [ads], fields: [city]}"), 0, ""},
		// 12. A contract processor at home needs no consent.
		{"domestic contract processor", doc(append(valid, "recipients:", "  - {id: courier, name: Courier, country: CN, purposes: [s], fields: [email]}")...), 0, ""},

		// 11. Automated decisions rest on consent.
		{"automated decision on contract", doc(org, "purposes:", purpose("s", "contract", ", automated_decision: true"), "fields:", field("e", "contact.email", "s", "")), 3, `purpose "s" makes automated decisions but rests on contract`},

		// Others.
		{"gpc on a contract", doc(org, "purposes:", purpose("s", "contract", ", gpc: deny"), "fields:", field("e", "contact.email", "s", "")), 3, `purpose "s" has gpc: deny but rests on contract`},
		{"gpc other than deny", doc(org, "purposes:", purpose("s", "consent", ", gpc: allow"), "fields:", field("e", "contact.email", "s", "")), 3, `gpc must be "deny"`},
		{"separate consent on a contract", doc(org, "purposes:", purpose("s", "contract", ", separate_consent: true"), "fields:", field("e", "contact.email", "s", "")), 3, "separate consent applies only to a purpose that rests on consent"},
		{"unknown basis", doc(org, "purposes:", purpose("s", "consnet", ""), "fields:", field("e", "contact.email", "s", "")), 3, `unknown basis "consnet"`},
		{"unknown jurisdiction", doc("organization: {name: X, country: CN, contact: a@b.example, jurisdictions: [PIPL, CCPA]}", "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 1, `unknown jurisdiction "CCPA" (known: PIPL, GDPR)`},
		{"role uses the rights purpose", doc(append(valid, "roles:", "  dpo: {purposes: [s, rights]}")...), 7, `role "dpo" refers to purpose "rights", the built-in purpose of data-subject requests`},
		{"reserved purpose id", doc(org, "purposes:", purpose("rights", "legal_obligation", ""), "fields:", field("e", "contact.email", "rights", "")), 3, `purpose id "rights" is reserved`},
		{"bad purpose id", doc(org, "purposes:", purpose("Marketing", "consent", ""), "fields:", field("e", "contact.email", "Marketing", "")), 3, `purpose id "Marketing" may hold only lower-case letters`},
		{"built-in role admin", doc(append(valid, "roles:", "  admin: {purposes: [s]}")...), 7, `role "admin" is built in and may not be declared`},
		{"built-in role write", doc(append(valid, "roles:", "  write: {purposes: [s]}")...), 7, `role "write" is built in`},
		{"type does not fit category", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", ", type: number")), 5, `field "e": type number does not fit category contact.email (want email)`},
		{"unknown type", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", field("e", "location.city", "s", ", type: text")), 5, `field "e": unknown type "text"`},
		{"unknown category", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.mail", "s", "")), 5, `unknown category "contact.mail"`},
		{"custom category", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", field("shoe_size", "custom.shoe_size", "s", ", type: number")), 0, ""},
		{"bad country", doc("organization: {name: X, country: China, contact: a@b.example, jurisdictions: [PIPL]}", "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 1, `organization country "China" is not an ISO 3166-1 alpha-2 code`},
		{"UK is GB", doc(append(valid, "recipients:", "  - {id: r, name: R, country: UK, purposes: [s], fields: [email]}")...), 7, "the United Kingdom is GB"},
		{"bad contact", doc("organization: {name: X, country: CN, contact: call us, jurisdictions: [PIPL]}", "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 1, `organization contact "call us" is neither an e-mail address nor an http(s) URL`},
		{"GDPR age too low", doc("organization: {name: X, country: CN, contact: a@b.example, jurisdictions: [PIPL, GDPR], age_of_consent: {PIPL: 14, GDPR: 12}}", "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 1, "between 13 and 16 (GDPR Art. 8), not 12"},
		{"PIPL age fixed", doc("organization:", "  name: X", "  country: CN", "  contact: a@b.example", "  jurisdictions: [PIPL]", "  age_of_consent:", "    PIPL: 16", "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 7, "PIPL fixes the age of consent at 14"},
		{"GDPR age 13 allowed", doc("organization: {name: X, country: IE, contact: a@b.example, jurisdictions: [GDPR], age_of_consent: {GDPR: 13}}", "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 0, ""},
		{"alias", doc(org, "purposes:", "  - &p {id: s, basis: contract, name: {en: N, zh-CN: 名称}, description: {en: D, zh-CN: 说明}}", "  - *p", "fields:", field("e", "contact.email", "s", "")), 4, "aliases are not allowed"},
		{"alias as a value", doc(org, "purposes:", purpose("s", "contract", ""), "fields:", "  - {id: e, category: contact.email, purposes: &ps [s], retention: 30d}", "  - {id: f, category: location.city, purposes: *ps, retention: 30d}"), 6, "aliases are not allowed"},
		{"bad property name", doc(append(valid, "events:", "  - name: E", "    purposes: [s]", "    retention: 1d", "    properties:", "      order id: string")...), 11, `property name "order id"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, findings := policy.Parse("c.yaml", []byte(c.yaml))
			if c.want == "" {
				for _, f := range findings {
					t.Errorf("unexpected finding: %s", f)
				}
				return
			}
			for _, f := range findings {
				if f.Line == c.line && strings.Contains(f.Message, c.want) {
					return
				}
			}
			t.Errorf("want a finding on line %d with %q; got:\n%s", c.line, c.want, join(findings))
		})
	}
}

func join(fs []policy.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.String() + "\n")
	}
	return b.String()
}

// TestEveryFinding: a file with many problems reports all of them, in line
// order, each as FILE:LINE: message.
func TestEveryFinding(t *testing.T) {
	data := doc(
		"organization: {name: X, country: CN, contact: a@b.example, jurisdictions: [PIPL]}", // 1
		"purposes:", // 2
		"  - {id: a, basis: consent, name: {en: A, zh-CN: 甲}, description: {en: A, zh-CN: 甲}, automated_decision: maybe}", // 3
		"  - {id: b, basis: legitimate_interest, name: {en: B, zh-CN: 乙}, description: {en: B, zh-CN: 乙}}",                // 4
		"fields:", // 5
		"  - {id: e, category: contact.email, purposes: [a, c], retention: forever}", // 6
		"roles:",                         // 7
		"  admin: {purposes: [a]}",       // 8
		"  x: {purposes: [b], extra: 1}", // 9
	)
	p, findings := policy.Parse("many.yaml", []byte(data))
	if p == nil {
		t.Fatal("a policy with findings is still built")
	}
	wantLines := []int{3, 4, 6, 6, 8, 9}
	var got []int
	for i, f := range findings {
		got = append(got, f.Line)
		if i > 0 && f.Line < findings[i-1].Line {
			t.Errorf("not in line order: %v", findings)
		}
		if want := fmt.Sprintf("many.yaml:%d: %s", f.Line, f.Message); f.String() != want {
			t.Errorf("String() = %q, want %q", f.String(), want)
		}
	}
	for _, l := range wantLines {
		found := false
		for _, g := range got {
			found = found || g == l
		}
		if !found {
			t.Errorf("no finding on line %d:\n%s", l, join(findings))
		}
	}
}

func TestTooLarge(t *testing.T) {
	data := []byte(org + "\n# " + strings.Repeat("x", 1<<20) + "\n")
	p, findings := policy.Parse("big.yaml", data)
	if p != nil || len(findings) != 1 || findings[0].Line != 1 || !strings.Contains(findings[0].Message, "1 MiB") {
		t.Errorf("got %v, %v", p, findings)
	}
}

// TestAliasBomb: the billion-laughs file is refused quickly, without
// expanding it.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 'b'; i <= 'z'; i++ {
		fmt.Fprintf(&b, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	start := time.Now()
	_, findings := policy.Parse("bomb.yaml", []byte(b.String()))
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
	n := 0
	for _, f := range findings {
		if strings.Contains(f.Message, "aliases are not allowed") {
			n++
			if f.Line < 2 {
				t.Errorf("alias on line %d", f.Line)
			}
		}
	}
	if n == 0 {
		t.Errorf("aliases not reported:\n%s", join(findings))
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "candor.yaml")
	if err := os.WriteFile(path, examples.Policy, 0o600); err != nil {
		t.Fatal(err)
	}
	p, findings, err := policy.Load(path)
	if err != nil || len(findings) > 0 || p == nil || p.Source != path {
		t.Fatalf("Load: %v %v %v", p, findings, err)
	}
	if _, _, err := policy.Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("Load of a missing file: no error")
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("purposes: 1\n"), 0o600)
	_, findings, err = policy.Load(bad)
	if err != nil || len(findings) == 0 || findings[0].File != bad {
		t.Errorf("Load of a bad file: %v %v", findings, err)
	}
}

// TestRecipientWebhook: a recipient's webhook is https, or http on
// loopback, without credentials.
func TestRecipientWebhook(t *testing.T) {
	line := "{id: acme-ads, name: ACME 广告 ACME Advertising, country: CN, purposes: [sharing.ads], fields: [city, age_band]}"
	for _, tc := range []struct {
		url string
		ok  bool
	}{{"https://hooks.acme.example/candor", true}, {"http://127.0.0.1:9000/hook", true}, {"http://hooks.acme.example/", false},
		{"https://user:pw@hooks.acme.example/", false}, {"ftp://x/", false}, {"not a url", false}} {
		src := strings.Replace(string(examples.Policy), line, strings.TrimSuffix(line, "}")+", webhook: '"+tc.url+"'}", 1)
		p, findings := policy.Parse("candor.yaml", []byte(src))
		if got := len(findings) == 0; got != tc.ok {
			t.Errorf("%s: findings %v", tc.url, findings)
		}
		if tc.ok && p.Recipient("acme-ads").Webhook != tc.url {
			t.Errorf("%s: webhook %q", tc.url, p.Recipient("acme-ads").Webhook)
		}
	}
}
