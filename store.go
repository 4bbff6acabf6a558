package candor

import (
	"context"
	"time"
)

// The stores. Each method owns its transaction; a multi-row change is one
// transaction, so nothing half-written remains. Methods return an [*Error]
// with the code they name, or a wrapped internal error.

// SubjectStore keeps subjects, their sealed identifiers and traits.
type SubjectStore interface {
	// WriteSubject creates (w.Create) or merges into an existing subject its
	// identifiers and traits, replacing a trait of the same field and adding
	// identifiers. An identifier without an Origin gets [OriginAccount] when
	// the subject is created or held only anonymous ids before the write,
	// else [OriginGiven]. A subject holds at most one identifier of each
	// [SingleKind]: a different one is refused unless its kind is in
	// w.Replace. It returns ECONFLICT when w.Create and the subject exists,
	// when an identifier (kind and blind index) belongs to another subject
	// (Reason "identifier_conflict"), or when the subject holds another of a
	// single kind (Reason "identifier_on_file"); ENOTFOUND when merging into
	// a subject that does not exist.
	WriteSubject(ctx context.Context, w SubjectWrite) error
	// Subject returns the subject with the given id, or ENOTFOUND.
	Subject(ctx context.Context, id string) (*Subject, error)
	// SubjectVersion returns the subject's version, or ENOTFOUND.
	SubjectVersion(ctx context.Context, id string) (int64, error)
	// FindSubject returns the id of the subject that holds the identifier,
	// or ENOTFOUND.
	FindSubject(ctx context.Context, kind string, blind []byte) (string, error)
	// Identifiers returns the subject's sealed identifiers.
	Identifiers(ctx context.Context, subjectID string) ([]Identifier, error)
	// Traits returns the subject's sealed traits for the given fields, or all
	// when fields is nil, ordered by field.
	Traits(ctx context.Context, subjectID string, fields []string) ([]Trait, error)
	// SetRestricted sets or lifts the restriction of processing. ENOTFOUND.
	SetRestricted(ctx context.Context, subjectID string, restricted bool, at time.Time) error
	// SetObjection records or lifts an objection to a purpose, bumping the
	// version. ENOTFOUND.
	SetObjection(ctx context.Context, subjectID, purpose string, objected bool, at time.Time) error
	// DeleteSubject deletes the subject and everything linked to it
	// (identifiers, traits, consents, events) in one transaction, and
	// reports whether it existed.
	DeleteSubject(ctx context.Context, subjectID string) (bool, error)
	// DeleteSubjects is DeleteSubject for many at once (a journal replay),
	// and reports how many existed.
	DeleteSubjects(ctx context.Context, subjectIDs []string) (int, error)
	// MergeSubject moves m.From into m.Into in one transaction: it gives
	// Into the identifiers, the traits it lacks, the events (replacing each
	// one's sealed payload and subject), the sharing-ledger entries, and
	// appends the consents; then deletes From, and bumps Into's version.
	// Identifiers of a [SingleKind] that Into holds already stay with From
	// and go with it. Only an anonymous visitor is merged: ECONFLICT
	// (Reason "not_anonymous") when From holds a user id or an e-mail or
	// phone that signs in. ENOTFOUND if either is missing.
	MergeSubject(ctx context.Context, m SubjectMerge) error
	// CountSubjects returns the number of subjects.
	CountSubjects(ctx context.Context) (int, error)
	// SubjectIDs returns up to limit subject ids greater than after, in order.
	SubjectIDs(ctx context.Context, after string, limit int) ([]string, error)
	// BulkSubjects returns those of ids that are on file, in the order of
	// ids: the subjects of a page of a bulk run, in one read.
	BulkSubjects(ctx context.Context, ids []string) ([]Subject, error)
	// BulkTraits returns the sealed traits of the given fields (all when
	// fields is nil) of each of ids that has any, ordered by field: the
	// traits of a page of a bulk run, in one read.
	BulkTraits(ctx context.Context, ids []string, fields []string) (map[string][]Trait, error)
}

