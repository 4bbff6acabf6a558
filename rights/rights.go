// Package rights carries out data-subject requests (PIPL Arts. 44–50, GDPR
// Arts. 15–22): each request has a state machine (received → verifying →
// in progress → done | refused), a due date per jurisdiction, and an audit
// trail. Erasure is crypto-shredding: the subject's key is destroyed and
// journalled beside the key store, its rows are deleted, and a restore of
// an older backup replays the journal, so that nobody erased comes back.
//
// This package carries out access and export (the report itself is read
// through the gate, see gate.Report), rectify, erase, restrict, object and
// withdraw; and tells recipients of erasures and rectifications: it builds
// the deliveries, one per recipient that received the fields concerned,
// and package webhook's Notifier sends them. A person proves who they are
// with package verify, before a request of their own is filed.
package rights

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/pii"
	"github.com/candorhq/candor/subjects"
	"github.com/candorhq/candor/webhook"
)

// DefaultPIPLDays is the deadline under PIPL unless configured: PIPL says
// "in time"; fifteen days is the common reading (as for GB/T 35273).
const DefaultPIPLDays = 15

// KeyShredder is what the service needs of the vault (*vault.Vault is
// one): it shreds a subject's key for an erasure, journaling it, and seals
// what the service keeps (delivery bodies, refusal reasons).
type KeyShredder interface {
	// ShredAndJournal destroys the subject's key and journals the erasure.
	ShredAndJournal(ctx context.Context, e candor.Erasure) error
	candor.Sealer
}

// Options configures a [Service].
type Options struct {
	Policy   *candor.Policy
	Store    candor.Store
	Vault    KeyShredder
	Ledger   *consent.Ledger
	Subjects *subjects.Service
	Auditor  candor.Auditor
	Now      func() time.Time
	PIPLDays int // default DefaultPIPLDays
	// Stuck is how long a request may stay in one state before the
	// watchdog flags it; default 3 days.
	Stuck time.Duration
	// Notifier, when set, is woken when there are recipients to tell.
	Notifier *webhook.Notifier
	// Gate decides whether a rectification may carry the corrected values
	// to a recipient now, and reads what the service reads. Required.
	Gate *gate.Gate
}

// Service files and carries out requests.
type Service struct{ o Options }

