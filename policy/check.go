package policy

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones for quiet hours in a static binary

	"github.com/candorhq/candor"
	"go.yaml.in/yaml/v3"
)

// The keys each part of the policy allows, in the order the messages list them.
var (
	topKeys       = []string{"organization", "undeclared", "purposes", "fields", "events", "recipients", "roles", "campaigns"}
	orgKeys       = []string{"name", "country", "contact", "jurisdictions", "age_of_consent", "policy_url", "time_zone", "language"}
	purposeKeys   = []string{"id", "name", "description", "basis", "separate_consent", "automated_decision", "gpc", "marketing"}
	fieldKeys     = []string{"id", "category", "type", "sensitive", "purposes", "retention"}
	eventKeys     = []string{"name", "purposes", "retention", "properties"}
	recipientKeys = []string{"id", "name", "country", "purposes", "fields", "webhook"}
	roleKeys      = []string{"purposes", "masked"}
	languageKeys  = []string{candor.LangEN, candor.LangZH}
)

// The declarations as read, with the nodes that findings about them point at.

type orgDecl struct {
	candor.Organization
	countryOK bool
	pipl      bool
}

type purposeDecl struct {
	candor.Purpose
	id        *yaml.Node
	marketing *yaml.Node
	used      bool
}

type fieldDecl struct {
	candor.Field
	id        *yaml.Node
	purposes  []ref
	sensitive *yaml.Node
}

type eventDecl struct {
	candor.Event
	name     *yaml.Node
	purposes []ref
}

type recipientDecl struct {
	candor.Recipient
	id        *yaml.Node
	countryOK bool
	purposes  []ref
	fields    []ref
}

type roleDecl struct {
	candor.Role
	id       *yaml.Node
	purposes []ref
	masked   []ref
}

// policy checks the top node of the file and builds the policy from what
// it could read.
func (c *checker) policy(root *yaml.Node) *candor.Policy {
	top := c.object(root, "the policy", topKeys)
	if top == nil {
		return nil
	}
	for _, k := range []string{"organization", "purposes"} {
		if top.get(k) == nil {
			c.errf(root, "the policy has no %s", k)
		}
	}
	org := c.organization(top.get("organization"))
	undeclared := c.undeclared(top.get("undeclared"))
	purposes := c.purposes(top.get("purposes"), org)
	fields := c.fields(top.get("fields"))
	events := c.events(top.get("events"))
	recipients := c.recipients(top.get("recipients"))
	roles := c.roles(top.get("roles"))
	c.references(org, purposes, fields, events, recipients, roles)
	campaigns := c.campaigns(top.get("campaigns"), purposes, events)
	c.marketing(purposes, fields)

	p := &candor.Policy{Organization: org.Organization, Undeclared: undeclared, Campaigns: campaigns, Source: c.file}
	for _, d := range purposes {
		p.Purposes = append(p.Purposes, d.Purpose)
	}
	for _, d := range fields {
		p.Fields = append(p.Fields, d.Field)
	}
	for _, d := range events {
		p.Events = append(p.Events, d.Event)
	}
	for _, d := range recipients {
		p.Recipients = append(p.Recipients, d.Recipient)
	}
	for _, d := range roles {
		p.Roles = append(p.Roles, d.Role)
	}
	p.Index()
	return p
}

// require reports each of keys that o lacks.
func (c *checker) require(o *object, lbl string, keys ...string) {
	for _, k := range keys {
		if _, ok := o.vals[k]; ok {
			continue
		}
		if k == "retention" {
			c.errf(o.node, "%s has no retention: say how long it is kept, such as 365d", lbl)
		} else {
			c.errf(o.node, "%s has no %s", lbl, k)
		}
	}
}