// ConsentStore keeps the consent ledger: appended, never updated.
type ConsentStore interface {
	// AppendConsents appends the records in one transaction and sets their
	// Seq; the same transaction bumps each subject's version.
	AppendConsents(ctx context.Context, records []Consent) error
	// Consents returns the subject's ledger in the order it was written.
	Consents(ctx context.Context, subjectID string) ([]Consent, error)
	// ConsentSubjects returns, in order, up to limit ids greater than after
	// of the subjects with a consent record for purpose made at or after
	// since, whatever its state: whom a trigger on a recent choice looks
	// at (the decision still says whether it allows anything).
	ConsentSubjects(ctx context.Context, purpose string, since time.Time, after string, limit int) ([]string, error)
	// BulkConsents returns the ledgers of those of ids that have one, each
	// in the order it was written: a page of a bulk run, in one read.
	BulkConsents(ctx context.Context, ids []string) (map[string][]Consent, error)
	// ConsentDays counts the choices recorded per UTC day and purpose,
	// from day from to day to ("2006-01-02", inclusive), by day then purpose.
	ConsentDays(ctx context.Context, from, to string) ([]ConsentDay, error)
}

// RunStore keeps which people each bulk run of the gate included, outside
// the audit log (which holds one entry per page of a run), so that a
// person's access report can say which runs used their data. A person's
// memberships go with their erasure, and with a merge to the person merged
// into.
type RunStore interface {
	// PutRun records a run as it starts. ECONFLICT if its id exists.
	PutRun(ctx context.Context, r Run) error
	// AddRunMembers records that the run included the subjects (a page of
	// it), in one transaction; a subject recorded already, or no longer on
	// file, is skipped. ENOTFOUND if the run does not exist.
	AddRunMembers(ctx context.Context, runID string, subjectIDs []string) error
	// RemoveRunMember forgets that the run included the subject (it was
	// left out after all: a withdrawal between the page's decision and its
	// turn).
	RemoveRunMember(ctx context.Context, runID, subjectID string) error
	// RunsOf returns the latest runs, up to limit, that included the
	// subject, newest first, with their Count.
	RunsOf(ctx context.Context, subjectID string, limit int) ([]Run, error)
}

// NoticeStore keeps every notice version people were shown.
type NoticeStore interface {
	// PutNotice stores n unless a notice with its hash is stored already.
	PutNotice(ctx context.Context, n StoredNotice) error
	// Notices returns every stored notice, oldest first.
	Notices(ctx context.Context) ([]StoredNotice, error)
}

// APIKeyStore keeps API keys, hashed.
type APIKeyStore interface {
	// PutAPIKey stores a new key. ECONFLICT if its id or hash exists.
	PutAPIKey(ctx context.Context, k APIKey) error
	// APIKeyByHash returns the key with the hash, revoked or not, or ENOTFOUND.
	APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	// APIKeys returns every key, oldest first.
	APIKeys(ctx context.Context) ([]APIKey, error)
	// RevokeAPIKey revokes a key. ENOTFOUND.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
}

// WrappedKey is a subject's data key as the key store holds it: wrapped by
// the master key, or destroyed.
type WrappedKey struct {
	SubjectID  string
	Wrapped    []byte // nil once shredded
	ShreddedAt *time.Time
}

