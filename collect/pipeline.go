package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/internal/jsontext"
)

// request is what the messages of one call share.
type request struct {
	actor     candor.Actor
	call      Call
	sig       Signals
	now       time.Time
	signalled map[string]bool // the subjects whose GPC or DNT signal the call recorded
}

// message is one message on its way through the steps of
// [Collector.prepare]: what the steps so far found out about it.
type message struct {
	w         wire
	userID    string
	anonID    string
	msgID     string         // de-duplicates retries ([Collector.MessageKey])
	eventID   string         // sorts by time, so that stored events are appended
	when      time.Time      // when it happened, as the sender's clock is best believed
	context   map[string]any // the call's and the message's, without the identity token
	name      string         // the event's name (track, page, screen, group)
	props     map[string]any // the event's properties
	subjectID string         // "" while no subject is known by its ids
	f         findings
}

// eventStage is the last step of an event message, its subject resolved:
// it returns what the store writes, nil if nothing.
type eventStage func(c *Collector, ctx context.Context, r *request, m *message) (*candor.Message, error)

// prepare turns one raw message into what the store writes: nil for a
// message that leaves nothing to store (identify, alias, a dropped event).
// The steps: decode, read the envelope, hold a browser key to what it may
// say, identify or alias (which end there), name the event, resolve its
// subject, and the collector's event stage ([Collector.private]).
func (c *Collector) prepare(ctx context.Context, r *request, raw json.RawMessage) (*candor.Message, findings, error) {
	m := &message{}
	if err := decode(r.call, raw, &m.w); err != nil {
		return nil, m.f, err
	}
	if err := c.envelope(r, m); err != nil {
		return nil, m.f, err
	}
	if err := c.checkBrowser(ctx, r, m); err != nil {
		return nil, m.f, err
	}
	switch m.w.Type {
	case TypeIdentify:
		traits := browserTraits(r.actor, m.w.Traits, &m.f)
		err := c.identify(ctx, r.actor, r.sig, m.userID, m.anonID, traits, &m.f)
		return nil, m.f, err
	case TypeAlias:
		m.f.event = "alias"
		return nil, m.f, c.alias(ctx, r.actor, r.sig, m.w)
	}
	if err := m.nameEvent(); err != nil {
		return nil, m.f, err
	}
	var err error
	if m.subjectID, err = c.subjectOf(ctx, m.userID, m.anonID); err != nil {
		return nil, m.f, err
	}
	msg, err := c.events(c, ctx, r, m)
	return msg, m.f, err
}

// decode reads one message of a call into w: valid Unicode JSON of at most
// MaxMessageBytes, of the endpoint's type when the call came to one.
func decode(call Call, raw json.RawMessage, w *wire) error {
	if len(raw) > MaxMessageBytes {
		return candor.Errorf(candor.ETOOLARGE, "the message is larger than %d bytes", MaxMessageBytes)
	}
	if err := jsontext.Check(raw); err != nil { // encoding/json would replace it silently
		return candor.Invalid("the message is not valid Unicode text: "+err.Error(), candor.FieldError{Field: "(message)", Message: err.Error()})
	}
	if err := json.Unmarshal(raw, w); err != nil {
		return candor.Errorf(candor.EMALFORMED, "the message is not valid: %s", jsonProblem(err))
	}
	if call.Type != "" {
		if w.Type != "" && w.Type != call.Type {
			return candor.Invalid(fmt.Sprintf("type %q sent to the %s endpoint", safeName(w.Type), call.Type), candor.FieldError{Field: "type", Message: "does not match the endpoint"})
		}
		w.Type = call.Type
	}
	return nil
}

