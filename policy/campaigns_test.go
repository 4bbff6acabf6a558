package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/policy"
)

func TestCampaigns(t *testing.T) {
	base := []string{
		org,         // 1
		"purposes:", // 2
		purpose("m", "consent", ", marketing: [email]"), // 3
		purpose("s", "contract", ""),                    // 4
		"fields:",                                       // 5
		field("email", "contact.email", "m, s", ""),     // 6
	}
	ok := doc(append(base,
		"campaigns:",                             // 7
		"  frequency: {email: 2/7d, sms: 4/30d}", // 8
		"  quiet_hours: {sms: \"21:00-08:00\"}",  // 9
		"  double_opt_in: [m]",                   // 10
	)...)
	p, fs := policy.Parse("c.yaml", []byte(ok))
	if len(fs) > 0 {
		t.Fatalf("findings: %s", join(fs))
	}
	if got := p.Campaigns.Frequency[candor.ChannelEmail]; got.Count != 2 || time.Duration(got.Window) != 7*24*time.Hour {
		t.Errorf("email cap = %+v", got)
	}
	if q := p.Campaigns.QuietHours[candor.ChannelSMS]; q.Start != 21*60 || q.End != 8*60 || !q.Contains(23*60) || !q.Contains(7*60) || q.Contains(12*60) {
		t.Errorf("quiet hours = %+v", q)
	}
	if !p.Campaigns.DoubleOptInFor("m") || !p.Purpose("m").MarketingChannel(candor.ChannelEmail) || p.Purpose("m").MarketingChannel(candor.ChannelSMS) {
		t.Errorf("campaigns = %+v, purpose %+v", p.Campaigns, p.Purpose("m"))
	}
	if p.Organization.TimeZone != "Asia/Shanghai" || p.Organization.Language != candor.LangZH {
		t.Errorf("organization defaults = %q %q", p.Organization.TimeZone, p.Organization.Language)
	}
	cases := []struct {
		name string
		yaml string
		line int
		want string
	}{
		{"bad cap", doc(append(base, "campaigns:", "  frequency: {email: twice}")...), 8, `campaigns frequency email "twice" must be a number of messages over a period`},
		{"unknown channel", doc(append(base, "campaigns:", "  frequency: {fax: 1/1d}")...), 8, `unknown key "fax"`},
		{"bad window", doc(append(base, "campaigns:", "  quiet_hours: {sms: \"9pm-8am\"}")...), 8, `must be a window of the day`},
		{"double opt-in of a non-marketing purpose", doc(append(base, "campaigns:", "  double_opt_in: [s]")...), 8, `not a marketing purpose`},
		{"double opt-in of an unknown purpose", doc(append(base, "campaigns:", "  double_opt_in: [x]")...), 8, `unknown purpose "x"`},
		{"marketing on contract", doc(org, "purposes:", purpose("m", "contract", ", marketing: [email]"), "fields:", field("email", "contact.email", "m", "")), 3, `is a marketing purpose but rests on contract`},
		{"marketing channel unknown", doc(org, "purposes:", purpose("m", "consent", ", marketing: [fax]"), "fields:", field("email", "contact.email", "m", "")), 3, `email or sms, not "fax"`},
		{"sms without a phone", doc(org, "purposes:", purpose("m", "consent", ", marketing: [sms]"), "fields:", field("email", "contact.email", "m", "")), 3, `no field of category contact.phone is declared for it`},
		{"bad time zone", doc("organization: {name: Shop, country: CN, contact: privacy@shop.example, jurisdictions: [PIPL], time_zone: Mars/Olympus}", "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 1, `not an IANA time zone`},
		{"bad language", doc("organization: {name: Shop, country: CN, contact: privacy@shop.example, jurisdictions: [PIPL], language: fr}", "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")), 1, `not a notice language`},
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
	if ex.Campaigns.Frequency[candor.ChannelSMS].Count != 4 || !ex.Purpose("marketing.sms").MarketingChannel(candor.ChannelSMS) {
		t.Errorf("example campaigns = %+v", ex.Campaigns)
	}
}
