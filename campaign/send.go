package campaign

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/smtp"
	"github.com/candorhq/candor/subjects"
)

// Lease and claim timing.
const (
	// LeaseFor is how long a node's lease of a sending campaign lasts; it
	// renews it every third of that while it sends.
	LeaseFor = 30 * time.Second
	// ClaimTimeout is how long after its claim a message still unconfirmed
	// is taken for interrupted (its node died between the claim and the
	// outcome). A send gives up well before: its context times out.
	ClaimTimeout = 2 * time.Minute
	sendTimeout  = 30 * time.Second
)

// Skip reasons, as stats.skipped counts them (besides the gate's decision
// codes, such as withdrawn, and frequency_cap).
const (
	SkipNoAddress   = "no_address"
	SkipSuppressed  = "suppressed"
	SkipUnconfirmed = "unconfirmed" // double opt-in asked, not confirmed yet
	SkipFrequency   = "frequency_cap"
)

// Kick wakes the runner.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run sends the campaigns in the sending state, each on the node that
// holds its lease, until ctx ends; then it waits for the passes it began.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.o.Poll)
	defer t.Stop()
	for {
		s.startDue(ctx)
		select {
		case <-ctx.Done():
			s.wg.Wait()
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// startDue starts a pass for each sending campaign this node can lease
// and is not sending already.
func (s *Service) startDue(ctx context.Context) {
	list, err := s.o.Store.CampaignsByStatus(ctx, candor.CampaignSending)
	if err != nil {
		s.o.Logger.Warn("campaigns: list", "err", err)
		return
	}
	now := s.o.Now()
	for _, c := range list {
		s.mu.Lock()
		busy, wait := s.running[c.ID], s.waits[c.ID]
		s.mu.Unlock()
		if busy || now.Before(wait.until) {
			continue
		}
		ok, err := s.o.Store.LeaseCampaign(ctx, c.ID, s.o.Node, now, now.Add(LeaseFor))
		if err != nil || !ok {
			continue
		}
		s.mu.Lock()
		s.running[c.ID] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { s.mu.Lock(); delete(s.running, c.ID); s.mu.Unlock() }()
			if _, err := s.Pass(ctx, c.ID); err != nil && ctx.Err() == nil {
				s.o.Logger.Warn("campaigns: pass", "campaign", c.ID, "err", err)
			}
		}()
	}
}

// PassResult says what one pass over a campaign's audience did.
type PassResult struct {
	Sent, Failed, Skipped int
	// Waiting is how many were due in quiet hours; the campaign stays
	// sending and a later pass takes them.
	Waiting int
	Done    bool // the campaign is done
}

// Pass goes once over the campaign's audience, as it stands now, and
// sends to each person whom every check allows at the moment of the send.
// People due in quiet hours are left for a later pass; when none is left,
// the campaign is done. A pass holds the campaign's lease (the runner
// takes it; a test may call Pass directly) and stops when the campaign is
// stopped or ctx ends.
func (s *Service) Pass(ctx context.Context, id string) (PassResult, error) {
	var res PassResult
	c, err := s.o.Store.Campaign(ctx, id)
	if err != nil {
		return res, err
	}
	if c.Status != candor.CampaignSending {
		return res, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.cancels[c.ID] = cancel
	s.mu.Unlock()
	defer func() { s.mu.Lock(); delete(s.cancels, c.ID); s.mu.Unlock() }()
	// Claims older than the timeout belong to a node that died: their
	// messages may have gone out, so they are never sent again.
	if n, err := s.o.Store.InterruptSends(ctx, c.ID, s.o.Now().Add(-ClaimTimeout)); err != nil {
		return res, err
	} else if n > 0 {
		s.o.Logger.Warn("campaigns: messages interrupted by a crash are not sent again", "campaign", c.ID, "messages", n)
	}
	// Keep the lease, and watch for a stop.
	var stopped atomic.Bool
	go func() {
		t := time.NewTicker(LeaseFor / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if cur, err := s.o.Store.Campaign(ctx, c.ID); err == nil && cur.Status != candor.CampaignSending {
				stopped.Store(true)
				cancel()
				return
			}
			now := s.o.Now()
			if ok, err := s.o.Store.LeaseCampaign(ctx, c.ID, s.o.Node, now, now.Add(LeaseFor)); err == nil && !ok {
				cancel() // another node holds it now
				return
			}
		}
	}()
	var sent, failed, skipped, waitN atomic.Int64
	var waitMu sync.Mutex
	var waitUntil time.Time
	people := make(chan *gate.Person, s.o.Workers)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for i := 0; i < s.o.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range people {
				out, until, err := s.deliver(ctx, c, p)
				if err != nil {
					if ctx.Err() == nil {
						errOnce.Do(func() { firstErr = err; cancel() })
					}
					continue
				}
				switch out {
				case outSent:
					sent.Add(1)
				case outFailed:
					failed.Add(1)
				case outSkipped:
					skipped.Add(1)
				case outWait:
					waitN.Add(1)
					waitMu.Lock()
					if waitUntil.IsZero() || until.Before(waitUntil) {
						waitUntil = until
					}
					waitMu.Unlock()
				}
			}
		}()
	}
	actor := candor.Actor{ID: "campaign:" + c.ID, Role: candor.RoleAdmin}
	req := gate.ScanRequest{Actor: actor, Purpose: c.Purpose, Fields: s.fieldsOf(c), Label: "campaign " + c.Name, RequestID: c.ID}
	hand := func(p *gate.Person) error {
		if stopped.Load() {
			return gate.ErrStop
		}
		select {
		case people <- p:
			return nil
		case <-ctx.Done():
			return gate.ErrStop
		}
	}
	var scanErr error
	switch {
	case c.Trigger != "": // trigger.go
		scanErr = s.triggerScan(ctx, c, req, hand)
	case c.Segment == "":
		_, scanErr = s.o.Gate.Scan(ctx, req, hand)
	case s.o.Audience == nil:
		scanErr = errors.New("campaign: a segment without an audience")
	default:
		scanErr = s.o.Audience.Scan(ctx, c.Segment, req, hand)
	}
	close(people)
	wg.Wait()
	res = PassResult{Sent: int(sent.Load()), Failed: int(failed.Load()), Skipped: int(skipped.Load()), Waiting: int(waitN.Load())}
	s.mu.Lock()
	if res.Waiting > 0 {
		s.waits[c.ID] = waiting{n: res.Waiting, until: waitUntil}
	} else {
		delete(s.waits, c.ID)
	}
	s.mu.Unlock()
	if ctx.Err() != nil {
		// Cancelled: by a stop (then the pass ends without error), or
		// by the caller, or by a lost lease.
		if cur, err := s.o.Store.Campaign(context.WithoutCancel(ctx), c.ID); err == nil && cur.Status == candor.CampaignStopped {
			return res, nil
		}
	}
	if firstErr != nil {
		return res, firstErr
	}
	if scanErr != nil {
		return res, scanErr
	}
	if err := ctx.Err(); err != nil || stopped.Load() {
		return res, err
	}
	if c.Trigger != "" { // trigger.go: a triggered message is never done
		s.rest(c.ID, res.Waiting)
		return res, nil
	}
	if res.Waiting == 0 {
		// Claims another node (or a crash) left unconfirmed keep the
		// campaign sending until they are confirmed or time out.
		st, err := s.o.Store.CampaignStats(ctx, c.ID)
		if err != nil {
			return res, err
		}
		if st.Claimed > 0 {
			s.mu.Lock()
			s.waits[c.ID] = waiting{until: s.o.Now().Add(ClaimTimeout)}
			s.mu.Unlock()
			return res, nil
		}
		if _, err := s.o.Store.SetCampaignStatus(ctx, *c, []string{candor.CampaignSending}, candor.CampaignDone, s.o.Now().UTC()); err != nil {
			return res, err
		}
		res.Done = true
	}
	return res, nil
}