// envelope reads what every kind of message carries: the ids it names
// (a user id or an anonymous id is required but for alias), its own ids,
// its time, and its context. The identity token is taken out of the
// context (it is never stored) and kept only from a browser key.
func (c *Collector) envelope(r *request, m *message) error {
	var err error
	if m.userID, err = idString(m.w.UserID, "userId"); err != nil {
		return candor.Invalid(err.Error(), candor.FieldError{Field: "userId", Message: "not valid"})
	}
	if m.anonID, err = idString(m.w.AnonymousID, "anonymousId"); err != nil {
		return candor.Invalid(err.Error(), candor.FieldError{Field: "anonymousId", Message: "not valid"})
	}
	switch {
	case m.w.MessageID == "":
		m.msgID = candor.NewID(candor.PrefixMessage) // no retries to recognize
	case len(m.w.MessageID) > MaxIDBytes:
		return candor.Invalid("messageId is too long", candor.FieldError{Field: "messageId", Message: "at most 200 bytes"})
	default:
		m.msgID = c.MessageKey(m.w.MessageID, m.w.timestamp())
	}
	m.eventID = candor.NewTimeID(candor.PrefixEvent, r.now)
	if m.w.Type != TypeAlias && m.userID == "" && m.anonID == "" {
		return candor.Invalid("userId or anonymousId is required", candor.FieldError{Field: "userId", Message: "required unless anonymousId is given"})
	}
	sentAt := m.w.SentAt
	if sentAt == "" {
		sentAt = r.call.SentAt
	}
	m.when = eventTime(m.w.timestamp(), sentAt, r.now)
	m.context = mergeContext(r.call.Context, m.w.Context)
	if tok, ok := m.context[IdentityContextKey]; ok {
		m.context = maps.Clone(m.context)
		delete(m.context, IdentityContextKey) // never stored
		if r.actor.Role != candor.RoleBrowser {
			tok = nil
		}
		m.w.identity, _ = tok.(string)
	}
	return nil
}

// timestamp is the message's own time as sent: its timestamp, else its
// originalTimestamp.
func (w *wire) timestamp() string {
	if w.Timestamp == "" {
		return w.OriginalTimestamp
	}
	return w.Timestamp
}

// checkBrowser holds a browser (public) key to what it may say: it speaks
// for the browser's own visitor, so a user id it names must be vouched for
// by the shop's server (an identity token), and an anonymous id alone that
// belongs to an account speaks for nobody in particular: it changes
// nothing of the account (its events are counted anonymously).
func (c *Collector) checkBrowser(ctx context.Context, r *request, m *message) error {
	if r.actor.Role != candor.RoleBrowser {
		return nil
	}
	if m.userID != "" || m.w.Type == TypeAlias {
		named := m.userID
		if named == "" {
			named, _ = idString(m.w.PreviousID, "previousId")
		}
		if err := checkIdentity(c.o.IdentitySecret, named, m.w.identity, r.now); err != nil {
			m.f.note("userId", ActionRejected, ReasonBrowserKey)
			return err
		}
	}
	if m.userID == "" && m.anonID != "" {
		account, err := c.anonymousAccount(ctx, m.anonID)
		if err != nil {
			return err
		}
		if account {
			if m.w.Type == TypeIdentify {
				m.f.note("anonymousId", ActionRejected, ReasonBrowserKey)
				return &candor.Error{Code: candor.EFORBIDDEN, Reason: ReasonBrowserKey,
					Message: "this anonymousId belongs to a signed-in customer: name them with userId and an identity token"}
			}
			m.anonID = ""
		}
	}
	return nil
}

// browserTraits drops the e-mail address and phone number from the traits
// of a browser key's identify: the shop's server gives them, and from a
// public key they would let anyone attach an address of theirs to someone
// else, or squat someone's.
func browserTraits(actor candor.Actor, traits map[string]any, f *findings) map[string]any {
	if actor.Role != candor.RoleBrowser {
		return traits
	}
	for _, k := range []string{candor.IdentEmail, candor.IdentPhone} {
		if _, ok := traits[k]; ok {
			traits = maps.Clone(traits)
			delete(traits, k)
			f.note("traits."+k, ActionDropped, ReasonBrowserKey)
		}
	}
	return traits
}

