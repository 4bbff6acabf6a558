package postgres

import (
	"context"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

// ExplainAuditSearch returns the plan of the audit search for q, with the
// planner told to avoid sequential scans. It lets the external tests, which
// may import the test environment, look inside.
func (db *DB) ExplainAuditSearch(ctx context.Context, q candor.AuditQuery) (plan []string, err error) {
	query, args := auditSearchSQL(q)
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, "EXPLAIN "+db.q(query), args...)
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return plan, err
}
