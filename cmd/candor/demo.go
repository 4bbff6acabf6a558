package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candorhq/candor"
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