// nameEvent gives an event message its event's name and properties: a
// page's or screen's name and category become properties of the page or
// screen event, a group's traits the properties of the group event.
func (m *message) nameEvent() error {
	m.name, m.props = m.w.Event, m.w.Properties
	switch m.w.Type {
	case TypeTrack:
		if m.name == "" {
			return candor.Invalid("event is required for track", candor.FieldError{Field: "event", Message: "required"})
		}
	case TypePage, TypeScreen:
		m.name = PageEvent
		if m.w.Type == TypeScreen {
			m.name = ScreenEvent
		}
		if m.w.Name != "" || m.w.Category != "" {
			m.props = cloneProps(m.props)
			if m.w.Name != "" {
				m.props["name"] = m.w.Name
			}
			if m.w.Category != "" {
				m.props["category"] = m.w.Category
			}
		}
	case TypeGroup:
		m.name, m.props = GroupEvent, m.w.Traits
	case "":
		return candor.Invalid("type is required", candor.FieldError{Field: "type", Message: "required"})
	default:
		return candor.Invalid("unknown type "+safeName(m.w.Type), candor.FieldError{Field: "type", Message: "want track, page, screen, identify, group or alias"})
	}
	m.f.event = safeName(m.name)
	return nil
}

func cloneProps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// private is the event stage: the policy check, the request's GPC or DNT
// signal, the consent gate, the retention check, property and context
// minimization, and encryption. An event that no purpose allowed for its
// subject covers is kept only as an anonymous count.
func (c *Collector) private(ctx context.Context, r *request, m *message) (*candor.Message, error) {
	ev, err := c.declaredEvent(m)
	if ev == nil || err != nil {
		return nil, err
	}
	msg := &candor.Message{ID: m.msgID, Name: ev.Name, At: r.now}
	if err := c.recordSignal(ctx, r, m.subjectID); err != nil {
		return nil, err
	}
	d := &decisions{seen: map[string]bool{}}
	if m.subjectID != "" {
		d.decide = func(purpose string) (bool, error) {
			dec, err := c.o.Gate.Decide(ctx, m.subjectID, purpose)
			return dec.Allow, err
		}
	}
	allowed, err := d.allowed(ev.Purposes)
	if err != nil {
		return nil, err
	}
	expires := m.when.Add(time.Duration(ev.Retention))
	if !expires.After(r.now) {
		m.f.note("event", ActionDropped, ReasonExpired)
		return nil, nil
	}
	if len(allowed) == 0 {
		m.f.note("event", ActionCounted, ReasonConsent)
		return msg, nil // an anonymous count only
	}
	props, err := c.minimizeProperties(ev, m, d)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(map[string]any{"properties": props, "context": minimizeContext(m.context, c.declaredContext(d), &m.f)})
	if err != nil {
		return nil, fmt.Errorf("collect: encode: %w", err)
	}
	sealed, err := c.o.Sealer.Seal(ctx, m.subjectID, candor.EventSealField(m.eventID), payload)
	if err != nil {
		return nil, err
	}
	msg.Event = &candor.EventRecord{ID: m.eventID, SubjectID: m.subjectID, Type: m.w.Type, Name: ev.Name, Purposes: allowed,
		Time: m.when, Received: r.now, Expires: expires, Sealed: sealed}
	return msg, nil
}

// declaredEvent is the policy check of an event: its declaration, or nil
// for an undeclared event, which is dropped (or, as the policy says,
// rejected).
func (c *Collector) declaredEvent(m *message) (*candor.Event, error) {
	ev := c.o.Policy.Event(m.name)
	if ev != nil {
		return ev, nil
	}
	if c.o.Policy.Undeclared == "reject" {
		m.f.note("event", ActionRejected, ReasonUndeclared)
		return nil, candor.Invalid("event "+safeName(m.name)+" is not declared in the policy", candor.FieldError{Field: "event", Message: "undeclared"})
	}
	m.f.note("event", ActionDropped, ReasonUndeclared)
	return nil, nil
}

