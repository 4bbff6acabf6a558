package campaign_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/campaign"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/smtp"
)

// hookMailer calls before ahead of each message, then sends it for real,
// then calls after (when set) with how many were delivered.
type hookMailer struct {
	next    campaign.Mailer
	before  func(n int, m smtp.Mail) error
	after   func(delivered int)
	n, done atomic.Int64
}

func (h *hookMailer) Send(ctx context.Context, m smtp.Mail) error {
	if err := h.before(int(h.n.Add(1)), m); err != nil {
		return err
	}
	if err := h.next.Send(ctx, m); err != nil {
		return err
	}
	if h.after != nil {
		h.after(int(h.done.Add(1)))
	}
	return nil
}

// TestWithdrawalMidCampaign: people who withdraw while the campaign runs
// get nothing sent after their withdrawal returned.
func TestWithdrawalMidCampaign(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		f := newFixture(t, e)
		var ids []string
		for i := 1; i <= 6; i++ {
			id, _, _ := f.person(t, i, "en", consent.ScopeAll)
			ids = append(ids, id)
		}
		var withdrawnAt sync.Map // address → true once the withdrawal returned
		o := f.opts
		o.Workers = 1
		o.Mail = &hookMailer{next: f.pool, before: func(n int, m smtp.Mail) error {
			if n == 1 { // everyone withdraws once the first message is on its way
				for i, id := range ids {
					if _, err := e.Ledger.Record(ctx, testenv.Admin, "", id, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"marketing.email": false}}); err != nil {
						t.Error(err)
					}
					withdrawnAt.Store("p"+itoa(i+1)+"@mail.example", true)
				}
				withdrawnAt.Delete(m.To)
				return nil
			}
			if _, ok := withdrawnAt.Load(m.To); ok {
				t.Errorf("a message to %s after the withdrawal returned", m.To)
			}
			return nil
		}}
		f.svc = campaign.New(o)
		id := f.email(t, "Mid")
		res := f.send(t, id)
		if got := len(f.mail.Messages()); got != 1 || res.Sent != 1 {
			t.Errorf("%d messages, pass %+v; want 1", got, res)
		}
	})
}

// TestCrashAndResume: a sender killed after a few messages, then run again
// by another node, sends no one a second message; the claims it left
// unconfirmed are interrupted, counted, and not sent again.
func TestCrashAndResume(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		f := newFixture(t, e)
		const people = 12
		for i := 1; i <= people; i++ {
			f.person(t, i, "en", consent.ScopeAll)
		}
		id := f.email(t, "Crash")
		if _, err := f.svc.Start(ctx, marketer, id); err != nil {
			t.Fatal(err)
		}
		crashCtx, crash := context.WithCancel(ctx)
		o := f.opts
		o.Node = "node_crashing"
		o.Mail = &hookMailer{next: f.pool, before: func(n int, m smtp.Mail) error {
			return crashCtx.Err() // a dead node sends nothing
		}, after: func(delivered int) {
			if delivered == 3 {
				crash() // the node dies with messages delivered but unconfirmed, and others claimed
			}
		}}
		dying := campaign.New(o)
		dying.Pass(crashCtx, id)
		before := f.perRecipient()
		if len(before) == 0 || len(before) >= people {
			t.Fatalf("the crash left %d recipients", len(before))
		}
		// A restart at once: the fresh claims are someone's, left alone.
		o = f.opts
		o.Node = "node_restarted"
		restarted := campaign.New(o)
		if _, err := restarted.Pass(ctx, id); err != nil {
			t.Fatal(err)
		}
		// Later, the unconfirmed claims are taken for interrupted.
		f.clock.Add(campaign.ClaimTimeout + time.Minute)
		if _, err := restarted.Pass(ctx, id); err != nil {
			t.Fatal(err)
		}
		got := f.perRecipient()
		for addr, n := range got {
			if n != 1 {
				t.Errorf("%s got %d messages", addr, n)
			}
		}
		v, _ := restarted.Get(ctx, marketer, id)
		// An interrupted message may or may not have reached the server
		// before the crash; either way it went at most once.
		interrupted := v.Stats.Skipped[candor.SendInterrupted]
		if len(got) < v.Stats.Sent || len(got) > v.Stats.Sent+interrupted || v.Stats.Sent+interrupted != people || v.Stats.Sending != 0 || v.Status != candor.CampaignDone {
			t.Errorf("stats %+v, status %s, %d recipients", v.Stats, v.Status, len(got))
		}
		if v.Stats.Skipped[candor.SendInterrupted] == 0 {
			t.Error("no message was interrupted")
		}
	})
}

// TestSeveralNodes: two nodes sending the same campaign at once send each
// person one message.
func TestSeveralNodes(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		f := newFixture(t, e)
		const people = 20
		for i := 1; i <= people; i++ {
			f.person(t, i, "en", consent.ScopeAll)
		}
		id := f.email(t, "Nodes")
		if _, err := f.svc.Start(ctx, marketer, id); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for _, node := range []string{"node_a", "node_b"} {
			o := f.opts
			o.Node = node
			s := campaign.New(o)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Pass(ctx, id); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		got := f.perRecipient()
		if len(got) != people {
			t.Errorf("%d recipients, want %d", len(got), people)
		}
		for addr, n := range got {
			if n != 1 {
				t.Errorf("%s got %d", addr, n)
			}
		}
	})
}