func (c *checker) organization(n *yaml.Node) orgDecl {
	var d orgDecl
	o := c.object(n, "organization", orgKeys)
	if o == nil {
		return d
	}
	c.require(o, "organization", "name", "country", "contact", "jurisdictions")
	if v := o.get("name"); v != nil {
		if s, ok := c.text(v, "organization name"); ok {
			d.Name = s
		}
	}
	if v := o.get("country"); v != nil {
		d.Country, d.countryOK = c.country(v, "organization country")
	}
	if v := o.get("contact"); v != nil {
		if s, ok := c.text(v, "organization contact"); ok {
			if validEmail(s) || validURL(s) {
				d.Contact = s
			} else {
				c.errf(v, "organization contact %q is neither an e-mail address nor an http(s) URL", short(s))
			}
		}
	}
	declared := map[string]bool{}
	if v := o.get("jurisdictions"); v != nil {
		for _, r := range c.refs(v, "organization jurisdictions", true) {
			if !slices.Contains(jurisdictions, r.id) {
				c.errf(r.node, "unknown jurisdiction %q (known: %s)%s", short(r.id), strings.Join(jurisdictions, ", "), suggest(strings.ToUpper(r.id), jurisdictions))
				continue
			}
			declared[r.id] = true
			d.Jurisdictions = append(d.Jurisdictions, r.id)
		}
		d.pipl = declared[candor.JurisdictionPIPL]
	}
	if v := o.get("age_of_consent"); v != nil {
		if ages := c.object(v, "organization age_of_consent", jurisdictions); ages != nil {
			d.AgeOfConsent = map[string]int{}
			for _, j := range ages.order {
				if !slices.Contains(jurisdictions, j) {
					continue // reported as an unknown key
				}
				val := ages.vals[j]
				age, ok := c.integer(val, "the age of consent for "+j)
				if !ok {
					continue
				}
				switch {
				case j == candor.JurisdictionPIPL && age != candor.DefaultAgeOfConsentPIPL:
					c.errf(val, "PIPL fixes the age of consent at 14 (PIPL Art. 31), not %d", age)
				case j == candor.JurisdictionGDPR && (age < 13 || age > 16):
					c.errf(val, "GDPR lets the age of consent be set between 13 and 16 (GDPR Art. 8), not %d", age)
				default:
					d.AgeOfConsent[j] = age
				}
				if o.get("jurisdictions") != nil && !declared[j] {
					c.errf(ages.keys[j], "organization age_of_consent names %s, which is not among the jurisdictions", j)
				}
			}
		}
	}
	if v := o.get("policy_url"); v != nil {
		if s, ok := c.text(v, "organization policy_url"); ok {
			if validURL(s) {
				d.PolicyURL = s
			} else {
				c.errf(v, "organization policy_url %q is not an http(s) URL", short(s))
			}
		}
	}
	d.TimeZone, d.Language = "UTC", candor.LangEN
	if d.Country == "CN" {
		d.TimeZone, d.Language = "Asia/Shanghai", candor.LangZH
	}
	if v := o.get("time_zone"); v != nil {
		if s, ok := c.text(v, "organization time_zone"); ok {
			if _, err := time.LoadLocation(s); err != nil || s == "Local" || s == "" {
				c.errf(v, "organization time_zone %q is not an IANA time zone (such as Asia/Shanghai or Europe/Berlin)", short(s))
			} else {
				d.TimeZone = s
			}
		}
	}
	if v := o.get("language"); v != nil {
		if s, ok := c.text(v, "organization language"); ok {
			if slices.Contains(languageKeys, s) {
				d.Language = s
			} else {
				c.errf(v, "organization language %q is not a notice language (%s)", short(s), strings.Join(languageKeys, ", "))
			}
		}
	}
	return d
}

// country checks an ISO 3166-1 alpha-2 code.
func (c *checker) country(n *yaml.Node, what string) (string, bool) {
	s, ok := c.text(n, what)
	if !ok {
		return "", false
	}
	switch {
	case countries[s]:
		return s, true
	case s == "UK":
		c.errf(n, "%s %q is not an ISO 3166-1 alpha-2 code; the United Kingdom is GB", what, s)
	case countries[strings.ToUpper(s)]:
		c.errf(n, "%s %q must be in capitals: %s", what, s, strings.ToUpper(s))
	default:
		c.errf(n, "%s %q is not an ISO 3166-1 alpha-2 code (two capital letters, such as CN or DE)", what, short(s))
	}
	return "", false
}

