// Package subjects creates, merges and finds subjects: the people whose data
// Candor holds. Identifiers (user id, anonymous id, e-mail, phone) are found
// through the keyed blind index; traits are checked against the policy and
// sealed under the subject's key before they reach the store.
package subjects

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/vault"
)

// Limits on what a subject write may carry.
const (
	MaxTraits      = 100
	MaxStringBytes = 1024
	MaxIDBytes     = 200
)

// KeyVault is what the service needs of the vault ([vault.Vault] is one):
// it makes subject keys, seals and reseals under them, shreds them, and
// computes the blind indexes that find a subject by identifier.
type KeyVault interface {
	candor.Sealer
	// Reseal opens a ciphertext of one subject and seals it for another
	// inside the vault, so that a merge never holds the plaintext.
	Reseal(ctx context.Context, fromSubject, intoSubject, field string, sealed []byte) ([]byte, error)
	// NewSubjectKey makes the key of a new subject.
	NewSubjectKey(ctx context.Context, subjectID string) error
	// BlindIndex returns the keyed hash of a normalized identifier.
	BlindIndex(kind, normalized string) []byte
	// ShredAndJournal destroys a subject's key and journals the erasure
	// (of the visitor merged away).
	ShredAndJournal(ctx context.Context, e candor.Erasure) error
}

// Service creates, merges and finds subjects.
type Service struct {
	store   candor.Store
	vault   KeyVault
	policy  *candor.Policy
	auditor candor.Auditor
	now     func() time.Time
	// changed is told of every subject written, so derived state is dropped.
	changed func(subjectID string)
	// found caches identifier → subject look-ups that found a subject. An
	// identifier never moves to another subject; a subject that is erased
	// leaves a stale entry for at most foundTTL, which callers tolerate
	// (an event for it is not stored).
	foundMu sync.Mutex
	found   map[string]foundEntry
}

type foundEntry struct {
	id      string
	expires time.Time
}

// Bounds of the look-up cache.
const (
	foundTTL = time.Minute
	foundMax = 100000
)

// Options configures a [Service].
type Options struct {
	Store   candor.Store
	Vault   KeyVault
	Policy  *candor.Policy
	Auditor candor.Auditor
	Now     func() time.Time
	Changed func(subjectID string)
}

