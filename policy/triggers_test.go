package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/policy"
)

func TestTriggersAndMeasure(t *testing.T) {
	events := func(cart string) []string {
		return []string{
			"events:", // 8
			"  - {name: Product Added, purposes: [" + cart + "], retention: 30d}",      // 9
			"  - {name: Order Completed, purposes: [" + cart + ", a], retention: 30d}", // 10
		}
	}
	head := func(cart string) []string {
		return append([]string{
			org,         // 1
			"purposes:", // 2
			purpose("m", "consent", ", marketing: [email]"), // 3
			purpose("a", "consent", ""),                     // 4
			purpose("s", "contract", ""),                    // 5
			"fields:",                                       // 6
			field("email", "contact.email", "m, s", ""),     // 7
		}, events(cart)...)
	}
	tpl := "subject: {en: S, zh-CN: 主题}, body: {en: B, zh-CN: 正文}"
	ok := doc(append(head("m"),
		"campaigns:", // 11
		"  triggers:",
		"    welcome: {purpose: m, "+tpl+"}",
		"    abandoned_cart: {purpose: m, after: 4h, within: 2d, "+tpl+"}",
		"  measure: {purpose: a, within: 5d}",
	)...)
	p, fs := policy.Parse("c.yaml", []byte(ok))
	if len(fs) > 0 {
		t.Fatalf("findings: %s", join(fs))
	}
	cart := p.Campaigns.Triggers[candor.TriggerAbandonedCart]
	if cart == nil || cart.Purpose != "m" || time.Duration(cart.After) != 4*time.Hour || time.Duration(cart.Within) != 48*time.Hour || cart.Body[candor.LangZH] != "正文" {
		t.Errorf("cart trigger = %+v", cart)
	}
	if w := p.Campaigns.Triggers[candor.TriggerWelcome]; w == nil || time.Duration(w.Within) != 7*24*time.Hour {
		t.Errorf("welcome = %+v", w)
	}
	if m := p.Campaigns.Measure; m == nil || m.Purpose != "a" || m.Conversion != candor.EventOrderCompleted || time.Duration(m.Within) != 5*24*time.Hour {
		t.Errorf("measure = %+v", m)
	}
	cases := []struct {
		name string
		yaml string
		line int
		want string
	}{
		{"cart events not collected for the purpose", doc(append(head("a"), "campaigns:", "  triggers:", "    abandoned_cart: {purpose: m, "+tpl+"}")...), 13,
			`the event "Product Added" is not collected for m`},
		{"trigger for a purpose that is not marketing", doc(append(head("m"), "campaigns:", "  triggers:", "    welcome: {purpose: a, "+tpl+"}")...), 13, `not a marketing purpose for e-mail`},
		{"unknown trigger", doc(append(head("m"), "campaigns:", "  triggers:", "    birthday: {purpose: m, "+tpl+"}")...), 13, `unknown key "birthday"`},
		{"missing language", doc(append(head("m"), "campaigns:", "  triggers:", "    welcome: {purpose: m, subject: {en: S}, body: {en: B, zh-CN: 正文}}")...), 13, `has no subject in zh-CN`},
		{"bad after", doc(append(head("m"), "campaigns:", "  triggers:", "    abandoned_cart: {purpose: m, after: soon, "+tpl+"}")...), 13, `after "soon" must be a number and a unit`},
		{"after on welcome", doc(append(head("m"), "campaigns:", "  triggers:", "    welcome: {purpose: m, after: 1h, "+tpl+"}")...), 13, `after is for abandoned_cart only`},
		{"measure on contract", doc(append(head("m"), "campaigns:", "  measure: {purpose: s}")...), 12, `measured only with consent`},
		{"conversion not collected", doc(append(head("m"), "campaigns:", "  measure: {purpose: a, conversion: Product Added}")...), 12, `not collected for a`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, fs := policy.Parse("c.yaml", []byte(c.yaml))
			for _, f := range fs {
				if f.Line == c.line && strings.Contains(f.Message, c.want) {
					return
				}
			}
			t.Errorf("want a finding on line %d with %q; got:\n%s", c.line, c.want, join(fs))
		})
	}
	ex, _ := policy.Parse("candor.yaml", examples.Policy)
	if ex.Campaigns.Triggers[candor.TriggerAbandonedCart] == nil || ex.Campaigns.Measure == nil || ex.Campaigns.Measure.Purpose != "analytics" {
		t.Errorf("example campaigns = %+v", ex.Campaigns)
	}
}