func (c *checker) undeclared(n *yaml.Node) string {
	if n == nil {
		return candor.UndeclaredDrop
	}
	s, ok := c.text(n, "undeclared")
	if !ok {
		return candor.UndeclaredDrop
	}
	if s != candor.UndeclaredDrop && s != candor.UndeclaredReject {
		c.errf(n, "undeclared must be %s or %s, not %q", candor.UndeclaredDrop, candor.UndeclaredReject, short(s))
		return candor.UndeclaredDrop
	}
	return s
}

// label names an item of a list in messages: `purpose "service"`, or just
// `purpose` when its id cannot be read.
func label(kind string, n *yaml.Node, key string) string {
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Value == key && v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) != "" && !isNull(v) {
				return fmt.Sprintf("%s %q", kind, short(strings.TrimSpace(v.Value)))
			}
		}
	}
	return kind
}

// id reads the id of an item.
func (c *checker) id(o *object, lbl, kind string) (string, *yaml.Node) {
	v := o.get("id")
	if v == nil {
		return "", nil
	}
	s, ok := c.text(v, lbl+" id")
	if !ok {
		return "", nil
	}
	if !validID(s) {
		c.errf(v, "%s id %q may hold only lower-case letters, digits, dots, underscores and hyphens (at most 64, starting with a letter or digit)", kind, short(s))
		return "", nil
	}
	return s, v
}

// texts reads a text in every notice language.
func (c *checker) texts(n *yaml.Node, lbl, key string) candor.Text {
	if n == nil {
		return nil
	}
	what := lbl + " " + key
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		c.errf(n, "%s must be given in each language, as {%s: ..., %s: ...}, not as one text", what, candor.LangEN, candor.LangZH)
		return nil
	}
	o := c.object(n, what, languageKeys)
	if o == nil {
		return nil
	}
	t := candor.Text{}
	for _, lang := range languageKeys {
		v := o.get(lang)
		if v == nil {
			c.errf(n, "%s has no %s in %s", lbl, key, lang)
			continue
		}
		if s, ok := c.text(v, fmt.Sprintf("%s %s in %s", lbl, key, lang)); ok {
			t[lang] = s
		}
	}
	return t
}

func (c *checker) purposes(n *yaml.Node, org orgDecl) []*purposeDecl {
	if n == nil {
		return nil
	}
	items, ok := c.list(n, "purposes")
	if ok && len(items) == 0 {
		c.errf(n, "purposes is an empty list: declare at least one purpose")
	}
	return uniqueDecls(c, items, "purpose id", func(it *yaml.Node) *purposeDecl { return c.purpose(it, org) },
		func(d *purposeDecl) (string, *yaml.Node) { return d.ID, d.id })
}

