package gate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/vault"
)

// DefaultScanPage is how many people a bulk run reads, decides and unseals
// at a time, and so, with the fields of the purpose, what bounds its
// memory: two pages of people are held at once (one being yielded, the
// next read ahead), whatever the number on file.
const DefaultScanPage = 500

// MaxScanPage bounds ScanRequest.PageSize.
const MaxScanPage = 5000

// MaxEventScanPage bounds the page of a run that reads people's events
// ([ScanRequest.EventDays]): with at most [MaxPersonEvents] events a
// person and two pages held, such a run holds at most 2 × 100 × 500 =
// 100,000 unsealed events (each at most the collector's event size),
// whatever the number of people or events on file.
const MaxEventScanPage = 100

// ScanRequest asks the gate for every person whose decision allows a
// purpose: a bulk run (a campaign, a segment's count, a training, a list).
type ScanRequest struct {
	Actor   candor.Actor
	Purpose string
	// Fields to read; nil means every field declared for the purpose.
	Fields []string
	// Events adds each person's events collected for the purpose.
	Events bool
	// EventDays, when positive, adds each person's events of the last
	// EventDays days that were collected for the purpose (their purposes,
	// when collected, included it), unsealed: name, time and declared
	// properties, newest first, at most [MaxPersonEvents] of them
	// ([Person.Activity]). At most [MaxEventDays].
	EventDays int
	// Decisions names other purposes whose decision, now, each person
	// yielded carries ([Person.Allows]): a segment's consent condition.
	// The actor's role must be allowed each of them.
	Decisions []string
	// Source, when set, lists the subject ids the run looks at, in order,
	// up to limit ids greater than after (a snapshot's members); nil
	// means everyone on file. Whoever is listed is still decided on,
	// rechecked and audited as any run's people are.
	Source func(ctx context.Context, after string, limit int) ([]string, error)
	// Label says what the run is for, in words the people it includes
	// read in their access report ("campaign Spring sale").
	Label string
	// After starts the run after this subject id (a cursor); Limit stops
	// it after that many people (0: everyone).
	After string
	Limit int
	// PageSize is how many people are read at a time (0: DefaultScanPage).
	PageSize int
	// RequestID traces the run in the log and the audit entries.
	RequestID string
}

// Person is one person a run yields: what the gate lets through for the
// purpose, as [Gate.Read] does for one.
type Person struct {
	SubjectID string            `json:"id"`
	Fields    map[string]string `json:"fields"`
	Masked    []string          `json:"masked"`
	Withheld  map[string]string `json:"withheld,omitempty"`
	Events    *EventSummary     `json:"events,omitempty"`
	// Activity holds, when [ScanRequest.EventDays] asked for them, the
	// person's events of those days collected for the purpose, newest
	// first; ActivityTruncated says there were more than [MaxPersonEvents].
	Activity          []Activity `json:"activity,omitempty"`
	ActivityTruncated bool       `json:"activity_truncated,omitempty"`
	// Allows holds the decision for each purpose of
	// [ScanRequest.Decisions].
	Allows map[string]bool `json:"allows,omitempty"`
	// What the run decided on, for [Gate.Recheck]: the person's state, its
	// mark, and the run's purpose.
	state   *consent.State
	mark    consent.Mark
	purpose *candor.Purpose
}

// Recheck takes the decision for purpose on a person a run yielded once
// more, as the run does just before it yields each: on this node it costs
// nothing unless the person's state changed since their page was read (a
// withdrawal, a restriction, an objection or an erasure that returned
// since is honoured); on a shared store without a fresh change feed, one
// read of their version. It decides so for the run's purpose, and for any
// other when the run's purpose rests on consent (its states then hold the
// whole ledger); a person not yielded by a run, or another purpose of a
// run whose states hold only what its purpose needs, is decided on as
// [Gate.Decide] does.
func (g *Gate) Recheck(ctx context.Context, p *Person, purpose string) (Decision, error) {
	q := g.policy.Purpose(purpose)
	if q == nil || p.state == nil || p.purpose == nil || (p.purpose.ID != purpose && !p.purpose.NeedsConsent()) {
		return g.Decide(ctx, p.SubjectID, purpose)
	}
	st, err := g.ledger.Recheck(ctx, p.state, p.mark)
	if err != nil {
		return Decision{}, err
	}
	return g.evaluate(st, q), nil
}

// ScanResult says what a run did.
type ScanResult struct {
	RunID string
	// Count is how many people were yielded.
	Count int
	// Next is the cursor to go on from when the run stopped at Limit or
	// at the callback's [ErrStop]: the last subject id it looked at; empty
	// when it reached the end.
	Next string
}