// New returns a service. It panics when the store, the vault, the policy or
// the auditor is missing.
func New(o Options) *Service {
	switch {
	case o.Store == nil:
		panic("subjects: New without a Store")
	case o.Vault == nil:
		panic("subjects: New without a Vault")
	case o.Policy == nil:
		panic("subjects: New without a Policy")
	case o.Auditor == nil:
		panic("subjects: New without an Auditor")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Changed == nil {
		o.Changed = func(string) {}
	}
	return &Service{store: o.Store, vault: o.Vault, policy: o.Policy, auditor: o.Auditor, now: o.Now, changed: o.Changed}
}

// Input is a create-or-merge request.
type Input struct {
	UserID      string
	AnonymousID string
	Email       string
	Phone       string
	Traits      map[string]any
	// Source says where the values come from (api, identify, demo, …);
	// default api. The access report shows it for each trait.
	Source string
}

// Upsert creates a subject, or merges into the one its identifiers name.
// It reports the subject id and whether it was created.
//
// It returns EINVALID naming every undeclared trait or bad value, and
// ECONFLICT when the identifiers name two different subjects.
func (s *Service) Upsert(ctx context.Context, actor candor.Actor, requestID string, in Input) (string, bool, error) {
	idents, traits, err := s.validate(in)
	if err != nil {
		return "", false, err
	}
	if len(idents) == 0 {
		return "", false, candor.Invalid("at least one identifier is required: user_id, anonymous_id, email or phone",
			candor.FieldError{Field: "user_id", Message: "required unless another identifier is given"})
	}
	for attempt := 0; ; attempt++ {
		id, created, err := s.upsert(ctx, idents, traits, cmp.Or(in.Source, "api"))
		if candor.ErrorCode(err) == candor.ECONFLICT && attempt < 3 {
			// A concurrent write took one of the identifiers; look again.
			continue
		}
		if err != nil {
			return "", false, err
		}
		action := candor.ActionSubjectMerge
		if created {
			action = candor.ActionSubjectCreate
		}
		names := make([]string, 0, len(traits))
		for _, t := range traits {
			names = append(names, t.field)
		}
		if err := s.auditor.Append(ctx, candor.AuditEntry{Time: s.now(), Actor: actor.ID, Action: action, SubjectID: id, Fields: names, Decision: candor.DecisionOK, TraceID: requestID}); err != nil {
			return "", false, fmt.Errorf("subjects: audit: %w", err)
		}
		return id, created, nil
	}
}

type ident struct{ kind, value string }
type trait struct{ field, value string }

func (s *Service) upsert(ctx context.Context, idents []ident, traits []trait, source string) (string, bool, error) {
	blinds := make([][]byte, len(idents))
	id := ""
	for i, x := range idents {
		blinds[i] = s.vault.BlindIndex(x.kind, x.value)
		found, err := s.store.FindSubject(ctx, x.kind, blinds[i])
		switch {
		case candor.ErrorCode(err) == candor.ENOTFOUND:
		case err != nil:
			return "", false, err
		case id != "" && found != id:
			return "", false, &candor.Error{Code: candor.ECONFLICT, Message: "the identifiers belong to different subjects", Reason: "identifier_conflict",
				Fields: []candor.FieldError{{Field: x.kind, Message: "belongs to another subject than the other identifiers"}}}
		default:
			id = found
		}
	}
	if err := s.checkSuppressed(ctx, idents, blinds); err != nil {
		return "", false, err
	}
	created := id == ""
	if created {
		id = candor.NewID(candor.PrefixSubject)
		if err := s.vault.NewSubjectKey(ctx, id); err != nil {
			return "", false, err
		}
	}
	w := candor.SubjectWrite{SubjectID: id, Create: created, At: s.now()}
	for i, x := range idents {
		sealed, err := s.vault.Seal(ctx, id, "identifier:"+x.kind, []byte(x.value))
		if err != nil {
			return "", false, err
		}
		w.Identifiers = append(w.Identifiers, candor.Identifier{Kind: x.kind, Blind: blinds[i], Sealed: sealed})
	}
	for _, t := range traits {
		sealed, err := s.vault.Seal(ctx, id, t.field, []byte(t.value))
		if err != nil {
			return "", false, err
		}
		w.Traits = append(w.Traits, candor.Trait{Field: t.field, Sealed: sealed, Source: source})
	}
	if err := s.store.WriteSubject(ctx, w); err != nil {
		return "", false, err // a key made for a subject never written seals nothing
	}
	s.changed(id)
	return id, created, nil
}

// validate checks and normalizes the input against the policy, collecting
// every problem. Messages name fields, never values.
func (s *Service) validate(in Input) ([]ident, []trait, error) {
	var errs []candor.FieldError
	var idents []ident
	var traits []trait
	add := func(kind, v string) {
		if v == "" {
			return
		}
		if len(v) > MaxIDBytes || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n") {
			errs = append(errs, candor.FieldError{Field: kind, Message: "not a valid identifier"})
			return
		}
		idents = append(idents, ident{kind, v})
	}
	add(candor.IdentUserID, strings.TrimSpace(in.UserID))
	add(candor.IdentAnonymousID, strings.TrimSpace(in.AnonymousID))
	contact := func(kind, category, raw string) {
		f := s.policy.FieldByCategory(category)
		if f == nil {
			errs = append(errs, candor.FieldError{Field: kind, Message: "the policy declares no field of category " + category})
			return
		}
		v, err := normalize(f, raw)
		if err != nil {
			errs = append(errs, candor.FieldError{Field: kind, Message: err.Error()})
			return
		}
		idents = append(idents, ident{kind, v})
		traits = append(traits, trait{f.ID, v})
	}
	if in.Email != "" {
		contact(candor.IdentEmail, candor.CategoryEmail, in.Email)
	}
	if in.Phone != "" {
		contact(candor.IdentPhone, candor.CategoryPhone, in.Phone)
	}
	if len(in.Traits) > MaxTraits {
		errs = append(errs, candor.FieldError{Field: "traits", Message: fmt.Sprintf("more than %d traits", MaxTraits)})
	}
	names := make([]string, 0, len(in.Traits))
	for k := range in.Traits {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		f := s.policy.Field(name)
		if f == nil {
			errs = append(errs, candor.FieldError{Field: "traits." + safeName(name), Message: "undeclared: the policy declares no field " + safeName(name)})
			continue
		}
		v, err := traitValue(f, in.Traits[name])
		if err != nil {
			errs = append(errs, candor.FieldError{Field: "traits." + name, Message: err.Error()})
			continue
		}
		if v == "" {
			continue
		}
		switch {
		case f.Category == candor.CategoryEmail && in.Email == "":
			idents = append(idents, ident{candor.IdentEmail, v})
		case f.Category == candor.CategoryPhone && in.Phone == "":
			idents = append(idents, ident{candor.IdentPhone, v})
		case f.Category == candor.CategoryEmail || f.Category == candor.CategoryPhone:
			errs = append(errs, candor.FieldError{Field: "traits." + name, Message: "give it once, as a trait or at the top level"})
			continue
		}
		traits = append(traits, trait{f.ID, v})
	}
	if len(errs) > 0 {
		return nil, nil, candor.Invalid("the subject is not valid", errs...)
	}
	return idents, traits, nil
}

