package campaign_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/campaign"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/subjects"
)

var (
	writer  = candor.Actor{ID: "test:write", Role: candor.RoleWrite}
	clickRE = regexp.MustCompile(`https://candor\.shop\.example/v1/c/([A-Za-z0-9_.\-]*[A-Za-z0-9_\-])`)
	openRE  = regexp.MustCompile(`https://candor\.shop\.example/v1/o/([A-Za-z0-9_.\-]+)`)
)

// track collects an event for the person with user id userID, ago before now.
func track(t *testing.T, e *testenv.Env, userID, event string, ago time.Duration, props map[string]any) {
	t.Helper()
	m, _ := json.Marshal(map[string]any{"type": "track", "event": event, "userId": userID, "messageId": candor.NewID("m_"),
		"timestamp": time.Now().Add(-ago).UTC().Format(time.RFC3339Nano), "properties": props})
	res, err := e.App.Collector.Collect(ctx, writer, collect.Call{Messages: []json.RawMessage{m}}, collect.Signals{})
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("track %s: %+v %v", event, res, err)
	}
}

// only grants exactly the purposes given.
func only(t *testing.T, e *testenv.Env, id string, purposes ...string) {
	t.Helper()
	choices := map[string]bool{}
	for _, p := range purposes {
		choices[p] = true
	}
	if _, err := e.Ledger.Record(ctx, testenv.Admin, "", id, consent.Choice{NoticeVersion: e.Version, Choices: choices}); err != nil {
		t.Fatal(err)
	}
}

// TestMeasure: a person whose decision allows analytics gets a pixel and
// tracked links, one whose decision does not gets neither (the template's
// links as written); a click token leads only to a link of the template,
// and a forged or altered one nowhere; opens and clicks count once per
// message; a bounce suppresses the address, so the next campaign sends it
// nothing; an unsubscribe counts on the campaign; conversions are counted
// per variant through the gate, only for people analytics allows.
func TestMeasure(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		f := newFixture(t, e)
		f.clock.t = time.Now().Add(-time.Hour)
		a, aMail, _ := f.person(t, 1, "en", "all")
		b := f.e.MustSubject(t, subjects.Input{UserID: "u2", Email: "p2@mail.example", Traits: map[string]any{"name": "Person 2", "language": "en"}}, "")
		only(t, e, b, "marketing.email")
		in := campaign.Input{Name: "Spring", Channel: candor.ChannelEmail, Purpose: "marketing.email",
			Subject:  candor.Text{candor.LangEN: "Spring A", candor.LangZH: "春季 A"},
			SubjectB: candor.Text{candor.LangEN: "Spring B", candor.LangZH: "春季 B"},
			Body:     candor.Text{candor.LangEN: "Dear {{name}}, see https://shop.example/spring.", candor.LangZH: "亲爱的{{name}}，请看 https://shop.example/spring"}}
		v, err := f.svc.Create(ctx, marketer, in)
		if err != nil {
			t.Fatal(err)
		}
		if res := f.send(t, v.ID); res.Sent != 2 {
			t.Fatalf("sent %+v", res)
		}
		am, bm := f.mailTo(aMail), f.mailTo("p2@mail.example")
		if len(am) != 1 || len(bm) != 1 {
			t.Fatalf("messages: %d %d", len(am), len(bm))
		}
		// b: no analytics consent, so no pixel and no tracked link.
		if bm[0].HTML() != "" || strings.Contains(bm[0].Data, "/v1/o/") || strings.Contains(bm[0].Data, "/v1/c/") || !strings.Contains(bm[0].Body(), "https://shop.example/spring") {
			t.Errorf("untracked person's message:\n%s", bm[0].Data)
		}
		// a: analytics allowed: tracked links in both parts, a pixel in the HTML one.
		text, page := am[0].Body(), am[0].HTML()
		click, open := clickRE.FindStringSubmatch(text), openRE.FindStringSubmatch(page)
		if click == nil || open == nil || strings.Contains(text, "https://shop.example/spring") || !strings.Contains(page, "/v1/c/") {
			t.Fatalf("tracked person's message:\ntext %s\nhtml %s", text, page)
		}
		for _, m := range []testenv.Mail{am[0], bm[0]} {
			if !strings.Contains(m.Data, "Subject: Spring A") && !strings.Contains(m.Data, "Subject: Spring B") {
				t.Errorf("no variant subject:\n%s", m.Data)
			}
		}
		// The click leads to the template's link, and only there.
		to, err := f.svc.Click(ctx, click[1])
		if err != nil || to != "https://shop.example/spring" {
			t.Fatalf("click: %q %v", to, err)
		}
		parts := strings.Split(click[1], ".")
		for _, bad := range []string{
			parts[0] + "." + parts[1] + ".1." + parts[3],  // another index, the same MAC
			parts[0] + "." + parts[1] + ".01." + parts[3], // the same index spelled otherwise
			parts[0] + "." + b + "." + parts[2] + "." + parts[3],
			click[1] + "x",
			parts[0] + "." + parts[1] + "." + parts[3], // an open token's shape
		} {
			if to, err := f.svc.Click(ctx, bad); err == nil {
				t.Errorf("a forged click token %q led to %q", bad, to)
			}
		}
		// A valid token for a link index past the template's links (a
		// campaign whose template has none) leads nowhere either.
		plain := f.email(t, "Plain")
		if _, err := f.svc.Click(ctx, strings.TrimPrefix(f.svc.ClickURL(plain, a, 0), "https://candor.shop.example/v1/c/")); err == nil {
			t.Error("a click token of a template without links redirected")
		}
		f.svc.Click(ctx, click[1])
		for i := 0; i < 3; i++ {
			if err := f.svc.Open(ctx, open[1]); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.Open(ctx, open[1]+"x"); err == nil {
			t.Error("a forged open token was accepted")
		}
		// A bounce for b: suppressed, and counted on the campaign.
		if err := f.svc.MailEvent(ctx, "bounce", " P2@Mail.Example ", ""); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.MailEvent(ctx, "delivered", "p2@mail.example", ""); candor.ErrorCode(err) != candor.EINVALID {
			t.Errorf("unknown type: %v", err)
		}
		// a unsubscribes through the campaign's link.
		tok := unsubRE.FindStringSubmatch(text)
		if err := f.svc.Unsubscribe(ctx, tok[1], ""); err != nil {
			t.Fatal(err)
		}
		// a orders (analytics allows it); b orders too, but b's order is
		// not collected for analytics and is not counted.
		track(t, e, "u1", "Order Completed", 0, map[string]any{"order_id": "o1", "revenue": 10})
		track(t, e, "u2", "Order Completed", 0, map[string]any{"order_id": "o2", "revenue": 10})
		got, err := f.svc.Get(ctx, marketer, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		st := got.Stats
		if st.Sent != 2 || st.Bounced != 1 || st.Unsubscribed != 1 || st.Opened == nil || *st.Opened != 1 || *st.Clicked != 1 {
			t.Errorf("stats: %+v", st)
		}
		people, measured, converted := 0, 0, 0
		for _, vs := range st.Variants {
			people, measured, converted = people+vs.People, measured+vs.Measured, converted+vs.Converted
		}
		if people != 2 || measured != 1 || converted != 1 {
			t.Errorf("variants: people %d, measured %d, converted %d", people, measured, converted)
		}
		// The next campaign sends the bounced address nothing.
		next := f.email(t, "Next")
		res := f.send(t, next)
		if n := len(f.mailTo("p2@mail.example")); n != 1 {
			t.Errorf("the bounced address got %d messages", n)
		}
		if gotNext, _ := f.svc.Get(ctx, marketer, next); gotNext.Stats.Skipped[campaign.SkipSuppressed] != 1 {
			t.Errorf("next campaign: %+v %+v", res, gotNext.Stats)
		}
	})
}

