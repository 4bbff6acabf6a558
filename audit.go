package candor

import "context"

// AuditAction names what an [AuditEntry] records. Its string is stored and
// covered by the chain hash, so a constant's value never changes: a new
// action gets a new constant (and joins [AuditActions]).
type AuditAction string

// Audit actions: every action Candor writes.
const (
	// Reads of personal data, all through the gate (purpose set).
	ActionRead          AuditAction = "read"           // one subject's fields, an access report, a code sent, a delivery or refusal opened
	ActionReadBulk      AuditAction = "read.bulk"      // one page of a bulk run (customer list, audience)
	ActionLookup        AuditAction = "lookup"         // a console look-up that found nobody
	ActionSubjectSearch AuditAction = "subject.search" // an API search by identifier that found nobody
	ActionConsentsRead  AuditAction = "consents.read"  // a subject's consent history
	ActionDisclose      AuditAction = "disclose"       // a rectification forwarded to a recipient

	// Writes about a subject.
	ActionConsentRecord  AuditAction = "consent.record"
	ActionSubjectCreate  AuditAction = "subject.create"
	ActionSubjectMerge   AuditAction = "subject.merge"
	ActionSubjectRectify AuditAction = "subject.rectify"
	ActionSubjectErase   AuditAction = "subject.erase"

	// Rights requests: filed, checked, refused, and carried out (one
	// action per kind, see [RightsAction]).
	ActionRightsFile     AuditAction = "rights.file"
	ActionRightsVerify   AuditAction = "rights.verify"
	ActionRightsRefuse   AuditAction = "rights.refuse"
	ActionRightsAccess   AuditAction = "rights." + RightAccess
	ActionRightsExport   AuditAction = "rights." + RightExport
	ActionRightsRectify  AuditAction = "rights." + RightRectify
	ActionRightsErase    AuditAction = "rights." + RightErase
	ActionRightsRestrict AuditAction = "rights." + RightRestrict
	ActionRightsObject   AuditAction = "rights." + RightObject
	ActionRightsWithdraw AuditAction = "rights." + RightWithdraw

	// Staff accounts and sign-ins.
	ActionStaffAdd         AuditAction = "staff.add"
	ActionStaffRole        AuditAction = "staff.role"
	ActionStaffDisable     AuditAction = "staff.disable"
	ActionStaffSignIn      AuditAction = "staff.signin"
	ActionStaffSignInTOTP  AuditAction = "staff.signin.totp"
	ActionStaffTOTPBegin   AuditAction = "staff.totp.begin"
	ActionStaffTOTPConfirm AuditAction = "staff.totp.confirm"
	ActionStaffTOTPReset   AuditAction = "staff.totp.reset"
	ActionStaffRecoveryUse AuditAction = "staff.recovery.use"

	// Operations from the command line.
	ActionKeysWebhookSecret  AuditAction = "keys.webhook-secret"
	ActionKeysIdentitySecret AuditAction = "keys.identity-secret"
	ActionKeysRotate         AuditAction = "keys.rotate"
	ActionBackup             AuditAction = "backup"
	ActionRestore            AuditAction = "restore"
)

// AuditActions lists every [AuditAction] Candor writes, in the order of
// their declaration (the console offers them in its audit filter).
var AuditActions = []AuditAction{
	ActionRead, ActionReadBulk, ActionLookup, ActionSubjectSearch, ActionConsentsRead, ActionDisclose,
	ActionConsentRecord, ActionSubjectCreate, ActionSubjectMerge, ActionSubjectRectify, ActionSubjectErase,
	ActionRightsFile, ActionRightsVerify, ActionRightsRefuse,
	ActionRightsAccess, ActionRightsExport, ActionRightsRectify, ActionRightsErase, ActionRightsRestrict, ActionRightsObject, ActionRightsWithdraw,
	ActionStaffAdd, ActionStaffRole, ActionStaffDisable, ActionStaffSignIn, ActionStaffSignInTOTP,
	ActionStaffTOTPBegin, ActionStaffTOTPConfirm, ActionStaffTOTPReset, ActionStaffRecoveryUse,
	ActionKeysWebhookSecret, ActionKeysIdentitySecret, ActionKeysRotate, ActionBackup, ActionRestore,
}

// RightsAction returns the action of a carried-out rights request of the
// kind ([RightAccess], [RightErase], …): "rights." and the kind, one of
// ActionRightsAccess to ActionRightsWithdraw for the kinds Candor knows.
func RightsAction(kind string) AuditAction { return AuditAction("rights." + kind) }

// AuditDecision is the outcome an [AuditEntry] records. Like
// [AuditAction], its string is stored and hashed and never changes.
type AuditDecision string

// Audit decisions.
const (
	DecisionAllow    AuditDecision = "allow"     // the gate let a read through
	DecisionDeny     AuditDecision = "deny"      // refused: by the gate, or a failed sign-in
	DecisionOK       AuditDecision = "ok"        // a write or an operation that was done
	DecisionNotFound AuditDecision = "not_found" // a console look-up that found nobody
)

// AuditDecisions lists every [AuditDecision] Candor writes.
var AuditDecisions = []AuditDecision{DecisionAllow, DecisionDeny, DecisionOK, DecisionNotFound}

type (
	traceKey         struct{}
	rightsRequestKey struct{}
)

// WithTraceID returns ctx carrying the trace id of the operation it
// serves: the HTTP request id for a request. The audit log writes it into
// every entry appended under ctx that names none ([AuditEntry.TraceID]).
func WithTraceID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, traceKey{}, id)
}

// TraceID returns the trace id ctx carries, or "".
func TraceID(ctx context.Context) string {
	id, _ := ctx.Value(traceKey{}).(string)
	return id
}

// WithRightsRequest returns ctx carrying the id of the rights request
// being carried out. The audit log writes it into every entry appended
// under ctx that names none ([AuditEntry.RightsRequest]): the consents,
// rectifications and erasure the request causes.
func WithRightsRequest(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, rightsRequestKey{}, id)
}

// RightsRequestID returns the rights request id ctx carries, or "".
func RightsRequestID(ctx context.Context) string {
	id, _ := ctx.Value(rightsRequestKey{}).(string)
	return id
}