// ErrStop, returned by a Scan callback, ends the run without error.
var ErrStop = errors.New("gate: stop the run")

// Scan yields, page by page, every person whose decision allows r.Purpose
// at the moment they are yielded, with the fields declared for it (masked
// per the actor's role, sensitive ones withheld without separate consent,
// as [Gate.Read]) and, when asked, their events. Each page writes one
// audit entry before any of its people is yielded (the purpose, the
// fields, how many people and a hash of their ids, the run id), and the
// run's members are kept in the run store, so that each person's access
// report says which runs used their data. Just before a person is
// yielded, the decision is taken again: a person whose withdrawal (or
// restriction, or erasure) returned before that moment is not yielded,
// and is taken out of the run's members.
//
// While one page is yielded, the next is read (its states, fields and
// unsealing) on another goroutine; yield itself is called from the
// caller's goroutine, for one person at a time; an error from it ends the run
// (ErrStop without error). Scan returns EINVALID for an unknown purpose or
// field, EFORBIDDEN when the actor's role may not use the purpose or a field
// asked for is not declared for it (both audited),
// and an internal error when an audit entry could not be written.
func (g *Gate) Scan(ctx context.Context, r ScanRequest, yield func(*Person) error) (ScanResult, error) {
	p := g.policy.Purpose(r.Purpose)
	if p == nil {
		return ScanResult{}, candor.Invalid("unknown purpose", candor.FieldError{Field: "purpose", Message: "not declared in the policy"})
	}
	pageSize := r.PageSize
	if pageSize <= 0 {
		pageSize = DefaultScanPage
	}
	pageSize = min(pageSize, MaxScanPage)
	if r.EventDays > 0 {
		pageSize = min(pageSize, MaxEventScanPage)
	}
	if r.EventDays < 0 || r.EventDays > MaxEventDays {
		return ScanResult{}, candor.Invalid(fmt.Sprintf("a run reads events of 1 to %d days", MaxEventDays), candor.FieldError{Field: "event_days", Message: "out of range"})
	}
	run := candor.Run{ID: candor.NewID(candor.PrefixRun), Purpose: p.ID, Actor: r.Actor.ID, Label: r.Label, StartedAt: g.now()}
	entry := candor.AuditEntry{Actor: r.Actor.ID, Action: candor.ActionReadBulk, Purpose: p.ID, TraceID: cmpOr(r.RequestID, run.ID)}
	refuse := func(code, msg string) (ScanResult, error) {
		entry.Time, entry.Decision, entry.Reason = g.now(), candor.DecisionDeny, code
		if err := g.auditor.Append(ctx, entry); err != nil {
			return ScanResult{}, fmt.Errorf("gate: audit: %w", err)
		}
		return ScanResult{}, &candor.Error{Code: candor.EFORBIDDEN, Message: msg, Reason: code}
	}
	if !g.policy.RoleAllows(r.Actor.Role, p.ID) {
		return refuse(CodeRole, fmt.Sprintf("role %s may not process data for %s", r.Actor.Role, p.ID))
	}
	for _, q := range r.Decisions {
		if g.policy.Purpose(q) == nil {
			return ScanResult{}, candor.Invalid("unknown purpose", candor.FieldError{Field: "decisions", Message: q + " is not declared in the policy"})
		}
		if !g.policy.RoleAllows(r.Actor.Role, q) {
			return refuse(CodeRole, fmt.Sprintf("role %s may not process data for %s", r.Actor.Role, q))
		}
	}
	fields, undeclared, err := g.fieldsOf(p, r.Fields)
	if err != nil {
		return ScanResult{}, err
	}
	if undeclared != nil {
		return refuse(CodeUndeclared, "field "+undeclared.ID+" is not declared for "+p.ID)
	}
	masked := map[string]bool{}
	if role := g.policy.Role(r.Actor.Role); role != nil {
		for _, m := range role.Masked {
			masked[m] = true
		}
	}
	if err := g.store.PutRun(ctx, run); err != nil {
		return ScanResult{}, err
	}
	res := ScanResult{RunID: run.ID}
	// One page is read ahead while the one before is yielded: the reads
	// and the unsealing overlap the caller's work and the run's writes.
	rctx, cancel := context.WithCancel(ctx)
	pages := make(chan scanBatch)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(pages)
		g.readAhead(rctx, p, fields, masked, r, pageSize, pages)
	}()
	defer func() { cancel(); <-done }()
	for page := 1; ; page++ {
		b, ok := <-pages
		switch {
		case !ok && ctx.Err() != nil:
			return res, ctx.Err()
		case !ok:
			return res, nil // everyone on file was looked at
		case b.err != nil:
			return res, b.err
		case b.limited:
			return g.moreAfter(ctx, r, res, b.last)
		}
		people := b.people
		if len(people) > 0 {
			if err := g.auditPage(ctx, entry, run.ID, page, fields, r, people); err != nil {
				return res, err
			}
			included := make([]string, len(people))
			for i, x := range people {
				included[i] = x.SubjectID
			}
			if err := g.store.AddRunMembers(ctx, run.ID, included); err != nil {
				return res, err
			}
		}
		for i, x := range people {
			// The decision once more, as the person's turn comes: a
			// withdrawal that returned since the page was read wins.
			st, err := g.ledger.Recheck(ctx, x.state, b.mark)
			if err != nil {
				return res, err
			}
			if d := g.evaluate(st, p); !d.Allow {
				if err := g.store.RemoveRunMember(ctx, run.ID, x.SubjectID); err != nil {
					return res, err
				}
				continue
			}
			x.Person.state, x.Person.mark, x.Person.purpose = st, b.mark, p
			err = yield(&x.Person)
			people[i] = nil // the page's memory goes as it is yielded
			res.Count++
			if err == nil {
				continue
			}
			res.Next = x.SubjectID
			// The rest of the page was never yielded: not members.
			for _, rest := range people[i+1:] {
				if rerr := g.store.RemoveRunMember(ctx, run.ID, rest.SubjectID); rerr != nil {
					return res, rerr
				}
			}
			if errors.Is(err, ErrStop) {
				return res, nil
			}
			return res, err
		}
		if r.Limit > 0 && res.Count >= r.Limit {
			return g.moreAfter(ctx, r, res, b.last)
		}
	}
}

