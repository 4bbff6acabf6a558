package policy_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/policy"
	"go.yaml.in/yaml/v3"
)

// mustNotice parses data, which must have no findings, and builds its notice.
func mustNotice(t *testing.T, data []byte) *policy.Notice {
	t.Helper()
	p, findings := policy.Parse("candor.yaml", data)
	if len(findings) > 0 {
		t.Fatalf("findings:\n%s", join(findings))
	}
	return policy.NewNotice(p)
}

// edit returns the example policy changed by fn, which gets the top mapping.
func edit(t *testing.T, fn func(top *yaml.Node)) []byte {
	t.Helper()
	var d yaml.Node
	if err := yaml.Unmarshal(examples.Policy, &d); err != nil {
		t.Fatal(err)
	}
	fn(d.Content[0])
	b, err := yaml.Marshal(&d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// value returns the value of key in mapping n.
func value(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// item returns the item of the list under key whose idKey is id.
func item(t *testing.T, top *yaml.Node, key, idKey, id string) *yaml.Node {
	t.Helper()
	for _, it := range value(top, key).Content {
		if v := value(it, idKey); v != nil && v.Value == id {
			return it
		}
	}
	t.Fatalf("%s %s not found", key, id)
	return nil
}

func TestNoticeHash(t *testing.T) {
	n := mustNotice(t, examples.Policy)
	sum := sha256.Sum256(n.Canonical)
	if want := "sha256:" + hex.EncodeToString(sum[:]); n.Hash != want {
		t.Errorf("Hash = %s, want %s", n.Hash, want)
	}
	if n.Version != n.Hash[7:19] {
		t.Errorf("Version = %s", n.Version)
	}
	// Canonical: valid JSON, compact, keys sorted (re-encoding gives the same bytes).
	var v any
	if err := json.Unmarshal(n.Canonical, &v); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	if got := bytes.TrimSpace(b.Bytes()); !bytes.Equal(got, n.Canonical) {
		t.Errorf("the canonical form is not canonical:\n%s\n%s", n.Canonical, got)
	}
	if bytes.Contains(n.Canonical, []byte("undeclared")) || bytes.Contains(n.Canonical, []byte(`"drop"`)) {
		t.Error("the canonical form holds the undeclared setting")
	}
	for _, s := range []string{"Demo Shop", "privacy@shop.example", "提供您请求的服务", "Provide the service you asked for", `"retention":"730d"`, "acme-ads", "Order Completed", "revenue"} {
		if !bytes.Contains(n.Canonical, []byte(s)) {
			t.Errorf("the canonical form lacks %s", s)
		}
	}
	p, _ := policy.Parse("candor.yaml", examples.Policy)
	if len(n.PurposeHashes) != len(p.Purposes) {
		t.Errorf("%d purpose hashes for %d purposes", len(n.PurposeHashes), len(p.Purposes))
	}
	for id, h := range n.PurposeHashes {
		if !strings.HasPrefix(h, "sha256:") || len(h) != 7+64 {
			t.Errorf("purpose hash of %s = %q", id, h)
		}
	}
	if again := policy.NewNotice(p); again.Hash != n.Hash || !slices.Equal(again.Canonical, n.Canonical) {
		t.Error("NewNotice is not deterministic")
	}
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	s := n.Stored(now)
	if s.Hash != n.Hash || s.Version != n.Version || !bytes.Equal(s.Canonical, n.Canonical) || !s.CreatedAt.Equal(now) || s.PurposeHashes["service"] != n.PurposeHashes["service"] {
		t.Errorf("Stored = %+v", s)
	}
	s.PurposeHashes["service"] = "x"
	s.Canonical[0] = 'x'
	if n.PurposeHashes["service"] == "x" || n.Canonical[0] == 'x' {
		t.Error("Stored shares its maps and slices with the notice")
	}
}

// reshape rewrites a YAML tree in another style: keys in reverse order,
// every list in reverse order, flow style turned into block style and back,
// and no comments.
func reshape(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	switch n.Kind {
	case yaml.MappingNode:
		var pairs [][2]*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			pairs = append(pairs, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
		}
		slices.Reverse(pairs)
		n.Content = n.Content[:0]
		for _, p := range pairs {
			n.Content = append(n.Content, p[0], p[1])
		}
	case yaml.SequenceNode:
		slices.Reverse(n.Content)
	case yaml.ScalarNode:
		if n.Style == 0 && n.ShortTag() == "!!str" {
			n.Style = yaml.DoubleQuotedStyle
		}
	}
	if n.Style&yaml.FlowStyle != 0 {
		n.Style &^= yaml.FlowStyle
	} else if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style |= yaml.FlowStyle
	}
	for _, c := range n.Content {
		reshape(c)
	}
}

// TestCanonicalIgnoresFormatting: reordered keys and list items, another
// style, other retention units for the same period and no comments give the
// same notice.
func TestCanonicalIgnoresFormatting(t *testing.T) {
	want := mustNotice(t, examples.Policy)
	reshaped := edit(t, func(top *yaml.Node) {
		reshape(top)
		// 730d written as 2y, 1095d as 3y; 180d stays.
		for _, f := range value(top, "fields").Content {
			switch r := value(f, "retention"); r.Value {
			case "730d":
				r.Value = "2y"
			case "1095d":
				r.Value = "3y"
			}
		}
	})
	if bytes.Equal(reshaped, examples.Policy) {
		t.Fatal("reshaping changed nothing")
	}
	got := mustNotice(t, reshaped)
	if got.Hash != want.Hash {
		t.Errorf("reformatting changed the notice:\n%s\n%s\n%s", reshaped, want.Canonical, got.Canonical)
	}
	for id, h := range want.PurposeHashes {
		if got.PurposeHashes[id] != h {
			t.Errorf("reformatting changed the hash of %s", id)
		}
	}
	// Comments and blank lines, and the undeclared setting, are not part of it.
	commented := append([]byte("# A comment.\n\n"), bytes.ReplaceAll(examples.Policy, []byte("undeclared: drop"), []byte("undeclared: reject # strict"))...)
	if got := mustNotice(t, commented); got.Hash != want.Hash {
		t.Error("comments or the undeclared setting changed the notice")
	}
}

// TestCanonicalFollowsContent: every change to what people are told changes
// the notice, and changes the hashes of the purposes concerned only.
func TestCanonicalFollowsContent(t *testing.T) {
	base := mustNotice(t, examples.Policy)
	cases := []struct {
		name    string
		edit    func(t *testing.T, top *yaml.Node)
		changed []string // purposes whose hash must change; all others must not
	}{
		{"purpose description", func(t *testing.T, top *yaml.Node) {
			value(value(item(t, top, "purposes", "id", "marketing.email"), "description"), "zh-CN").Value += "另有每周精选。"
		}, []string{"marketing.email"}},
		{"purpose name in English", func(t *testing.T, top *yaml.Node) {
			value(value(item(t, top, "purposes", "id", "analytics"), "name"), "en").Value = "Statistics"
		}, []string{"analytics"}},
		{"purpose basis", func(t *testing.T, top *yaml.Node) {
			it := item(t, top, "purposes", "id", "marketing.sms")
			it.Content = append(it.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "gpc"}, &yaml.Node{Kind: yaml.ScalarNode, Value: "deny"})
		}, []string{"marketing.sms"}},
		{"field retention", func(t *testing.T, top *yaml.Node) {
			value(item(t, top, "fields", "id", "gender"), "retention").Value = "180d"
		}, []string{"personalization"}},
		{"field added to a purpose", func(t *testing.T, top *yaml.Node) {
			ps := value(item(t, top, "fields", "id", "city"), "purposes")
			ps.Content = append(ps.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "marketing.email"})
		}, []string{"marketing.email"}},
		{"event retention", func(t *testing.T, top *yaml.Node) {
			value(item(t, top, "events", "name", "Page Viewed"), "retention").Value = "90d"
		}, []string{"analytics"}},
		{"event property", func(t *testing.T, top *yaml.Node) {
			props := value(item(t, top, "events", "name", "Products Searched"), "properties")
			props.Content = append(props.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "results"}, &yaml.Node{Kind: yaml.ScalarNode, Value: "integer"})
		}, []string{"personalization", "analytics"}},
		{"recipient country", func(t *testing.T, top *yaml.Node) {
			value(item(t, top, "recipients", "id", "global-parcel"), "country").Value = "MY"
		}, []string{"delivery.international"}},
		{"recipient name", func(t *testing.T, top *yaml.Node) {
			value(item(t, top, "recipients", "id", "acme-ads"), "name").Value = "ACME Media"
		}, []string{"sharing.ads"}},
		{"recipient loses a field", func(t *testing.T, top *yaml.Node) {
			fs := value(item(t, top, "recipients", "id", "acme-ads"), "fields")
			fs.Content = fs.Content[:1]
		}, []string{"sharing.ads"}},
		{"organization contact", func(t *testing.T, top *yaml.Node) {
			value(value(top, "organization"), "contact").Value = "dpo@shop.example"
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := mustNotice(t, edit(t, func(top *yaml.Node) { c.edit(t, top) }))
			if got.Hash == base.Hash || got.Version == base.Version {
				t.Error("the notice did not change")
			}
			for id, h := range base.PurposeHashes {
				if changed := got.PurposeHashes[id] != h; changed != slices.Contains(c.changed, id) {
					t.Errorf("purpose %s: hash changed = %v", id, changed)
				}
			}
		})
	}
}

