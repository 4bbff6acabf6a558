package campaign_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/campaign"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/subjects"
)

func welcomeID() string {
	return campaign.TriggerCampaignID(candor.TriggerWelcome, "marketing.email", "")
}

func (f *fixture) pass(t *testing.T, svc *campaign.Service, id string) campaign.PassResult {
	t.Helper()
	res, err := svc.Pass(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestWelcome: a person who consents to marketing.email is welcomed
// once, ever: not again when they consent again, nor from a second node,
// nor when two nodes pass at once; not someone who withdrew before it
// went out, nor a consent older than the trigger's window.
func TestWelcome(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		f := newFixture(t, e)
		f.clock.t = time.Now()
		if err := f.svc.EnsureTriggers(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := e.Store.Campaign(ctx, welcomeID())
		if err != nil || c.Status != candor.CampaignSending || c.Trigger != candor.TriggerWelcome || c.Subject[candor.LangZH] == "" {
			t.Fatalf("welcome row: %+v %v", c, err)
		}
		_, aMail, _ := f.person(t, 1, "en", "all")
		w, wMail, _ := f.person(t, 2, "en", "all")
		if _, err := e.Ledger.Record(ctx, testenv.Admin, "", w, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"marketing.email": false}}); err != nil {
			t.Fatal(err)
		}
		if res := f.pass(t, f.svc, welcomeID()); res.Sent != 1 || res.Done {
			t.Errorf("first pass: %+v", res)
		}
		if m := f.mailTo(aMail); len(m) != 1 || m[0].Body() == "" {
			t.Fatalf("welcome: %d", len(m))
		}
		if len(f.mailTo(wMail)) != 0 {
			t.Error("a welcome to someone who withdrew")
		}
		// Consent again, and a second node: nothing more.
		a := f.e.MustSubject(t, subjectInput(1), "all")
		o2 := f.opts
		o2.Node = "node-2"
		svc2 := campaign.New(o2)
		if err := svc2.EnsureTriggers(ctx); err != nil {
			t.Fatal(err)
		}
		f.pass(t, f.svc, welcomeID())
		f.pass(t, svc2, welcomeID())
		if n := len(f.mailTo(aMail)); n != 1 {
			t.Errorf("%s got %d welcomes", a, n)
		}
		// Two nodes at once, for a new person: one welcome.
		_, bMail, _ := f.person(t, 3, "zh-CN", "all")
		var wg sync.WaitGroup
		for _, s := range []*campaign.Service{f.svc, svc2} {
			wg.Add(1)
			go func() { defer wg.Done(); s.Pass(ctx, welcomeID()) }()
		}
		wg.Wait()
		if n := len(f.mailTo(bMail)); n != 1 {
			t.Errorf("two nodes sent %d welcomes", n)
		}
		// A consent older than the window gets none.
		_, oldMail, _ := f.person(t, 4, "en", "all")
		f.clock.Add(8 * 24 * time.Hour)
		f.pass(t, f.svc, welcomeID())
		if len(f.mailTo(oldMail)) != 0 {
			t.Error("a welcome for a consent older than the window")
		}
		if v, _ := f.svc.Get(ctx, testenv.Admin, welcomeID()); v.Stats.Sent != 2 || v.Status != candor.CampaignSending {
			t.Errorf("welcome stats: %+v", v)
		}
	})
}

func subjectInput(n int) subjects.Input { return subjects.Input{UserID: "u" + itoa(n)} }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestAbandonedCart: a reminder goes to whoever added to the cart more
// than after ago and ordered nothing since, once; not after an order,
// not before after has passed, not to someone who withdrew, and not to
// someone whose cart was not collected for marketing.email.
func TestAbandonedCart(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		f := newFixture(t, e)
		f.clock.t = time.Now()
		cart := map[string]any{"cart_id": "c1", "product_id": "p1"}
		_, due, _ := f.person(t, 1, "en", "all")
		track(t, e, "u1", "Product Added", 5*time.Hour, cart)
		_, ordered, _ := f.person(t, 2, "en", "all")
		track(t, e, "u2", "Product Added", 5*time.Hour, cart)
		track(t, e, "u2", "Order Completed", 4*time.Hour, map[string]any{"order_id": "o2", "revenue": 10})
		_, early, _ := f.person(t, 3, "en", "all")
		track(t, e, "u3", "Product Added", time.Hour, cart)
		w, withdrew, _ := f.person(t, 4, "en", "all")
		track(t, e, "u4", "Product Added", 5*time.Hour, cart)
		if _, err := e.Ledger.Record(ctx, testenv.Admin, "", w, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"marketing.email": false}}); err != nil {
			t.Fatal(err)
		}
		// Consented to marketing.email only after the cart: the cart was
		// not collected for it.
		late, lateMail, _ := f.person(t, 5, "en", "")
		only(t, e, late, "personalization", "analytics")
		track(t, e, "u5", "Product Added", 5*time.Hour, cart)
		only(t, e, late, "personalization", "analytics", "marketing.email")

		if err := f.svc.EnsureTriggers(ctx); err != nil {
			t.Fatal(err)
		}
		k := f.clock.Now().Unix() / int64(campaign.CartPeriod/time.Second)
		var rows []string
		for _, p := range []int64{k - 1, k} {
			rows = append(rows, campaign.TriggerCampaignID(candor.TriggerAbandonedCart, "marketing.email", strconv.FormatInt(p, 10)))
		}
		for i := 0; i < 2; i++ {
			for _, id := range rows {
				f.pass(t, f.svc, id)
			}
		}
		if n := len(f.mailTo(due)); n != 1 {
			t.Errorf("the abandoned cart got %d reminders", n)
		}
		for name, addr := range map[string]string{"ordered": ordered, "too early": early, "withdrew": withdrew, "not collected for marketing": lateMail} {
			if n := len(f.mailTo(addr)); n != 0 {
				t.Errorf("%s: %d reminders", name, n)
			}
		}
		if m := f.mailTo(due); len(m) == 1 && !contains(m[0].Data, "Your cart is waiting") {
			t.Errorf("reminder: %s", m[0].Data)
		}
	})
}
