// Package collect is Candor's event collector: the Segment spec (track,
// page, screen, identify, group, alias, batch) with privacy at the door.
//
// Every message goes through the same steps before anything is stored:
//
//  1. policy check: an undeclared event, property or trait is dropped, or
//     the message rejected, as the policy's `undeclared` says; values are
//     checked against their declared types;
//  2. PII scan: personal data in any string that is not a declared personal
//     field (an e-mail in a search query) is replaced by a placeholder;
//  3. context minimization: IP addresses cut to their network, user agents
//     to browser, OS and device class, precise location and device
//     identifiers dropped, unless the policy declares and allows them;
//  4. consent gate: the event is stored, linked to its subject, only if one
//     of its purposes is allowed for that subject now; otherwise only an
//     anonymous count of it is kept. A GPC or DNT signal on the request is
//     recorded in the consent ledger first;
//  5. encryption: properties and context are sealed under the subject's key.
//
// What was dropped, redacted, truncated or reduced is counted for the
// minimization report. A call returns only once its messages are committed;
// a bounded queue refuses work with EBUSY when full.
package collect

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/jsontext"
	"github.com/candorhq/candor/subjects"
)

// Options configures a [Collector].
type Options struct {
	Policy   *candor.Policy
	Store    candor.EventStore
	Subjects *subjects.Service
	Ledger   *consent.Ledger
	Gate     *gate.Gate
	Sealer   candor.Sealer
	// Index keys message ids: the sender chooses them, and one may hold
	// personal data (an e-mail in a message id), so only a keyed hash of
	// each is stored. The vault's BlindIndex.
	Index  func(kind, value string) []byte
	Now    func() time.Time
	Logger *slog.Logger
	// Queue bounds the messages accepted but not yet committed; beyond it
	// Collect returns EBUSY. Default 50,000.
	Queue int
	// Batch is the most messages one commit takes; default 5,000.
	Batch int
	// Writers is the number of concurrent commits; default 1 (the embedded
	// store has one writer; PostgreSQL gains from a few).
	Writers int
	// Flush is how often the minimization counters are written; default 5s.
	Flush time.Duration
	// IdentitySecret verifies the identity tokens with which a browser key
	// may name a user id (see [IdentityToken]).
	IdentitySecret []byte
	// Baseline switches off the policy check, the PII scan, context
	// minimization, the consent gate and encryption: events are stored as
	// they came. For `candor bench ingest` only, to measure what privacy
	// costs; never set by serve.
	Baseline bool
}

// Collector collects events. It is safe for concurrent use.
type Collector struct {
	o       Options
	log     *slog.Logger
	tally   tally
	pending atomic.Int64
	mu      sync.RWMutex // held for reading while enqueuing; Close takes it
	closed  bool
	jobs    chan *job
	writers sync.WaitGroup
	stop    chan struct{}
	flushed chan struct{}
}

type job struct {
	msgs []candor.Message
	done chan error
}

// New starts a collector. Close it to drain what it accepted. Every option
// up to Index is required.
func New(o Options) *Collector {
	switch {
	case o.Index == nil:
		panic("collect: Options.Index is required")
	case o.Policy == nil:
		panic("collect: Options.Policy is required")
	case o.Store == nil:
		panic("collect: Options.Store is required")
	case o.Subjects == nil:
		panic("collect: Options.Subjects is required")
	case o.Ledger == nil:
		panic("collect: Options.Ledger is required")
	case o.Gate == nil:
		panic("collect: Options.Gate is required")
	case o.Sealer == nil:
		panic("collect: Options.Sealer is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Queue <= 0 {
		o.Queue = 50000
	}
	if o.Batch <= 0 {
		o.Batch = 5000
	}
	if o.Writers <= 0 {
		o.Writers = 1
	}
	if o.Flush <= 0 {
		o.Flush = 5 * time.Second
	}
	c := &Collector{o: o, log: o.Logger, jobs: make(chan *job, 4096), stop: make(chan struct{}), flushed: make(chan struct{})}
	for range o.Writers {
		c.writers.Add(1)
		go c.write()
	}
	go c.flusher()
	return c
}

// Close stops accepting messages, commits everything accepted, and writes
// the minimization counters.
func (c *Collector) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.jobs)
	c.mu.Unlock()
	c.writers.Wait()
	close(c.stop)
	<-c.flushed
	return nil
}

