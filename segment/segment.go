package segment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
)

// Limits of the service.
const (
	MaxName = 100 // a segment's name, in characters
	// MaxSnapshot is how many people a snapshot keeps at most: their ids
	// are held in memory while it is saved (about 30 MB).
	MaxSnapshot = 1_000_000
	// Threshold is the count below which a role that cannot read the
	// people of a purpose sees "fewer than Threshold", not the number.
	Threshold = 10
)

// Store is what the service needs of the store: the segments, and the
// subject ids (no personal data) to say whether a page has a next one.
type Store interface {
	candor.SegmentStore
	SubjectIDs(ctx context.Context, after string, limit int) ([]string, error)
}

// Options configure a [Service].
type Options struct {
	Policy *candor.Policy
	Store  Store
	Gate   *gate.Gate
	Now    func() time.Time
}

// Service keeps segments and counts and lists their people, each time
// through one bulk run of the gate for the segment's purpose: only people
// whose decision allows the purpose then are counted or yielded, every
// page is audited, and every person whose data the run read has the run
// in their access report under a label that names the segment.
type Service struct {
	policy *candor.Policy
	store  Store
	gate   *gate.Gate
	now    func() time.Time
}

// New returns a Service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{policy: o.Policy, store: o.Store, gate: o.Gate, now: o.Now}
}

// Input is a segment to save.
type Input struct {
	Name     string
	Purpose  string
	Rule     json.RawMessage
	Snapshot bool
}

// Count is how many people a rule picks now. N is nil when the number is
// below [Threshold] and the reader's role cannot read the people: then
// Below is Threshold.
type Count struct {
	N     *int `json:"count"`
	Below int  `json:"count_below,omitempty"`
}

// CanReadPeople reports whether a staff member of role reads the people
// of purpose, and so sees every count exactly: the admin role, and a role
// allowed the purpose that sees none of the fields declared for it
// masked. Any other role allowed the purpose (the example policy's
// marketer for marketing.email or marketing.sms, who sees e-mail
// addresses and phone numbers masked; support for service) sees a count
// under [Threshold] as "fewer than 10", and may not list a segment that
// small: a narrow rule must not single a person out to someone the
// policy keeps from reading them.
func CanReadPeople(pol *candor.Policy, role, purpose string) bool {
	if role == candor.RoleAdmin {
		return true
	}
	if !pol.RoleAllows(role, purpose) {
		return false
	}
	r := pol.Role(role)
	if r == nil {
		return false
	}
	for _, f := range pol.FieldsFor(purpose) {
		if contains(r.Masked, f.ID) {
			return false
		}
	}
	return true
}

// Prepare parses and checks a rule for a segment for purpose read by the
// actor's role: EINVALID (the offending paths named) for an unknown
// purpose or a rule [Parse] or [Rule.Check] refuses; EFORBIDDEN, audited,
// when the role may not use the purpose.
func (s *Service) Prepare(ctx context.Context, actor candor.Actor, requestID, purpose string, rule json.RawMessage) (*Rule, error) {
	if err := s.allowed(ctx, actor, requestID, purpose); err != nil {
		return nil, err
	}
	if len(rule) == 0 {
		return nil, candor.Invalid("a segment needs a rule", candor.FieldError{Field: "rule", Message: "required"})
	}
	r, err := Parse(rule)
	if err != nil {
		return nil, err
	}
	if err := r.Check(s.policy, purpose, actor.Role); err != nil {
		return nil, err
	}
	return r, nil
}

// allowed refuses an unknown purpose (EINVALID) and, through the gate so
// that the refusal is audited, a purpose the role may not use.
func (s *Service) allowed(ctx context.Context, actor candor.Actor, requestID, purpose string) error {
	if purpose == "" {
		return candor.Invalid("a segment names its purpose", candor.FieldError{Field: "purpose", Message: "required"})
	}
	if s.policy.Purpose(purpose) == nil {
		return candor.Invalid("unknown purpose", candor.FieldError{Field: "purpose", Message: "not declared in the policy"})
	}
	if !s.policy.RoleAllows(actor.Role, purpose) {
		// The gate refuses and audits before reading anyone.
		_, err := s.gate.Scan(ctx, gate.ScanRequest{Actor: actor, Purpose: purpose, RequestID: requestID}, func(*gate.Person) error { return gate.ErrStop })
		if err == nil {
			err = candor.Errorf(candor.EFORBIDDEN, "role %s may not process data for %s", actor.Role, purpose)
		}
		return err
	}
	return nil
}

