package consent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/candorhq/candor"
)

// Scopes of a consent request besides the purposes it names one by one.
const (
	ScopeAll  = "all"  // "accept all": every consent purpose that needs no separate consent
	ScopeNone = "none" // "reject all": every consent purpose
)

// Channels is the vocabulary of consent channels: where a choice was made.
// A channel is shown to the person in their portal and report, and the
// browser key sets it, so it is a word from this list, never free text
// (which could carry personal data into the ledger in plaintext). web is
// what the banner SDK (web/static/candor.js) sends; rights, a withdrawal
// made by a rights request (an objection); merge, entries carried over
// when two subjects merge; gpc and dnt, browser signals; checkout, the
// demo's shop; unsubscribe, a campaign's one-click unsubscribe link;
// confirmation, a consent confirmed through the link a campaign sent
// (double opt-in), which only [Choice.Confirmed] may record.
var Channels = []string{"api", "app", "banner", "checkout", "confirmation", "demo", "dnt", "email", "gpc", "import", "in_store", "merge", "phone", "portal", "rights", "sms", "unsubscribe", "web"}

// ChannelConfirmation is the channel of a consent confirmed through a
// campaign's confirmation link (double opt-in).
const ChannelConfirmation = "confirmation"

// GuardianField is the pseudo-field under which guardian evidence is sealed.
const GuardianField = "consent.guardian"

// Ledger records consents and derives current state.
type Ledger struct {
	store   candor.Store
	sealer  candor.Sealer
	policy  *candor.Policy
	notices *Notices
	signer  candor.Signer
	auditor candor.Auditor
	now     func() time.Time
	cache   *stateCache
	shared  bool
	feed    atomic.Pointer[feedBox]
	loader  loader
}

// Feed reports whether changes written by other nodes reach this one: a
// shared ledger trusts its cache without asking the store while Fresh is
// true. [postgres.Feed] is one.
type Feed interface{ Fresh() bool }

type feedBox struct{ Feed }

// Options configures a [Ledger].
type Options struct {
	Store   candor.Store
	Sealer  candor.Sealer
	Policy  *candor.Policy
	Notices *Notices
	Signer  candor.Signer // signs receipts
	Auditor candor.Auditor
	// BirthDates returns the birth dates held of the subjects (of one, or
	// of a page of a bulk run), leaving out those without one
	// (gate.BirthDates opens them). The birth date never leaves the
	// decision: it is kept in [State] only to tell whether a guardian's
	// consent is needed.
	BirthDates func(ctx context.Context, subjectIDs []string) (map[string]time.Time, error)
	Now        func() time.Time
	CacheSize  int // derived states kept in memory; 0 means 20,000, negative none
	// Shared says other nodes write the same store: a cached state is then
	// used only after checking the subject's version in the store, unless
	// a fresh [Feed] delivers every change (see [Ledger.UseFeed]).
	Shared bool
}

