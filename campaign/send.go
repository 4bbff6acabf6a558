package campaign

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/pii"
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
	b := &batcher{s: s, c: c, jobs: make(chan job, 2*sendBatch)}
	var wg sync.WaitGroup
	for i := 0; i < s.o.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range b.jobs {
				if err := b.send(ctx, j); err != nil && ctx.Err() == nil {
					b.fail(err, cancel)
				}
			}
		}()
	}
	actor := candor.Actor{ID: "campaign:" + c.ID, Role: candor.RoleAdmin}
	req := gate.ScanRequest{Actor: actor, Purpose: c.Purpose, Fields: s.fieldsOf(c), Label: "campaign " + c.Name, RequestID: c.ID}
	// The scan reads and yields the people; a batch at a time, other
	// goroutines check and claim them, while the workers send the batches
	// before.
	batches := make(chan []*gate.Person, 1)
	var prepared sync.WaitGroup
	for range preparers {
		prepared.Add(1)
		go func() {
			defer prepared.Done()
			for batch := range batches {
				if ctx.Err() != nil {
					continue
				}
				if err := b.prepare(ctx, batch); err != nil && !errors.Is(err, gate.ErrStop) && ctx.Err() == nil {
					b.fail(err, cancel)
				}
			}
		}()
	}
	var people []*gate.Person
	handBatch := func() error {
		select {
		case batches <- people:
			people = make([]*gate.Person, 0, sendBatch)
			return nil
		case <-ctx.Done():
			return gate.ErrStop
		}
	}
	hand := func(p *gate.Person) error {
		if stopped.Load() || ctx.Err() != nil {
			return gate.ErrStop
		}
		if people = append(people, p); len(people) < sendBatch {
			return nil
		}
		return handBatch()
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
	if scanErr == nil && len(people) > 0 && !stopped.Load() && ctx.Err() == nil {
		handBatch()
	}
	close(batches)
	prepared.Wait()
	close(b.jobs)
	wg.Wait()
	// What went out is recorded, and what was claimed but never handed to
	// the server is released, even when the pass was cancelled.
	if err := b.finish(context.WithoutCancel(ctx)); err != nil {
		b.fail(err, cancel)
	}
	firstErr := b.err
	res = PassResult{Sent: int(b.sent.Load()), Failed: int(b.failed.Load()), Skipped: int(b.skipped.Load()), Waiting: int(b.waitN.Load())}
	s.mu.Lock()
	if res.Waiting > 0 {
		s.waits[c.ID] = waiting{n: res.Waiting, until: b.waitUntil}
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

// sendBatch is how many people a pass checks and claims at a time, and
// how many outcomes it records at a time: a few round trips to the store
// per batch instead of a few per message. At most about two batches are
// claimed and not yet sent at any moment.
const sendBatch = 128

// preparers is how many batches are checked and claimed at once: on a
// store over the network, a batch's round trips overlap another's.
const preparers = 2

// job is a claimed message, for a worker to send.
type job struct {
	p *gate.Person
	m message
}

// batcher runs one pass's checks a batch at a time and sends the claimed
// messages from the workers: the scan's goroutine prepares a batch (the
// send log, the suppression list, quiet hours, double opt-in, and the
// claims with the frequency cap, in one transaction) while the workers
// send the batch before; each worker takes the decision once more just
// before its message goes out, and the outcomes are recorded in batches.
type batcher struct {
	s    *Service
	c    *candor.Campaign
	jobs chan job

	sent, failed, skipped, waitN atomic.Int64

	mu        sync.Mutex
	waitUntil time.Time
	done      []candor.CampaignSend // outcomes not yet recorded
	release   []string              // claimed, never handed to the server
	err       error
}

func (b *batcher) fail(err error, cancel context.CancelFunc) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
	cancel()
}

// prepare runs every check that comes before the claim for a batch of
// people, in order of cost, records the skips, claims the rest, and hands
// the claimed messages to the workers.
func (b *batcher) prepare(ctx context.Context, people []*gate.Person) error {
	s, c := b.s, b.c
	ids := make([]string, len(people))
	for i, p := range people {
		ids[i] = p.SubjectID
	}
	logged, err := s.o.Store.SendLogged(ctx, c.ID, ids)
	if err != nil {
		return err
	}
	kind := candor.IdentEmail
	if c.Channel == candor.ChannelSMS {
		kind = candor.IdentPhone
	}
	now := s.o.Now()
	skip := func(p *gate.Person, reason string) error {
		row := candor.CampaignSend{CampaignID: c.ID, SubjectID: p.SubjectID, Channel: c.Channel, Node: s.o.Node, Reason: reason, At: now.UTC()}
		if ok, err := s.o.Store.SkipSend(ctx, row); err != nil {
			return err
		} else if ok {
			b.skipped.Add(1)
		}
		return nil
	}
	// A pass before dealt with the logged; the rest get their message
	// rendered, and their address looked up on the suppression list.
	var todo []job
	var blinds [][]byte
	for _, p := range people {
		if logged[p.SubjectID] {
			continue
		}
		m := s.render(c, p.SubjectID, p.Fields)
		normalized, err := subjects.Normalize(kind, m.to)
		if m.to == "" || err != nil {
			if err := skip(p, SkipNoAddress); err != nil {
				return err
			}
			continue
		}
		todo = append(todo, job{p: p, m: m})
		blinds = append(blinds, s.o.Blind(kind, normalized))
	}
	suppressed, err := s.o.Store.Keys().SuppressedAmong(ctx, kind, blinds)
	if err != nil {
		return err
	}
	var capped, uncapped []job
	doubleOptIn := s.o.Policy.Campaigns.DoubleOptInFor(c.Purpose)
	for i, j := range todo {
		if suppressed[i] {
			if err := skip(j.p, SkipSuppressed); err != nil {
				return err
			}
			continue
		}
		if until, quiet := s.quietUntil(c.Channel, now, s.location(c, j.p.Fields)); quiet {
			b.waitN.Add(1)
			b.mu.Lock()
			if b.waitUntil.IsZero() || until.Before(b.waitUntil) {
				b.waitUntil = until
			}
			b.mu.Unlock()
			continue
		}
		if doubleOptIn {
			ok, err := s.confirmed(ctx, c.Purpose, j.p.SubjectID)
			if err != nil {
				return err
			}
			if !ok {
				// The campaign's message waits for a confirmation: the
				// person gets the link, once per campaign, in its place,
				// and it counts against no cap.
				j.m = s.confirmation(c, j.p.SubjectID, j.m)
				uncapped = append(uncapped, j)
				continue
			}
		}
		capped = append(capped, j)
	}
	var limit *candor.FrequencyCap
	if fc, ok := s.o.Policy.Campaigns.Frequency[c.Channel]; ok {
		limit = &fc
	}
	for _, group := range []struct {
		jobs  []job
		limit *candor.FrequencyCap
	}{{capped, limit}, {uncapped, nil}} {
		if len(group.jobs) == 0 {
			continue
		}
		rows := make([]candor.CampaignSend, len(group.jobs))
		for i, j := range group.jobs {
			rows[i] = candor.CampaignSend{CampaignID: c.ID, SubjectID: j.p.SubjectID, Channel: c.Channel, Node: s.o.Node, At: now.UTC()}
		}
		outs, err := s.o.Store.ClaimSends(ctx, rows, group.limit)
		if err != nil {
			return err
		}
		for i, j := range group.jobs {
			switch outs[i] {
			case candor.ClaimCapped:
				b.skipped.Add(1)
				continue
			case candor.ClaimOK:
			default:
				continue // another node's, or erased meanwhile
			}
			select {
			case b.jobs <- j:
			case <-ctx.Done():
				b.mu.Lock()
				for k := i; k < len(group.jobs); k++ {
					if outs[k] == candor.ClaimOK {
						b.release = append(b.release, group.jobs[k].p.SubjectID)
					}
				}
				b.mu.Unlock()
				return gate.ErrStop
			}
		}
	}
	return nil
}

// send sends one claimed message, unless the decision taken once more
// just before it goes out no longer allows it. Only errors of the store
// end the pass; a message the server refuses is failed. A message never
// handed to the server because the pass ended first is released.
func (b *batcher) send(ctx context.Context, j job) error {
	s, c, m := b.s, b.c, j.m
	if ctx.Err() != nil {
		b.mu.Lock()
		b.release = append(b.release, j.p.SubjectID)
		b.mu.Unlock()
		return nil
	}
	// The last check, just before the message goes out: a withdrawal (or
	// a restriction, an objection, an erasure) that returned before this
	// moment stops it.
	d, err := s.o.Gate.Recheck(ctx, j.p, c.Purpose)
	if err != nil {
		return err
	}
	if !d.Allow {
		b.skipped.Add(1)
		return b.record(ctx, j.p.SubjectID, candor.SendSkipped, d.Code)
	}
	// Measuring (measure.go): the holdout is sent nothing and counted; a
	// pixel and tracked links only if the measure purpose allows them now.
	if s.heldOut(c, j.p.SubjectID) {
		b.skipped.Add(1)
		return b.record(ctx, j.p.SubjectID, candor.SendSkipped, SkipHoldout)
	}
	if m, err = s.track(ctx, c, j.p, m); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if ctx.Err() == nil {
		if c.Channel == candor.ChannelSMS {
			err = s.o.SMS.Send(sctx, m.to, "", m.body)
		} else {
			err = s.o.Mail.Send(sctx, smtp.Mail{To: m.to, Subject: m.subject, Text: m.body, HTML: m.html, Headers: map[string]string{
				"List-Unsubscribe":      "<" + m.unsubscribe + ">",
				"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
				"Content-Language":      m.lang,
			}})
		}
	}
	if ctx.Err() != nil {
		// The pass ends (a stop, a shutdown, a lost lease) while the
		// message was with the server: whether it went out is not known,
		// so the claim stays, and a later pass takes it for interrupted.
		return nil
	}
	switch {
	case err != nil:
		// A server's refusal often quotes the address: it is scanned out.
		reason, _ := pii.Redact(err.Error())
		s.o.Logger.Warn("campaigns: a message was not accepted", "campaign", c.ID, "subject", j.p.SubjectID, "err", reason)
		b.failed.Add(1)
		return b.record(ctx, j.p.SubjectID, candor.SendFailed, c.Channel)
	case m.confirm:
		b.skipped.Add(1)
		return b.record(ctx, j.p.SubjectID, candor.SendSkipped, SkipUnconfirmed)
	}
	b.sent.Add(1)
	return b.record(ctx, j.p.SubjectID, candor.SendSent, "")
}

// record keeps a claimed message's outcome, and records a batch of them
// once there are enough. Until it is recorded the row stays claimed: a
// crash meanwhile leaves it to be taken for interrupted, never sent again.
func (b *batcher) record(ctx context.Context, subjectID, status, reason string) error {
	b.mu.Lock()
	b.done = append(b.done, candor.CampaignSend{SubjectID: subjectID, Status: status, Reason: reason, UpdatedAt: b.s.o.Now().UTC()})
	var rows []candor.CampaignSend
	if len(b.done) >= sendBatch {
		rows, b.done = b.done, nil
	}
	b.mu.Unlock()
	if rows == nil {
		return nil
	}
	return b.s.o.Store.FinishSends(ctx, b.c.ID, rows)
}

// finish records the outcomes left and releases the claims never sent,
// once the workers are done.
func (b *batcher) finish(ctx context.Context) error {
	b.mu.Lock()
	rows, release := b.done, b.release
	b.done, b.release = nil, nil
	b.mu.Unlock()
	if err := b.s.o.Store.FinishSends(ctx, b.c.ID, rows); err != nil {
		return err
	}
	_, err := b.s.o.Store.ReleaseSends(ctx, b.c.ID, b.s.o.Node, release)
	return err
}