func (c *checker) purpose(n *yaml.Node, org orgDecl) *purposeDecl {
	lbl := label("purpose", n, "id")
	o := c.object(n, lbl, purposeKeys)
	if o == nil {
		return nil
	}
	c.require(o, lbl, "id", "basis", "name", "description")
	d := &purposeDecl{}
	d.ID, d.id = c.id(o, lbl, "purpose")
	if d.ID == candor.PurposeRights {
		c.errf(d.id, "purpose id %q is reserved: it is the built-in purpose of data-subject requests; choose another id", d.ID)
		d.ID = ""
	}
	d.Name = c.texts(o.get("name"), lbl, "name")
	d.Description = c.texts(o.get("description"), lbl, "description")
	basis := o.get("basis")
	if basis != nil {
		if s, ok := c.text(basis, lbl+" basis"); ok {
			if slices.Contains(bases, candor.Basis(s)) {
				d.Basis = candor.Basis(s)
			} else {
				names := make([]string, len(bases))
				for i, b := range bases {
					names[i] = string(b)
				}
				c.errf(basis, "%s: unknown basis %q (allowed: %s)%s", lbl, short(s), strings.Join(names, ", "), suggest(s, names))
			}
		}
	}
	separate, automated, gpc := o.get("separate_consent"), o.get("automated_decision"), o.get("gpc")
	if separate != nil {
		d.SeparateConsent, _ = c.boolean(separate, lbl+" separate_consent")
	}
	if automated != nil {
		d.AutomatedDecision, _ = c.boolean(automated, lbl+" automated_decision")
	}
	if gpc != nil {
		if s, ok := c.text(gpc, lbl+" gpc"); ok {
			if s == candor.GPCDeny {
				d.GPC = s
			} else {
				c.errf(gpc, "%s: gpc must be %q (or left out), not %q", lbl, candor.GPCDeny, short(s))
			}
		}
	}
	if m := o.get("marketing"); m != nil {
		d.marketing = m
		for _, r := range c.refs(m, lbl+" marketing", true) {
			if r.id != candor.ChannelEmail && r.id != candor.ChannelSMS {
				c.errf(r.node, "%s: marketing names the channels campaigns use for it, email or sms, not %q", lbl, short(r.id))
				continue
			}
			d.Marketing = append(d.Marketing, r.id)
		}
	}
	if d.Basis == "" {
		return d
	}
	if len(d.Marketing) > 0 && d.Basis != candor.BasisConsent {
		c.errf(d.marketing, "%s is a marketing purpose but rests on %s: sending advertising by e-mail or text message needs the person's consent (China's Advertising Law Art. 43, PIPL Art. 13, the ePrivacy Directive Art. 13)", lbl, d.Basis)
	}
	if d.Basis == candor.BasisLegitimateInterest && org.pipl {
		c.errf(basis, "%s rests on legitimate_interest, which PIPL does not allow (PIPL Art. 13 has no legitimate interest); choose consent, contract or another basis PIPL knows", lbl)
	}
	if d.Basis != candor.BasisConsent {
		if d.AutomatedDecision {
			c.errf(automated, "%s makes automated decisions but rests on %s: it must rest on consent, so that people can refuse it (PIPL Art. 24)", lbl, d.Basis)
		}
		if d.GPC != "" {
			c.errf(gpc, "%s has gpc: deny but rests on %s: a Global Privacy Control signal can deny only a purpose that rests on consent", lbl, d.Basis)
		}
		if d.SeparateConsent {
			c.errf(separate, "%s has separate_consent: true but rests on %s: separate consent applies only to a purpose that rests on consent", lbl, d.Basis)
		}
	}
	return d
}

func (c *checker) fields(n *yaml.Node) []*fieldDecl {
	if n == nil {
		return nil
	}
	items, _ := c.list(n, "fields")
	return uniqueDecls(c, items, "field id", c.field, func(d *fieldDecl) (string, *yaml.Node) { return d.ID, d.id })
}

func (c *checker) field(n *yaml.Node) *fieldDecl {
	lbl := label("field", n, "id")
	o := c.object(n, lbl, fieldKeys)
	if o == nil {
		return nil
	}
	c.require(o, lbl, "id", "category", "purposes", "retention")
	d := &fieldDecl{}
	d.ID, d.id = c.id(o, lbl, "field")
	var cat category
	catOK := false
	catNode := o.get("category")
	if catNode != nil {
		if s, ok := c.text(catNode, lbl+" category"); ok {
			if cat, catOK = lookupCategory(s); catOK {
				d.Category = s
			} else {
				c.errf(catNode, "%s: unknown category %q (known: %s; or custom.NAME for anything else)%s", lbl, short(s), strings.Join(categoryNames(), ", "), suggest(s, categoryNames()))
			}
		}
	}
	if v := o.get("type"); v != nil {
		if s, ok := c.text(v, lbl+" type"); ok {
			switch {
			case !slices.Contains(fieldTypes, s):
				c.errf(v, "%s: unknown type %q (allowed: %s)", lbl, short(s), strings.Join(fieldTypes, ", "))
			case catOK && !slices.Contains(cat.types, s):
				c.errf(v, "%s: type %s does not fit category %s (want %s)", lbl, s, d.Category, strings.Join(cat.types, " or "))
			default:
				d.Type = s
			}
		}
	}
	if d.Type == "" && catOK {
		d.Type = defaultType(d.Category)
	}
	if v := o.get("sensitive"); v != nil {
		d.Sensitive, _ = c.boolean(v, lbl+" sensitive")
		d.sensitive = v
	}
	if catOK && cat.sensitive && !d.Sensitive {
		at := catNode
		if d.sensitive != nil {
			at = d.sensitive
		}
		c.errf(at, "%s has category %s, which is sensitive personal information (PIPL Art. 28): set sensitive: true", lbl, d.Category)
	}
	if v := o.get("purposes"); v != nil {
		d.purposes = c.refs(v, lbl+" purposes", true)
		for _, r := range d.purposes {
			d.Purposes = append(d.Purposes, r.id)
		}
	}
	if v := o.get("retention"); v != nil {
		d.Retention = c.retention(v, lbl)
	}
	return d
}