// New returns a service. It panics when the policy, the store, the vault,
// the ledger, the subjects, the auditor or the gate is missing.
func New(o Options) *Service {
	switch {
	case o.Policy == nil:
		panic("rights: New without a Policy")
	case o.Store == nil:
		panic("rights: New without a Store")
	case o.Vault == nil:
		panic("rights: New without a Vault")
	case o.Ledger == nil:
		panic("rights: New without a Ledger")
	case o.Subjects == nil:
		panic("rights: New without Subjects")
	case o.Auditor == nil:
		panic("rights: New without an Auditor")
	case o.Gate == nil:
		panic("rights: New without a Gate")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PIPLDays <= 0 {
		o.PIPLDays = DefaultPIPLDays
	}
	if o.Stuck <= 0 {
		o.Stuck = 72 * time.Hour
	}
	return &Service{o: o}
}

// Input is a request as filed.
type Input struct {
	Type      string
	SubjectID string
	// Verified says the filing staff member checked the person's identity
	// themselves, or the person proved control of an identifier on file;
	// the request then skips verification. VerifiedBy says how (default:
	// the actor).
	Verified   bool
	VerifiedBy string
	Purposes   []string // object
	Lift       bool     // restrict, object: lift instead of impose
	Suppress   bool     // erase: keep the e-mail's and phone's blind index on the suppression list
	// Traits are the corrected values of a rectification. They are
	// written at once, so a rectification must be verified; the request
	// keeps only their names.
	Traits map[string]any
	// Proved names the identifier kind (email or phone) whose new value
	// the person proved to control with a code sent to it (the portal's
	// change of address); only then may a person correct it themself.
	// Never set from a request body.
	Proved string
}

// SelfCorrectable reports whether a person may correct field themself
// (from the portal or with a verification token). Not the e-mail or the
// phone: they are how the person signs in, and a new one is proved first
// (a change of address, Input.Proved); not an ID number or a sensitive
// field, which the shop checks against a document.
func SelfCorrectable(pol *candor.Policy, field string) bool {
	f := pol.Field(field)
	if f == nil || f.Sensitive {
		return false
	}
	switch {
	case field == candor.IdentEmail, field == candor.IdentPhone, field == "national_id",
		f.Category == candor.CategoryEmail, f.Category == candor.CategoryPhone, f.Category == "identity.government_id":
		return false
	}
	return true
}

// checkSelfCorrection applies, to a rectification the person files
// themself, the rules the shop would otherwise check: only self-correctable
// fields (or the address they proved), and no birth date that turns a child
// into an adult, which would lift the guardian's consent the law asks for.
func (s *Service) checkSelfCorrection(ctx context.Context, in Input) error {
	for name, v := range in.Traits {
		f := s.o.Policy.Field(name)
		if f == nil {
			continue // the policy check refuses it, naming it
		}
		if in.Proved != "" && name == in.Proved && (f.Category == candor.CategoryEmail || f.Category == candor.CategoryPhone) {
			continue
		}
		if !SelfCorrectable(s.o.Policy, name) {
			return &candor.Error{Code: candor.EFORBIDDEN, Reason: "shop_check",
				Message: "this field is corrected by the shop after checking a document, or, for an e-mail or phone, by a change of address proved with a code",
				Fields:  []candor.FieldError{{Field: "traits." + safeField(name), Message: "not correctable by the person"}}}
		}
		if f.Category != candor.CategoryBirthDate {
			continue
		}
		str, _ := v.(string)
		bd, err := time.Parse(time.DateOnly, strings.TrimSpace(str))
		if err != nil {
			continue // the policy check refuses it with the reason
		}
		st, err := s.o.Ledger.State(ctx, in.SubjectID)
		if err != nil {
			return err
		}
		now := s.o.Now()
		if !st.BirthDate.IsZero() && s.o.Policy.IsChild(st.BirthDate, now) && !s.o.Policy.IsChild(bd, now) {
			return &candor.Error{Code: candor.EFORBIDDEN, Reason: "shop_check",
				Message: "a birth date that makes a child an adult is corrected by the shop after checking a document",
				Fields:  []candor.FieldError{{Field: "traits." + name, Message: "needs the shop's check"}}}
		}
	}
	return nil
}

func safeField(s string) string {
	if len(s) > 64 {
		return "(a long name)"
	}
	return s
}

// Due returns the deadline of a request received at t: the earliest of the
// policy's jurisdictions (GDPR: one month; PIPL: PIPLDays days), and which.
func (s *Service) Due(t time.Time) (time.Time, string) {
	var due time.Time
	var which string
	for _, j := range s.o.Policy.Organization.Jurisdictions {
		var d time.Time
		switch j {
		case candor.JurisdictionGDPR:
			d = t.AddDate(0, 1, 0)
		case candor.JurisdictionPIPL:
			d = t.AddDate(0, 0, s.o.PIPLDays)
		default:
			continue
		}
		if due.IsZero() || d.Before(due) {
			due, which = d, j
		}
	}
	if due.IsZero() {
		due, which = t.AddDate(0, 0, s.o.PIPLDays), candor.JurisdictionPIPL
	}
	return due, which
}

// File records a request and, when the person's identity was verified,
// carries it out at once. It returns EINVALID for an unknown or
// unsupported type or purpose, ENOTFOUND for an unknown subject.
func (s *Service) File(ctx context.Context, actor candor.Actor, in Input) (*candor.RightsRequest, error) {
	switch in.Type {
	case candor.RightAccess, candor.RightExport, candor.RightErase, candor.RightRestrict, candor.RightObject, candor.RightWithdraw:
	case candor.RightRectify:
		if !in.Verified {
			return nil, candor.Invalid("a rectification is carried out at once, so the person's identity must be verified first",
				candor.FieldError{Field: "verified", Message: "required for rectify"})
		}
		if len(in.Traits) == 0 {
			return nil, candor.Invalid("name the traits to correct", candor.FieldError{Field: "traits", Message: "required"})
		}
		if actor.Role == gate.RoleSubject {
			if err := s.checkSelfCorrection(ctx, in); err != nil {
				return nil, err
			}
		}
	default:
		return nil, candor.Invalid("unknown request type", candor.FieldError{Field: "type", Message: "want access, export, erase, restrict, object or withdraw"})
	}
	if in.Type == candor.RightObject {
		if len(in.Purposes) == 0 {
			return nil, candor.Invalid("an objection names the purposes", candor.FieldError{Field: "purposes", Message: "required"})
		}
		for _, p := range in.Purposes {
			if s.o.Policy.Purpose(p) == nil {
				return nil, candor.Invalid("unknown purpose", candor.FieldError{Field: "purposes", Message: "not declared in the policy"})
			}
		}
	}
	if _, err := s.o.Store.Subject(ctx, in.SubjectID); err != nil {
		return nil, err
	}
	now := s.o.Now().UTC()
	due, jur := s.Due(now)
	// Received first; then in progress when the identity was verified,
	// else waiting for that in verifying.
	r := candor.RightsRequest{ID: candor.NewID(candor.PrefixRequest), Type: in.Type, SubjectID: in.SubjectID, Status: candor.RequestReceived, Jurisdiction: jur,
		ReceivedAt: now, DueAt: due, UpdatedAt: now, StateSince: now, Actor: actor.ID,
		Details: candor.RequestDetails{Purposes: slices.Clone(in.Purposes), Lift: in.Lift, Suppress: in.Suppress}}
	if err := s.o.Store.PutRequest(ctx, r); err != nil {
		return nil, err
	}
	r.Status = candor.RequestVerifying
	if in.Verified {
		r.Status, r.Details.VerifiedBy = candor.RequestInProgress, actor.ID
		if in.VerifiedBy != "" {
			r.Details.VerifiedBy = in.VerifiedBy
		}
	}
	if err := s.o.Store.UpdateRequest(ctx, r, candor.RequestReceived); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, actor, r, candor.ActionRightsFile, candor.DecisionOK, "type="+r.Type+" status="+r.Status); err != nil {
		return nil, err
	}
	if r.Status != candor.RequestInProgress {
		return &r, nil
	}
	if r.Type == candor.RightRectify {
		return s.rectify(ctx, actor, r, in.Traits)
	}
	return s.Execute(ctx, actor, r.ID)
}