// Signals are what the request itself says about the person's choices.
type Signals struct {
	GPC       bool // Sec-GPC: 1
	DNT       bool // DNT: 1
	RequestID string
}

// ItemError is one message of a call that was refused.
type ItemError struct {
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Result is what a call accepted and refused.
type Result struct {
	Accepted int         `json:"accepted"`
	Errors   []ItemError `json:"errors,omitempty"`
}

// Call is one call's messages: a single message (Type set from the
// endpoint), or a batch with its sentAt and context.
type Call struct {
	Type     string // the endpoint's type for a single message; "" for a batch
	Messages []json.RawMessage
	SentAt   string
	Context  map[string]any
}

// Collect checks, minimizes, gates and seals the call's messages and
// returns once every accepted message is committed. A message that is
// refused is reported by its index; the others are stored. It returns
// EBUSY when the queue is full, EUNAVAILABLE when closed or when the store
// fails (nothing of the call is then known to be stored; retry it: message
// ids make retries harmless).
func (c *Collector) Collect(ctx context.Context, actor candor.Actor, call Call, sig Signals) (*Result, error) {
	now := c.o.Now().UTC()
	res := &Result{}
	out := make([]candor.Message, 0, len(call.Messages))
	local := map[string]map[tallyKey]int64{}
	signalled := map[string]bool{}
	for i, raw := range call.Messages {
		m, f, err := c.prepare(ctx, actor, call, raw, sig, now, signalled)
		if f.m != nil {
			d := day(now)
			if local[d] == nil {
				local[d] = map[tallyKey]int64{}
			}
			for k, n := range f.m {
				local[d][k] += n
			}
		}
		if err != nil {
			var ce *candor.Error
			if !errors.As(err, &ce) || ce.Code == candor.EINTERNAL || ce.Code == candor.EUNAVAILABLE {
				return nil, err // the store or the vault failed: the whole call fails
			}
			res.Errors = append(res.Errors, ItemError{Index: i, Code: ce.Code, Message: ce.Message})
			continue
		}
		res.Accepted++
		if m != nil {
			out = append(out, *m)
		}
	}
	for d, m := range local {
		c.tally.add(d, m)
	}
	if len(out) == 0 {
		return res, nil
	}
	if err := c.commit(ctx, out); err != nil {
		return nil, err
	}
	return res, nil
}

// commit queues msgs for the writers and waits until they are committed.
func (c *Collector) commit(ctx context.Context, msgs []candor.Message) error {
	n := int64(len(msgs))
	// Over the bound, refuse, unless the call is alone (a call larger
	// than the whole queue must still be able to pass).
	if p := c.pending.Add(n); p > int64(c.o.Queue) && p != n {
		c.pending.Add(-n)
		return &candor.Error{Code: candor.EBUSY, Message: "the collector is busy; retry in a second"}
	}
	j := &job{msgs: msgs, done: make(chan error, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		c.pending.Add(-n)
		return &candor.Error{Code: candor.EUNAVAILABLE, Message: "the collector is shutting down; retry"}
	}
	c.jobs <- j
	c.mu.RUnlock()
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		// The job will still be committed; the caller's retry is a duplicate.
		return ctx.Err()
	}
}

// write commits queued jobs, several at a time.
func (c *Collector) write() {
	defer c.writers.Done()
	for j := range c.jobs {
		batch := []*job{j}
		n := len(j.msgs)
	more:
		for n < c.o.Batch {
			select {
			case j2, ok := <-c.jobs:
				if !ok {
					break more
				}
				batch = append(batch, j2)
				n += len(j2.msgs)
			default:
				break more
			}
		}
		msgs := j.msgs
		if len(batch) > 1 {
			msgs = make([]candor.Message, 0, n)
			for _, b := range batch {
				msgs = append(msgs, b.msgs...)
			}
		}
		_, err := c.o.Store.AppendMessages(context.Background(), msgs)
		if err != nil {
			c.log.Error("collect: commit failed", "messages", len(msgs), "err", err)
			if candor.ErrorCode(err) == candor.EINTERNAL {
				err = &candor.Error{Code: candor.EUNAVAILABLE, Message: "events could not be stored; retry"}
			}
		}
		for _, b := range batch {
			b.done <- err
		}
		c.pending.Add(-int64(n))
	}
}

// flusher writes the minimization counters every Flush, and once more
// after the writers stop.
func (c *Collector) flusher() {
	defer close(c.flushed)
	t := time.NewTicker(c.o.Flush)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.FlushCounters(context.Background())
		case <-c.stop:
			c.FlushCounters(context.Background())
			return
		}
	}
}

