package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

// filterIndex finds, in a plan, a scan of one of the filters' indexes.
var filterIndex = regexp.MustCompile(`Index Scan( Backward)? using audit_log_(actor|action|subject|purpose) `)

// TestAuditSearchUsesAnIndex: every filtered audit search can be answered
// by a scan of a filter's index in seq order, without sorting what
// matched. (The planner is told to avoid sequential scans, which it
// prefers on a table this small.)
func TestAuditSearchUsesAnIndex(t *testing.T) {
	url := os.Getenv("CANDOR_TEST_POSTGRES")
	if url == "" {
		t.Skip("CANDOR_TEST_POSTGRES is not set")
	}
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	db, err := Open(ctx, url, Options{Prefix: "t" + hex.EncodeToString(b)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.DropSchemas(ctx); err != nil {
			t.Error(err)
		}
		db.Close()
	}()
	for _, q := range []candor.AuditQuery{
		{Actor: "staff:a"},
		{Action: "read", Before: 500},
		{SubjectID: "sub_x", After: 10},
		{Purpose: "service", Before: 900},
		{Actor: "staff:a", Action: "read", SubjectID: "sub_x", Purpose: "service", After: 3, Before: 900},
	} {
		q.Limit = 100
		query, args := auditSearchSQL(q)
		var plan []string
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
				return err
			}
			rows, _ := tx.Query(ctx, "EXPLAIN "+db.q(query), args...)
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		p := strings.Join(plan, "\n")
		if !filterIndex.MatchString(p) || strings.Contains(p, "Sort") {
			t.Errorf("%+v: plan\n%s", q, p)
		}
	}
}