// scanBatch is a page of a run as read ahead: the people the purpose
// allowed when it was read, with the mark of their states; or the error
// that ended the reading; or, limited, that the reading stopped at the
// run's limit after last.
type scanBatch struct {
	people  []*scanned
	mark    consent.Mark
	last    string // the last subject id the page looked at
	limited bool
	err     error
}

// readAhead reads the pages of the run r, one at a time, and hands each
// to out, until everyone on file after r.After was looked at (then it
// returns, and out is closed), an error, or as many people as r.Limit
// were read (then it hands a limited batch). It holds one page at most,
// and stops when ctx is done.
func (g *Gate) readAhead(ctx context.Context, p *candor.Purpose, fields []*candor.Field, masked map[string]bool, r ScanRequest, pageSize int, out chan<- scanBatch) {
	send := func(b scanBatch) bool {
		select {
		case out <- b:
			return b.err == nil && !b.limited
		case <-ctx.Done():
			return false
		}
	}
	after, read := r.After, 0
	for {
		want := pageSize
		if r.Limit > 0 {
			if read >= r.Limit {
				send(scanBatch{limited: true, last: after})
				return
			}
			want = min(want, r.Limit-read)
		}
		ids, err := g.source(r)(ctx, after, want)
		if err != nil {
			send(scanBatch{err: err})
			return
		}
		if len(ids) == 0 {
			return
		}
		people, mark, err := g.scanPage(ctx, p, fields, masked, r, ids)
		after = ids[len(ids)-1]
		if !send(scanBatch{people: people, mark: mark, last: after, err: err}) {
			return
		}
		read += len(people)
	}
}

// source returns where the run r lists its subject ids: r.Source, or
// everyone on file.
func (g *Gate) source(r ScanRequest) func(ctx context.Context, after string, limit int) ([]string, error) {
	if r.Source != nil {
		return r.Source
	}
	return g.store.SubjectIDs
}

// moreAfter returns res with the cursor to go on from after when someone
// is listed after it: the run stopped at its limit.
func (g *Gate) moreAfter(ctx context.Context, r ScanRequest, res ScanResult, after string) (ScanResult, error) {
	more, err := g.source(r)(ctx, after, 1)
	if err != nil {
		return res, err
	}
	if len(more) > 0 {
		res.Next = after
	}
	return res, nil
}

// scanned is a person of a page, with the state the page decided on.
type scanned struct {
	Person
	state *consent.State
}