// rectify writes the corrected traits, propagates them to every recipient
// that received one of those fields (GDPR Art. 19), and marks the request
// done. A recipient that may receive the field now (declared for it, and a
// purpose of it allowed for the person) gets the corrected value, in a
// delivery sealed under the person's key, recorded in the sharing ledger
// and audited; any other is told which fields changed, so that it corrects
// or deletes its copy. A correction the policy refuses refuses the request,
// with the reason.
func (s *Service) rectify(ctx context.Context, actor candor.Actor, r candor.RightsRequest, traits map[string]any) (*candor.RightsRequest, error) {
	ctx = candor.WithRightsRequest(ctx, r.ID) // the subject's audit entries name the request
	values, err := s.o.Subjects.Rectify(ctx, actor, candor.TraceID(ctx), r.SubjectID, traits)
	if err != nil {
		now := s.o.Now().UTC()
		refused := r
		refused.Status, refused.UpdatedAt, refused.StateSince, refused.Details.Reason = candor.RequestRefused, now, now, candor.ErrorMessage(err)
		refused.Details.ReasonCode = refusalCode(err)
		if uerr := s.o.Store.UpdateRequest(ctx, refused, candor.RequestInProgress); uerr != nil {
			return nil, uerr
		}
		return nil, err
	}
	disclosed, err := s.o.Store.Disclosures(ctx, r.SubjectID)
	if err != nil {
		return nil, err
	}
	fields := slices.Sorted(maps.Keys(values))
	now := s.o.Now().UTC()
	deliveries := noticeDeliveries(s.o.Policy, disclosed, fields, "rectification", r.SubjectID, r.ID, now)
	carried, err := s.carryValues(ctx, actor, r, deliveries, values, now)
	if err != nil {
		return nil, err
	}
	if len(deliveries) > 0 {
		if err := s.o.Store.PutDeliveries(ctx, deliveries); err != nil {
			return nil, err
		}
		if s.o.Notifier != nil {
			s.o.Notifier.Kick()
		}
	}
	s.o.Ledger.Invalidate(r.SubjectID)
	done := r
	done.Status, done.UpdatedAt, done.StateSince = candor.RequestDone, now, now
	done.Details.Result = map[string]int64{"fields": int64(len(fields)), "recipients": int64(len(deliveries)), "values_sent": int64(carried)}
	done.Details.Notes = map[string]string{"fields": strings.Join(fields, ",")}
	if err := s.o.Store.UpdateRequest(ctx, done, candor.RequestInProgress); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, actor, done, candor.ActionRightsRectify, candor.DecisionOK, "fields="+strings.Join(fields, ",")); err != nil {
		return nil, err
	}
	return &done, nil
}

