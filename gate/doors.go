package gate

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/vault"
)

// Contact returns the subject's identifier of the given kind (email or
// phone) whose blind index is blind, so that the verifier can send a code to
// the address or number on file. It writes the audit entry first (purpose
// rights, the identifier's kind as the field, requestID as the request) and
// unseals only once the entry is durable: if it cannot be written, Contact
// fails. It returns ENOTFOUND when the subject holds no such identifier and
// EGONE when the subject's key was destroyed.
func (g *Gate) Contact(ctx context.Context, actor candor.Actor, subjectID, kind string, blind []byte, requestID string) (string, error) {
	idents, err := g.store.Identifiers(ctx, subjectID)
	if err != nil {
		return "", err
	}
	for _, id := range idents {
		if id.Kind != kind || !hmac.Equal(id.Blind, blind) {
			continue
		}
		if err := g.auditor.Append(ctx, candor.AuditEntry{Time: g.now(), Actor: actor.ID, Action: candor.ActionRead, Purpose: candor.PurposeRights,
			SubjectID: subjectID, Fields: []string{id.Kind}, Decision: candor.DecisionAllow, Reason: "send a verification code", TraceID: requestID}); err != nil {
			return "", fmt.Errorf("gate: audit: %w", err)
		}
		b, err := g.unseal(ctx, subjectID, "identifier:"+id.Kind, id.Sealed)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	return "", candor.Errorf(candor.ENOTFOUND, "no such identifier on file")
}

// OpenDelivery returns the body of a webhook delivery to a recipient. A
// body without a subject holds no personal data and is returned as it is;
// one sealed under its subject's key (a rectification forwarded to a
// recipient) is opened after an audit entry (purpose rights: the duty to
// tell recipients of a rectification) is written, once per attempt, since
// each attempt discloses. It returns EGONE when the subject was erased.
func (g *Gate) OpenDelivery(ctx context.Context, d candor.Delivery) ([]byte, error) {
	if d.SubjectID == "" {
		return d.Body, nil
	}
	if err := g.auditor.Append(ctx, candor.AuditEntry{Time: g.now(), Actor: "job:webhooks", Action: candor.ActionRead, Purpose: candor.PurposeRights,
		SubjectID: d.SubjectID, Fields: []string{"delivery"}, Decision: candor.DecisionAllow, Reason: d.Event + " to " + d.Recipient, RightsRequest: d.RequestID}); err != nil {
		return nil, fmt.Errorf("gate: audit: %w", err)
	}
	return g.unseal(ctx, d.SubjectID, candor.DeliveryField(d.ID), d.Body)
}

// unseal opens a ciphertext, turning a destroyed key into EGONE.
func (g *Gate) unseal(ctx context.Context, subjectID, field string, sealed []byte) ([]byte, error) {
	b, err := g.sealer.Unseal(ctx, subjectID, field, sealed)
	if errors.Is(err, vault.ErrShredded) {
		return nil, &candor.Error{Code: candor.EGONE, Message: "the subject was erased", Reason: "erased"}
	}
	if err != nil {
		return nil, fmt.Errorf("gate: unseal %s: %w", field, err)
	}
	return b, nil
}

// BirthDates returns the consent ledger's source of birth dates (for
// consent.Options.BirthDates): it finds the field of category birth date
// in the policy and opens the subjects' values, in one read for a page of
// a bulk run. The birth date never leaves the decision: the ledger keeps
// it in the derived state only to tell whether a guardian's consent is
// needed, and no caller of the gate is given it (a read of the field
// itself goes through [Gate.Read] and is audited). A subject is left out
// when the policy declares no birth date, when it has none or when the
// value is not a date; it returns an error when a value cannot be opened.
// It panics on a nil store, unsealer or policy.
func BirthDates(store candor.Store, unsealer Unsealer, policy *candor.Policy) func(ctx context.Context, subjectIDs []string) (map[string]time.Time, error) {
	if store == nil || unsealer == nil || policy == nil {
		panic("gate: BirthDates needs a store, an unsealer and a policy")
	}
	return func(ctx context.Context, subjectIDs []string) (map[string]time.Time, error) {
		f := policy.FieldByCategory(candor.CategoryBirthDate)
		if f == nil || len(subjectIDs) == 0 {
			return nil, nil
		}
		fields := []string{f.ID}
		var sealed map[string][]candor.Trait
		if len(subjectIDs) == 1 {
			// One person's decision: the plain read, which a store may cache.
			traits, err := store.Traits(ctx, subjectIDs[0], fields)
			if err != nil {
				return nil, err
			}
			sealed = map[string][]candor.Trait{subjectIDs[0]: traits}
		} else {
			var err error
			if sealed, err = store.BulkTraits(ctx, subjectIDs, fields); err != nil {
				return nil, err
			}
		}
		out := make(map[string]time.Time, len(sealed))
		for id, traits := range sealed {
			if len(traits) != 1 {
				continue
			}
			b, err := unsealer.Unseal(ctx, id, f.ID, traits[0].Sealed)
			if errors.Is(err, vault.ErrShredded) {
				continue // being erased: nothing of theirs opens any more
			}
			if err != nil {
				return nil, fmt.Errorf("gate: birth date: %w", err)
			}
			if t, err := time.Parse(time.DateOnly, string(b)); err == nil {
				out[id] = t
			}
		}
		return out, nil
	}
}

// RefusalReason returns why a request was refused, for the actor to read:
// the person themself in the portal, or staff in the console and the API.
// A reason Candor wrote itself is returned as it is; one typed by staff is
// sealed under the person's key, and is opened only after an audit entry
// (purpose rights) is written. It returns EGONE once the person was erased
// (the reason went with their key) and an internal error when the audit
// entry could not be written.
func (g *Gate) RefusalReason(ctx context.Context, actor candor.Actor, r *candor.RightsRequest) (string, error) {
	if len(r.Details.ReasonSealed) == 0 {
		return r.Details.Reason, nil
	}
	if err := g.auditor.Append(ctx, candor.AuditEntry{Time: g.now(), Actor: actor.ID, Action: candor.ActionRead, Purpose: candor.PurposeRights,
		SubjectID: r.SubjectID, Fields: []string{"refusal_reason"}, Decision: candor.DecisionAllow, Reason: "refusal reason", RightsRequest: r.ID}); err != nil {
		return "", fmt.Errorf("gate: audit: %w", err)
	}
	b, err := g.unseal(ctx, r.SubjectID, candor.RefusalField(r.ID), r.Details.ReasonSealed)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
