package candor

import (
	"fmt"
	"time"
)

// Identifier kinds: the ways a subject can be looked up through the blind index.
const (
	IdentUserID      = "user_id"
	IdentAnonymousID = "anonymous_id"
	IdentEmail       = "email"
	IdentPhone       = "phone"
)

// IdentifierKinds lists the identifier kinds, in the order they are tried.
var IdentifierKinds = []string{IdentUserID, IdentEmail, IdentPhone, IdentAnonymousID}

// Subject is a person whose data Candor holds, known by a random id. It
// carries no personal data itself: traits and identifiers are sealed apart.
type Subject struct {
	ID         string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Restricted bool // processing restricted (PIPL Art. 44, GDPR Art. 18): only legal obligations may proceed
	// Version grows with every write that can change a decision about the
	// subject: its consents, its restriction, its objections, its traits.
	Version int64
	// Objections lists the purposes the person objected to (PIPL Art. 44,
	// GDPR Art. 21): refused from then on, unless a law requires them.
	Objections []string
}

// Identifier is a sealed identifier with its blind index.
type Identifier struct {
	Kind   string
	Blind  []byte // keyed blind index of the normalized value
	Sealed []byte // the normalized value, encrypted under the subject key
	// Origin says how the identifier was established: [OriginAccount],
	// [OriginVerified] or [OriginGiven]. Only the first two may sign a
	// person in (see [Identifier.SignsIn]).
	Origin string
}

// Identifier origins: how an identifier came to name its subject.
const (
	// OriginAccount: given when the account was created, or in the write
	// that first named an anonymous visitor (who had only anonymous ids).
	OriginAccount = "account"
	// OriginVerified: proved by a code sent to it (a verified change of
	// address), or checked by staff who verified the person's identity.
	OriginVerified = "verified"
	// OriginGiven: attached later by a key, without proof. It finds the
	// person, but a code is never sent to it: proving control of it opens
	// nothing.
	OriginGiven = "given"
)

// SignsIn reports whether proving control of the identifier may sign its
// subject in (a portal session, a verification token).
func (id Identifier) SignsIn() bool {
	return id.Origin == OriginAccount || id.Origin == OriginVerified
}

// SingleKind reports whether a subject holds at most one identifier of
// the kind: one user id, one e-mail address, one phone number; any number
// of anonymous ids (devices).
func SingleKind(kind string) bool { return kind != IdentAnonymousID }

// CheckSingle returns the ECONFLICT error a store gives when a subject
// holding held (its single-kind identifiers, by kind) is given another
// identifier of a single kind (Reason "identifier_on_file"), or nil.
func CheckSingle(held map[string][]byte, id Identifier) error {
	if b, ok := held[id.Kind]; ok && SingleKind(id.Kind) && string(b) != string(id.Blind) {
		return &Error{Code: ECONFLICT, Message: "the subject has a " + id.Kind + " on file already; a new one replaces it only through a verified change",
			Reason: "identifier_on_file", Fields: []FieldError{{Field: id.Kind, Message: "another one is on file"}}}
	}
	return nil
}

// OriginOf is the origin a store keeps for an identifier written to a
// subject that held only anonymous ids (or was created) when anonymousOnly.
func OriginOf(id Identifier, anonymousOnly bool) string {
	switch {
	case id.Origin != "":
		return id.Origin
	case anonymousOnly:
		return OriginAccount
	}
	return OriginGiven
}

// Anonymous reports whether a subject with these identifiers is only an
// anonymous visitor, and so may be merged into an account: no user id,
// no e-mail or phone that signs in.
func Anonymous(idents []Identifier) bool {
	for _, id := range idents {
		if id.Kind == IdentUserID || (id.Kind != IdentAnonymousID && id.SignsIn()) {
			return false
		}
	}
	return true
}

// Trait is a sealed value of a declared field.
type Trait struct {
	Field     string
	Sealed    []byte
	UpdatedAt time.Time
	// Source says where the value came from: api, identify, rectification,
	// merge, demo, … (the access report shows it).
	Source string
}

// SubjectWrite is one create-or-merge of a subject, already sealed.
type SubjectWrite struct {
	SubjectID   string
	Create      bool // true: the subject must not exist yet
	Identifiers []Identifier
	// Replace names identifier kinds whose current values are removed
	// before Identifiers are added (a rectified e-mail or phone).
	Replace []string
	Traits  []Trait
	At      time.Time
}

