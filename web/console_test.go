package web

import (
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/policy"
)

// TestConsentChart: a run of days draws a line, a lone day a dot, a day
// without choices a gap; the totals and rates beside it add up.
func TestConsentChart(t *testing.T) {
	pol, findings := policy.Parse("candor.yaml", examples.Policy)
	if len(findings) > 0 {
		t.Fatal(findings)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	days := []candor.ConsentDay{
		{Day: "2026-11-20", Purpose: "analytics", Granted: 3, Refused: 1},
		{Day: "2026-11-21", Purpose: "analytics", Granted: 1, Refused: 1},
		{Day: "2026-11-23", Purpose: "analytics", Granted: 0, Refused: 2},
		{Day: "2026-11-24", Purpose: "marketing.email", Granted: 1},
	}
	svg, rates := consentChart(days, pol, map[string]string{"analytics": "Shop statistics"}, now, candor.LangEN)
	html := string(svg)
	if strings.Count(html, "<polyline") != 1 || strings.Count(html, "<circle") != 2 {
		t.Errorf("want one line (20th–21st) and two dots (23rd; 24th):\n%s", html)
	}
	if !strings.HasPrefix(html, "<svg") || !strings.Contains(html, `role="img"`) || strings.Contains(html, "<script") {
		t.Errorf("not a plain, labelled SVG: %s", html)
	}
	got := map[string]purposeRate{}
	for _, r := range rates {
		got[r.Purpose] = r
	}
	if a := got["analytics"]; a.Granted != 4 || a.Refused != 4 || a.Rate != "50%" || a.Name != "Shop statistics" {
		t.Errorf("analytics %+v", a)
	}
	if m := got["marketing.email"]; m.Granted != 1 || m.Rate != "100%" {
		t.Errorf("marketing.email %+v", m)
	}
	if s := got["marketing.sms"]; s.Rate != "—" {
		t.Errorf("a purpose without choices: %+v", s)
	}
}
