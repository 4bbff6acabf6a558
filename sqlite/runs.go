package sqlite

import (
	"context"
	"encoding/json"

	"github.com/candorhq/candor"
)

// PutRun implements [candor.RunStore].
func (db *DB) PutRun(ctx context.Context, r candor.Run) error {
	_, err := db.data.w.ExecContext(ctx, `INSERT INTO runs (id, purpose, actor, label, started_at) VALUES (?, ?, ?, ?, ?)`,
		r.ID, r.Purpose, r.Actor, r.Label, ts(r.StartedAt))
	if isConstraint(err) {
		return candor.Errorf(candor.ECONFLICT, "run exists")
	}
	return wrap("put run", err)
}

// AddRunMembers implements [candor.RunStore]: only subjects still on file
// are recorded (the insert selects them), so that a person erased since the
// page was read leaves no row.
func (db *DB) AddRunMembers(ctx context.Context, runID string, subjectIDs []string) error {
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("add run members", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE id = ?`, runID).Scan(&n); err != nil {
		return wrap("add run members", err)
	}
	if n == 0 {
		return candor.Errorf(candor.ENOTFOUND, "run not found")
	}
	if len(subjectIDs) > 0 {
		// One statement whatever the number of ids (a JSON array), so
		// that it is prepared once and no limit on parameters applies.
		list, err := json.Marshal(subjectIDs)
		if err != nil {
			return wrap("add run members", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO run_members (subject_id, run_id)
			SELECT id, ? FROM subjects WHERE id IN (SELECT value FROM json_each(?))`, runID, string(list)); err != nil {
			return wrap("add run members", err)
		}
	}
	return wrap("add run members", tx.Commit())
}

// RemoveRunMember implements [candor.RunStore].
func (db *DB) RemoveRunMember(ctx context.Context, runID, subjectID string) error {
	_, err := db.data.w.ExecContext(ctx, `DELETE FROM run_members WHERE subject_id = ? AND run_id = ?`, subjectID, runID)
	return wrap("remove run member", err)
}

// RunsOf implements [candor.RunStore].
func (db *DB) RunsOf(ctx context.Context, subjectID string, limit int) ([]candor.Run, error) {
	rows, err := db.data.query(ctx, `SELECT r.id, r.purpose, r.actor, r.label, r.started_at,
		(SELECT count(*) FROM run_members c WHERE c.run_id = r.id)
		FROM run_members m JOIN runs r ON r.id = m.run_id WHERE m.subject_id = ? ORDER BY r.started_at DESC, r.id DESC LIMIT ?`, subjectID, limit)
	if err != nil {
		return nil, wrap("runs of", err)
	}
	defer rows.Close()
	var out []candor.Run
	for rows.Next() {
		var r candor.Run
		var started string
		if err := rows.Scan(&r.ID, &r.Purpose, &r.Actor, &r.Label, &started, &r.Count); err != nil {
			return nil, wrap("runs of", err)
		}
		r.StartedAt = parseTS(started)
		out = append(out, r)
	}
	return out, wrap("runs of", rows.Err())
}