// KeyStore keeps wrapped keys. It is kept apart from the data store (its own
// file, or its own schema), so that a copy of the data never holds a key.
type KeyStore interface {
	// PutSubjectKey stores a subject's wrapped key. ECONFLICT if the subject
	// has one, or had one that was shredded.
	PutSubjectKey(ctx context.Context, subjectID string, wrapped []byte, at time.Time) error
	// SubjectKey returns the subject's key; Wrapped is nil and ShreddedAt set
	// once shredded. ENOTFOUND if the subject never had a key.
	SubjectKey(ctx context.Context, subjectID string) (*WrappedKey, error)
	// ShredSubjectKey destroys the subject's key, keeping a tombstone.
	// ENOTFOUND if the subject never had a key.
	ShredSubjectKey(ctx context.Context, subjectID string, at time.Time) error
	// SubjectKeys returns up to limit keys (shredded ones left out) of
	// subjects whose id is greater than after, in id order.
	SubjectKeys(ctx context.Context, after string, limit int) ([]WrappedKey, error)
	// ReplaceSubjectKey replaces a wrapped key if it still equals old (a
	// concurrent shred or rotation wins). It reports whether it replaced.
	ReplaceSubjectKey(ctx context.Context, subjectID string, old, new []byte) (bool, error)
	// CountSubjectKeys returns how many live and shredded keys there are.
	CountSubjectKeys(ctx context.Context) (live, shredded int, err error)
	// PutSystemKey stores a named system key (blind index, signing keys), or
	// returns ECONFLICT if it exists.
	PutSystemKey(ctx context.Context, name string, wrapped []byte, at time.Time) error
	// SystemKey returns a named system key, or ENOTFOUND.
	SystemKey(ctx context.Context, name string) ([]byte, error)
	// SystemKeyNames returns the names of every system key.
	SystemKeyNames(ctx context.Context) ([]string, error)
	// ReplaceSystemKey replaces a system key if it still equals old.
	ReplaceSystemKey(ctx context.Context, name string, old, new []byte) (bool, error)
	// ShredSubjectKeyAndJournal shreds the subject's key (if it has one)
	// and appends e to the erasure journal, in one transaction. Journaling
	// twice keeps the first entry.
	ShredSubjectKeyAndJournal(ctx context.Context, e Erasure) error
	// Erasures returns up to limit journal entries with subject ids greater
	// than after, in id order.
	Erasures(ctx context.Context, after string, limit int) ([]Erasure, error)
	// Suppress keeps an identifier's blind index on the suppression list.
	Suppress(ctx context.Context, kind string, blind []byte, at time.Time) error
	// Suppressed reports whether an identifier's blind index is on it.
	Suppressed(ctx context.Context, kind string, blind []byte) (bool, error)
	// SuppressedAmong reports, for each of blinds, in order, whether it
	// is on the suppression list: Suppressed for many at once.
	SuppressedAmong(ctx context.Context, kind string, blinds [][]byte) ([]bool, error)
	// PutAuditAnchor keeps c, the audit log's latest signed checkpoint, as
	// the anchor: a copy of the head outside the audit store. The anchor
	// never moves backwards: a checkpoint at or before the anchor's Seq
	// leaves it as it is.
	PutAuditAnchor(ctx context.Context, c AuditCheckpoint) error
	// AuditAnchor returns the anchor, or ENOTFOUND if none was ever put.
	AuditAnchor(ctx context.Context) (*AuditCheckpoint, error)
	// JournalRevocation appends r to the revocation journal of API keys.
	// Journaling a key twice keeps the first entry.
	JournalRevocation(ctx context.Context, r Revocation) error
	// APIKeyRevoked reports whether a key with the hash is in the journal.
	APIKeyRevoked(ctx context.Context, hash []byte) (bool, error)
	// Revocations returns up to limit journal entries with key ids greater
	// than after, in id order.
	Revocations(ctx context.Context, after string, limit int) ([]Revocation, error)
}

// ChallengeLimit bounds how many challenges may be created in a window:
// at most Max since Since, counted for the new challenge's identifier
// (kind and blind index), for the subject whose change of address it is,
// or for that subject's session.
type ChallengeLimit struct {
	Scope string // ChallengeScopeIdentifier, ChallengeScopeSubject or ChallengeScopeSession
	Max   int
	Since time.Time
}

// The scopes of a [ChallengeLimit].
const (
	ChallengeScopeIdentifier = "identifier"
	ChallengeScopeSubject    = "subject"
	ChallengeScopeSession    = "session"
)

// ChallengeStore keeps one-time verification codes, hashed.
type ChallengeStore interface {
	// PutChallenge stores a new challenge unless that would exceed one of
	// limits: then it stores nothing and returns EBUSY with the limit's
	// Scope as Reason. Counting and storing are one step: challenges put
	// at once, from any number of callers or nodes, never exceed a limit
	// (a code flood to one address or from one session stays bounded).
	PutChallenge(ctx context.Context, c Challenge, limits ...ChallengeLimit) error
	// Challenge returns a challenge, or ENOTFOUND.
	Challenge(ctx context.Context, id string) (*Challenge, error)
	// SpendChallenge records an attempt on an unused challenge with fewer
	// than maxTries tries: a failed one counts a try, a successful one
	// marks it used. It reports whether the attempt was recorded; two
	// successful attempts racing see one true.
	SpendChallenge(ctx context.Context, id string, success bool, maxTries int) (bool, error)
	// CountChallenges counts the challenges for an identifier since t.
	CountChallenges(ctx context.Context, kind string, blind []byte, since time.Time) (int, error)
	// CountChangeChallenges counts the challenges of a change of address
	// that the subject asked for since t (whatever the address), and how
	// many of them were asked for in the session (a [Challenge.Session]).
	CountChangeChallenges(ctx context.Context, subjectID string, session []byte, since time.Time) (bySubject, bySession int, err error)
}