// retention reads a retention period.
func (c *checker) retention(n *yaml.Node, lbl string) candor.Duration {
	s, ok := c.text(n, lbl+" retention")
	if !ok {
		return 0
	}
	if len(s) > 24 {
		c.errf(n, "%s: retention %q is not a period such as 365d", lbl, short(s))
		return 0
	}
	if strings.Trim(s, "0123456789") == "" {
		c.errf(n, "%s: retention %q has no unit: write %sd for days (units: h, d, w, y)", lbl, s, s)
		return 0
	}
	d, err := candor.ParseDuration(s)
	if err != nil {
		c.errf(n, "%s: %v", lbl, err)
		return 0
	}
	return d
}

func (c *checker) events(n *yaml.Node) []*eventDecl {
	if n == nil {
		return nil
	}
	items, _ := c.list(n, "events")
	return uniqueDecls(c, items, "event", c.event, func(d *eventDecl) (string, *yaml.Node) { return d.Name, d.name })
}

func (c *checker) event(n *yaml.Node) *eventDecl {
	lbl := label("event", n, "name")
	o := c.object(n, lbl, eventKeys)
	if o == nil {
		return nil
	}
	c.require(o, lbl, "name", "purposes", "retention")
	d := &eventDecl{}
	if v := o.get("name"); v != nil {
		if s, ok := c.text(v, "event name"); ok {
			if len(s) > 100 || !plainText(s) {
				c.errf(v, "event name %q must be a single line of at most 100 bytes", short(s))
			} else {
				d.Name, d.name = s, v
			}
		}
	}
	if v := o.get("purposes"); v != nil {
		d.purposes = c.refs(v, lbl+" purposes", true)
		for _, r := range d.purposes {
			d.Purposes = append(d.Purposes, r.id)
		}
	}
	if v := o.get("retention"); v != nil {
		d.Retention = c.retention(v, lbl)
	}
	if v := o.get("properties"); v != nil {
		if props := c.object(v, lbl+" properties", nil); props != nil {
			d.Properties = map[string]string{}
			for _, name := range props.order {
				if !validPropertyName(name) {
					c.errf(props.keys[name], "%s: property name %q may hold only letters, digits and underscores, and may not start with a digit", lbl, short(name))
					continue
				}
				tv := props.vals[name]
				t, ok := c.text(tv, fmt.Sprintf("%s property %s", lbl, name))
				if !ok {
					continue
				}
				if !slices.Contains(propertyTypes, t) {
					c.errf(tv, "%s: property %s has unknown type %q (allowed: %s)", lbl, name, short(t), strings.Join(propertyTypes, ", "))
					continue
				}
				d.Properties[name] = t
			}
		}
	}
	return d
}

func (c *checker) recipients(n *yaml.Node) []*recipientDecl {
	if n == nil {
		return nil
	}
	items, _ := c.list(n, "recipients")
	return uniqueDecls(c, items, "recipient id", c.recipient, func(d *recipientDecl) (string, *yaml.Node) { return d.ID, d.id })
}

// uniqueDecls reads each item and keeps the first declaration of each key,
// reporting the others as duplicates with the line of the first.
func uniqueDecls[D any](c *checker, items []*yaml.Node, what string, read func(*yaml.Node) *D, key func(*D) (string, *yaml.Node)) []*D {
	var out []*D
	seen := map[string]*yaml.Node{}
	for _, it := range items {
		d := read(it)
		if d == nil {
			continue
		}
		k, at := key(d)
		if k == "" {
			continue
		}
		if first, dup := seen[k]; dup {
			c.errf(at, "duplicate %s %q (first on line %d)", what, short(k), first.Line)
			continue
		}
		seen[k] = at
		out = append(out, d)
	}
	return out
}