// SubjectMerge moves one subject into another (an anonymous visitor who
// signs in as a known user): everything the first holds, re-sealed under
// the second's key, in one transaction; the first is then deleted.
type SubjectMerge struct {
	From, Into  string
	Identifiers []Identifier // From's, re-sealed under Into's key
	Traits      []Trait      // From's traits Into lacks, re-sealed
	Events      []EventRecord
	Consents    []Consent // appended to Into's ledger
	At          time.Time
}

// ConsentState is the state a consent record sets for one purpose.
type ConsentState string

// Consent states.
const (
	ConsentGranted   ConsentState = "granted"
	ConsentDenied    ConsentState = "denied"
	ConsentWithdrawn ConsentState = "withdrawn"
)

// Consent is one entry of the consent ledger. Entries are appended, never updated.
type Consent struct {
	Seq        int64 // order in the ledger, set by the store
	ID         string
	ReceiptID  string // the receipt that recorded it; several entries share one
	SubjectID  string
	Purpose    string
	State      ConsentState
	NoticeHash string // the notice the person saw, by hash
	Channel    string // banner, portal, api, import, …
	GPC        bool   // a Global Privacy Control signal came with it
	Explicit   bool   // the purpose was named on its own, not granted by "accept all"
	Guardian   bool   // a guardian's consent, with evidence
	// GuardianEvidence is the evidence, sealed under the subject key.
	GuardianEvidence []byte
	Actor            string
	At               time.Time
}

// ConsentDay counts the choices recorded on a day for a purpose: how many
// granted it, and how many refused or withdrew it.
type ConsentDay struct {
	Day     string // UTC, 2006-01-02
	Purpose string
	Granted int
	Refused int
}

// StoredNotice is a notice version as kept in the store. Canonical is the
// exact canonical form whose SHA-256 is Hash; PurposeHashes holds, for each
// purpose, the hash of its definition (description, fields, recipients), by
// which a consent becomes stale when the definition changes.
type StoredNotice struct {
	Hash          string // "sha256:" + hex
	Version       string // short form of the hash shown to people
	Canonical     []byte
	PurposeHashes map[string]string
	CreatedAt     time.Time
}

// APIKey is an API key as stored: only its hash.
type APIKey struct {
	ID        string
	Name      string
	Role      string
	Hash      []byte // SHA-256 of the key
	CreatedAt time.Time
	RevokedAt *time.Time
}

// AuditEntry is one entry of the audit log. It names subjects by id and
// fields by name, never by value.
type AuditEntry struct {
	Seq       int64
	Time      time.Time
	Actor     string
	Action    AuditAction
	Purpose   string
	SubjectID string
	Fields    []string
	Decision  AuditDecision
	Reason    string
	// TraceID ties the entry to the operation that wrote it and to that
	// operation's log lines: the HTTP request id (X-Request-Id, see
	// [WithTraceID]), or, for work no request carries, the operation's own
	// id (a bulk run, a verification challenge). Entries written before
	// RightsRequest existed may hold a rights request's id here instead.
	TraceID string
	// RightsRequest is the id (req_…) of the data-subject request the
	// entry was written for, if any.
	RightsRequest string
	PrevHash      []byte
	Hash          []byte
}

// AuditCheckpoint is a signed statement that the chain reached Hash at Seq.
type AuditCheckpoint struct {
	Seq       int64
	Hash      []byte
	Time      time.Time
	KeyID     string
	Signature []byte
}

// AuditQuery selects a page of the audit log for [AuditStore.AuditSearch].
// Each non-empty filter must equal the entry's value; filters combine (an
// entry must match all of them).
type AuditQuery struct {
	Actor         string
	Action        AuditAction
	SubjectID     string
	Purpose       string
	TraceID       string
	RightsRequest string
	// Before, when positive, keeps only entries with Seq < Before.
	Before int64
	// After, when positive, keeps only entries with Seq > After, and asks
	// for the matching entries nearest to it (the page just newer than
	// After) instead of the newest.
	After int64
	// Limit is how many entries to return at most, 1 to [AuditSearchMax].
	Limit int
}

// AuditSearchMax is the largest [AuditQuery.Limit].
const AuditSearchMax = 1000

// Check reports an EINVALID error if q cannot be answered: a limit out of
// range or a negative bound.
func (q AuditQuery) Check() error {
	switch {
	case q.Limit < 1 || q.Limit > AuditSearchMax:
		return Invalid(fmt.Sprintf("an audit search returns 1 to %d entries", AuditSearchMax))
	case q.Before < 0 || q.After < 0:
		return Invalid("an audit search bound is a positive sequence number")
	}
	return nil
}

// KeyStats counts subject keys by the master key that wraps them.
type KeyStats struct {
	ByMasterKey map[uint32]int
	Shredded    int
}