// carryValues puts the corrected values into the deliveries of the
// recipients that may receive them now, sealed under the subject's key,
// and records each in the sharing ledger and the audit log. It returns how
// many deliveries carry values.
func (s *Service) carryValues(ctx context.Context, actor candor.Actor, r candor.RightsRequest, deliveries []candor.Delivery, values map[string]string, now time.Time) (int, error) {
	carried := 0
	for i := range deliveries {
		d := &deliveries[i]
		rec := s.o.Policy.Recipient(d.Recipient)
		if rec == nil || d.Status != candor.DeliveryPending {
			continue
		}
		var notice webhook.Notice
		if err := json.Unmarshal(d.Body, &notice); err != nil {
			return 0, err
		}
		give := map[string]string{}
		purpose := ""
		for _, p := range rec.Purposes {
			dec, err := s.o.Gate.Decide(ctx, r.SubjectID, p)
			if err != nil {
				return 0, err
			}
			if !dec.Allow {
				continue
			}
			for _, f := range notice.Fields {
				if fd := s.o.Policy.Field(f); fd != nil && slices.Contains(rec.Fields, f) && slices.Contains(fd.Purposes, p) {
					give[f] = values[f]
				}
			}
			if len(give) > 0 {
				purpose = p
				break
			}
		}
		if len(give) == 0 {
			continue
		}
		names := slices.Sorted(maps.Keys(give))
		if err := s.o.Auditor.Append(ctx, candor.AuditEntry{Time: now, Actor: actor.ID, Action: candor.ActionDisclose, Purpose: purpose, SubjectID: r.SubjectID,
			Fields: names, Decision: candor.DecisionAllow, Reason: "rectification to " + rec.ID, RightsRequest: r.ID}); err != nil {
			return 0, fmt.Errorf("rights: audit: %w", err)
		}
		notice.Purpose, notice.Values = purpose, give
		body, err := json.Marshal(notice)
		if err != nil {
			return 0, err
		}
		if d.Body, err = s.o.Vault.Seal(ctx, r.SubjectID, DeliveryField(d.ID), body); err != nil {
			return 0, err
		}
		d.SubjectID = r.SubjectID
		if err := s.o.Store.AppendDisclosures(ctx, []candor.Disclosure{{ID: candor.NewID(candor.PrefixDisclosure), SubjectID: r.SubjectID, Recipient: rec.ID,
			Purpose: purpose, Fields: names, At: now, Reference: r.ID}}); err != nil {
			return 0, err
		}
		carried++
	}
	return carried, nil
}