// safeName shortens a member name from the input for use in a message.
func safeName(s string) string {
	if len(s) > 64 || !utf8.ValidString(s) {
		return "(a long or invalid name)"
	}
	return s
}

func normalize(f *candor.Field, raw string) (string, error) {
	switch f.Type {
	case "email":
		v, err := vault.NormalizeEmail(raw)
		if err != nil {
			return "", fmt.Errorf("not a valid e-mail address")
		}
		return v, nil
	case "phone":
		v, err := vault.NormalizePhone(raw, "CN")
		if err != nil {
			return "", fmt.Errorf("not a valid phone number")
		}
		return v, nil
	}
	return raw, nil
}

// traitValue checks a JSON value against the field's type and returns its
// normalized text form.
func traitValue(f *candor.Field, v any) (string, error) {
	if v == nil {
		return "", nil
	}
	switch f.Type {
	case "number":
		switch n := v.(type) {
		case float64:
			if math.IsNaN(n) || math.IsInf(n, 0) {
				return "", fmt.Errorf("want a number")
			}
			return strconv.FormatFloat(n, 'f', -1, 64), nil
		case interface{ String() string }: // json.Number
			if _, err := strconv.ParseFloat(n.String(), 64); err != nil {
				return "", fmt.Errorf("want a number")
			}
			return n.String(), nil
		}
		return "", fmt.Errorf("want a number")
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return "", fmt.Errorf("want true or false")
		}
		return strconv.FormatBool(b), nil
	}
	str, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("want a string")
	}
	str = strings.TrimSpace(str)
	if len(str) > MaxStringBytes || !utf8.ValidString(str) || strings.ContainsRune(str, 0) {
		return "", fmt.Errorf("too long or not valid text")
	}
	switch f.Type {
	case "email", "phone":
		return normalize(f, str)
	case "date":
		t, err := time.Parse(time.DateOnly, str)
		if err != nil {
			return "", fmt.Errorf("want a date as YYYY-MM-DD")
		}
		if t.Year() < 1900 || t.After(time.Now().AddDate(0, 0, 1)) {
			return "", fmt.Errorf("date out of range")
		}
		return t.Format(time.DateOnly), nil
	}
	return str, nil
}