// EventRecord is something a subject did (Segment spec: track, page, screen,
// identify, group), stored linked to its subject because a purpose of it
// was allowed for them when it arrived. It holds no direct identifiers: its
// properties and context are sealed under the subject's key, bound to the
// event's id, so that erasure shreds them with everything else.
type EventRecord struct {
	ID        string // the message id: retries of one message are one event
	SubjectID string
	Type      string // track, page, screen, identify, group
	Name      string
	// Purposes are the event's purposes that were allowed for the subject
	// when it was collected; later reads use it only for these.
	Purposes []string
	Time     time.Time // when it happened, corrected for the sender's clock
	Received time.Time
	Expires  time.Time // from the event's retention
	Sealed   []byte    // JSON {"properties":{…},"context":{…}}, sealed
}

// EventSealField is the field name an event's payload is sealed under.
func EventSealField(eventID string) string { return "event:" + eventID }

// RefusalField is the field a request's refusal reason is sealed under.
func RefusalField(requestID string) string { return "refusal:" + requestID }

// DeliveryField is the field a webhook delivery's body is sealed under.
func DeliveryField(deliveryID string) string { return "delivery:" + deliveryID }

// Message is one collected message as the store writes it: a linked event,
// or, when no purpose of it was allowed, only its name for an anonymous
// count. Its id de-duplicates retries either way.
type Message struct {
	ID    string
	Event *EventRecord // nil: count it anonymously under Name
	Name  string
	At    time.Time // when it was received
}

// EventCount is the number of one event's messages on one day: for a
// subject, or anonymous ones.
type EventCount struct {
	Day   string // YYYY-MM-DD, UTC
	Name  string
	Count int64
}

// EventStat summarizes one event name of a subject's stored events.
type EventStat struct {
	Name      string
	Count     int64
	FirstSeen time.Time
	LastSeen  time.Time
}

// MinimizationCount counts what collection dropped, redacted, truncated or
// rejected, by day, event, item (a property, trait or context key) and
// detector (for redactions: email, phone, …).
type MinimizationCount struct {
	Day      string // YYYY-MM-DD, UTC
	Event    string
	Item     string
	Action   string // dropped, redacted, truncated, rejected, reduced
	Detector string
	Count    int64
}

// Erasure is an erasure journal entry: which subject was erased, when, by
// which request. It holds no personal data. The journal lives beside the
// key store, which a restore never rolls back, and a restore replays it.
type Erasure struct {
	SubjectID string
	At        time.Time
	RequestID string
}

// Revocation is a revocation journal entry: which API key (by id and the
// SHA-256 of the key) was revoked, and when. Like the erasure journal it
// lives beside the key store, so a restore of the data store never brings
// a revoked key back.
type Revocation struct {
	KeyID string
	Hash  []byte
	At    time.Time
}

// Kinds and states of data-subject requests.
const (
	RightAccess   = "access"
	RightExport   = "export"
	RightRectify  = "rectify"
	RightErase    = "erase"
	RightRestrict = "restrict"
	RightObject   = "object"
	RightWithdraw = "withdraw"

	RequestReceived   = "received"
	RequestVerifying  = "verifying"
	RequestInProgress = "in_progress"
	RequestDone       = "done"
	RequestRefused    = "refused"
)

// RightsRequest is a data-subject request and where it stands.
type RightsRequest struct {
	ID        string
	Type      string
	SubjectID string
	Status    string
	// Jurisdiction whose deadline applies: the earliest of the policy's.
	Jurisdiction string
	ReceivedAt   time.Time
	DueAt        time.Time
	UpdatedAt    time.Time
	StateSince   time.Time // when it entered its current status
	Actor        string    // who filed it
	Details      RequestDetails
}

// RequestDetails are a request's parameters and outcome. They hold no
// personal data: purposes, flags, counts and reasons only.
type RequestDetails struct {
	Purposes   []string `json:"purposes,omitempty"`    // object: the purposes
	Lift       bool     `json:"lift,omitempty"`        // restrict, object: lift instead of impose
	Suppress   bool     `json:"suppress,omitempty"`    // erase: keep the e-mail's and phone's blind index so the person is never contacted again
	VerifiedBy string   `json:"verified_by,omitempty"` // the staff member who checked the person's identity
	// Reason is a refusal's reason when Candor itself wrote it (a fixed
	// message, such as why a request could not be carried out).
	Reason string `json:"reason,omitempty"`
	// ReasonCode names Reason for pages that word it in the reader's
	// language: the refusing error's Reason, or "invalid".
	ReasonCode string `json:"reason_code,omitempty"`
	// ReasonSealed is a refusal's reason typed by staff, told to the
	// person (PIPL Art. 50): free text that may quote them, so it is
	// scanned for personal data, sealed under the person's key
	// ([RefusalField]) and read only through the gate
	// (gate.Gate.RefusalReason); an erasure makes it unreadable.
	ReasonSealed []byte            `json:"reason_sealed,omitempty"`
	Result       map[string]int64  `json:"result,omitempty"` // what was done: counts
	Notes        map[string]string `json:"notes,omitempty"`
}