func TestView(t *testing.T) {
	n := mustNotice(t, examples.Policy)
	en, zh := n.View(candor.LangEN), n.View(candor.LangZH)
	if fr := n.View("fr"); fr.Language != candor.LangEN || fr.Purposes[0].Name != en.Purposes[0].Name {
		t.Errorf("fr does not fall back to en: %+v", fr.Purposes[0])
	}
	if en.Language != "en" || zh.Language != "zh-CN" || en.Version != n.Version || zh.Hash != n.Hash {
		t.Errorf("header: %s %s %s %s", en.Language, zh.Language, en.Version, zh.Hash)
	}
	if en.Organization.Contact != "privacy@shop.example" || en.Organization.Country != "CN" || len(en.Organization.Jurisdictions) != 2 || en.Organization.PolicyURL == "" {
		t.Errorf("organization %+v", en.Organization)
	}
	if en.AgeOfConsent != 16 {
		t.Errorf("age of consent %d", en.AgeOfConsent)
	}
	purpose := func(v policy.View, id string) policy.ViewPurpose {
		for _, p := range v.Purposes {
			if p.ID == id {
				return p
			}
		}
		t.Fatalf("no purpose %s", id)
		return policy.ViewPurpose{}
	}
	s, szh := purpose(en, "service"), purpose(zh, "service")
	if s.Name != "Provide the service you asked for" || szh.Name != "提供您请求的服务" || s.BasisText == "" || szh.BasisText == s.BasisText || s.NeedsConsent {
		t.Errorf("service: %+v / %+v", s, szh)
	}
	if !slices.Contains(s.Fields, "email") || len(s.Recipients) == 0 {
		t.Errorf("service fields and recipients: %+v", s)
	}
	ads := purpose(en, "sharing.ads")
	if !ads.SeparateConsent || ads.GPC != "deny" || !ads.NeedsConsent || len(ads.Recipients) != 1 || ads.Recipients[0].ID != "acme-ads" || ads.Recipients[0].Country != "CN" {
		t.Errorf("sharing.ads: %+v", ads)
	}
	if !purpose(en, "personalization").AutomatedDecision {
		t.Error("personalization is not an automated decision")
	}
	var email, emailZH policy.ViewField
	for i, f := range en.Fields {
		if f.ID == "email" {
			email, emailZH = f, zh.Fields[i]
		}
	}
	if email.CategoryText != "E-mail address" || emailZH.CategoryText != "电子邮箱" || email.Retention != "730d" || email.RetentionDays != 730 || email.Sensitive {
		t.Errorf("email: %+v / %+v", email, emailZH)
	}
	cross := map[string]bool{}
	for _, r := range en.Recipients {
		cross[r.ID] = r.CrossBorder
	}
	if !cross["global-parcel"] || cross["acme-ads"] {
		t.Errorf("cross_border: %v", cross)
	}
	if en.Retention["email"] != "730d" || en.Retention["Order Completed"] != "1095d" {
		t.Errorf("retention: %v", en.Retention)
	}
	var ids []string
	for _, r := range zh.Rights {
		ids = append(ids, r.ID)
		if r.Text == "" {
			t.Errorf("right %s has no text", r.ID)
		}
	}
	for _, id := range []string{"access", "copy", "rectify", "erase", "restrict", "withdraw", "complaint", "contact"} {
		if !slices.Contains(ids, id) {
			t.Errorf("no right %s in %v", id, ids)
		}
	}
	if last := zh.Rights[len(zh.Rights)-1]; !strings.Contains(last.Text, "privacy@shop.example") || !strings.Contains(last.Text, "示范商城") {
		t.Errorf("contact: %s", last.Text)
	}
	b, err := json.Marshal(en)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"version"`, `"hash"`, `"language"`, `"organization"`, `"policy_url"`, `"purposes"`, `"basis_text"`, `"separate_consent"`, `"automated_decision"`, `"gpc"`, `"fields"`, `"category_text"`, `"retention_days"`, `"recipients"`, `"cross_border"`, `"retention"`, `"rights"`, `"age_of_consent"`} {
		if !bytes.Contains(b, []byte(k)) {
			t.Errorf("the view's JSON lacks %s", k)
		}
	}
	if bytes.Contains(b, []byte("null")) {
		t.Errorf("the view's JSON holds null: %s", b)
	}
}

// TestViewOfMinimalPolicy: empty lists are [] in JSON, and a policy without
// automated decisions does not list that right.
func TestViewOfMinimalPolicy(t *testing.T) {
	n := mustNotice(t, []byte(doc(org, "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", ""))))
	b, _ := json.Marshal(n.View("en"))
	if bytes.Contains(b, []byte("null")) || bytes.Contains(b, []byte(`"automated"`)) {
		t.Errorf("view: %s", b)
	}
}