// Normalize puts an identifier in the form its blind index is computed
// from: e-mail addresses lower-cased and trimmed, phone numbers in E.164
// (default region CN). It returns EINVALID for a value that is not one.
func Normalize(kind, value string) (string, error) {
	value = strings.TrimSpace(value)
	var err error
	switch kind {
	case candor.IdentEmail:
		value, err = vault.NormalizeEmail(value)
	case candor.IdentPhone:
		value, err = vault.NormalizePhone(value, "CN")
	case candor.IdentUserID, candor.IdentAnonymousID:
		if value == "" || len(value) > MaxIDBytes {
			err = candor.Errorf(candor.EINVALID, "not a valid identifier")
		}
	default:
		return "", candor.Errorf(candor.EINVALID, "unknown identifier kind")
	}
	if err != nil {
		return "", candor.Invalid("not a valid "+kind, candor.FieldError{Field: kind, Message: "not valid"})
	}
	return value, nil
}

// Find returns the id of the subject an identifier names, or ENOTFOUND.
func (s *Service) Find(ctx context.Context, kind, value string) (string, error) {
	value, err := Normalize(kind, value)
	if err != nil {
		return "", err
	}
	blind := s.vault.BlindIndex(kind, value)
	key := kind + ":" + string(blind)
	now := time.Now()
	s.foundMu.Lock()
	e, ok := s.found[key]
	s.foundMu.Unlock()
	if ok && now.Before(e.expires) {
		return e.id, nil
	}
	id, err := s.store.FindSubject(ctx, kind, blind)
	if err != nil {
		return "", err
	}
	s.foundMu.Lock()
	if s.found == nil || len(s.found) >= foundMax {
		s.found = make(map[string]foundEntry) // bounded: start again
	}
	s.found[key] = foundEntry{id: id, expires: now.Add(foundTTL)}
	s.foundMu.Unlock()
	return id, nil
}

// EvictLookups drops the cached identifier look-ups that lead to the
// subject, and nothing else (the store is not touched): call it when the
// subject is erased, merged away or its identifiers change, so that
// [Service.Find] stops finding it by them at once rather than after
// foundTTL.
func (s *Service) EvictLookups(subjectID string) {
	s.foundMu.Lock()
	defer s.foundMu.Unlock()
	for k, e := range s.found {
		if e.id == subjectID {
			delete(s.found, k)
		}
	}
}

// Resolve returns the subject an identifier names, creating it with that
// identifier when there is none (a visitor's first consent, say).
func (s *Service) Resolve(ctx context.Context, actor candor.Actor, requestID, kind, value string) (string, error) {
	id, err := s.Find(ctx, kind, value)
	if candor.ErrorCode(err) != candor.ENOTFOUND {
		return id, err
	}
	in := Input{}
	switch kind {
	case candor.IdentUserID:
		in.UserID = value
	case candor.IdentAnonymousID:
		in.AnonymousID = value
	default:
		return "", err
	}
	id, _, err = s.Upsert(ctx, actor, requestID, in)
	return id, err
}