// Create checks and saves a segment; a snapshot keeps the people the rule
// picks now (one gate run, labelled "segment 'NAME' (snapshot)"). It
// returns the errors of [Service.Prepare], EINVALID for a bad name, and
// EINVALID when a snapshot would hold more than [MaxSnapshot] people.
func (s *Service) Create(ctx context.Context, actor candor.Actor, requestID string, in Input) (*candor.Segment, error) {
	name := strings.TrimSpace(in.Name)
	if err := checkName(name); err != nil {
		return nil, err
	}
	r, err := s.Prepare(ctx, actor, requestID, in.Purpose, in.Rule)
	if err != nil {
		return nil, err
	}
	canon, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("segment: marshal rule: %w", err)
	}
	seg := candor.Segment{ID: candor.NewID(candor.PrefixSegment), Name: name, Purpose: in.Purpose, Rule: canon, Snapshot: in.Snapshot,
		CreatedBy: actor.ID, CreatedAt: s.now().UTC()}
	var members []string
	if in.Snapshot {
		_, err := s.scan(ctx, actor, requestID, seg.Purpose, r, nil, Label(name, "snapshot"), func(x *gate.Person) error {
			if members = append(members, x.SubjectID); len(members) > MaxSnapshot {
				return errTooMany
			}
			return nil
		})
		if errors.Is(err, errTooMany) {
			return nil, candor.Invalid(fmt.Sprintf("a snapshot keeps at most %d people; save the segment as dynamic", MaxSnapshot),
				candor.FieldError{Field: "snapshot", Message: "too many people"})
		}
		if err != nil {
			return nil, err
		}
		seg.Members = len(members)
	}
	if err := s.store.PutSegment(ctx, seg, members); err != nil {
		return nil, err
	}
	return &seg, nil
}

var errTooMany = errors.New("segment: too many people for a snapshot")

func checkName(name string) error {
	bad := name == "" || utf8.RuneCountInString(name) > MaxName || !utf8.ValidString(name)
	for _, c := range name {
		if unicode.IsControl(c) {
			bad = true
		}
	}
	if bad {
		return candor.Invalid("a segment needs a name", candor.FieldError{Field: "name", Message: fmt.Sprintf("1 to %d characters, no control characters", MaxName)})
	}
	return nil
}

// Label is the label of a gate run for a segment, as each person whose
// data it read sees it in their access report: "segment 'Spring buyers'
// (count)".
func Label(name, what string) string {
	if name == "" {
		return "segment being edited (" + what + ")"
	}
	return "segment '" + name + "' (" + what + ")"
}

