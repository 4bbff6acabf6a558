package postgres

import (
	"context"
	"time"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

// ConsentDays implements [candor.ConsentStore].
func (db *DB) ConsentDays(ctx context.Context, from, to string) ([]candor.ConsentDay, error) {
	lo, err1 := time.Parse(time.DateOnly, from)
	hi, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		return nil, candor.Invalid("days are written 2006-01-02")
	}
	rows, _ := db.pool.Query(ctx, db.q(`SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, purpose,
		count(*) FILTER (WHERE state = 'granted'), count(*) FILTER (WHERE state <> 'granted')
		FROM {data}.consents WHERE at >= $1 AND at < $2 GROUP BY 1, 2 ORDER BY 1, 2`), lo, hi.AddDate(0, 0, 1))
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (candor.ConsentDay, error) {
		var d candor.ConsentDay
		err := row.Scan(&d.Day, &d.Purpose, &d.Granted, &d.Refused)
		return d, err
	})
	return out, wrap("consent days", err)
}