// DeliveryField is the field a delivery's body is sealed under.
//
// Deprecated: use [candor.DeliveryField].
func DeliveryField(deliveryID string) string { return candor.DeliveryField(deliveryID) }

// Execute carries out a request in progress and marks it done. A request
// in any other state is returned as it is.
func (s *Service) Execute(ctx context.Context, actor candor.Actor, id string) (*candor.RightsRequest, error) {
	r, err := s.o.Store.Request(ctx, id)
	if err != nil || r.Status != candor.RequestInProgress {
		return r, err
	}
	result := map[string]int64{}
	switch r.Type {
	case candor.RightAccess, candor.RightExport:
		// The report is read through the gate when it is fetched, so that
		// each reading is audited and shows the data as it is then.
	case candor.RightErase:
		result, err = s.Erase(ctx, actor, r.SubjectID, r.ID, r.Details.Suppress)
	case candor.RightRestrict:
		err = s.o.Store.SetRestricted(ctx, r.SubjectID, !r.Details.Lift, s.o.Now().UTC())
	case candor.RightObject:
		for _, p := range r.Details.Purposes {
			if err = s.o.Store.SetObjection(ctx, r.SubjectID, p, !r.Details.Lift, s.o.Now().UTC()); err != nil {
				break
			}
		}
	case candor.RightWithdraw:
		var res *consent.Result
		res, err = s.o.Ledger.Record(candor.WithRightsRequest(ctx, r.ID), actor, candor.TraceID(ctx), r.SubjectID, consent.Choice{NoticeVersion: s.o.Ledger.Notices().Current().Version, Scope: consent.ScopeNone, Channel: "rights"})
		if res != nil {
			result["consents"] = int64(len(res.Records))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("rights: %s: %w", r.Type, err)
	}
	s.o.Ledger.Invalidate(r.SubjectID)
	now := s.o.Now().UTC()
	done := *r
	done.Status, done.UpdatedAt, done.StateSince, done.Details.Result = candor.RequestDone, now, now, result
	if err := s.o.Store.UpdateRequest(ctx, done, candor.RequestInProgress); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, actor, done, candor.RightsAction(r.Type), candor.DecisionOK, "done"); err != nil {
		return nil, err
	}
	return &done, nil
}

// Verify records that a staff member checked the identity of the person
// behind a request waiting in verifying, and carries it out. ECONFLICT
// when the request is in another state.
func (s *Service) Verify(ctx context.Context, actor candor.Actor, id string) (*candor.RightsRequest, error) {
	r, err := s.o.Store.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status != candor.RequestVerifying && r.Status != candor.RequestReceived {
		return nil, candor.Errorf(candor.ECONFLICT, "the request is %s, not waiting for verification", r.Status)
	}
	from := r.Status
	now := s.o.Now().UTC()
	r.Status, r.UpdatedAt, r.StateSince, r.Details.VerifiedBy = candor.RequestInProgress, now, now, actor.ID
	if err := s.o.Store.UpdateRequest(ctx, *r, from); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, actor, *r, candor.ActionRightsVerify, candor.DecisionOK, "identity checked by staff"); err != nil {
		return nil, err
	}
	return s.Execute(ctx, actor, id)
}

