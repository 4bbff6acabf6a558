package candor

import "context"

// Sealer encrypts personal data under the subject's key, bound to
// (subject, field). The vault implements it. It only seals: every writer
// (subjects, collect, consent, rights, …) may hold one, but decrypting is
// the gate's alone (gate.Unsealer), so that personal data leaves storage
// only through the gate, with an audit entry (invariant 3).
type Sealer interface {
	// Seal encrypts plaintext for the subject's field.
	Seal(ctx context.Context, subjectID, field string, plaintext []byte) ([]byte, error)
}

// Auditor appends to the audit log and returns once the entry is durable.
// An error means the entry was not written: the caller must fail closed.
type Auditor interface {
	Append(ctx context.Context, e AuditEntry) error
}

// Sender delivers a message to an e-mail address or a phone number, such as
// a verification code. Package smtp implements it for e-mail and package
// sms for text messages (which have no subject).
type Sender interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Signer signs with an Ed25519 key that a public JWK verifies.
type Signer interface {
	KeyID() string
	Sign(msg []byte) []byte
}