// StaffStore keeps the console's staff accounts.
type StaffStore interface {
	// PutStaff stores a new account. ECONFLICT if its id or e-mail exists.
	PutStaff(ctx context.Context, m StaffMember) error
	// Staff returns an account by id, or ENOTFOUND.
	Staff(ctx context.Context, id string) (*StaffMember, error)
	// StaffByEmail returns an account by its (normalized) e-mail, or ENOTFOUND.
	StaffByEmail(ctx context.Context, email string) (*StaffMember, error)
	// ListStaff returns every account, by e-mail.
	ListStaff(ctx context.Context) ([]StaffMember, error)
	// UpdateStaff replaces an account's name, role, password hash, sealed
	// TOTP secret, recovery code hashes and UpdatedAt (not its TOTP step),
	// and disables it if m.Disabled. Disabling is for good: an update made
	// from an earlier read (an enrolment racing the disabling) never
	// enables the account again. ENOTFOUND if it does not exist.
	UpdateStaff(ctx context.Context, m StaffMember) error
	// UseTOTPStep records that the account used the TOTP time step, and
	// reports false (recording nothing) when the step is not later than
	// the last one used: a code is accepted once, on every node.
	UseTOTPStep(ctx context.Context, id string, step int64) (bool, error)
	// UseRecoveryCode removes the recovery code hash from the account and
	// reports whether it was there: two racing uses see one true.
	UseRecoveryCode(ctx context.Context, id string, hash []byte) (bool, error)
}

// SessionStore keeps web sessions (staff and people) and single-use links,
// by the hash of their secret token.
type SessionStore interface {
	// PutSession stores a new session.
	PutSession(ctx context.Context, s Session) error
	// Session returns an unexpired session by the hash of its token, or
	// ENOTFOUND (also when it expired).
	Session(ctx context.Context, hash []byte, now time.Time) (*Session, error)
	// TakeSession deletes an unexpired session of the kind and principal
	// and returns it: a single-use link, of which two racing uses see one.
	// ENOTFOUND otherwise, and then nothing is deleted (a token presented
	// by someone else, or of another kind, spends nothing).
	TakeSession(ctx context.Context, hash []byte, kind, principal string, now time.Time) (*Session, error)
	// DeleteSession deletes a session (signing out); no error if none.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteSessions deletes every session of a principal (revocation) and
	// returns how many there were.
	DeleteSessions(ctx context.Context, principal string) (int, error)
	// PurgeSessions deletes the sessions that expired before now.
	PurgeSessions(ctx context.Context, now time.Time) (int, error)
}

// DeliveryStore keeps webhook deliveries to recipients.
type DeliveryStore interface {
	// PutDeliveries stores new deliveries.
	PutDeliveries(ctx context.Context, ds []Delivery) error
	// DueDeliveries returns up to limit pending deliveries due by now.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// ClaimDelivery counts an attempt on a pending delivery that still has
	// attempts tries, and holds it until until: of nodes racing, one wins.
	ClaimDelivery(ctx context.Context, id string, attempts int, until time.Time) (bool, error)
	// FinishAttempt records an attempt's outcome: the status, when to try
	// again, and the error (no personal data).
	FinishAttempt(ctx context.Context, d Delivery) error
	// Deliveries returns a request's deliveries.
	Deliveries(ctx context.Context, requestID string) ([]Delivery, error)
}

// DisclosureStore keeps the sharing ledger: appended, never updated.
type DisclosureStore interface {
	// AppendDisclosures appends entries in one transaction. An entry for a
	// subject that does not exist is ENOTFOUND, and nothing is written.
	AppendDisclosures(ctx context.Context, ds []Disclosure) error
	// Disclosures returns the subject's entries, oldest first.
	Disclosures(ctx context.Context, subjectID string) ([]Disclosure, error)
}

