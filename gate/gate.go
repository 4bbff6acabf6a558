// Package gate is the one door through which personal data leaves storage.
//
// Every read names an actor and a purpose. The gate decides from the actor's
// role, the purpose's legal basis, the subject's current consent (separate
// consent for sensitive data, a guardian's consent for children), the
// subject's restriction and the fields declared for the purpose; it masks
// what the role may see only partly; it writes the audit entry; and only then
// does it return. If the audit entry cannot be written, the read fails.
package gate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/vault"
)

// Decision codes: why a decision allowed or denied.
const (
	CodeGranted         = "granted"            // consent granted and current
	CodeBasis           = "basis"              // the purpose rests on another basis than consent
	CodeUnknownSubject  = "unknown_subject"    // no such subject
	CodeNoConsent       = "no_consent"         // never asked, or never answered
	CodeDenied          = "denied"             // the person said no
	CodeWithdrawn       = "withdrawn"          // the person said yes, then no
	CodeStale           = "reconsent_needed"   // the purpose changed since the consent
	CodeGuardian        = "guardian_needed"    // a child, without a guardian's consent
	CodeRestricted      = "restricted"         // processing restricted by the person
	CodeObjected        = "objected"           // the person objected to the purpose
	CodeSeparateConsent = "separate_consent"   // needs consent given to this purpose on its own
	CodeRole            = "role"               // the actor's role may not use this purpose
	CodeUndeclared      = "field_not_declared" // a field asked for is not declared for the purpose
)

// Decision says whether a subject's data may be processed for a purpose now.
type Decision struct {
	Allow     bool   `json:"allow"`
	Code      string `json:"code"`
	Reason    string `json:"reason"`
	Reconsent bool   `json:"reconsent_needed,omitempty"`
	Purpose   string `json:"purpose"`
	Basis     string `json:"basis"`
	// Since is when the person made the choice the decision rests on
	// (granted, denied, withdrawn); zero when it rests on none.
	Since time.Time `json:"since,omitzero"`
	// GPC is true when that choice was a Global Privacy Control signal.
	GPC bool `json:"gpc,omitempty"`
}

// Gate decides and reads.
type Gate struct {
	policy  *candor.Policy
	ledger  *consent.Ledger
	store   candor.Store
	sealer  Unsealer
	auditor candor.Auditor
	now     func() time.Time
}

// Unsealer decrypts what a [candor.Sealer] sealed for the same subject and
// field. The vault implements it, and only the gate holds one: every other
// package seals ([candor.Sealer]) and reads through the gate, which audits
// before it returns. A test (doors_test.go at the module root) fails on any
// call of Unseal outside gate/ and vault/.
type Unsealer interface {
	Unseal(ctx context.Context, subjectID, field string, ciphertext []byte) ([]byte, error)
}

// Options configures a [Gate].
type Options struct {
	Policy *candor.Policy
	Ledger *consent.Ledger
	Store  candor.Store
	// Unsealer opens sealed personal data; the vault.
	Unsealer Unsealer
	Auditor  candor.Auditor
	Now      func() time.Time
}

