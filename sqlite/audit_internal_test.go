package sqlite

import (
	"context"
	"strings"
	"testing"

	"github.com/candorhq/candor"
)

// TestAuditSearchUsesAnIndex: every audit search, whatever its filters
// and bounds, is a search of an index in seq order, never a scan of the
// whole log or a sort of what matched.
func TestAuditSearchUsesAnIndex(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []candor.AuditQuery{
		{Before: 500},
		{After: 500},
		{Actor: "staff:a"},
		{Action: "read", Before: 500},
		{SubjectID: "sub_x", After: 10},
		{Purpose: "service", Before: 900},
		{TraceID: "0123abcd", Before: 900},
		{RightsRequest: "req_x", After: 3},
		{Actor: "staff:a", Action: "read", SubjectID: "sub_x", Purpose: "service", After: 3, Before: 900},
	} {
		q.Limit = 100
		query, args := auditSearchSQL(q)
		rows, err := db.audit.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		want := "SEARCH audit_log USING INTEGER PRIMARY KEY"
		if q.Actor+string(q.Action)+q.SubjectID+q.Purpose+q.TraceID+q.RightsRequest != "" {
			want = "SEARCH audit_log USING INDEX audit_log_"
		}
		if !strings.HasPrefix(p, want) || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%+v: plan %q", q, p)
		}
	}
}