// scanPage decides, for each of ids, whether p allows processing now, and
// reads and unseals the fields of those it allows: the states in one go
// ([consent.Ledger.States]), the sealed fields in one read. A person
// erased since the page was listed is left out. The mark says when the
// states were read, for the decision taken again as each one's turn
// comes.
func (g *Gate) scanPage(ctx context.Context, p *candor.Purpose, fields []*candor.Field, masked map[string]bool, r ScanRequest, ids []string) ([]*scanned, consent.Mark, error) {
	states, mark, err := g.ledger.States(ctx, ids, p)
	if err != nil {
		return nil, 0, err
	}
	var out []*scanned
	var allowed, names []string
	for i, id := range ids {
		if !g.evaluate(states[i], p).Allow {
			continue
		}
		out = append(out, &scanned{Person: Person{SubjectID: id}, state: states[i]})
		allowed = append(allowed, id)
	}
	if len(out) == 0 {
		return nil, mark, nil
	}
	all := make([]string, len(fields))
	for i, f := range fields {
		all[i] = f.ID
	}
	sealed, err := g.store.BulkTraits(ctx, allowed, all)
	if err != nil {
		return nil, 0, err
	}
	kept := out[:0]
	for _, x := range out {
		x.Fields = make(map[string]string, len(fields))
		names, x.Withheld = withhold(x.state, p, fields)
		open := pick(sealed[x.SubjectID], names)
		if x.Masked, err = g.open(ctx, x.SubjectID, open, masked, x.Fields); errors.Is(err, vault.ErrShredded) {
			continue // erased since the page was listed
		} else if err != nil {
			return nil, 0, err
		}
		if r.Events {
			if x.Events, err = g.eventSummary(ctx, x.SubjectID, p.ID); err != nil {
				return nil, 0, err
			}
		}
		if len(r.Decisions) > 0 {
			// The page's states may hold only what p needs: the whole
			// state for the other purposes.
			st, err := g.ledger.State(ctx, x.SubjectID)
			if candor.ErrorCode(err) == candor.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, 0, err
			}
			x.Allows = make(map[string]bool, len(r.Decisions))
			for _, q := range r.Decisions {
				x.Allows[q] = g.evaluate(st, g.policy.Purpose(q)).Allow
			}
		}
		if r.EventDays > 0 {
			x.Activity, x.ActivityTruncated, err = g.activity(ctx, x.SubjectID, p.ID, r.EventDays)
			if candor.ErrorCode(err) == candor.EGONE {
				continue // erased since the page was listed
			} else if err != nil {
				return nil, 0, err
			}
		}
		kept = append(kept, x)
	}
	return kept, mark, nil
}

// pick returns those of traits whose field is one of names.
func pick(traits []candor.Trait, names []string) []candor.Trait {
	out := traits[:0:0]
	for _, t := range traits {
		if slices.Contains(names, t.Field) {
			out = append(out, t)
		}
	}
	return out
}

// auditPage writes the audit entry of one page of a run: who, the purpose,
// the fields, how many people and the SHA-256 of their ids (one per line),
// so that the entry proves which people the page held without naming them.
func (g *Gate) auditPage(ctx context.Context, entry candor.AuditEntry, runID string, page int, fields []*candor.Field, r ScanRequest, people []*scanned) error {
	ids := make([]string, len(people))
	for i, x := range people {
		ids[i] = x.SubjectID
	}
	names := make([]string, 0, len(fields)+1)
	for _, f := range fields {
		names = append(names, f.ID)
	}
	if r.Events {
		names = append(names, "events")
	}
	if r.EventDays > 0 {
		names = append(names, fmt.Sprintf("events:%dd", r.EventDays))
	}
	for _, q := range r.Decisions {
		names = append(names, "decision:"+q)
	}
	entry.Time, entry.Fields, entry.Decision = g.now(), names, candor.DecisionAllow
	entry.Reason = fmt.Sprintf("run %s page %d: %d people, ids sha256:%s", runID, page, len(people), IDsHash(ids))
	if err := g.auditor.Append(ctx, entry); err != nil {
		return fmt.Errorf("gate: audit: %w", err)
	}
	return nil
}

// IDsHash is the hash a run's audit entry gives of a page's people: the
// SHA-256 of their ids, one per line, in the order read.
func IDsHash(ids []string) string {
	h := sha256.New()
	for _, id := range ids {
		h.Write([]byte(id))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// MeasureBaseline reads and unseals the given fields of every person on
// file, a page at a time and each page's fields in one read, as Scan
// does, but without deciding, masking, auditing or recording the run, and
// returns how many people it read: the point of comparison of `candor
// bench scan`, which measures what the gate's bulk door costs. Nothing it
// opens leaves it.
func (g *Gate) MeasureBaseline(ctx context.Context, fields []string, pageSize int) (int, error) {
	count := 0
	for after := ""; ; {
		ids, err := g.store.SubjectIDs(ctx, after, pageSize)
		if err != nil || len(ids) == 0 {
			return count, err
		}
		sealed, err := g.store.BulkTraits(ctx, ids, fields)
		if err != nil {
			return count, err
		}
		for _, id := range ids {
			for _, t := range sealed[id] {
				if _, err := g.sealer.Unseal(ctx, id, t.Field, t.Sealed); err != nil {
					return count, err
				}
			}
			count++
		}
		after = ids[len(ids)-1]
	}
}