// New returns a gate. It panics when the policy, the ledger, the store, the
// unsealer or the auditor is missing: a gate that cannot audit must not
// exist.
func New(o Options) *Gate {
	switch {
	case o.Policy == nil:
		panic("gate: New without a Policy")
	case o.Ledger == nil:
		panic("gate: New without a Ledger")
	case o.Store == nil:
		panic("gate: New without a Store")
	case o.Unsealer == nil:
		panic("gate: New without an Unsealer")
	case o.Auditor == nil:
		panic("gate: New without an Auditor")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Gate{policy: o.Policy, ledger: o.Ledger, store: o.Store, sealer: o.Unsealer, auditor: o.Auditor, now: o.Now}
}

// Decide says whether the subject's data may be processed for purpose now.
// It returns EINVALID for an unknown purpose.
func (g *Gate) Decide(ctx context.Context, subjectID, purpose string) (Decision, error) {
	p := g.policy.Purpose(purpose)
	if p == nil {
		return Decision{}, candor.Invalid("unknown purpose", candor.FieldError{Field: "purpose", Message: "not declared in the policy"})
	}
	st, err := g.ledger.State(ctx, subjectID)
	if err != nil {
		return Decision{}, err
	}
	return g.evaluate(st, p), nil
}

// evaluate is the decision itself, from derived state and the policy.
func (g *Gate) evaluate(st *consent.State, p *candor.Purpose) Decision {
	d := Decision{Purpose: p.ID, Basis: string(p.Basis)}
	deny := func(code, reason string) Decision {
		d.Code, d.Reason = code, reason
		return d
	}
	if !st.Exists {
		return deny(CodeUnknownSubject, "no such subject")
	}
	if st.Restricted && p.Basis != candor.BasisLegalObligation {
		return deny(CodeRestricted, "the person restricted the processing of their data")
	}
	if st.Objected[p.ID] && p.Basis != candor.BasisLegalObligation {
		return deny(CodeObjected, "the person objected to "+p.ID)
	}
	if !p.NeedsConsent() {
		d.Allow, d.Code, d.Reason = true, CodeBasis, fmt.Sprintf("%s rests on %s", p.ID, p.Basis)
		return d
	}
	rec := st.Latest[p.ID]
	if rec != nil {
		d.Since, d.GPC = rec.At, rec.GPC
	}
	switch {
	case rec == nil:
		return deny(CodeNoConsent, "no consent to "+p.ID+" recorded")
	case rec.State == candor.ConsentDenied && rec.GPC && p.GPC == candor.GPCDeny:
		return deny(CodeDenied, "denied by a Global Privacy Control signal on "+rec.At.Format(time.DateOnly))
	case rec.State == candor.ConsentDenied:
		return deny(CodeDenied, "the person declined "+p.ID+" on "+rec.At.Format(time.DateOnly))
	case rec.State == candor.ConsentWithdrawn:
		return deny(CodeWithdrawn, "the person withdrew consent to "+p.ID+" on "+rec.At.Format(time.DateOnly))
	case p.SeparateConsent && !rec.Explicit:
		return deny(CodeSeparateConsent, p.ID+" needs consent given to it on its own")
	}
	if !st.BirthDate.IsZero() && g.policy.IsChild(st.BirthDate, g.now()) && !rec.Guardian {
		return deny(CodeGuardian, fmt.Sprintf("the person is under %d: a guardian's consent is needed", g.policy.AgeOfConsent()))
	}
	if g.ledger.Notices().Stale(rec.NoticeHash, p.ID) {
		d.Reconsent = true
		return deny(CodeStale, "re-consent needed: "+p.ID+" changed since the notice the consent was given against")
	}
	d.Allow, d.Code, d.Reason = true, CodeGranted, "consent to "+p.ID+" granted on "+rec.At.Format(time.DateOnly)
	return d
}

// fieldsOf resolves the fields a read asks for: every field declared for
// p when names is nil. It returns EINVALID for a field the policy does not
// declare, and the first field not declared for p (which the caller
// refuses, audited) as undeclared.
func (g *Gate) fieldsOf(p *candor.Purpose, names []string) (fields []*candor.Field, undeclared *candor.Field, err error) {
	if names == nil {
		return g.policy.FieldsFor(p.ID), nil, nil
	}
	for _, name := range names {
		f := g.policy.Field(name)
		if f == nil {
			return nil, nil, candor.Invalid("unknown field", candor.FieldError{Field: "fields", Message: "not declared in the policy"})
		}
		if !contains(f.Purposes, p.ID) {
			return nil, f, nil
		}
		fields = append(fields, f)
	}
	return fields, nil, nil
}

// open unseals the subject's traits into fields, masking those the role
// masks, and returns the masked ones' names (never nil). An erased
// subject's traits answer vault.ErrShredded.
func (g *Gate) open(ctx context.Context, subjectID string, traits []candor.Trait, masked map[string]bool, fields map[string]string) ([]string, error) {
	out := []string{}
	for _, t := range traits {
		v, err := g.sealer.Unseal(ctx, subjectID, t.Field, t.Sealed)
		if errors.Is(err, vault.ErrShredded) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("gate: unseal %s: %w", t.Field, err)
		}
		s := string(v)
		if masked[t.Field] {
			s = Mask(g.policy.Field(t.Field), s)
			out = append(out, t.Field)
		}
		fields[t.Field] = s
	}
	return out, nil
}

// withhold returns the ids of the fields that may be opened for p, and the
// sensitive ones withheld (nil when none): a sensitive field needs the
// person's separate, explicit consent to the purpose.
func withhold(st *consent.State, p *candor.Purpose, fields []*candor.Field) ([]string, map[string]string) {
	names := make([]string, 0, len(fields))
	var withheld map[string]string
	for _, f := range fields {
		if f.Sensitive && p.NeedsConsent() {
			if rec := st.Latest[p.ID]; rec == nil || !rec.Explicit || !p.SeparateConsent {
				if withheld == nil {
					withheld = map[string]string{}
				}
				withheld[f.ID] = CodeSeparateConsent
				continue
			}
		}
		names = append(names, f.ID)
	}
	return names, withheld
}

// Denial is the error of a read that the decision denied: an EFORBIDDEN
// [*candor.Error] (errors.As finds it) that carries the decision, so that a
// page can word it for its reader.
type Denial struct {
	Decision Decision
	err      *candor.Error
}

func (e *Denial) Error() string { return e.err.Error() }
func (e *Denial) Unwrap() error { return e.err }

// ReadRequest asks the gate for a subject's fields for a purpose.
type ReadRequest struct {
	Actor     candor.Actor
	Purpose   string
	SubjectID string
	// Fields to read; nil means every field declared for the purpose.
	Fields []string
	// RequestID is the read's trace id (the HTTP request id), written to
	// the audit entry's TraceID; when empty, the log takes the one the
	// context carries.
	RequestID string
	// Events adds aggregates of the subject's events collected for the
	// purpose (ReadResult.Events).
	Events bool
}