// TestHoldout: holdout people get nothing and are counted, each by the
// same keyed assignment on every pass.
func TestHoldout(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		f := newFixture(t, e)
		f.clock.t = time.Now()
		var ids []string
		for i := 1; i <= 20; i++ {
			id, _, _ := f.person(t, i, "en", "all")
			ids = append(ids, id)
		}
		v, err := f.svc.Create(ctx, marketer, campaign.Input{Name: "H", Channel: candor.ChannelEmail, Purpose: "marketing.email", Holdout: 30,
			Subject: candor.Text{candor.LangEN: "S", candor.LangZH: "S"}, Body: candor.Text{candor.LangEN: "B", candor.LangZH: "B"}})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := e.Store.Campaign(ctx, v.ID)
		held := 0
		for _, id := range ids {
			if f.svc.Variant(c, id) == campaign.VariantHoldout {
				held++
			}
		}
		if held == 0 || held == 20 {
			t.Fatalf("held out %d of 20", held)
		}
		res := f.send(t, v.ID)
		if res.Sent != 20-held || len(f.mail.Messages()) != 20-held {
			t.Errorf("sent %+v, %d messages, want %d", res, len(f.mail.Messages()), 20-held)
		}
		got, _ := f.svc.Get(ctx, marketer, v.ID)
		if got.Stats.Skipped[campaign.SkipHoldout] != held || got.Stats.Variants[campaign.VariantHoldout] == nil || got.Stats.Variants[campaign.VariantHoldout].People != held {
			t.Errorf("stats: %+v", got.Stats)
		}
		if _, err := f.svc.Create(ctx, marketer, campaign.Input{Name: "H", Channel: candor.ChannelEmail, Purpose: "marketing.email", Holdout: 90,
			Subject: candor.Text{candor.LangEN: "S", candor.LangZH: "S"}, Body: candor.Text{candor.LangEN: "B", candor.LangZH: "B"}}); candor.ErrorCode(err) != candor.EINVALID {
			t.Errorf("holdout 90: %v", err)
		}
	})
}
