package sqlite

import (
	"context"
	"time"
)

// ConsentSubjects implements [candor.ConsentStore].
func (db *DB) ConsentSubjects(ctx context.Context, purpose string, since time.Time, after string, limit int) ([]string, error) {
	return db.ids(ctx, "consent subjects", `SELECT DISTINCT subject_id FROM consents WHERE at >= ? AND purpose = ? AND subject_id > ? ORDER BY subject_id LIMIT ?`,
		ts(since), purpose, after, limit)
}

// EventSubjects implements [candor.EventStore].
func (db *DB) EventSubjects(ctx context.Context, name string, since time.Time, after string, limit int) ([]string, error) {
	return db.ids(ctx, "event subjects", `SELECT DISTINCT subject_id FROM events WHERE name = ? AND time_ms >= ? AND subject_id > ? ORDER BY subject_id LIMIT ?`,
		name, since.UnixMilli(), after, limit)
}

// ids runs a query of one text column on the reader pool.
func (db *DB) ids(ctx context.Context, op, q string, args ...any) ([]string, error) {
	rows, err := db.data.query(ctx, q, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, id)
	}
	return out, wrap(op, rows.Err())
}
