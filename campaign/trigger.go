package campaign

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
)

// Triggered messages. Each trigger of the policy (campaigns.triggers)
// sends through a campaign row of its own, whose send log makes it
// idempotent as a campaign's is: the welcome has one row per purpose, so
// a person is welcomed once per purpose, ever, however often or on however
// many nodes they consent; the cart reminder has one row per purpose and
// [CartPeriod], and a cart belongs to the period its latest Product Added
// fell in, so a person gets at most one reminder per period, and one
// cart never two. The rows are sent by the campaign runner with every
// check a campaign has (the send log, the address, the suppression list,
// quiet hours, double opt-in, the frequency cap, the decision just before
// the send); they stay sending and are looked at every TriggerEvery.
//
// Who is due is read through the gate's bulk read for the trigger's
// purpose, like any campaign: the welcome, the people whose latest choice
// for the purpose is a grant of the last Within; the cart reminder, from
// each person's events collected for the purpose (ScanRequest.EventDays),
// the people whose latest Product Added is older than After and younger
// than Within with no Order Completed since. The policy refuses a cart
// reminder whose purpose its events are not collected for, so carts and
// orders kept for analytics never drive marketing.

// CartPeriod is how long one cart reminder row takes carts for.
const CartPeriod = 7 * 24 * time.Hour

// triggerActor is who sends the triggered messages.
const triggerActor = "candor:trigger"

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// TriggerCampaignID returns the id of a trigger's campaign row for
// purpose in period ("" for the welcome): the same on every node.
func TriggerCampaignID(trigger, purpose, period string) string {
	h := sha256.Sum256([]byte("trigger\x00" + trigger + "\x00" + purpose + "\x00" + period))
	return candor.PrefixCampaign + idEncoding.EncodeToString(h[:16])
}

func cartPeriod(t time.Time) int64 { return t.Unix() / int64(CartPeriod/time.Second) }

// triggerOf splits a campaign's Trigger into the trigger and its period.
func triggerOf(c *candor.Campaign) (name string, period int64) {
	name, p, _ := strings.Cut(c.Trigger, "/")
	period, _ = strconv.ParseInt(p, 10, 64)
	return name, period
}

// checkTrigger checks a trigger's templates as [Service.Create] checks a
// campaign's.
func (s *Service) checkTrigger(t *candor.TriggerPolicy) error {
	for _, txt := range []candor.Text{t.Subject, t.Body} {
		for _, lang := range candor.Languages {
			if strings.TrimSpace(txt[lang]) == "" {
				return fmt.Errorf("campaign: trigger %s has no template in %s", t.Name, lang)
			}
			for _, name := range Placeholders(txt[lang]) {
				f := s.o.Policy.Field(name)
				if f == nil || !slices.Contains(f.Purposes, t.Purpose) || f.Sensitive {
					return fmt.Errorf("campaign: trigger %s: {{%s}} is not a trait declared for %s that a message may hold", t.Name, short(name), t.Purpose)
				}
			}
		}
	}
	return nil
}

// CheckTriggers returns an error for a trigger of the policy whose
// templates name a trait they may not.
func (s *Service) CheckTriggers() error {
	for _, t := range s.o.Policy.Campaigns.Triggers {
		if t.Purpose == "" {
			continue
		}
		if err := s.checkTrigger(t); err != nil {
			return err
		}
	}
	return nil
}

// EnsureTriggers makes sure each trigger of the policy has its campaign
// rows, sending (the cart reminder's of this period and the one before;
// an older one is done). Any node may call it at any time: the rows' ids
// are the same on every node. It returns an error for a trigger whose
// templates name a trait they may not.
func (s *Service) EnsureTriggers(ctx context.Context) error {
	now := s.o.Now().UTC()
	for _, name := range []string{candor.TriggerWelcome, candor.TriggerAbandonedCart} {
		t := s.o.Policy.Campaigns.Triggers[name]
		if t == nil || t.Purpose == "" {
			continue
		}
		if err := s.checkTrigger(t); err != nil {
			return err
		}
		periods := []string{""}
		if name == candor.TriggerAbandonedCart {
			k := cartPeriod(now)
			periods = []string{strconv.FormatInt(k-1, 10), strconv.FormatInt(k, 10)}
			old, err := s.o.Store.Campaign(ctx, TriggerCampaignID(name, t.Purpose, strconv.FormatInt(k-2, 10)))
			if err == nil && old.Status == candor.CampaignSending {
				if _, err := s.o.Store.SetCampaignStatus(ctx, *old, []string{candor.CampaignSending}, candor.CampaignDone, now); err != nil {
					return err
				}
			}
		}
		for _, period := range periods {
			trigger := name
			label := name + " (" + t.Purpose + ")"
			if period != "" {
				trigger += "/" + period
				label += " " + time.Unix(mustInt(period)*int64(CartPeriod/time.Second), 0).UTC().Format("2006-01-02")
			}
			c := candor.Campaign{ID: TriggerCampaignID(name, t.Purpose, period), Name: label, Channel: candor.ChannelEmail, Purpose: t.Purpose,
				Subject: t.Subject, Body: t.Body, Status: candor.CampaignSending, Trigger: trigger,
				Actor: triggerActor, SentBy: triggerActor, SentRole: candor.RoleAdmin, CreatedAt: now, UpdatedAt: now}
			if err := s.o.Store.PutCampaign(ctx, c); err != nil && candor.ErrorCode(err) != candor.ECONFLICT {
				return err
			}
		}
	}
	return nil
}