// Get returns a saved segment for a reader allowed its purpose: ENOTFOUND,
// or EFORBIDDEN (audited) when the role may not use its purpose — as if
// the segment were not there for a role that cannot see its purpose.
func (s *Service) Get(ctx context.Context, actor candor.Actor, requestID, id string) (*candor.Segment, error) {
	if !candor.ValidID(candor.PrefixSegment, id) {
		return nil, candor.Errorf(candor.ENOTFOUND, "segment not found")
	}
	seg, err := s.store.Segment(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.allowed(ctx, actor, requestID, seg.Purpose); err != nil {
		return nil, err
	}
	return seg, nil
}

// List returns up to limit saved segments after the cursor whose purpose
// the actor's role may use, and the cursor of the next page ("" at the
// end). It reads no personal data.
func (s *Service) List(ctx context.Context, actor candor.Actor, after string, limit int) ([]candor.Segment, string, error) {
	var out []candor.Segment
	for len(out) < limit {
		page, err := s.store.Segments(ctx, after, 100)
		if err != nil {
			return nil, "", err
		}
		if len(page) == 0 {
			return out, "", nil
		}
		for _, seg := range page {
			after = seg.ID
			if s.policy.RoleAllows(actor.Role, seg.Purpose) {
				if out = append(out, seg); len(out) == limit {
					break
				}
			}
		}
	}
	more, err := s.store.Segments(ctx, after, 1)
	if err != nil || len(more) == 0 {
		return out, "", err
	}
	return out, after, nil
}

// Delete deletes a saved segment (and a snapshot's members). ENOTFOUND;
// EFORBIDDEN (audited) for a role that may not use its purpose.
func (s *Service) Delete(ctx context.Context, actor candor.Actor, requestID, id string) error {
	if _, err := s.Get(ctx, actor, requestID, id); err != nil {
		return err
	}
	return s.store.DeleteSegment(ctx, id)
}

// rule returns a saved segment's rule, checked again for the reader's
// role: a segment saved by one role may test fields another sees masked
// (EFORBIDDEN then: the reader may not use it).
func (s *Service) rule(seg *candor.Segment, role string) (*Rule, error) {
	r, err := Parse(seg.Rule)
	if err != nil {
		return nil, fmt.Errorf("segment %s: stored rule: %w", seg.ID, err)
	}
	if err := r.Check(s.policy, seg.Purpose, role); err != nil {
		e := &candor.Error{Code: candor.EFORBIDDEN, Message: "the segment's rule tests what your role may not read", Reason: "rule_not_for_role"}
		var ce *candor.Error
		if errors.As(err, &ce) {
			e.Fields = ce.Fields
		}
		return nil, e
	}
	return r, nil
}

// CountRule counts, through one gate run labelled label, the people an
// unsaved rule picks for purpose now: the console's live count while the
// rule is edited. It returns the errors of [Service.Prepare].
func (s *Service) CountRule(ctx context.Context, actor candor.Actor, requestID, purpose string, rule json.RawMessage, label string) (Count, error) {
	r, err := s.Prepare(ctx, actor, requestID, purpose, rule)
	if err != nil {
		return Count{}, err
	}
	n, err := s.scan(ctx, actor, requestID, purpose, r, nil, label, nil)
	if err != nil {
		return Count{}, err
	}
	return s.shown(actor.Role, purpose, n), nil
}

// CountSegment counts a saved segment's people now: for a dynamic one,
// those the rule picks; for a snapshot, its members; in either case only
// those whose decision allows the purpose now.
func (s *Service) CountSegment(ctx context.Context, actor candor.Actor, requestID string, seg *candor.Segment) (Count, error) {
	n, err := s.people(ctx, actor, requestID, seg, gate.ScanRequest{Fields: []string{}}, Label(seg.Name, "count"), nil)
	if err != nil {
		return Count{}, err
	}
	return s.shown(actor.Role, seg.Purpose, n), nil
}

func (s *Service) shown(role, purpose string, n int) Count {
	if n < Threshold && !CanReadPeople(s.policy, role, purpose) {
		return Count{Below: Threshold}
	}
	return Count{N: &n}
}

// People yields a page of a saved segment's people (at most limit, after
// the cursor), with the fields of fields (nil: every field declared for
// the purpose) as the gate lets them through for the reader's role, and
// returns the cursor of the next page ("" at the end). A role that cannot
// read the people ([CanReadPeople]) gets EFORBIDDEN (Reason
// "fewer_than_10") for a segment of fewer than [Threshold] people now.
func (s *Service) People(ctx context.Context, actor candor.Actor, requestID string, seg *candor.Segment, after string, limit int, fields []string, yield func(*gate.Person) error) (string, error) {
	if !CanReadPeople(s.policy, actor.Role, seg.Purpose) {
		n := 0
		if _, err := s.people(ctx, actor, requestID, seg, gate.ScanRequest{Fields: []string{}}, Label(seg.Name, "count"), func(*gate.Person) error {
			if n++; n >= Threshold {
				return gate.ErrStop
			}
			return nil
		}); err != nil {
			return "", err
		}
		if n < Threshold {
			return "", &candor.Error{Code: candor.EFORBIDDEN, Reason: "fewer_than_10",
				Message: fmt.Sprintf("the segment holds fewer than %d people: your role may not list them", Threshold)}
		}
	}
	next, n := "", 0
	_, err := s.people(ctx, actor, requestID, seg, gate.ScanRequest{Fields: fields, After: after}, Label(seg.Name, "list"), func(x *gate.Person) error {
		// What was read for the rule only is not handed on.
		x.Activity, x.ActivityTruncated, x.Allows = nil, false, nil
		if fields != nil {
			for k := range x.Fields {
				if !contains(fields, k) {
					delete(x.Fields, k)
				}
			}
		}
		if err := yield(x); err != nil {
			return err
		}
		if n++; n == limit {
			next = x.SubjectID
			return gate.ErrStop
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if next != "" {
		// Only a page that stopped short of the end has a next one; one
		// more look says whether anyone is listed after it.
		more, err := s.more(ctx, seg, next)
		if err != nil || !more {
			return "", err
		}
	}
	return next, nil
}

func (s *Service) more(ctx context.Context, seg *candor.Segment, after string) (bool, error) {
	var ids []string
	var err error
	if seg.Snapshot {
		ids, err = s.store.SegmentMembers(ctx, seg.ID, after, 1)
	} else {
		ids, err = s.store.SubjectIDs(ctx, after, 1)
	}
	return len(ids) > 0, err
}

// people runs the gate over a saved segment: a dynamic one's rule, or a
// snapshot's members. It returns how many people it yielded.
func (s *Service) people(ctx context.Context, actor candor.Actor, requestID string, seg *candor.Segment, base gate.ScanRequest, label string, yield func(*gate.Person) error) (int, error) {
	if seg.Snapshot {
		base.Actor, base.Purpose, base.Label, base.RequestID = actor, seg.Purpose, label, requestID
		base.Source = func(ctx context.Context, after string, limit int) ([]string, error) {
			return s.store.SegmentMembers(ctx, seg.ID, after, limit)
		}
		n := 0
		_, err := s.gate.Scan(ctx, base, func(x *gate.Person) error {
			n++
			if yield != nil {
				return yield(x)
			}
			return nil
		})
		return n, err
	}
	r, err := s.rule(seg, actor.Role)
	if err != nil {
		return 0, err
	}
	return s.scan(ctx, actor, requestID, seg.Purpose, r, &base, label, yield)
}

// scan runs the gate for purpose, reading what the rule needs (its
// traits, the events of its window, the decisions it names) besides the
// fields base asks for, and yields those the rule picks. It returns how
// many it yielded.
func (s *Service) scan(ctx context.Context, actor candor.Actor, requestID, purpose string, r *Rule, base *gate.ScanRequest, label string, yield func(*gate.Person) error) (int, error) {
	req := gate.ScanRequest{Fields: []string{}}
	if base != nil {
		req = *base
	}
	req.Actor, req.Purpose, req.Label, req.RequestID = actor, purpose, label, requestID
	if req.Fields != nil {
		// Only the fields the rule tests, and those asked for.
		r.walk(func(x *Rule) {
			if x.Trait != "" && !contains(req.Fields, x.Trait) {
				req.Fields = append(req.Fields, x.Trait)
			}
		})
	}
	req.EventDays, req.Decisions = r.Days(), r.Consents()
	now := s.now()
	n := 0
	_, err := s.gate.Scan(ctx, req, func(x *gate.Person) error {
		if !r.Match(x, now) {
			return nil
		}
		n++
		if yield != nil {
			return yield(x)
		}
		return nil
	})
	return n, err
}

// Audience is the segments as campaigns draw their recipients from them
// (campaign.Audience).
type Audience struct{ s *Service }

// Audience returns the segments as an audience for campaigns.
func (s *Service) Audience() Audience { return Audience{s} }

// Check returns nil when actor may send a campaign for purpose to the
// segment: their role may read it (else EFORBIDDEN, audited, or
// ENOTFOUND), it is for that purpose (else EINVALID), and its rule tests
// nothing the role sees masked (else EFORBIDDEN).
func (a Audience) Check(ctx context.Context, actor candor.Actor, segmentID, purpose string) error {
	seg, err := a.s.Get(ctx, actor, "", segmentID)
	if err != nil {
		return err
	}
	if seg.Purpose != purpose {
		return candor.Invalid("the segment is for another purpose", candor.FieldError{Field: "segment", Message: "for " + seg.Purpose + ", not " + purpose})
	}
	_, err = a.s.rule(seg, actor.Role)
	return err
}

// Scan runs base (a campaign's bulk read) over the segment's people: the
// rule's traits, events and decisions read besides base's fields, and
// only the people the rule picks (or the snapshot holds) yielded, at the
// moment each is read. The segment's purpose must be base's.
func (a Audience) Scan(ctx context.Context, segmentID string, base gate.ScanRequest, yield func(*gate.Person) error) error {
	seg, err := a.s.store.Segment(ctx, segmentID)
	if err != nil {
		return err
	}
	if seg.Purpose != base.Purpose {
		return candor.Errorf(candor.EINVALID, "segment %s is for %s, not %s", seg.ID, seg.Purpose, base.Purpose)
	}
	_, err = a.s.people(ctx, base.Actor, base.RequestID, seg, base, base.Label, yield)
	return err
}