func (c *checker) recipient(n *yaml.Node) *recipientDecl {
	lbl := label("recipient", n, "id")
	o := c.object(n, lbl, recipientKeys)
	if o == nil {
		return nil
	}
	c.require(o, lbl, "id", "name", "country", "purposes", "fields")
	d := &recipientDecl{}
	d.ID, d.id = c.id(o, lbl, "recipient")
	if v := o.get("name"); v != nil {
		d.Name, _ = c.text(v, lbl+" name")
	}
	if v := o.get("country"); v != nil {
		d.Country, d.countryOK = c.country(v, lbl+" country")
	}
	if v := o.get("purposes"); v != nil {
		d.purposes = c.refs(v, lbl+" purposes", true)
		for _, r := range d.purposes {
			d.Purposes = append(d.Purposes, r.id)
		}
	}
	if v := o.get("fields"); v != nil {
		d.fields = c.refs(v, lbl+" fields", true)
		for _, r := range d.fields {
			d.Fields = append(d.Fields, r.id)
		}
	}
	if v := o.get("webhook"); v != nil {
		if s, ok := c.text(v, lbl+" webhook"); ok {
			u, err := url.Parse(s)
			loopback := u != nil && (u.Hostname() == "localhost" || net.ParseIP(u.Hostname()).IsLoopback())
			if err != nil || u.Host == "" || u.User != nil || !(u.Scheme == "https" || (u.Scheme == "http" && loopback)) {
				c.errf(v, "%s webhook: want an https URL without credentials (http only on loopback)", lbl)
			} else {
				d.Webhook = s
			}
		}
	}
	return d
}

func (c *checker) roles(n *yaml.Node) []*roleDecl {
	if n == nil {
		return nil
	}
	o := c.object(n, "roles", nil)
	if o == nil {
		return nil
	}
	var out []*roleDecl
	for _, id := range o.order {
		k, v := o.keys[id], o.vals[id]
		lbl := fmt.Sprintf("role %q", short(id))
		switch {
		case id == candor.RoleAdmin || id == candor.RoleWrite || id == candor.RoleBrowser:
			c.errf(k, "role %q is built in and may not be declared", id)
			continue
		case !validID(id):
			c.errf(k, "role id %q may hold only lower-case letters, digits, dots, underscores and hyphens (at most 64, starting with a letter or digit)", short(id))
			continue
		}
		ro := c.object(v, lbl, roleKeys)
		if ro == nil {
			continue
		}
		c.require(ro, lbl, "purposes")
		d := &roleDecl{id: k}
		d.ID = id
		if pv := ro.get("purposes"); pv != nil {
			d.purposes = c.refs(pv, lbl+" purposes", true)
			for _, r := range d.purposes {
				d.Purposes = append(d.Purposes, r.id)
			}
		}
		if mv := ro.get("masked"); mv != nil {
			d.masked = c.refs(mv, lbl+" masked", false)
			for _, r := range d.masked {
				d.Masked = append(d.Masked, r.id)
			}
		}
		out = append(out, d)
	}
	return out
}