func mustInt(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

// RunTriggers keeps the triggers' rows in place every TriggerEvery and
// wakes the runner, until ctx ends.
func (s *Service) RunTriggers(ctx context.Context) {
	if len(s.o.Policy.Campaigns.Triggers) == 0 {
		return
	}
	t := time.NewTicker(s.o.TriggerEvery)
	defer t.Stop()
	for {
		if err := s.EnsureTriggers(ctx); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("campaigns: triggers", "err", err)
		}
		s.Kick()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// rest lets a trigger's row wait TriggerEvery before its next pass (or
// the end of quiet hours, if sooner).
func (s *Service) rest(id string, waitingN int) {
	until := s.o.Now().Add(s.o.TriggerEvery)
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.waits[id]; ok && waitingN > 0 && w.until.Before(until) {
		return
	}
	s.waits[id] = waiting{n: waitingN, until: until}
}

// triggerScan is a trigger row's bulk read through the gate: base, with
// the events the trigger needs, yielding only the people it is due to now.
func (s *Service) triggerScan(ctx context.Context, c *candor.Campaign, base gate.ScanRequest, yield func(*gate.Person) error) error {
	name, period := triggerOf(c)
	t := s.o.Policy.Campaigns.Triggers[name]
	if t == nil || t.Purpose != c.Purpose {
		return nil // the policy no longer has it: nothing is due
	}
	now := s.o.Now()
	since := now.Add(-time.Duration(t.Within))
	switch name {
	case candor.TriggerWelcome:
		// Only the people who made a choice for the purpose lately are
		// read (then decided and checked as any run's), not everyone on
		// file at every pass.
		base.Source = func(ctx context.Context, after string, limit int) ([]string, error) {
			return s.o.Store.ConsentSubjects(ctx, c.Purpose, since, after, limit)
		}
		_, err := s.o.Gate.Scan(ctx, base, func(p *gate.Person) error {
			st, err := s.o.Ledger.State(ctx, p.SubjectID)
			if err != nil {
				return err
			}
			latest := st.Latest[c.Purpose]
			if latest == nil || latest.State != candor.ConsentGranted || now.Sub(latest.At) > time.Duration(t.Within) {
				return nil
			}
			return yield(p)
		})
		return err
	case candor.TriggerAbandonedCart:
		base.EventDays = min(int(time.Duration(t.Within)/(24*time.Hour))+1, gate.MaxEventDays)
		// Only the people who added a product within the window are read.
		base.Source = func(ctx context.Context, after string, limit int) ([]string, error) {
			return s.o.Store.EventSubjects(ctx, candor.EventProductAdded, since, after, limit)
		}
		_, err := s.o.Gate.Scan(ctx, base, func(p *gate.Person) error {
			if cartDue(p.Activity, now, time.Duration(t.After), time.Duration(t.Within), period) {
				return yield(p)
			}
			return nil
		})
		return err
	}
	return nil
}

// cartDue reports whether events (newest first) hold an abandoned cart
// of the period: a latest Product Added between within and after ago,
// with no Order Completed at or after it.
func cartDue(events []gate.Activity, now time.Time, after, within time.Duration, period int64) bool {
	for _, e := range events {
		switch e.Name {
		case candor.EventOrderCompleted:
			return false // an order since the latest add (or since an older one): nothing to remind of
		case candor.EventProductAdded:
			age := now.Sub(e.Time)
			return age >= after && age <= within && cartPeriod(e.Time) == period
		}
	}
	return false
}
