package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// ConsentSubjects implements [candor.ConsentStore].
func (db *DB) ConsentSubjects(ctx context.Context, purpose string, since time.Time, after string, limit int) ([]string, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT DISTINCT subject_id FROM {data}.consents WHERE at >= $1 AND purpose = $2 AND subject_id > $3 ORDER BY subject_id LIMIT $4`),
		since, purpose, after, limit)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, wrap("consent subjects", err)
}

// EventSubjects implements [candor.EventStore].
func (db *DB) EventSubjects(ctx context.Context, name string, since time.Time, after string, limit int) ([]string, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT DISTINCT subject_id FROM {data}.events WHERE name = $1 AND time_ms >= $2 AND subject_id > $3 ORDER BY subject_id LIMIT $4`),
		name, since.UnixMilli(), after, limit)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, wrap("event subjects", err)
}