// recordSignal records the request's GPC or DNT signal in the consent
// ledger of a known subject, once a call. A subject erased meanwhile is
// not an error.
func (c *Collector) recordSignal(ctx context.Context, r *request, subjectID string) error {
	if subjectID == "" || !(r.sig.GPC || r.sig.DNT) || r.signalled[subjectID] {
		return nil
	}
	r.signalled[subjectID] = true
	if _, err := c.o.Ledger.RecordSignal(ctx, r.actor, r.sig.RequestID, subjectID, r.sig.channel()); err != nil && candor.ErrorCode(err) != candor.ENOTFOUND {
		return err
	}
	return nil
}

// decisions tells which purposes the subject of one message allows now,
// asking the gate once a purpose. Without a subject, none.
type decisions struct {
	// decide asks the gate; nil without a subject. (The gate is asked
	// through a function, so that the map can stay on the caller's stack.)
	decide func(purpose string) (bool, error)
	seen   map[string]bool
}

// allows reports whether the subject allows purpose.
func (d *decisions) allows(purpose string) (bool, error) {
	if d.decide == nil {
		return false, nil
	}
	if ok, seen := d.seen[purpose]; seen {
		return ok, nil
	}
	ok, err := d.decide(purpose)
	if err != nil {
		return false, err
	}
	d.seen[purpose] = ok
	return ok, nil
}

// allowed returns those of purposes that the subject allows.
func (d *decisions) allowed(purposes []string) ([]string, error) {
	var allowed []string
	for _, p := range purposes {
		ok, err := d.allows(p)
		if err != nil {
			return nil, err
		}
		if ok {
			allowed = append(allowed, p)
		}
	}
	return allowed, nil
}

// anyAllowed reports whether the subject allows one of purposes; a
// purpose the gate could not decide counts as refused.
func (d *decisions) anyAllowed(purposes []string) bool {
	for _, p := range purposes {
		if ok, err := d.allows(p); err == nil && ok {
			return true
		}
	}
	return false
}

// minimizeProperties returns the event's properties to keep: declared,
// typed; a personal field only for a purpose the subject allows; free
// text redacted. An undeclared or mistyped property is dropped (or, as the
// policy says, rejected).
func (c *Collector) minimizeProperties(ev *candor.Event, m *message, d *decisions) (map[string]any, error) {
	f := &m.f
	keep := make(map[string]any, len(m.props))
	for k, v := range m.props {
		item := "properties." + safeName(k)
		typ, declared := ev.Properties[k]
		if !declared {
			if c.o.Policy.Undeclared == "reject" {
				f.note(item, ActionRejected, ReasonUndeclared)
				return nil, candor.Invalid("property "+safeName(k)+" is not declared for "+ev.Name, candor.FieldError{Field: "properties." + safeName(k), Message: "undeclared"})
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
				return nil, candor.Invalid("property "+k+" is not a "+typ, candor.FieldError{Field: "properties." + k, Message: "want " + typ})
			}
			f.note(item, ActionDropped, ReasonType)
			continue
		}
		if field := c.o.Policy.Field(k); field != nil {
			ok := false
			for _, p := range field.Purposes {
				if a, err := d.allows(p); err != nil {
					return nil, err
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
			val = redact(s, item, f)
		}
		keep[k] = val
	}
	return keep, nil
}

// declaredContext is what of the context the policy lets the subject's
// event keep: the full IP address and the precise location, each only if
// the policy declares it and the subject allows one of its purposes.
func (c *Collector) declaredContext(d *decisions) contextPolicy {
	cp := contextPolicy{}
	if field := c.o.Policy.FieldByCategory(CategoryIP); field != nil {
		cp.fullIP = d.anyAllowed(field.Purposes)
	}
	if field := c.o.Policy.FieldByCategory(CategoryPreciseLocation); field != nil {
		cp.precise = d.anyAllowed(field.Purposes)
	}
	return cp
}
