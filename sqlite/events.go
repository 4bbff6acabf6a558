package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/candorhq/candor"
)

// AppendMessages implements [candor.EventStore].
func (db *DB) AppendMessages(ctx context.Context, msgs []candor.Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, wrap("append messages", err)
	}
	defer tx.Rollback()
	seen, err := tx.PrepareContext(ctx, `INSERT INTO messages (id, received_ms) VALUES (?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return 0, wrap("append messages", err)
	}
	defer seen.Close()
	event, err := tx.PrepareContext(ctx, `INSERT INTO events (id, subject_id, type, name, purposes, time_ms, received_ms, expires_ms, sealed)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM subjects WHERE id = ?)`)
	if err != nil {
		return 0, wrap("append messages", err)
	}
	defer event.Close()
	count, err := tx.PrepareContext(ctx, `INSERT INTO anonymous_counts (day, name, n) VALUES (?, ?, 1) ON CONFLICT (day, name) DO UPDATE SET n = n + 1`)
	if err != nil {
		return 0, wrap("append messages", err)
	}
	defer count.Close()
	stored := 0
	for _, m := range msgs {
		res, err := seen.ExecContext(ctx, m.ID, m.At.UnixMilli())
		if err != nil {
			return 0, wrap("append messages", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // a retry
		}
		stored++
		if e := m.Event; e != nil {
			res, err := event.ExecContext(ctx, e.ID, e.SubjectID, e.Type, e.Name, strings.Join(e.Purposes, ","),
				e.Time.UnixMilli(), e.Received.UnixMilli(), e.Expires.UnixMilli(), e.Sealed, e.SubjectID)
			if err != nil {
				return 0, wrap("append messages: event", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				continue
			}
			// The subject was erased meanwhile: count it anonymously.
		}
		if _, err := count.ExecContext(ctx, m.At.UTC().Format(time.DateOnly), m.Name); err != nil {
			return 0, wrap("append messages: count", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, wrap("append messages: commit", err)
	}
	return stored, nil
}

// SubjectEvents implements [candor.EventStore].
func (db *DB) SubjectEvents(ctx context.Context, subjectID string, before time.Time, limit int) ([]candor.EventRecord, error) {
	bound := int64(1<<63 - 1)
	if !before.IsZero() {
		bound = before.UnixMilli()
	}
	rows, err := db.data.query(ctx, `SELECT id, subject_id, type, name, purposes, time_ms, received_ms, expires_ms, sealed
		FROM events WHERE subject_id = ? AND time_ms < ? ORDER BY time_ms DESC, id DESC LIMIT ?`, subjectID, bound, limit)
	if err != nil {
		return nil, wrap("subject events", err)
	}
	defer rows.Close()
	var out []candor.EventRecord
	for rows.Next() {
		var e candor.EventRecord
		var purposes string
		var t, r, x int64
		if err := rows.Scan(&e.ID, &e.SubjectID, &e.Type, &e.Name, &purposes, &t, &r, &x, &e.Sealed); err != nil {
			return nil, wrap("subject events", err)
		}
		e.Purposes = splitList(purposes)
		e.Time, e.Received, e.Expires = time.UnixMilli(t).UTC(), time.UnixMilli(r).UTC(), time.UnixMilli(x).UTC()
		out = append(out, e)
	}
	return out, wrap("subject events", rows.Err())
}

// EventStats implements [candor.EventStore].
func (db *DB) EventStats(ctx context.Context, subjectID string) ([]candor.EventStat, error) {
	rows, err := db.data.query(ctx, `SELECT name, count(*), min(time_ms), max(time_ms) FROM events WHERE subject_id = ? GROUP BY name ORDER BY name`, subjectID)
	if err != nil {
		return nil, wrap("event stats", err)
	}
	defer rows.Close()
	var out []candor.EventStat
	for rows.Next() {
		var s candor.EventStat
		var first, last int64
		if err := rows.Scan(&s.Name, &s.Count, &first, &last); err != nil {
			return nil, wrap("event stats", err)
		}
		s.FirstSeen, s.LastSeen = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		out = append(out, s)
	}
	return out, wrap("event stats", rows.Err())
}

// AnonymousCounts implements [candor.EventStore].
func (db *DB) AnonymousCounts(ctx context.Context, from, to string) ([]candor.EventCount, error) {
	rows, err := db.data.query(ctx, `SELECT day, name, n FROM anonymous_counts WHERE day >= ? AND day <= ? ORDER BY day, name`, from, to)
	if err != nil {
		return nil, wrap("anonymous counts", err)
	}
	defer rows.Close()
	var out []candor.EventCount
	for rows.Next() {
		var c candor.EventCount
		if err := rows.Scan(&c.Day, &c.Name, &c.Count); err != nil {
			return nil, wrap("anonymous counts", err)
		}
		out = append(out, c)
	}
	return out, wrap("anonymous counts", rows.Err())
}

// AddMinimization implements [candor.EventStore].
func (db *DB) AddMinimization(ctx context.Context, counts []candor.MinimizationCount) error {
	if len(counts) == 0 {
		return nil
	}
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("add minimization", err)
	}
	defer tx.Rollback()
	for _, c := range counts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO minimization (day, event, item, action, detector, n) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (day, event, item, action, detector) DO UPDATE SET n = n + excluded.n`, c.Day, c.Event, c.Item, c.Action, c.Detector, c.Count); err != nil {
			return wrap("add minimization", err)
		}
	}
	return wrap("add minimization: commit", tx.Commit())
}

// Minimization implements [candor.EventStore].
func (db *DB) Minimization(ctx context.Context, from, to string) ([]candor.MinimizationCount, error) {
	rows, err := db.data.query(ctx, `SELECT day, event, item, action, detector, n FROM minimization
		WHERE day >= ? AND day <= ? ORDER BY day, event, item, action, detector`, from, to)
	if err != nil {
		return nil, wrap("minimization", err)
	}
	defer rows.Close()
	var out []candor.MinimizationCount
	for rows.Next() {
		var c candor.MinimizationCount
		if err := rows.Scan(&c.Day, &c.Event, &c.Item, &c.Action, &c.Detector, &c.Count); err != nil {
			return nil, wrap("minimization", err)
		}
		out = append(out, c)
	}
	return out, wrap("minimization", rows.Err())
}

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