// New returns a ledger. It panics when the store, the sealer, the policy,
// the notices, the auditor or the birth-date source is missing.
func New(o Options) *Ledger {
	switch {
	case o.Store == nil:
		panic("consent: New without a Store")
	case o.Sealer == nil:
		panic("consent: New without a Sealer")
	case o.Policy == nil:
		panic("consent: New without a Policy")
	case o.Notices == nil:
		panic("consent: New without Notices")
	case o.Auditor == nil:
		panic("consent: New without an Auditor")
	case o.BirthDates == nil:
		panic("consent: New without a BirthDates source")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Ledger{
		store: o.Store, sealer: o.Sealer, policy: o.Policy, notices: o.Notices, signer: o.Signer,
		auditor: o.Auditor, now: o.Now, cache: newStateCache(o.CacheSize), shared: o.Shared,
		loader: loader{store: o.Store, birthDates: o.BirthDates},
	}
}

// Notices returns the notice registry.
func (l *Ledger) Notices() *Notices { return l.notices }

// State returns the subject's current state. A subject that does not exist
// has a state with Exists false. On a shared store a cached state is used
// only if the subject's version in the store still matches it, so a write
// through any node is seen by the next decision on every node.
func (l *Ledger) State(ctx context.Context, subjectID string) (*State, error) {
	st, gen, ok := l.cache.get(subjectID)
	if ok && (!l.shared || l.feedFresh()) {
		return st, nil
	}
	if ok {
		if current, err := l.current(ctx, st); err != nil {
			return nil, err
		} else if current {
			return st, nil
		}
		l.cache.invalidate(subjectID)
		_, gen, _ = l.cache.get(subjectID)
	}
	st, err := l.loader.load(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	l.cache.put(subjectID, st, gen)
	return st, nil
}

// current reports whether st is still the subject's state in the store:
// the same version, or still not on file.
func (l *Ledger) current(ctx context.Context, st *State) (bool, error) {
	v, err := l.store.SubjectVersion(ctx, st.SubjectID)
	switch {
	case err == nil:
		return st.Exists && v == st.Version, nil
	case candor.ErrorCode(err) == candor.ENOTFOUND:
		return !st.Exists, nil
	default:
		return false, err
	}
}

// Mark is when a page of states was read, for [Ledger.Recheck].
type Mark uint64

// States returns the states of ids, in their order, for a page of a bulk
// run deciding on purpose p: those cached and current as State would use
// them, the rest read in a few reads whatever their number (and not
// cached: a bulk run reads each person once, and would only push out the
// people decided one at a time). A state read for a purpose that does not
// rest on consent holds neither the ledger nor the birth date, which no
// decision on it reads: use it for p only. The Mark says when they were
// read; [Ledger.Recheck] tells whether one of them changed since.
func (l *Ledger) States(ctx context.Context, ids []string, p *candor.Purpose) ([]*State, Mark, error) {
	m := Mark(l.cache.mark())
	out := make([]*State, len(ids))
	var missing []string
	var at []int
	trust := !l.shared || l.feedFresh()
	for i, id := range ids {
		if st, _, ok := l.cache.get(id); ok && trust {
			out[i] = st
			continue
		}
		missing, at = append(missing, id), append(at, i)
	}
	if len(missing) == 0 {
		return out, m, nil
	}
	loaded, err := l.loader.loadMany(ctx, missing, p.NeedsConsent())
	if err != nil {
		return nil, 0, err
	}
	for j, st := range loaded {
		out[at[j]] = st
	}
	return out, m, nil
}

// Recheck returns st, read by [Ledger.States] at m, if it is still the
// subject's state, or else the state now: a bulk run calls it just before
// it yields a person, so that a withdrawal (or restriction, objection or
// erasure) that returned since the page was read is honoured. On this
// node that costs nothing unless the subject changed; on a shared store
// without a fresh change feed, one read of the subject's version.
func (l *Ledger) Recheck(ctx context.Context, st *State, m Mark) (*State, error) {
	if l.shared && !l.feedFresh() {
		if current, err := l.current(ctx, st); err != nil {
			return nil, err
		} else if current {
			return st, nil
		}
		return l.State(ctx, st.SubjectID)
	}
	if !l.cache.changedSince(st.SubjectID, uint64(m)) {
		return st, nil
	}
	return l.State(ctx, st.SubjectID)
}

// Invalidate drops the subject's derived state, after any write that
// changes it (consent, birth date, restriction, erasure).
func (l *Ledger) Invalidate(subjectID string) { l.cache.invalidate(subjectID) }

// InvalidateAll drops every derived state: changes may have been missed.
func (l *Ledger) InvalidateAll() { l.cache.clear() }

// UseFeed makes a shared ledger trust its cache while f is fresh. The
// feed must call [Ledger.Invalidate] for every change that commits, and
// [Ledger.InvalidateAll] whenever it may have missed some.
func (l *Ledger) UseFeed(f Feed) { l.feed.Store(&feedBox{f}) }

func (l *Ledger) feedFresh() bool {
	b := l.feed.Load()
	return b != nil && b.Fresh()
}

// Guardian is the evidence that a guardian gave consent for a child.
type Guardian struct {
	Relation  string `json:"relation"`            // parent, legal_guardian
	Method    string `json:"method"`              // how it was checked: id_check, signed_form, …
	Reference string `json:"reference,omitempty"` // a reference to the evidence, such as a ticket number
}

// Choice is one consent request: the person's choices against a notice.
type Choice struct {
	NoticeVersion string
	Choices       map[string]bool
	Scope         string // "", ScopeAll or ScopeNone
	Channel       string
	GPC           bool
	Guardian      *Guardian
	Language      string
	// Confirmed says the person confirmed the choice through a link sent
	// to their address (double opt-in): only then may Channel be
	// [ChannelConfirmation]. The HTTP API never sets it.
	Confirmed bool
	// At is when the choice was made, for the demo's synthetic history and
	// for imports of choices recorded elsewhere; zero means now. It may not
	// be in the future. The HTTP API never sets it.
	At time.Time
}

// Result is what Record wrote.
type Result struct {
	ReceiptID string
	Receipt   string // compact JWS
	Records   []candor.Consent
	// Overridden names purposes the person chose to grant that a Global
	// Privacy Control signal denied.
	Overridden []string
	At         time.Time
}

// Record appends the consent entries that c implies for the subject, in one
// transaction, audits them and returns a signed receipt. Separate-consent
// purposes are granted only when named on their own, never by ScopeAll; a
// GPC signal denies the purposes the policy marks gpc: deny.
//
// It returns EINVALID for an unknown notice version, an unknown purpose, a
// purpose that does not rest on consent, or nothing to record; ENOTFOUND
// when the subject does not exist.
func (l *Ledger) Record(ctx context.Context, actor candor.Actor, requestID, subjectID string, c Choice) (*Result, error) {
	notice, ok := l.notices.Resolve(c.NoticeVersion)
	if c.NoticeVersion == "" {
		return nil, candor.Invalid("notice_version is required: a consent is given against the notice the person was shown",
			candor.FieldError{Field: "notice_version", Message: "required"})
	}
	if !ok {
		return nil, candor.Invalid("unknown notice version", candor.FieldError{Field: "notice_version", Message: "no notice with this version or hash"})
	}
	var errs []candor.FieldError
	for p := range c.Choices {
		switch pp := l.policy.Purpose(p); {
		case pp == nil:
			errs = append(errs, candor.FieldError{Field: "choices." + p, Message: "unknown purpose"})
		case !pp.NeedsConsent():
			errs = append(errs, candor.FieldError{Field: "choices." + p, Message: fmt.Sprintf("purpose rests on %s, not consent; it cannot be granted or refused here", pp.Basis)})
		}
	}
	switch c.Scope {
	case "", ScopeAll, ScopeNone:
	default:
		errs = append(errs, candor.FieldError{Field: "scope", Message: `want "all" or "none"`})
	}
	if g := c.Guardian; g != nil && (strings.TrimSpace(g.Method) == "" || strings.TrimSpace(g.Relation) == "") {
		errs = append(errs, candor.FieldError{Field: "guardian", Message: "relation and method are required"})
	}
	if c.Channel != "" && !slices.Contains(Channels, c.Channel) {
		errs = append(errs, candor.FieldError{Field: "channel", Message: "want one of " + strings.Join(Channels, ", ")})
	} else if c.Channel == ChannelConfirmation && !c.Confirmed {
		errs = append(errs, candor.FieldError{Field: "channel", Message: "confirmation is recorded only by a confirmation link"})
	}
	if len(c.Language) > 20 {
		errs = append(errs, candor.FieldError{Field: "language", Message: "too long"})
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, candor.Invalid("the consent request is not valid", errs...)
	}
	st, err := l.State(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	if !st.Exists {
		return nil, candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	if c.Channel == "" {
		c.Channel = "api"
	}
	now := l.now().UTC()
	if !c.At.IsZero() {
		if c.At.After(now) {
			return nil, candor.Invalid("a choice cannot be made in the future", candor.FieldError{Field: "at", Message: "after now"})
		}
		now = c.At.UTC()
	}
	res := &Result{ReceiptID: candor.NewID(candor.PrefixReceipt), At: now}
	var evidence []byte
	if c.Guardian != nil {
		b, _ := json.Marshal(c.Guardian)
		if evidence, err = l.sealer.Seal(ctx, subjectID, GuardianField, b); err != nil {
			return nil, fmt.Errorf("consent: seal guardian evidence: %w", err)
		}
	}
	for i := range l.policy.Purposes {
		p := &l.policy.Purposes[i]
		if !p.NeedsConsent() {
			continue
		}
		choice, named := c.Choices[p.ID]
		gpcDenies := c.GPC && p.GPC == candor.GPCDeny
		var grant bool
		switch {
		case named:
			grant = choice
		case c.Scope == ScopeAll:
			if p.SeparateConsent {
				if !gpcDenies {
					continue // never granted by "accept all"
				}
				grant = false
			} else {
				grant = true
			}
		case c.Scope == ScopeNone:
			grant = false
		case gpcDenies:
			grant = false
		default:
			continue
		}
		if grant && gpcDenies {
			grant = false
			if named {
				res.Overridden = append(res.Overridden, p.ID)
			}
		}
		state := candor.ConsentDenied
		if grant {
			state = candor.ConsentGranted
		} else if prev := st.Latest[p.ID]; prev != nil && prev.State == candor.ConsentGranted {
			state = candor.ConsentWithdrawn
		}
		rec := candor.Consent{
			ID: candor.NewID(candor.PrefixConsent), ReceiptID: res.ReceiptID, SubjectID: subjectID, Purpose: p.ID, State: state,
			NoticeHash: notice.Hash, Channel: c.Channel, GPC: c.GPC, Explicit: named, Actor: actor.ID, At: now,
		}
		if grant && c.Guardian != nil {
			rec.Guardian, rec.GuardianEvidence = true, evidence
		}
		res.Records = append(res.Records, rec)
	}
	if len(res.Records) == 0 {
		return nil, candor.Invalid("nothing to record: name purposes in choices, or give a scope", candor.FieldError{Field: "choices", Message: "empty"})
	}
	var summary []string
	for _, r := range res.Records {
		summary = append(summary, r.Purpose+"="+string(r.State))
	}
	if err := l.store.AppendConsents(ctx, res.Records); err != nil {
		return nil, err
	}
	l.Invalidate(subjectID)
	if err := l.auditor.Append(ctx, candor.AuditEntry{
		Time: now, Actor: actor.ID, Action: candor.ActionConsentRecord, SubjectID: subjectID, Decision: candor.DecisionOK,
		Reason: strings.Join(summary, " "), TraceID: requestID,
	}); err != nil {
		return nil, fmt.Errorf("consent: audit: %w", err)
	}
	res.Receipt, err = l.receipt(subjectID, notice, c, res)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// RecordSignal records a Global Privacy Control (or Do Not Track) signal
// that came with a request for the subject: the purposes the policy marks
// gpc: deny are denied, in the ledger, unless a GPC denial is already their
// latest entry. channel names the signal ("gpc" or "dnt"). It reports
// whether anything was recorded; it returns ENOTFOUND when the subject does
// not exist.
func (l *Ledger) RecordSignal(ctx context.Context, actor candor.Actor, requestID, subjectID, channel string) (bool, error) {
	st, err := l.State(ctx, subjectID)
	if err != nil {
		return false, err
	}
	if !st.Exists {
		return false, candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	pending := false
	for i := range l.policy.Purposes {
		p := &l.policy.Purposes[i]
		if p.GPC != candor.GPCDeny || !p.NeedsConsent() {
			continue
		}
		if rec := st.Latest[p.ID]; rec == nil || rec.State == candor.ConsentGranted || !rec.GPC {
			pending = true
		}
	}
	if !pending {
		return false, nil
	}
	_, err = l.Record(ctx, actor, requestID, subjectID, Choice{NoticeVersion: l.notices.Current().Version, GPC: true, Channel: channel})
	return err == nil, err
}

// History returns the subject's whole ledger, oldest first.
func (l *Ledger) History(ctx context.Context, subjectID string) ([]candor.Consent, error) {
	return l.store.Consents(ctx, subjectID)
}
