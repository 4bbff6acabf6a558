package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/campaign"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/demo"
	"github.com/candorhq/candor/segment"
	"github.com/candorhq/candor/subjects"
)

// seedDemo fills an empty store with the demo shop's customers and their
// consents. A store that holds subjects already is left as it is.
func seedDemo(ctx context.Context, st *stack, subj *subjects.Service, ledger *consent.Ledger, col *collect.Collector, notices *consent.Notices, pol *candor.Policy, n int, out io.Writer) error {
	count, err := st.store.CountSubjects(ctx)
	if err != nil || count > 0 {
		return err
	}
	fmt.Fprintf(out, "Creating the demo shop: %d synthetic customers…\n", n)
	start := time.Now()
	customers := demo.Customers(1, n, time.Now())
	actor := jobActor("demo")
	version := notices.Current().Version
	var next atomic.Int64
	var wg sync.WaitGroup
	// Enough workers that the audit log's group commit has company.
	const workers = 16
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(customers) || ctx.Err() != nil {
					return
				}
				// Choices spread over the last month, so that the console's
				// chart has a history to show.
				at := start.Add(-time.Duration(i%30)*24*time.Hour - time.Duration(i%17)*time.Hour)
				if err := seedCustomer(ctx, subj, ledger, pol, actor, version, &customers[i], at); err != nil {
					errs <- fmt.Errorf("customer %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	// A month of shopping: the collector keeps what each customer's
	// consent allows and counts the rest.
	events, err := sendShopping(ctx, col, actor, demo.Shopping(1, customers, start))
	if err != nil {
		return fmt.Errorf("demo events: %w", err)
	}
	fmt.Fprintf(out, "Demo shop ready in %s: %d customers, %d events sent.\n\n", time.Since(start).Round(time.Millisecond), n, events)
	return ctx.Err()
}

func seedCustomer(ctx context.Context, subj *subjects.Service, ledger *consent.Ledger, pol *candor.Policy, actor candor.Actor, version string, c *demo.Customer, at time.Time) error {
	traits := map[string]any{}
	for field, v := range map[string]string{"name": c.Name, "city": c.City, "gender": c.Gender, "birth_date": c.BirthDate} {
		if v != "" && pol.Field(field) != nil {
			traits[field] = v
		}
	}
	id, _, err := subj.Upsert(ctx, actor, "demo", subjects.Input{UserID: c.UserID, Email: c.Email, Phone: c.Phone, Traits: traits, Source: "demo"})
	if err != nil {
		return err
	}
	choice := consent.Choice{NoticeVersion: version, Channel: c.Channel, GPC: c.GPC, Choices: c.Choices, At: at}
	switch {
	case c.AcceptAll:
		choice.Scope = consent.ScopeAll
	case len(c.Choices) == 0:
		choice.Scope = consent.ScopeNone
	}
	if c.Guardian {
		choice.Guardian = &consent.Guardian{Relation: "parent", Method: "signed_form", Reference: "demo"}
	}
	if _, err := ledger.Record(ctx, actor, "demo", id, choice); err != nil {
		return err
	}
	if len(c.Withdrawn) > 0 {
		w := map[string]bool{}
		for _, p := range c.Withdrawn {
			w[p] = false
		}
		later := at.Add(3 * 24 * time.Hour)
		if now := time.Now(); later.After(now) {
			later = now
		}
		if _, err := ledger.Record(ctx, actor, "demo", id, consent.Choice{NoticeVersion: version, Channel: "portal", Choices: w, At: later}); err != nil {
			return err
		}
	}
	return nil
}

// sendShopping sends the events to the collector in batches of 100, in
// time order, as an SDK that kept them sends them when it is back online:
// each batch with the time it was sent (sentAt) beside each event's own
// timestamp, from which the collector corrects the sender's clock
// (received − (sentAt − timestamp)) and so stores each event at the time
// it happened. It returns how many it sent.
func sendShopping(ctx context.Context, col *collect.Collector, actor candor.Actor, events []demo.Event) (int, error) {
	const size = 100
	for b := 0; b < len(events); b += size {
		msgs := make([]json.RawMessage, 0, size)
		for i := b; i < min(b+size, len(events)); i++ {
			m, err := json.Marshal(&events[i])
			if err != nil {
				return b, err
			}
			msgs = append(msgs, m)
		}
		sentAt := time.Now().UTC().Format(time.RFC3339Nano)
		res, err := col.Collect(ctx, actor, collect.Call{Messages: msgs, SentAt: sentAt}, collect.Signals{RequestID: "demo"})
		if err != nil {
			return b, err
		}
		if len(res.Errors) > 0 {
			e := res.Errors[0]
			return b, fmt.Errorf("event %s refused: %s: %s", events[b+e.Index].MessageID, e.Code, e.Message)
		}
	}
	return len(events), nil
}

// demoSegments saves, once, the demo's segments to look at: people who
// viewed or added products in the last 30 days (personalization: those
// events are collected for it, not for a marketing purpose, so the
// example policy is left as it is), and the subscribers to offers by
// e-mail (marketing.email, for a campaign).
func demoSegments(ctx context.Context, segs *segment.Service, pol *candor.Policy) error {
	actor := jobActor("demo")
	list, _, err := segs.List(ctx, actor, "", 1)
	if err != nil || len(list) > 0 {
		return err
	}
	for _, in := range []segment.Input{
		{Name: "Recent shoppers", Purpose: "personalization", Rule: json.RawMessage(`{"any":[{"event":"Product Viewed","within":"30d"},{"event":"Product Added","within":"30d"}]}`)},
		{Name: "Offers by e-mail", Purpose: "marketing.email", Rule: json.RawMessage(`{"trait":"email","op":"exists"}`)},
	} {
		if pol.Purpose(in.Purpose) == nil {
			continue
		}
		if _, err := segs.Create(ctx, actor, "demo", in); err != nil {
			return fmt.Errorf("segment %s: %w", in.Name, err)
		}
	}
	return nil
}

// demoCampaign creates, once, the demo's campaign to look at: an e-mail
// for marketing.email to the segment "Offers by e-mail", sent through the
// campaign service as any campaign is (each person's decision, the
// suppression list, the frequency cap, the send log), to the local mail
// sink, which delivers nothing. With a mail server of the operator's own
// (no sink), the campaign stays a draft: the demo's made-up addresses are
// not mailed. It waits up to two minutes for the sending to finish.
func demoCampaign(ctx context.Context, camps *campaign.Service, segs *segment.Service, pol *candor.Policy, sink *demo.MailSink, out io.Writer) error {
	actor := jobActor("demo")
	const name = "Spring teas"
	// Once: a restart finds it (the triggers' own rows are campaigns too).
	for after := ""; ; {
		list, next, err := camps.List(ctx, actor, after, 100)
		if err != nil {
			return err
		}
		for _, c := range list {
			if c.Name == name && c.Trigger == "" {
				return nil
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	if pol.Purpose("marketing.email") == nil || pol.Field("name") == nil {
		return nil
	}
	list, _, err := segs.List(ctx, actor, "", 200)
	if err != nil {
		return err
	}
	seg := ""
	for _, s := range list {
		if s.Name == "Offers by e-mail" && s.Purpose == "marketing.email" {
			seg = s.ID
		}
	}
	if seg == "" {
		return nil
	}
	v, err := camps.Create(ctx, actor, campaign.Input{Name: name, Channel: candor.ChannelEmail, Purpose: "marketing.email", Segment: seg,
		Subject: candor.Text{candor.LangEN: "{{name}}, the spring teas are in", candor.LangZH: "{{name}}，春茶上新了"},
		Body: candor.Text{candor.LangEN: "Dear {{name}},\n\nThis year's Longjing and Biluochun have arrived. Members get 10% off until the end of the month.",
			candor.LangZH: "亲爱的{{name}}：\n\n今年的龙井和碧螺春到货了，会员本月内享九折优惠。"}})
	if err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	if sink == nil {
		fmt.Fprintf(out, "Demo campaign %q saved as a draft (a mail server is configured: the demo's made-up addresses are not mailed).\n\n", v.Name)
		return nil
	}
	if v, err = camps.Start(ctx, actor, v.ID); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	for deadline := time.Now().Add(2 * time.Minute); v.Status == candor.CampaignSending && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if v, err = camps.Get(ctx, actor, v.ID); err != nil {
			return err
		}
	}
	skipped := 0
	for _, n := range v.Stats.Skipped {
		skipped += n
	}
	fmt.Fprintf(out, "Demo campaign %q %s: %d e-mails sent to the local mail sink (which has accepted %d in all, triggered messages included, and delivers none), %d failed, %d skipped.\n\n",
		v.Name, v.Status, v.Stats.Sent, sink.Received(), v.Stats.Failed, skipped)
	return nil
}

// demoPublicURL is the demo's own address, for the links in its campaign
// messages when CANDOR_PUBLIC_URL is not set.
func demoPublicURL(addr string, tls bool) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