// ReadResult is what the gate lets through.
type ReadResult struct {
	SubjectID string            `json:"id"`
	Purpose   string            `json:"purpose"`
	Fields    map[string]string `json:"fields"`
	Masked    []string          `json:"masked"`
	// Withheld names fields declared for the purpose that the gate kept
	// back, and why.
	Withheld map[string]string `json:"withheld"`
	Decision Decision          `json:"decision"`
	// Events summarizes the subject's events collected for the purpose,
	// when asked for.
	Events *EventSummary `json:"events,omitempty"`
}

// Read returns the subject's fields for the purpose, masked per the actor's
// role, after writing the audit entry. A denied read is audited too.
//
// It returns EINVALID for an unknown purpose or field; EFORBIDDEN (with the
// decision's code as Reason; a [*Denial] carrying the decision when it was
// the decision that denied) when the role may not use the purpose, the
// decision denies, or a field is not declared for the purpose; EGONE when the
// subject's key was destroyed; and an internal error when the audit entry
// could not be written.
func (g *Gate) Read(ctx context.Context, r ReadRequest) (*ReadResult, error) {
	p := g.policy.Purpose(r.Purpose)
	if p == nil {
		return nil, candor.Invalid("unknown purpose", candor.FieldError{Field: "purpose", Message: "not declared in the policy"})
	}
	entry := candor.AuditEntry{Actor: r.Actor.ID, Action: candor.ActionRead, Purpose: p.ID, SubjectID: r.SubjectID, TraceID: r.RequestID}
	refuse := func(code, reason string) (*ReadResult, error) {
		entry.Time, entry.Decision, entry.Reason = g.now(), candor.DecisionDeny, code
		if err := g.auditor.Append(ctx, entry); err != nil {
			return nil, fmt.Errorf("gate: audit: %w", err)
		}
		return nil, &candor.Error{Code: candor.EFORBIDDEN, Message: reason, Reason: code}
	}
	deny := func(d Decision) (*ReadResult, error) {
		_, err := refuse(d.Code, d.Reason)
		if ce, ok := err.(*candor.Error); ok {
			return nil, &Denial{Decision: d, err: ce}
		}
		return nil, err
	}
	if !g.policy.RoleAllows(r.Actor.Role, p.ID) {
		return refuse(CodeRole, fmt.Sprintf("role %s may not process data for %s", r.Actor.Role, p.ID))
	}
	fields, undeclared, err := g.fieldsOf(p, r.Fields)
	if err != nil {
		return nil, err
	}
	if undeclared != nil {
		return refuse(CodeUndeclared, "field "+undeclared.ID+" is not declared for "+p.ID)
	}
	st, err := g.ledger.State(ctx, r.SubjectID)
	if err != nil {
		return nil, err
	}
	d := g.evaluate(st, p)
	if !d.Allow {
		if d.Code == CodeUnknownSubject {
			return nil, candor.Errorf(candor.ENOTFOUND, "subject not found")
		}
		return deny(d)
	}
	res := &ReadResult{SubjectID: r.SubjectID, Purpose: p.ID, Fields: map[string]string{}, Masked: []string{}, Withheld: map[string]string{}, Decision: d}
	names, withheld := withhold(st, p, fields)
	if withheld != nil {
		res.Withheld = withheld
	}
	traits, err := g.store.Traits(ctx, r.SubjectID, names)
	if err != nil {
		return nil, err
	}
	var masked map[string]bool
	if role := g.policy.Role(r.Actor.Role); role != nil {
		masked = make(map[string]bool, len(role.Masked))
		for _, m := range role.Masked {
			masked[m] = true
		}
	}
	if res.Masked, err = g.open(ctx, r.SubjectID, traits, masked, res.Fields); errors.Is(err, vault.ErrShredded) {
		return nil, &candor.Error{Code: candor.EGONE, Message: "the subject was erased", Reason: "erased"}
	} else if err != nil {
		return nil, err
	}
	returned := slices.Sorted(maps.Keys(res.Fields))
	if r.Events {
		if res.Events, err = g.eventSummary(ctx, r.SubjectID, p.ID); err != nil {
			return nil, err
		}
		returned = append(returned, "events")
	}
	entry.Time, entry.Fields, entry.Decision, entry.Reason = g.now(), returned, candor.DecisionAllow, d.Code
	if len(res.Withheld) > 0 {
		var w []string
		for f, why := range res.Withheld {
			w = append(w, f+":"+why)
		}
		sort.Strings(w)
		entry.Reason += " withheld=" + strings.Join(w, ",")
	}
	if err := g.auditor.Append(ctx, entry); err != nil {
		return nil, fmt.Errorf("gate: audit: %w", err)
	}
	return res, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