type outcome int

const (
	outNone outcome = iota // someone else's, or not in the segment
	outSent
	outFailed
	outSkipped
	outWait
)

// deliver runs every check for one person at the moment of the send, in
// order of cost, and sends when all allow it. Only errors of the store end
// the pass; a message the server refuses is failed.
func (s *Service) deliver(ctx context.Context, c *candor.Campaign, p *gate.Person) (outcome, time.Time, error) {
	row := candor.CampaignSend{CampaignID: c.ID, SubjectID: p.SubjectID, Channel: c.Channel, Node: s.o.Node}
	skip := func(reason string) (outcome, time.Time, error) {
		row.Reason, row.At = reason, s.o.Now().UTC()
		ok, err := s.o.Store.SkipSend(ctx, row)
		if err != nil || !ok {
			return outNone, time.Time{}, err
		}
		return outSkipped, time.Time{}, nil
	}
	if done, err := s.o.Store.CampaignSend(ctx, c.ID, p.SubjectID); err == nil && done != nil {
		return outNone, time.Time{}, nil // a pass before dealt with them
	} else if candor.ErrorCode(err) != candor.ENOTFOUND {
		return outNone, time.Time{}, err
	}
	m := s.render(c, p.SubjectID, p.Fields)
	if m.to == "" {
		return skip(SkipNoAddress)
	}
	kind := candor.IdentEmail
	if c.Channel == candor.ChannelSMS {
		kind = candor.IdentPhone
	}
	if normalized, err := subjects.Normalize(kind, m.to); err != nil {
		return skip(SkipNoAddress)
	} else if sup, err := s.o.Store.Keys().Suppressed(ctx, kind, s.o.Blind(kind, normalized)); err != nil {
		return outNone, time.Time{}, err
	} else if sup {
		return skip(SkipSuppressed)
	}
	now := s.o.Now()
	if until, quiet := s.quietUntil(c.Channel, now, s.location(c, p.Fields)); quiet {
		return outWait, until, nil
	}
	if s.o.Policy.Campaigns.DoubleOptInFor(c.Purpose) {
		ok, err := s.confirmed(ctx, c.Purpose, p.SubjectID)
		if err != nil {
			return outNone, time.Time{}, err
		}
		if !ok {
			// The campaign's message waits for a confirmation: the person
			// gets the link, once per campaign, in its place.
			m = s.confirmation(c, p.SubjectID, m)
		}
	}
	row.At = now.UTC()
	var limit *candor.FrequencyCap
	if fc, ok := s.o.Policy.Campaigns.Frequency[c.Channel]; ok && !m.confirm {
		limit = &fc
	}
	claim, err := s.o.Store.ClaimSend(ctx, row, limit)
	switch {
	case err != nil:
		return outNone, time.Time{}, err
	case claim == candor.ClaimCapped:
		return outSkipped, time.Time{}, nil
	case claim != candor.ClaimOK:
		return outNone, time.Time{}, nil
	}
	// The last check, just before the message goes out: a withdrawal (or
	// a restriction, an objection, an erasure) that returned before this
	// moment stops it.
	d, err := s.o.Gate.Decide(ctx, p.SubjectID, c.Purpose)
	if err != nil {
		return outNone, time.Time{}, err
	}
	if !d.Allow {
		return outSkipped, time.Time{}, s.o.Store.FinishSend(ctx, c.ID, p.SubjectID, candor.SendSkipped, d.Code, s.o.Now().UTC())
	}
	// Measuring (measure.go): the holdout is sent nothing and counted; a
	// pixel and tracked links only if the measure purpose allows them now.
	if s.heldOut(c, p.SubjectID) {
		return outSkipped, time.Time{}, s.o.Store.FinishSend(ctx, c.ID, p.SubjectID, candor.SendSkipped, SkipHoldout, s.o.Now().UTC())
	}
	if m, err = s.track(ctx, c, p.SubjectID, m); err != nil {
		return outNone, time.Time{}, err
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if c.Channel == candor.ChannelSMS {
		err = s.o.SMS.Send(sctx, m.to, "", m.body)
	} else {
		err = s.o.Mail.Send(sctx, smtp.Mail{To: m.to, Subject: m.subject, Text: m.body, HTML: m.html, Headers: map[string]string{
			"List-Unsubscribe":      "<" + m.unsubscribe + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"Content-Language":      m.lang,
		}})
	}
	if ctx.Err() != nil {
		// The pass ends (a stop, a shutdown, a lost lease) while the
		// message was with the server: whether it went out is not known,
		// so the claim stays, and a later pass takes it for interrupted.
		return outNone, time.Time{}, ctx.Err()
	}
	if err != nil {
		s.o.Logger.Warn("campaigns: a message was not accepted", "campaign", c.ID, "subject", p.SubjectID, "err", err)
		return outFailed, time.Time{}, s.o.Store.FinishSend(ctx, c.ID, p.SubjectID, candor.SendFailed, c.Channel, s.o.Now().UTC())
	}
	if m.confirm {
		return outSkipped, time.Time{}, s.o.Store.FinishSend(ctx, c.ID, p.SubjectID, candor.SendSkipped, SkipUnconfirmed, s.o.Now().UTC())
	}
	return outSent, time.Time{}, s.o.Store.FinishSend(ctx, c.ID, p.SubjectID, candor.SendSent, "", s.o.Now().UTC())
}