// FlushCounters writes the minimization counters counted so far.
func (c *Collector) FlushCounters(ctx context.Context) {
	counts := c.tally.take()
	if len(counts) == 0 {
		return
	}
	if err := c.o.Store.AddMinimization(ctx, counts); err != nil {
		c.log.Error("collect: minimization counters lost", "counters", len(counts), "err", err)
	}
}

// prepare turns one raw message into what the store writes: nil for a
// message that leaves nothing to store (identify, alias, a dropped event).
func (c *Collector) prepare(ctx context.Context, actor candor.Actor, call Call, raw json.RawMessage, sig Signals, now time.Time, signalled map[string]bool) (*candor.Message, findings, error) {
	var f findings
	if len(raw) > MaxMessageBytes {
		return nil, f, candor.Errorf(candor.ETOOLARGE, "the message is larger than %d bytes", MaxMessageBytes)
	}
	if err := jsontext.Check(raw); err != nil { // encoding/json would replace it silently
		return nil, f, candor.Invalid("the message is not valid Unicode text: "+err.Error(), candor.FieldError{Field: "(message)", Message: err.Error()})
	}
	var w wire
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, f, candor.Errorf(candor.EMALFORMED, "the message is not valid: %s", jsonProblem(err))
	}
	if call.Type != "" {
		if w.Type != "" && w.Type != call.Type {
			return nil, f, candor.Invalid(fmt.Sprintf("type %q sent to the %s endpoint", safeName(w.Type), call.Type), candor.FieldError{Field: "type", Message: "does not match the endpoint"})
		}
		w.Type = call.Type
	}
	userID, err := idString(w.UserID, "userId")
	if err != nil {
		return nil, f, candor.Invalid(err.Error(), candor.FieldError{Field: "userId", Message: "not valid"})
	}
	anonID, err := idString(w.AnonymousID, "anonymousId")
	if err != nil {
		return nil, f, candor.Invalid(err.Error(), candor.FieldError{Field: "anonymousId", Message: "not valid"})
	}
	// msgID de-duplicates retries; the event itself gets an id that sorts
	// by time, so that stored events are appended, not scattered.
	var msgID string
	switch {
	case w.MessageID == "":
		msgID = candor.NewID(candor.PrefixMessage) // no retries to recognize
	case len(w.MessageID) > MaxIDBytes:
		return nil, f, candor.Invalid("messageId is too long", candor.FieldError{Field: "messageId", Message: "at most 200 bytes"})
	default:
		ts := w.Timestamp
		if ts == "" {
			ts = w.OriginalTimestamp
		}
		msgID = c.MessageKey(w.MessageID, ts)
	}
	eventID := candor.NewTimeID(candor.PrefixEvent, now)
	if w.Type != TypeAlias && userID == "" && anonID == "" {
		return nil, f, candor.Invalid("userId or anonymousId is required", candor.FieldError{Field: "userId", Message: "required unless anonymousId is given"})
	}
	sentAt := w.SentAt
	if sentAt == "" {
		sentAt = call.SentAt
	}
	ts := w.Timestamp
	if ts == "" {
		ts = w.OriginalTimestamp
	}
	when := eventTime(ts, sentAt, now)
	ctxIn := mergeContext(call.Context, w.Context)
	if tok, ok := ctxIn[IdentityContextKey]; ok {
		ctxIn = maps.Clone(ctxIn)
		delete(ctxIn, IdentityContextKey) // never stored
		if actor.Role != candor.RoleBrowser {
			tok = nil
		}
		w.identity, _ = tok.(string)
	}
	if actor.Role == candor.RoleBrowser && (userID != "" || w.Type == TypeAlias) {
		// A public key speaks for the browser's own visitor; a user id it
		// names must be vouched for by the shop's server.
		named := userID
		if named == "" {
			named, _ = idString(w.PreviousID, "previousId")
		}
		if err := checkIdentity(c.o.IdentitySecret, named, w.identity, now); err != nil {
			f.note("userId", ActionRejected, ReasonBrowserKey)
			return nil, f, err
		}
	}

	if actor.Role == candor.RoleBrowser && userID == "" && anonID != "" {
		// A public key naming only an anonymous id that belongs to an
		// account speaks for nobody in particular: it changes nothing of
		// the account (its events are counted anonymously).
		account, err := c.anonymousAccount(ctx, anonID)
		if err != nil {
			return nil, f, err
		}
		if account {
			if w.Type == TypeIdentify {
				f.note("anonymousId", ActionRejected, ReasonBrowserKey)
				return nil, f, &candor.Error{Code: candor.EFORBIDDEN, Reason: ReasonBrowserKey,
					Message: "this anonymousId belongs to a signed-in customer: name them with userId and an identity token"}
			}
			anonID = ""
		}
	}

	switch w.Type {
	case TypeIdentify:
		traits := w.Traits
		if actor.Role == candor.RoleBrowser {
			// The shop's server gives e-mail addresses and phone numbers:
			// from a public key they would let anyone attach an address
			// of theirs to someone else, or squat someone's.
			for _, k := range []string{candor.IdentEmail, candor.IdentPhone} {
				if _, ok := traits[k]; ok {
					traits = maps.Clone(traits)
					delete(traits, k)
					f.note("traits."+k, ActionDropped, ReasonBrowserKey)
				}
			}
		}
		return nil, f, c.identify(ctx, actor, sig, userID, anonID, traits, &f)
	case TypeAlias:
		f.event = "alias"
		return nil, f, c.alias(ctx, actor, sig, w)
	case TypeTrack, TypePage, TypeScreen, TypeGroup:
	case "":
		return nil, f, candor.Invalid("type is required", candor.FieldError{Field: "type", Message: "required"})
	default:
		return nil, f, candor.Invalid("unknown type "+safeName(w.Type), candor.FieldError{Field: "type", Message: "want track, page, screen, identify, group or alias"})
	}
	name, props := w.Event, w.Properties
	switch w.Type {
	case TypeTrack:
		if name == "" {
			return nil, f, candor.Invalid("event is required for track", candor.FieldError{Field: "event", Message: "required"})
		}
	case TypePage, TypeScreen:
		name = PageEvent
		if w.Type == TypeScreen {
			name = ScreenEvent
		}
		if w.Name != "" || w.Category != "" {
			props = cloneProps(props)
			if w.Name != "" {
				props["name"] = w.Name
			}
			if w.Category != "" {
				props["category"] = w.Category
			}
		}
	case TypeGroup:
		name, props = GroupEvent, w.Traits
	}
	f.event = safeName(name)
	subjectID, err := c.subjectOf(ctx, userID, anonID)
	if err != nil {
		return nil, f, err
	}
	msg := &candor.Message{ID: msgID, Name: name, At: now}
	if c.o.Baseline {
		return c.baseline(msg, eventID, w.Type, subjectID, props, ctxIn, when, now)
	}

	ev := c.o.Policy.Event(name)
	if ev == nil {
		if c.o.Policy.Undeclared == "reject" {
			f.note("event", ActionRejected, ReasonUndeclared)
			return nil, f, candor.Invalid("event "+safeName(name)+" is not declared in the policy", candor.FieldError{Field: "event", Message: "undeclared"})
		}
		f.note("event", ActionDropped, ReasonUndeclared)
		return nil, f, nil
	}
	msg.Name = ev.Name
	if subjectID != "" && (sig.GPC || sig.DNT) && !signalled[subjectID] {
		signalled[subjectID] = true
		channel := "gpc"
		if !sig.GPC {
			channel = "dnt"
		}
		if _, err := c.o.Ledger.RecordSignal(ctx, actor, sig.RequestID, subjectID, channel); err != nil && candor.ErrorCode(err) != candor.ENOTFOUND {
			return nil, f, err
		}
	}
	// The purposes allowed for the subject now.
	var allowed []string
	decide := map[string]bool{}
	allows := func(purpose string) (bool, error) {
		if subjectID == "" {
			return false, nil
		}
		if ok, seen := decide[purpose]; seen {
			return ok, nil
		}
		d, err := c.o.Gate.Decide(ctx, subjectID, purpose)
		if err != nil {
			return false, err
		}
		decide[purpose] = d.Allow
		return d.Allow, nil
	}
	for _, p := range ev.Purposes {
		ok, err := allows(p)
		if err != nil {
			return nil, f, err
		}
		if ok {
			allowed = append(allowed, p)
		}
	}
	expires := when.Add(time.Duration(ev.Retention))
	if !expires.After(now) {
		f.note("event", ActionDropped, ReasonExpired)
		return nil, f, nil
	}
	if len(allowed) == 0 {
		f.note("event", ActionCounted, ReasonConsent)
		return msg, f, nil // an anonymous count only
	}

	// Properties: declared, typed; personal fields kept only for an allowed
	// purpose; free text redacted.
	keep := make(map[string]any, len(props))
	for k, v := range props {
		item := "properties." + safeName(k)
		typ, declared := ev.Properties[k]
		if !declared {
			if c.o.Policy.Undeclared == "reject" {
				f.note(item, ActionRejected, ReasonUndeclared)
				return nil, f, candor.Invalid("property "+safeName(k)+" is not declared for "+ev.Name, candor.FieldError{Field: "properties." + safeName(k), Message: "undeclared"})
			}
			f.note(item, ActionDropped, ReasonUndeclared)
			continue
		}
		if v == nil {
			continue
		}
		val, ok := checkValue(typ, v)
		if !ok {
			if c.o.Policy.Undeclared == "reject" {
				f.note(item, ActionRejected, ReasonType)
				return nil, f, candor.Invalid("property "+k+" is not a "+typ, candor.FieldError{Field: "properties." + k, Message: "want " + typ})
			}
			f.note(item, ActionDropped, ReasonType)
			continue
		}
		if field := c.o.Policy.Field(k); field != nil {
			ok := false
			for _, p := range field.Purposes {
				if a, err := allows(p); err != nil {
					return nil, f, err
				} else if a {
					ok = true
					break
				}
			}
			if !ok {
				f.note(item, ActionDropped, ReasonConsent)
				continue
			}
		} else if s, isString := val.(string); isString {
			val = redact(s, item, &f)
		}
		keep[k] = val
	}
	cp := contextPolicy{}
	if field := c.o.Policy.FieldByCategory(CategoryIP); field != nil {
		cp.fullIP = c.anyAllowed(field.Purposes, allows)
	}
	if field := c.o.Policy.FieldByCategory(CategoryPreciseLocation); field != nil {
		cp.precise = c.anyAllowed(field.Purposes, allows)
	}
	payload, err := json.Marshal(map[string]any{"properties": keep, "context": minimizeContext(ctxIn, cp, &f)})
	if err != nil {
		return nil, f, fmt.Errorf("collect: encode: %w", err)
	}
	sealed, err := c.o.Sealer.Seal(ctx, subjectID, candor.EventSealField(eventID), payload)
	if err != nil {
		return nil, f, err
	}
	msg.Event = &candor.EventRecord{ID: eventID, SubjectID: subjectID, Type: w.Type, Name: ev.Name, Purposes: allowed,
		Time: when, Received: now, Expires: expires, Sealed: sealed}
	return msg, f, nil
}

