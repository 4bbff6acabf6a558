package sqlite

import (
	"context"
	"time"

	"github.com/candorhq/candor"
)

// ConsentDays implements [candor.ConsentStore].
func (db *DB) ConsentDays(ctx context.Context, from, to string) ([]candor.ConsentDay, error) {
	lo, hi, err := dayBounds(from, to)
	if err != nil {
		return nil, err
	}
	rows, err := db.data.query(ctx, `SELECT substr(at, 1, 10) AS day, purpose, sum(state = 'granted'), sum(state <> 'granted')
		FROM consents WHERE at >= ? AND at < ? GROUP BY day, purpose ORDER BY day, purpose`, ts(lo), ts(hi))
	if err != nil {
		return nil, wrap("consent days", err)
	}
	defer rows.Close()
	var out []candor.ConsentDay
	for rows.Next() {
		var d candor.ConsentDay
		if err := rows.Scan(&d.Day, &d.Purpose, &d.Granted, &d.Refused); err != nil {
			return nil, wrap("consent days", err)
		}
		out = append(out, d)
	}
	return out, wrap("consent days", rows.Err())
}

// dayBounds turns two inclusive days into the half-open interval of times.
func dayBounds(from, to string) (time.Time, time.Time, error) {
	lo, err1 := time.Parse(time.DateOnly, from)
	hi, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}, candor.Invalid("days are written 2006-01-02")
	}
	return lo, hi.AddDate(0, 0, 1), nil
}