// RequestFilter selects requests.
type RequestFilter struct {
	Status    []string  // any of these; empty: any
	DueBefore time.Time // zero: no bound
	SubjectID string
	Limit     int
}

// Disclosure is one entry of the sharing ledger: personal data of a
// subject given to a recipient, for a purpose. Every disclosure is
// appended; the access report lists them, and an erasure notifies every
// recipient that received something.
type Disclosure struct {
	ID        string
	SubjectID string
	Recipient string // the policy's recipient id
	Purpose   string
	Fields    []string // field ids, never values
	At        time.Time
	Reference string // the job or request that disclosed it
}

// Challenge is a one-time code sent to prove control of an identifier (an
// e-mail address or phone number on file). Only the code's keyed hash is
// stored; it expires, allows a few tries, and is used once.
type Challenge struct {
	ID        string
	Kind      string // email or phone
	Blind     []byte // the identifier's blind index
	CodeHash  []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	Tries     int
	Used      bool
	// SubjectID is, for a change of address, the person who asked for
	// it (the code goes to the new address); empty otherwise.
	SubjectID string
	// Session is, for a change of address, the keyed hash of the session
	// that asked for it; nil otherwise.
	Session []byte
}

// StaffMember is a console account. The password is kept as an Argon2id
// hash (PHC string), the TOTP secret sealed under a system key, and the
// recovery codes as keyed hashes (HMAC-SHA256), each usable once.
type StaffMember struct {
	ID           string // stf_…
	Email        string // normalized; the sign-in name
	Name         string
	Role         string // a role of the policy
	PasswordHash string
	TOTPSealed   []byte // nil until enrolled
	TOTPStep     int64  // the last TOTP time step used (the replay guard)
	Recovery     [][]byte
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Session kinds.
const (
	SessionStaff  = "staff"  // a signed-in staff member
	SessionPerson = "person" // a person verified by a one-time code
	SessionLink   = "link"   // a single-use link (a download, an enrolment step)
)

// Session is a web session or a single-use link, known by the SHA-256 hash
// of its secret token (the token itself is only ever in the cookie or link).
type Session struct {
	Hash      []byte
	Kind      string
	Principal string // the staff id or the subject id
	// Data is what the session carries: for a link, what it opens (a
	// request id); for a staff session before the second factor, "pending".
	Data      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Check returns EINVALID for a session a store cannot keep: no hash, or an
// unknown kind.
func (s Session) Check() error {
	if len(s.Hash) == 0 {
		return Errorf(EINVALID, "a session needs the hash of its token")
	}
	switch s.Kind {
	case SessionStaff, SessionPerson, SessionLink:
		return nil
	}
	return Errorf(EINVALID, "unknown session kind %q", s.Kind)
}

// Delivery is one signed webhook call to a recipient, about a request
// (an erasure it must carry out on its copy). It is retried with back-off
// until the recipient answers 2xx, and its status is shown on the request.
type Delivery struct {
	ID        string
	RequestID string
	Recipient string
	Event     string // erasure or rectification
	// Body is the JSON sent. Without SubjectID it holds no personal data;
	// with it, it is sealed under that subject's key (a rectification that
	// carries the corrected values), so it is unreadable once they are erased.
	Body      []byte
	SubjectID string
	Status    string // pending, delivered, failed
	Attempts  int
	NextAt    time.Time
	LastError string
	UpdatedAt time.Time
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Run is one bulk read of the gate: every person a purpose allowed, read
// for one use (a campaign, a segment's count, a training, an audience).
type Run struct {
	ID      string `json:"id"`
	Purpose string `json:"purpose"`
	Actor   string `json:"actor"`
	// Label says what the run was for, in words a person reads
	// ("campaign Spring sale"); empty for a plain listing.
	Label     string    `json:"label,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// Count is how many people the run included (filled by RunsOf).
	Count int `json:"count"`
	// Times is, in an access report, how many runs with the same label,
	// purpose and actor on the same day (UTC) this one stands for (a
	// live count repeated while a rule was edited); 0 or 1: itself only.
	Times int `json:"times,omitempty"`
}
