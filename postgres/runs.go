package postgres

import (
	"context"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

// PutRun implements [candor.RunStore].
func (db *DB) PutRun(ctx context.Context, r candor.Run) error {
	_, err := db.pool.Exec(ctx, db.q(`INSERT INTO {data}.runs (id, purpose, actor, label, started_at) VALUES ($1, $2, $3, $4, $5)`),
		r.ID, r.Purpose, r.Actor, r.Label, r.StartedAt)
	if pgCode(err) == uniqueViolation {
		return candor.Errorf(candor.ECONFLICT, "run exists")
	}
	return wrap("put run", err)
}

// AddRunMembers implements [candor.RunStore]: only subjects still on file
// are recorded (the insert selects them), so that a person erased since the
// page was read leaves no row.
func (db *DB) AddRunMembers(ctx context.Context, runID string, subjectIDs []string) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, db.q(`SELECT count(*) FROM {data}.runs WHERE id = $1`), runID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return candor.Errorf(candor.ENOTFOUND, "run not found")
		}
		_, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.run_members (subject_id, run_id)
			SELECT id, $1 FROM {data}.subjects WHERE id = ANY($2) ON CONFLICT DO NOTHING`), runID, subjectIDs)
		return err
	})
	return wrap("add run members", err)
}

// RemoveRunMember implements [candor.RunStore].
func (db *DB) RemoveRunMember(ctx context.Context, runID, subjectID string) error {
	_, err := db.pool.Exec(ctx, db.q(`DELETE FROM {data}.run_members WHERE subject_id = $1 AND run_id = $2`), subjectID, runID)
	return wrap("remove run member", err)
}

// RunsOf implements [candor.RunStore].
func (db *DB) RunsOf(ctx context.Context, subjectID string, limit int) ([]candor.Run, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT r.id, r.purpose, r.actor, r.label, r.started_at,
		(SELECT count(*) FROM {data}.run_members c WHERE c.run_id = r.id)
		FROM {data}.run_members m JOIN {data}.runs r ON r.id = m.run_id WHERE m.subject_id = $1 ORDER BY r.started_at DESC, r.id DESC LIMIT $2`), subjectID, limit)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (candor.Run, error) {
		var r candor.Run
		err := row.Scan(&r.ID, &r.Purpose, &r.Actor, &r.Label, &r.StartedAt, &r.Count)
		r.StartedAt = r.StartedAt.UTC()
		return r, err
	})
	return out, wrap("runs of", err)
}