// RequestStore keeps data-subject requests.
type RequestStore interface {
	// PutRequest stores a new request. ECONFLICT if its id exists.
	PutRequest(ctx context.Context, r RightsRequest) error
	// UpdateRequest replaces a request if its status is still from.
	// ECONFLICT if it changed meanwhile; ENOTFOUND.
	UpdateRequest(ctx context.Context, r RightsRequest, from string) error
	// Request returns a request, or ENOTFOUND.
	Request(ctx context.Context, id string) (*RightsRequest, error)
	// Requests returns the requests the filter selects, by due date.
	Requests(ctx context.Context, f RequestFilter) ([]RightsRequest, error)
}

// AuditStore keeps the audit log and its checkpoints. It is append-only.
type AuditStore interface {
	// AppendAudit appends entries atomically. seal is called for each entry
	// in order with the sequence number and hash of the entry before it (0
	// and nil for the first) and must set Seq, PrevHash and Hash; it may be
	// called again for the same entries if the store finds that another
	// writer appended first. The store serializes appends, so the chain
	// cannot fork.
	AppendAudit(ctx context.Context, entries []*AuditEntry, seal func(prevSeq int64, prevHash []byte, e *AuditEntry)) error
	// AuditHead returns the last entry's sequence number and hash (0, nil when empty).
	AuditHead(ctx context.Context) (int64, []byte, error)
	// AuditEntries returns up to limit entries with Seq >= from, by Seq.
	AuditEntries(ctx context.Context, from int64, limit int) ([]AuditEntry, error)
	// AuditSearch returns up to q.Limit entries that match q's filters,
	// newest first: the newest below q.Before (no bound when 0), or, when
	// q.After is set, the oldest above it. EINVALID if [AuditQuery.Check]
	// refuses q.
	AuditSearch(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
	// PutCheckpoint stores a signed checkpoint.
	PutCheckpoint(ctx context.Context, c AuditCheckpoint) error
	// Checkpoints returns every checkpoint, by Seq.
	Checkpoints(ctx context.Context) ([]AuditCheckpoint, error)
}

// EventStore keeps collected events, the anonymous counts of events no
// purpose allowed, and the minimization counters.
type EventStore interface {
	// AppendMessages stores the messages in one transaction and returns
	// how many were new; a message whose id was stored before is skipped
	// (a retry), and so is an event whose subject no longer exists.
	AppendMessages(ctx context.Context, msgs []Message) (stored int, err error)
	// SubjectEvents returns up to limit of the subject's events, newest
	// first, with Time before the given time (zero: no bound).
	SubjectEvents(ctx context.Context, subjectID string, before time.Time, limit int) ([]EventRecord, error)
	// EventSubjects returns, in order, up to limit ids greater than after
	// of the subjects with an event of the name whose Time is at or after
	// since: whom a trigger on recent events looks at.
	EventSubjects(ctx context.Context, name string, since time.Time, after string, limit int) ([]string, error)
	// EventStats summarizes the subject's events by name.
	EventStats(ctx context.Context, subjectID string) ([]EventStat, error)
	// AnonymousCounts returns the anonymous counts of days from..to
	// (inclusive, YYYY-MM-DD), by day and name.
	AnonymousCounts(ctx context.Context, from, to string) ([]EventCount, error)
	// AddMinimization adds to the minimization counters.
	AddMinimization(ctx context.Context, counts []MinimizationCount) error
	// Minimization returns the counters of days from..to (inclusive), by
	// day, event, item, action and detector.
	Minimization(ctx context.Context, from, to string) ([]MinimizationCount, error)
}

// Store is everything a node needs from its storage.
type Store interface {
	SubjectStore
	ConsentStore
	EventStore
	RequestStore
	DisclosureStore
	ChallengeStore
	DeliveryStore
	NoticeStore
	APIKeyStore
	AuditStore
	StaffStore
	SessionStore
	RunStore
	SegmentStore
	CampaignStore
	CampaignMeasureStore
	// Keys returns the key store, kept apart from the data.
	Keys() KeyStore
	// Ping reports whether the stores answer.
	Ping(ctx context.Context) error
	// Close closes the stores.
	Close() error
}
