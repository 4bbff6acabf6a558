package postgres_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/candorhq/candor"
)

// filterIndex finds, in a plan, a scan of one of the filters' indexes.
var filterIndex = regexp.MustCompile(`Index Scan( Backward)? using audit_log_(actor|action|subject|purpose) `)

// TestAuditSearchUsesAnIndex: every filtered audit search can be answered
// by a scan of a filter's index in seq order, without sorting what
// matched. (The planner is told to avoid sequential scans, which it
// prefers on a table this small.)
func TestAuditSearchUsesAnIndex(t *testing.T) {
	db := open(t)
	for _, q := range []candor.AuditQuery{
		{Actor: "staff:a"},
		{Action: "read", Before: 500},
		{SubjectID: "sub_x", After: 10},
		{Purpose: "service", Before: 900},
		{Actor: "staff:a", Action: "read", SubjectID: "sub_x", Purpose: "service", After: 3, Before: 900},
	} {
		q.Limit = 100
		plan, err := db.ExplainAuditSearch(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		p := strings.Join(plan, "\n")
		if !filterIndex.MatchString(p) || strings.Contains(p, "Sort") {
			t.Errorf("%+v: plan\n%s", q, p)
		}
	}
}