// references checks what the parts of the policy say about each other.
func (c *checker) references(org orgDecl, purposes []*purposeDecl, fields []*fieldDecl, events []*eventDecl, recipients []*recipientDecl, roles []*roleDecl) {
	byID := map[string]*purposeDecl{}
	var purposeIDs []string
	for _, p := range purposes {
		byID[p.ID] = p
		purposeIDs = append(purposeIDs, p.ID)
	}
	fieldByID := map[string]*fieldDecl{}
	var fieldIDs []string
	for _, f := range fields {
		fieldByID[f.ID] = f
		fieldIDs = append(fieldIDs, f.ID)
	}
	// purpose resolves a reference to a purpose, reporting an unknown one.
	purpose := func(who string, r ref) *purposeDecl {
		p := byID[r.id]
		switch {
		case p != nil:
			p.used = true
		case r.id == candor.PurposeRights:
			c.errf(r.node, "%s refers to purpose %q, the built-in purpose of data-subject requests: only the built-in admin role may use it", who, r.id)
		default:
			c.errf(r.node, "%s refers to unknown purpose %q%s", who, short(r.id), suggest(r.id, purposeIDs))
		}
		return p
	}
	field := func(who string, r ref) *fieldDecl {
		f := fieldByID[r.id]
		if f == nil {
			c.errf(r.node, "%s refers to unknown field %q%s", who, short(r.id), suggest(r.id, fieldIDs))
		}
		return f
	}

	for _, f := range fields {
		lbl := fmt.Sprintf("field %q", f.ID)
		for _, r := range f.purposes {
			p := purpose(lbl, r)
			if p != nil && f.Sensitive && p.Basis == candor.BasisConsent && !p.SeparateConsent {
				c.errf(r.node, "field %q is sensitive, but purpose %q rests on consent without separate_consent: true; PIPL Art. 29 requires separate consent to process sensitive personal information", f.ID, p.ID)
			}
		}
	}
	for _, e := range events {
		lbl := fmt.Sprintf("event %q", short(e.Name))
		for _, r := range e.purposes {
			purpose(lbl, r)
		}
	}
	for _, rc := range recipients {
		lbl := fmt.Sprintf("recipient %q", rc.ID)
		var rps []*purposeDecl
		for _, r := range rc.purposes {
			if p := purpose(lbl, r); p != nil {
				rps = append(rps, p)
			}
		}
		serves := make(map[string]bool, len(rc.Purposes))
		for _, p := range rc.Purposes {
			serves[p] = true
		}
		for _, r := range rc.fields {
			f := field(lbl, r)
			if f == nil || len(rc.purposes) == 0 {
				continue
			}
			if !slices.ContainsFunc(f.Purposes, func(p string) bool { return serves[p] }) {
				c.errf(r.node, "recipient %q is given field %q, but none of its purposes (%s) is a purpose of that field (%s)",
					rc.ID, f.ID, strings.Join(shortAll(rc.Purposes), ", "), strings.Join(shortAll(f.Purposes), ", "))
			}
		}
		abroad := org.pipl && org.countryOK && rc.countryOK && rc.Country != org.Country
		if org.pipl && !abroad {
			// Providing personal information to another handler on the
			// strength of consent needs the person's separate consent
			// (PIPL Art. 23). A purpose on another basis (a contract the
			// person is party to, a legal obligation) needs no consent
			// (PIPL Art. 13), so there is nothing to ask separately.
			for _, p := range rps {
				if p.Basis == candor.BasisConsent && !p.SeparateConsent {
					at := rc.purposes[slices.IndexFunc(rc.purposes, func(r ref) bool { return r.id == p.ID })].node
					c.errf(at, "recipient %q receives data for purpose %q, which rests on consent without separate_consent: true; PIPL Art. 23 requires separate consent to provide personal information to another handler",
						rc.ID, p.ID)
				}
			}
		}
		if abroad {
			for _, p := range rps {
				if p.Basis != candor.BasisConsent || !p.SeparateConsent {
					at := rc.purposes[slices.IndexFunc(rc.purposes, func(r ref) bool { return r.id == p.ID })].node
					c.errf(at, "recipient %q is in %s, outside %s, and receives data for purpose %q, which does not rest on separate consent; PIPL Art. 39 requires separate consent to provide personal information abroad",
						rc.ID, rc.Country, org.Country, p.ID)
				}
			}
		}
	}
	for _, ro := range roles {
		lbl := fmt.Sprintf("role %q", ro.ID)
		for _, r := range ro.purposes {
			purpose(lbl, r)
		}
		for _, r := range ro.masked {
			field(lbl, r)
		}
	}
	for _, p := range purposes {
		if !p.used {
			c.errf(p.id, "purpose %q is not used: no field, event, recipient or role refers to it", p.ID)
		}
	}
}

func shortAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = short(s)
	}
	return out
}