// Refuse refuses a request that is not finished, with the reason the
// person will be told (PIPL Art. 50). EINVALID without a reason.
func (s *Service) Refuse(ctx context.Context, actor candor.Actor, id, reason string) (*candor.RightsRequest, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 2000 {
		return nil, candor.Invalid("a refusal needs a reason, which the person is told", candor.FieldError{Field: "reason", Message: "required, at most 2000 bytes"})
	}
	r, err := s.o.Store.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status == candor.RequestDone || r.Status == candor.RequestRefused {
		return nil, candor.Errorf(candor.ECONFLICT, "the request is %s already", r.Status)
	}
	from := r.Status
	now := s.o.Now().UTC()
	// The reason is free text: personal data found in it is redacted, as
	// collect does for free-text properties, and what is left is sealed
	// under the person's key, so that it rests as ciphertext and goes with
	// everything else on erasure.
	reason, _ = pii.Redact(reason)
	if r.SubjectID != "" {
		sealed, err := s.o.Vault.Seal(ctx, r.SubjectID, candor.RefusalField(r.ID), []byte(reason))
		if err != nil {
			return nil, fmt.Errorf("rights: seal the refusal reason: %w", err)
		}
		r.Details.ReasonSealed, r.Details.Reason = sealed, ""
	} else {
		r.Details.Reason = reason // no person to seal it for; redacted
	}
	r.Status, r.UpdatedAt, r.StateSince = candor.RequestRefused, now, now
	if err := s.o.Store.UpdateRequest(ctx, *r, from); err != nil {
		return nil, err
	}
	// The reason is told to the person and may quote their words: it is
	// kept with the request, not in the audit log.
	if err := s.audit(ctx, actor, *r, candor.ActionRightsRefuse, candor.DecisionOK, "refused"); err != nil {
		return nil, err
	}
	return r, nil
}

// Get returns a request.
func (s *Service) Get(ctx context.Context, id string) (*candor.RightsRequest, error) {
	return s.o.Store.Request(ctx, id)
}

// Open returns the unfinished requests, by due date.
func (s *Service) Open(ctx context.Context) ([]candor.RightsRequest, error) {
	return s.o.Store.Requests(ctx, candor.RequestFilter{Status: openStates})
}

var openStates = []string{candor.RequestReceived, candor.RequestVerifying, candor.RequestInProgress}

// Overdue returns the unfinished requests past their due date.
func (s *Service) Overdue(ctx context.Context) ([]candor.RightsRequest, error) {
	return s.o.Store.Requests(ctx, candor.RequestFilter{Status: openStates, DueBefore: s.o.Now().UTC()})
}

// Stuck is the watchdog: the unfinished requests that have stayed in their
// state longer than Options.Stuck.
func (s *Service) Stuck(ctx context.Context) ([]candor.RightsRequest, error) {
	open, err := s.Open(ctx)
	if err != nil {
		return nil, err
	}
	limit := s.o.Now().Add(-s.o.Stuck)
	var out []candor.RightsRequest
	for _, r := range open {
		if r.StateSince.Before(limit) {
			out = append(out, r)
		}
	}
	return out, nil
}

// StuckAfter is how long a request may stay in one state before the
// watchdog flags it.
func (s *Service) StuckAfter() time.Duration { return s.o.Stuck }