// TestSMSQuietHoursAndReply: a text due at night waits (not dropped) and
// goes out in the morning; each ends with the way to refuse; a reply TD
// from a number withdraws for the person holding it.
func TestSMSQuietHoursAndReply(t *testing.T) {
	eachStore(t, func(t *testing.T, e *testenv.Env) {
		f := newFixture(t, e)
		a, _, aPhone := f.person(t, 1, "zh-CN", consent.ScopeAll)
		_, _, bPhone := f.person(t, 2, "en", consent.ScopeAll)
		f.clock.t = time.Date(2026, 3, 2, 22, 30, 0, 0, shanghai)
		v, err := f.svc.Create(ctx, marketer, campaign.Input{Name: "Flash", Channel: candor.ChannelSMS, Purpose: "marketing.sms",
			Body: candor.Text{candor.LangEN: "Flash sale today", candor.LangZH: "今日闪购"}})
		if err != nil {
			t.Fatal(err)
		}
		res := f.send(t, v.ID)
		if res.Waiting != 2 || res.Sent != 0 || res.Done {
			t.Fatalf("at night: %+v", res)
		}
		if got, _ := f.svc.Get(ctx, marketer, v.ID); got.Status != candor.CampaignSending || got.Stats.Waiting != 2 {
			t.Errorf("at night: %+v", got)
		}
		f.clock.t = time.Date(2026, 3, 3, 8, 1, 0, 0, shanghai)
		if res, _ := f.svc.Pass(ctx, v.ID); res.Sent != 2 || !res.Done {
			t.Fatalf("in the morning: %+v", res)
		}
		if got := f.sms.to(aPhone); len(got) != 1 || !strings.HasSuffix(got[0], "回复TD退订") || !strings.Contains(got[0], "今日闪购") {
			t.Errorf("zh text: %q", got)
		}
		if got := f.sms.to(bPhone); len(got) != 1 || !strings.HasSuffix(got[0], "Reply STOP to opt out") {
			t.Errorf("en text: %q", got)
		}
		if ok, err := f.svc.Reply(ctx, "138 0000 0001", "hello", ""); ok || err != nil {
			t.Errorf("a reply that is not a refusal: %v %v", ok, err)
		}
		if ok, err := f.svc.Reply(ctx, aPhone, " td ", ""); !ok || err != nil {
			t.Fatalf("TD: %v %v", ok, err)
		}
		if d, _ := e.Gate.Decide(ctx, a, "marketing.sms"); d.Allow {
			t.Errorf("after TD: %+v", d)
		}
	})
}

// TestDoubleOptIn: where the policy asks for it, a consent counts only
// once confirmed: the first campaign sends the confirmation link instead
// of its message; the confirmation is recorded in the ledger; the next
// campaign sends.
func TestDoubleOptIn(t *testing.T) {
	e := testenv.New(t, nil)
	f := newFixture(t, e)
	pol := *e.Policy
	pol.Campaigns.DoubleOptIn = []string{"marketing.email"}
	o := f.opts
	o.Policy = &pol
	f.svc = campaign.New(o)
	a, aMail, _ := f.person(t, 1, "en", consent.ScopeAll)
	first := f.email(t, "First")
	if res := f.send(t, first); res.Sent != 0 || res.Skipped != 1 {
		t.Fatalf("first: %+v", res)
	}
	msgs := f.mailTo(aMail)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Body(), "https://candor.shop.example/v1/confirm/") {
		t.Fatalf("confirmation: %d messages", len(msgs))
	}
	body := strings.ReplaceAll(msgs[0].Body(), "=\r\n", "")
	i := strings.Index(body, "/v1/confirm/")
	token := strings.Fields(body[i+len("/v1/confirm/"):])[0]
	if err := f.svc.Confirm(ctx, token+"x", ""); err == nil {
		t.Error("a forged confirmation was accepted")
	}
	if err := f.svc.Confirm(ctx, token, ""); err != nil {
		t.Fatal(err)
	}
	st, _ := e.Ledger.State(ctx, a)
	if l := st.Latest["marketing.email"]; l == nil || l.Channel != consent.ChannelConfirmation || l.State != candor.ConsentGranted {
		t.Errorf("ledger: %+v", l)
	}
	second := f.email(t, "Second")
	if res := f.send(t, second); res.Sent != 1 {
		t.Errorf("second: %+v", res)
	}
	if _, err := e.Ledger.Record(ctx, testenv.Admin, "", a, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"marketing.email": true}, Channel: consent.ChannelConfirmation}); candor.ErrorCode(err) != candor.EINVALID {
		t.Errorf("an API call recorded a confirmation: %v", err)
	}
}

// TestStop: a campaign stopped while it sends hands no further message to
// the server, and stays stopped.
func TestStop(t *testing.T) {
	e := testenv.New(t, nil)
	f := newFixture(t, e)
	for i := 1; i <= 5; i++ {
		f.person(t, i, "en", consent.ScopeAll)
	}
	var id string
	o := f.opts
	o.Workers = 1
	var svc *campaign.Service
	o.Mail = &hookMailer{next: f.pool, before: func(n int, m smtp.Mail) error {
		if n == 1 {
			if _, err := svc.Stop(ctx, marketer, id); err != nil {
				t.Error(err)
			}
		}
		return nil
	}}
	svc = campaign.New(o)
	f.svc = svc
	id = f.email(t, "Stop")
	f.send(t, id)
	if n := len(f.mail.Messages()); n > 1 {
		t.Errorf("%d messages after the stop", n)
	}
	if v, _ := svc.Get(ctx, marketer, id); v.Status != candor.CampaignStopped {
		t.Errorf("status %s", v.Status)
	}
	if res, _ := svc.Pass(ctx, id); res.Sent != 0 {
		t.Errorf("a stopped campaign sent: %+v", res)
	}
}
