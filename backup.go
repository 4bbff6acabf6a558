package candor

// Column kinds of the data store's tables, as a backup carries them.
const (
	KindText  = "text"
	KindBytes = "bytes"
	KindInt   = "int"
	KindBool  = "bool"
	KindTime  = "time"
	KindJSON  = "json"
)

// Column is one column of a data-store table.
type Column struct {
	Name string
	Kind string
}

// Table is one table of the data store, as a backup carries it.
type Table struct {
	Name    string
	Columns []Column
}

// DataTables lists the data store's tables in an order that respects their
// references, with their columns. A backup holds these and only these: never
// the key store, never the audit log. Values travel as string, []byte,
// int64, bool, time.Time (UTC) or nil.
var DataTables = []Table{
	{"subjects", []Column{{"id", KindText}, {"created_at", KindTime}, {"updated_at", KindTime}, {"restricted", KindBool}, {"version", KindInt}, {"objections", KindText}}},
	{"identifiers", []Column{{"kind", KindText}, {"blind", KindBytes}, {"subject_id", KindText}, {"sealed", KindBytes}}},
	{"traits", []Column{{"subject_id", KindText}, {"field", KindText}, {"sealed", KindBytes}, {"updated_at", KindTime}, {"source", KindText}}},
	{"consents", []Column{{"seq", KindInt}, {"id", KindText}, {"receipt_id", KindText}, {"subject_id", KindText}, {"purpose", KindText}, {"state", KindText},
		{"notice_hash", KindText}, {"channel", KindText}, {"gpc", KindBool}, {"explicit", KindBool}, {"guardian", KindBool}, {"guardian_evidence", KindBytes},
		{"actor", KindText}, {"at", KindTime}}},
	{"notices", []Column{{"hash", KindText}, {"version", KindText}, {"canonical", KindBytes}, {"purpose_hashes", KindJSON}, {"created_at", KindTime}}},
	{"api_keys", []Column{{"id", KindText}, {"name", KindText}, {"role", KindText}, {"hash", KindBytes}, {"created_at", KindTime}, {"revoked_at", KindTime}}},
	{"messages", []Column{{"id", KindText}, {"received_ms", KindInt}}},
	{"events", []Column{{"id", KindText}, {"subject_id", KindText}, {"type", KindText}, {"name", KindText}, {"purposes", KindText},
		{"time_ms", KindInt}, {"received_ms", KindInt}, {"expires_ms", KindInt}, {"sealed", KindBytes}}},
	{"anonymous_counts", []Column{{"day", KindText}, {"name", KindText}, {"n", KindInt}}},
	{"disclosures", []Column{{"id", KindText}, {"subject_id", KindText}, {"recipient", KindText}, {"purpose", KindText}, {"fields", KindText},
		{"at", KindTime}, {"reference", KindText}}},
	{"requests", []Column{{"id", KindText}, {"type", KindText}, {"subject_id", KindText}, {"status", KindText}, {"jurisdiction", KindText},
		{"received_at", KindTime}, {"due_at", KindTime}, {"updated_at", KindTime}, {"state_since", KindTime}, {"actor", KindText}, {"details", KindJSON}}},
	{"runs", []Column{{"id", KindText}, {"purpose", KindText}, {"actor", KindText}, {"label", KindText}, {"started_at", KindTime}}},
	{"run_members", []Column{{"subject_id", KindText}, {"run_id", KindText}}},
	{"segments", []Column{{"id", KindText}, {"name", KindText}, {"purpose", KindText}, {"rule", KindText}, {"snapshot", KindBool},
		{"created_by", KindText}, {"created_at", KindTime}}},
	{"segment_members", []Column{{"segment_id", KindText}, {"subject_id", KindText}}},
	{"campaigns", []Column{{"id", KindText}, {"name", KindText}, {"channel", KindText}, {"purpose", KindText}, {"segment", KindText}, {"subject", KindText},
		{"body", KindText}, {"status", KindText}, {"actor", KindText}, {"sent_by", KindText}, {"sent_role", KindText}, {"created_at", KindTime},
		{"updated_at", KindTime}, {"lease_node", KindText}, {"lease_until", KindTime}, {"subject_b", KindText}, {"holdout", KindInt}, {"trigger_name", KindText}}},
	{"campaign_sends", []Column{{"campaign_id", KindText}, {"subject_id", KindText}, {"channel", KindText}, {"status", KindText}, {"reason", KindText},
		{"node", KindText}, {"at", KindTime}, {"updated_at", KindTime}, {"opened_at", KindTime}, {"clicked_at", KindTime}, {"bounced_at", KindTime},
		{"complained_at", KindTime}, {"unsubscribed_at", KindTime}}},
	{"minimization", []Column{{"day", KindText}, {"event", KindText}, {"item", KindText}, {"action", KindText}, {"detector", KindText}, {"n", KindInt}}},
	// Staff accounts travel with the data, as on the embedded store, whose
	// backup is the whole data file; their sessions do not (a restore ends
	// every session).
	{"staff", []Column{{"id", KindText}, {"email", KindText}, {"name", KindText}, {"role", KindText}, {"password_hash", KindText},
		{"totp_sealed", KindBytes}, {"totp_step", KindInt}, {"disabled", KindBool}, {"created_at", KindTime}, {"updated_at", KindTime}}},
	{"staff_recovery", []Column{{"staff_id", KindText}, {"hash", KindBytes}, {"n", KindInt}}},
}

// Row is one row of a data-store table, its values in column order.
type Row struct {
	Table  string
	Values []any
}