// Merge moves one subject into another: an anonymous visitor who turns out
// to be a known user (Segment's alias, or identify with both ids). Into
// gets From's identifiers, the traits it lacks, its events and its sharing
// ledger, all re-sealed under Into's key, in one transaction; From is then
// deleted and its key destroyed and journalled, as for an erasure, so that
// a restored backup cannot bring it back.
//
// Consents: From's refusals and withdrawals newer than Into's own entry
// for the purpose are carried over; its grants are not. A choice made in a
// banner before signing in cannot be attributed to the account's holder
// with certainty, and a refusal is always safe to honour; the person is
// asked again when signed in.
//
// It returns ENOTFOUND when either subject is missing.
func (s *Service) Merge(ctx context.Context, actor candor.Actor, requestID, from, into string) error {
	if from == into {
		return nil
	}
	reseal := func(field string, sealed []byte) ([]byte, error) {
		b, err := s.vault.Reseal(ctx, from, into, field, sealed)
		if err != nil {
			return nil, fmt.Errorf("subjects: merge: %w", err)
		}
		return b, nil
	}
	m := candor.SubjectMerge{From: from, Into: into, At: s.now()}
	idents, err := s.store.Identifiers(ctx, from)
	if err != nil {
		return err
	}
	if !candor.Anonymous(idents) {
		// An account is never merged into another: whoever knows its
		// anonymous id (a cookie) would take it over.
		return &candor.Error{Code: candor.ECONFLICT, Reason: "not_anonymous",
			Message: "only an anonymous visitor is merged into an account: this one has a user id or a verified identifier"}
	}
	for _, id := range idents {
		if id.Sealed, err = reseal("identifier:"+id.Kind, id.Sealed); err != nil {
			return err
		}
		m.Identifiers = append(m.Identifiers, id)
	}
	mine, err := s.store.Traits(ctx, into, nil)
	if err != nil {
		return err
	}
	has := map[string]bool{}
	for _, t := range mine {
		has[t.Field] = true
	}
	traits, err := s.store.Traits(ctx, from, nil)
	if err != nil {
		return err
	}
	for _, t := range traits {
		if has[t.Field] {
			continue
		}
		if t.Sealed, err = reseal(t.Field, t.Sealed); err != nil {
			return err
		}
		m.Traits = append(m.Traits, t)
	}
	events, err := s.store.SubjectEvents(ctx, from, time.Time{}, 1_000_000)
	if err != nil {
		return err
	}
	for _, e := range events {
		if e.Sealed, err = reseal(candor.EventSealField(e.ID), e.Sealed); err != nil {
			return err
		}
		m.Events = append(m.Events, e)
	}
	latest := func(list []candor.Consent) map[string]candor.Consent {
		out := map[string]candor.Consent{}
		for _, c := range list {
			out[c.Purpose] = c
		}
		return out
	}
	fromLedger, err := s.store.Consents(ctx, from)
	if err != nil {
		return err
	}
	intoLedger, err := s.store.Consents(ctx, into)
	if err != nil {
		return err
	}
	own := latest(intoLedger)
	receipt := candor.NewID(candor.PrefixReceipt)
	for purpose, c := range latest(fromLedger) {
		if c.State == candor.ConsentGranted {
			continue
		}
		if o, ok := own[purpose]; ok && !c.At.After(o.At) {
			continue
		}
		state := candor.ConsentDenied
		if o, ok := own[purpose]; ok && o.State == candor.ConsentGranted {
			state = candor.ConsentWithdrawn
		}
		m.Consents = append(m.Consents, candor.Consent{ID: candor.NewID(candor.PrefixConsent), ReceiptID: receipt, SubjectID: into, Purpose: purpose, State: state,
			NoticeHash: c.NoticeHash, Channel: "merge", GPC: c.GPC, Explicit: c.Explicit, Actor: actor.ID, At: c.At})
	}
	if err := s.store.MergeSubject(ctx, m); err != nil {
		return err
	}
	s.changed(from)
	s.changed(into)
	s.EvictLookups(from)
	if err := s.vault.ShredAndJournal(ctx, candor.Erasure{SubjectID: from, At: m.At, RequestID: "merged-into:" + into}); err != nil {
		return err
	}
	err = s.auditor.Append(ctx, candor.AuditEntry{Time: m.At, Actor: actor.ID, Action: candor.ActionSubjectMerge, SubjectID: into, Decision: candor.DecisionOK,
		Reason: fmt.Sprintf("merged %s: %d identifiers, %d traits, %d events, %d refusals", from, len(m.Identifiers), len(m.Traits), len(m.Events), len(m.Consents)), TraceID: requestID})
	if err != nil {
		return fmt.Errorf("subjects: audit: %w", err)
	}
	return nil
}