// MessageKey is the key under which a message is remembered, to
// recognize its retries (which repeat its id and timestamp): the message's
// own timestamp to the millisecond, then a keyed hash of its id (a sender
// may put personal data in one). The timestamp first keeps keys in time
// order, so that remembering them appends to the index instead of writing
// all over it.
func (c *Collector) MessageKey(messageID, timestamp string) string {
	return MessageKey(c.o.Index, messageID, timestamp)
}

// MessageKey is [Collector.MessageKey] given the keyed hash (the vault's
// BlindIndex).
func MessageKey(index func(kind, value string) []byte, messageID, timestamp string) string {
	var b [16]byte
	if t, ok := parseTime(timestamp); ok && t.UnixMilli() > 0 {
		ms := uint64(t.UnixMilli())
		for i := 5; i >= 0; i-- {
			b[i] = byte(ms)
			ms >>= 8
		}
	}
	copy(b[6:], index("message", messageID))
	return candor.PrefixMessage + strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func (c *Collector) anyAllowed(purposes []string, allows func(string) (bool, error)) bool {
	for _, p := range purposes {
		if ok, err := allows(p); err == nil && ok {
			return true
		}
	}
	return false
}

// baseline stores the event as it came: the benchmark's point of comparison.
func (c *Collector) baseline(msg *candor.Message, eventID, typ, subjectID string, props, ctxIn map[string]any, when, now time.Time) (*candor.Message, findings, error) {
	if subjectID == "" {
		return msg, findings{}, nil
	}
	payload, err := json.Marshal(map[string]any{"properties": props, "context": ctxIn})
	if err != nil {
		return nil, findings{}, err
	}
	msg.Event = &candor.EventRecord{ID: eventID, SubjectID: subjectID, Type: typ, Name: msg.Name, Purposes: []string{},
		Time: when, Received: now, Expires: now.Add(24 * time.Hour), Sealed: payload}
	return msg, findings{}, nil
}

// subjectOf finds the subject a message names: by user id, else by
// anonymous id; "" when neither is known. Collection never creates a
// subject from an event: only identify and alias do.
func (c *Collector) subjectOf(ctx context.Context, userID, anonID string) (string, error) {
	for _, id := range []struct{ kind, value string }{{candor.IdentUserID, userID}, {candor.IdentAnonymousID, anonID}} {
		if id.value == "" {
			continue
		}
		s, err := c.o.Subjects.Find(ctx, id.kind, id.value)
		if err == nil {
			return s, nil
		}
		if code := candor.ErrorCode(err); code != candor.ENOTFOUND && code != candor.EINVALID {
			return "", err
		}
	}
	return "", nil
}

// identify creates or merges the subject and stores the traits that the
// policy declares, whose type is right, and that a purpose allowed for the
// subject covers.
func (c *Collector) identify(ctx context.Context, actor candor.Actor, sig Signals, userID, anonID string, traits map[string]any, f *findings) error {
	f.event = "identify"
	if err := c.join(ctx, actor, sig, userID, anonID); candor.ErrorCode(err) == candor.ECONFLICT {
		// The anonymous id belongs to another account: keep the two apart.
		anonID = ""
		f.note("anonymousId", ActionDropped, ReasonConflict)
	} else if err != nil {
		return err
	}
	subjectID, err := c.subjectOf(ctx, userID, anonID)
	if err != nil {
		return err
	}
	ids := subjects.Input{UserID: userID, AnonymousID: anonID, Source: "identify"}
	if subjectID == "" {
		if subjectID, _, err = c.o.Subjects.Upsert(ctx, actor, sig.RequestID, ids); err != nil {
			return err
		}
	}
	if sig.GPC || sig.DNT {
		channel := "gpc"
		if !sig.GPC {
			channel = "dnt"
		}
		if _, err := c.o.Ledger.RecordSignal(ctx, actor, sig.RequestID, subjectID, channel); err != nil {
			return err
		}
	}
	keep := map[string]any{}
	for k, v := range traits {
		item := "traits." + safeName(k)
		field := c.o.Policy.Field(k)
		if field == nil {
			if c.o.Policy.Undeclared == "reject" {
				f.note(item, ActionRejected, ReasonUndeclared)
				return candor.Invalid("trait "+safeName(k)+" is not declared in the policy", candor.FieldError{Field: "traits." + safeName(k), Message: "undeclared"})
			}
			f.note(item, ActionDropped, ReasonUndeclared)
			continue
		}
		allowed := false
		for _, p := range field.Purposes {
			d, err := c.o.Gate.Decide(ctx, subjectID, p)
			if err != nil {
				return err
			}
			if d.Allow {
				allowed = true
				break
			}
		}
		if !allowed {
			f.note(item, ActionDropped, ReasonConsent)
			continue
		}
		keep[k] = v
	}
	ids.Traits = keep
	for attempt := 0; attempt < 3; attempt++ {
		_, _, err = c.o.Subjects.Upsert(ctx, actor, sig.RequestID, ids)
		var ce *candor.Error
		if err == nil || !errors.As(err, &ce) || (ce.Code != candor.EINVALID && ce.Code != candor.ECONFLICT) || len(ce.Fields) == 0 {
			break
		}
		if c.o.Policy.Undeclared == "reject" && ce.Code == candor.EINVALID && ce.Reason != subjects.ErrSuppressedReason {
			return err
		}
		// Drop the traits at fault (a wrong type; an e-mail or phone that
		// belongs to someone else) and store the rest.
		for _, fe := range ce.Fields {
			if fe.Field == candor.IdentUserID && ce.Reason == "identifier_on_file" {
				// The anonymous id led to an account with another user id.
				ids.AnonymousID = ""
				f.note("anonymousId", ActionDropped, ReasonConflict)
				continue
			}
			if fe.Field == candor.IdentAnonymousID && ce.Code == candor.ECONFLICT {
				// The device's anonymous id is another subject already (a
				// visitor who consented before signing in): keep the two
				// apart; merging subjects is not supported yet.
				ids.AnonymousID = ""
				f.note("anonymousId", ActionDropped, ReasonConflict)
				continue
			}
			name := fe.Field
			if len(name) > len("traits.") && name[:len("traits.")] == "traits." {
				name = name[len("traits."):]
			}
			for _, alias := range traitNames(name) {
				if _, ok := ids.Traits[alias]; ok {
					delete(ids.Traits, alias)
					reason := ReasonType
					switch {
					case ce.Reason == "identifier_on_file":
						reason = ReasonUnverified
					case ce.Reason == subjects.ErrSuppressedReason:
						reason = ReasonSuppressed
					case ce.Code == candor.ECONFLICT:
						reason = ReasonConflict
					}
					f.note("traits."+safeName(alias), ActionDropped, reason)
				}
			}
		}
	}
	return err
}

// traitNames maps a field named in a subjects error to the traits that
// may have carried it.
func traitNames(field string) []string {
	switch field {
	case candor.IdentEmail:
		return []string{"email"}
	case candor.IdentPhone:
		return []string{"phone"}
	}
	return []string{field}
}

// alias links a previous (anonymous) id to a user id: the subject known by
// either gains the other; if both are known, the anonymous one is merged
// into the user's; if neither is, a subject is made with both.
func (c *Collector) alias(ctx context.Context, actor candor.Actor, sig Signals, w wire) error {
	userID, err := idString(w.UserID, "userId")
	if err != nil {
		return candor.Invalid(err.Error(), candor.FieldError{Field: "userId", Message: "not valid"})
	}
	prev, err := idString(w.PreviousID, "previousId")
	if err != nil {
		return candor.Invalid(err.Error(), candor.FieldError{Field: "previousId", Message: "not valid"})
	}
	if userID == "" || prev == "" {
		return candor.Invalid("alias needs userId and previousId", candor.FieldError{Field: "previousId", Message: "required"})
	}
	if err := c.join(ctx, actor, sig, userID, prev); err != nil {
		return err
	}
	_, _, err = c.o.Subjects.Upsert(ctx, actor, sig.RequestID, subjects.Input{UserID: userID, AnonymousID: prev})
	return err
}

// join merges the subject an anonymous id names into the one a user id
// names, when both exist and differ: the visitor signed in (see
// subjects.Service.Merge for what carries over).
func (c *Collector) join(ctx context.Context, actor candor.Actor, sig Signals, userID, anonID string) error {
	if userID == "" || anonID == "" {
		return nil
	}
	user, err := c.subjectOf(ctx, userID, "")
	if err != nil {
		return err
	}
	anon, err := c.subjectOf(ctx, "", anonID)
	if err != nil {
		return err
	}
	if user == "" || anon == "" || user == anon {
		return nil
	}
	return c.o.Subjects.Merge(ctx, actor, sig.RequestID, anon, user)
}

func cloneProps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// anonymousAccount reports whether an anonymous id belongs to an account
// (a subject with a user id, an e-mail or a phone).
func (c *Collector) anonymousAccount(ctx context.Context, anonID string) (bool, error) {
	id, err := c.subjectOf(ctx, "", anonID)
	if err != nil || id == "" {
		return false, err
	}
	return c.o.Subjects.IsAccount(ctx, id)
}
