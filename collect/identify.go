package collect

import (
	"context"
	"errors"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/subjects"
)

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
		if _, err := c.o.Ledger.RecordSignal(ctx, actor, sig.RequestID, subjectID, sig.channel()); err != nil {
			return err
		}
	}
	if ids.Traits, err = c.allowedTraits(ctx, subjectID, traits, f); err != nil {
		return err
	}
	return c.storeTraits(ctx, actor, sig, ids, f)
}

// allowedTraits returns the traits that the policy declares and that a
// purpose allowed for the subject covers; an undeclared one is dropped
// (or, as the policy says, rejected).
func (c *Collector) allowedTraits(ctx context.Context, subjectID string, traits map[string]any, f *findings) (map[string]any, error) {
	keep := map[string]any{}
	for k, v := range traits {
		item := "traits." + safeName(k)
		field := c.o.Policy.Field(k)
		if field == nil {
			if c.o.Policy.Undeclared == "reject" {
				f.note(item, ActionRejected, ReasonUndeclared)
				return nil, candor.Invalid("trait "+safeName(k)+" is not declared in the policy", candor.FieldError{Field: "traits." + safeName(k), Message: "undeclared"})
			}
			f.note(item, ActionDropped, ReasonUndeclared)
			continue
		}
		allowed := false
		for _, p := range field.Purposes {
			d, err := c.o.Gate.Decide(ctx, subjectID, p)
			if err != nil {
				return nil, err
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
	return keep, nil
}

// storeTraits stores the subject's identifiers and traits; of what the
// subjects service refuses (a wrong type; an e-mail or phone that belongs
// to someone else), it drops what is at fault and stores the rest, up to
// three times.
func (c *Collector) storeTraits(ctx context.Context, actor candor.Actor, sig Signals, ids subjects.Input, f *findings) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		_, _, err = c.o.Subjects.Upsert(ctx, actor, sig.RequestID, ids)
		var ce *candor.Error
		if err == nil || !errors.As(err, &ce) || (ce.Code != candor.EINVALID && ce.Code != candor.ECONFLICT) || len(ce.Fields) == 0 {
			break
		}
		if c.o.Policy.Undeclared == "reject" && ce.Code == candor.EINVALID && ce.Reason != subjects.ErrSuppressedReason {
			return err
		}
		dropFaults(&ids, ce, f)
	}
	return err
}

// dropFaults drops from ids the traits and the anonymous id that ce names
// at fault, and counts them.
func dropFaults(ids *subjects.Input, ce *candor.Error, f *findings) {
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

// anonymousAccount reports whether an anonymous id belongs to an account
// (a subject with a user id, an e-mail or a phone).
func (c *Collector) anonymousAccount(ctx context.Context, anonID string) (bool, error) {
	id, err := c.subjectOf(ctx, "", anonID)
	if err != nil || id == "" {
		return false, err
	}
	return c.o.Subjects.IsAccount(ctx, id)
}