// Rectify replaces traits of a subject with corrected values (PIPL Art.
// 46, GDPR Art. 16), checked against the policy like any trait, sealed,
// stored and audited. A corrected e-mail address or phone number replaces
// the identifier too. It returns the values it wrote, by field, as stored
// (normalized); ENOTFOUND for an unknown subject, ECONFLICT when a new
// e-mail or phone is someone else's.
func (s *Service) Rectify(ctx context.Context, actor candor.Actor, requestID, subjectID string, traits map[string]any) (map[string]string, error) {
	if len(traits) == 0 {
		return nil, candor.Invalid("name the traits to correct", candor.FieldError{Field: "traits", Message: "required"})
	}
	idents, checked, err := s.validate(Input{Traits: traits})
	if err != nil {
		return nil, err
	}
	// A corrected e-mail or phone is an identifier too: the old one is
	// replaced (ECONFLICT if the new one is someone else's).
	w := candor.SubjectWrite{SubjectID: subjectID, At: s.now()}
	for _, x := range idents {
		sealed, err := s.vault.Seal(ctx, subjectID, "identifier:"+x.kind, []byte(x.value))
		if err != nil {
			return nil, err
		}
		// A rectification is verified: by staff who checked the person's
		// identity, or by the person proving control of the new value.
		w.Identifiers = append(w.Identifiers, candor.Identifier{Kind: x.kind, Blind: s.vault.BlindIndex(x.kind, x.value), Sealed: sealed, Origin: candor.OriginVerified})
		w.Replace = append(w.Replace, x.kind)
	}
	blinds := make([][]byte, len(w.Identifiers))
	for i, x := range w.Identifiers {
		blinds[i] = x.Blind
	}
	if err := s.checkSuppressed(ctx, idents, blinds); err != nil {
		return nil, err
	}
	var fields []string
	values := map[string]string{}
	for _, t := range checked {
		sealed, err := s.vault.Seal(ctx, subjectID, t.field, []byte(t.value))
		if err != nil {
			return nil, err
		}
		w.Traits = append(w.Traits, candor.Trait{Field: t.field, Sealed: sealed, Source: "rectification"})
		fields = append(fields, t.field)
		values[t.field] = t.value
	}
	if err := s.store.WriteSubject(ctx, w); err != nil {
		return nil, err
	}
	s.changed(subjectID)
	s.EvictLookups(subjectID) // a look-up by the old e-mail or phone must not find them
	if err := s.auditor.Append(ctx, candor.AuditEntry{Time: s.now(), Actor: actor.ID, Action: candor.ActionSubjectRectify, SubjectID: subjectID, Fields: fields,
		Decision: candor.DecisionOK, TraceID: requestID}); err != nil {
		return nil, fmt.Errorf("subjects: audit: %w", err)
	}
	return values, nil
}

// ErrSuppressedReason is the Reason of the error that refuses an e-mail
// address or phone number on the suppression list.
const ErrSuppressedReason = "suppressed"

// checkSuppressed refuses e-mail addresses and phone numbers on the
// suppression list: a person erased with "do not contact me again" is not
// collected again, by any path.
func (s *Service) checkSuppressed(ctx context.Context, idents []ident, blinds [][]byte) error {
	for i, x := range idents {
		if x.kind != candor.IdentEmail && x.kind != candor.IdentPhone {
			continue
		}
		sup, err := s.store.Keys().Suppressed(ctx, x.kind, blinds[i])
		if err != nil {
			return fmt.Errorf("subjects: suppression list: %w", err)
		}
		if sup {
			return &candor.Error{Code: candor.EINVALID, Reason: ErrSuppressedReason,
				Message: "the " + kindText(x.kind) + " is on the suppression list: its holder was erased and asked never to be contacted again",
				Fields:  []candor.FieldError{{Field: x.kind, Message: "on the suppression list"}}}
		}
	}
	return nil
}

func kindText(kind string) string {
	if kind == candor.IdentPhone {
		return "phone number"
	}
	return "e-mail address"
}

// IsAccount reports whether the subject is more than an anonymous visitor:
// it holds a user id, an e-mail address or a phone number. A public
// (browser) key that names only an anonymous id may not change an account.
func (s *Service) IsAccount(ctx context.Context, subjectID string) (bool, error) {
	idents, err := s.store.Identifiers(ctx, subjectID)
	if err != nil {
		return false, err
	}
	for _, id := range idents {
		if id.Kind != candor.IdentAnonymousID {
			return true, nil
		}
	}
	return false, nil
}