// Watchdog flags, every interval until ctx ends, the requests that are
// overdue or stuck in one state, as warnings in the log (ids, types and
// dates only), so that none is forgotten.
func (s *Service) Watchdog(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		overdue, err := s.Overdue(ctx)
		if err == nil {
			for _, r := range overdue {
				log.Warn("request overdue", "request", r.ID, "type", r.Type, "status", r.Status, "due_at", r.DueAt)
			}
		}
		stuck, err2 := s.Stuck(ctx)
		if err2 == nil {
			for _, r := range stuck {
				log.Warn("request stuck", "request", r.ID, "type", r.Type, "status", r.Status, "since", r.StateSince)
			}
		}
		if err := errors.Join(err, err2); err != nil && ctx.Err() == nil {
			log.Error("watchdog", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Erase crypto-shreds a subject: with suppress, the blind indexes of its
// e-mail and phone go on the suppression list first; then its key is
// destroyed and the erasure journalled beside the key store; then its
// rows (identifiers, traits, consents, events, disclosures) are deleted,
// every recipient that received data is queued a signed webhook, and the
// erasure is audited. The audit log and the journal keep only ids. If the deletion
// fails after the key is gone, the data is unreadable already, and the
// journal's replay (at restore and at start) finishes it.
func (s *Service) Erase(ctx context.Context, actor candor.Actor, subjectID, requestID string, suppress bool) (map[string]int64, error) {
	result := map[string]int64{}
	if suppress {
		idents, err := s.o.Store.Identifiers(ctx, subjectID)
		if err != nil {
			return nil, err
		}
		for _, id := range idents {
			if id.Kind != candor.IdentEmail && id.Kind != candor.IdentPhone {
				continue
			}
			if err := s.o.Store.Keys().Suppress(ctx, id.Kind, id.Blind, s.o.Now().UTC()); err != nil {
				return nil, err
			}
			result["suppressed"]++
		}
	}
	stats, err := s.o.Store.EventStats(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	for _, st := range stats {
		result["events"] += st.Count
	}
	// Who received data must be told; the sharing ledger goes with the rows.
	disclosed, err := s.o.Store.Disclosures(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	now := s.o.Now().UTC()
	deliveries := noticeDeliveries(s.o.Policy, disclosed, nil, "erasure", subjectID, requestID, now)
	if err := s.o.Vault.ShredAndJournal(ctx, candor.Erasure{SubjectID: subjectID, At: now, RequestID: requestID}); err != nil {
		return nil, err
	}
	if _, err := s.o.Store.DeleteSubject(ctx, subjectID); err != nil {
		return nil, err
	}
	// The person's portal sessions and links end with them.
	if _, err := s.o.Store.DeleteSessions(ctx, subjectID); err != nil {
		return nil, err
	}
	if len(deliveries) > 0 {
		if err := s.o.Store.PutDeliveries(ctx, deliveries); err != nil {
			return nil, err
		}
		result["recipients"] = int64(len(deliveries))
		if s.o.Notifier != nil {
			s.o.Notifier.Kick()
		}
	}
	s.o.Ledger.Invalidate(subjectID)
	if s.o.Subjects != nil {
		s.o.Subjects.EvictLookups(subjectID)
	}
	err = s.o.Auditor.Append(ctx, candor.AuditEntry{Time: s.o.Now(), Actor: actor.ID, Action: candor.ActionSubjectErase, SubjectID: subjectID,
		Decision: candor.DecisionOK, Reason: fmt.Sprintf("events=%d suppressed=%d", result["events"], result["suppressed"]), RightsRequest: requestID})
	if err != nil {
		return nil, fmt.Errorf("rights: audit: %w", err)
	}
	return result, nil
}

func (s *Service) audit(ctx context.Context, actor candor.Actor, r candor.RightsRequest, action candor.AuditAction, decision candor.AuditDecision, reason string) error {
	err := s.o.Auditor.Append(ctx, candor.AuditEntry{Time: s.o.Now(), Actor: actor.ID, Action: action, SubjectID: r.SubjectID,
		Decision: decision, Reason: reason, RightsRequest: r.ID})
	if err != nil {
		return fmt.Errorf("rights: audit: %w", err)
	}
	return nil
}

// ReplayErasures deletes, from the data store, every subject the erasure
// journal names: after a restore of an older backup, and at start (to
// finish an erasure interrupted after its key was destroyed). It returns
// how many it found still there.
func ReplayErasures(ctx context.Context, store candor.Store) (int, error) {
	n, after := 0, ""
	for {
		page, err := store.Keys().Erasures(ctx, after, 1000)
		if err != nil {
			return n, err
		}
		ids := make([]string, len(page))
		for i, e := range page {
			ids[i] = e.SubjectID
		}
		k, err := store.DeleteSubjects(ctx, ids)
		n += k
		if err != nil {
			return n, err
		}
		if len(page) < 1000 {
			return n, nil
		}
		after = page[len(page)-1].SubjectID
	}
}

// refusalCode names why err refused a request, for the pages that word it:
// its Reason, or "invalid" for an invalid value without one.
func refusalCode(err error) string {
	var ce *candor.Error
	if errors.As(err, &ce) && ce.Reason != "" {
		return ce.Reason
	}
	if candor.ErrorCode(err) == candor.EINVALID {
		return "invalid"
	}
	return ""
}
