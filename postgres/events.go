package postgres

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

// AppendMessages implements [candor.EventStore]: one transaction, its
// statements sent as batches. The anonymous counts are added last, in key
// order, so that concurrent writers never wait on each other in a cycle.
func (db *DB) AppendMessages(ctx context.Context, msgs []candor.Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	// An event message records its id and, only if the id is new, stores
	// the event if its subject still exists.
	eventSQL := db.q(`WITH seen AS (INSERT INTO {data}.messages (id, received_ms) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id),
		ev AS (INSERT INTO {data}.events (id, subject_id, type, name, purposes, time_ms, received_ms, expires_ms, sealed)
			SELECT $11, $3, $4, $5, $6, $7, $8, $9, $10 FROM seen WHERE EXISTS (SELECT 1 FROM {data}.subjects WHERE id = $3) RETURNING id)
		SELECT (SELECT count(*) FROM seen), (SELECT count(*) FROM ev)`)
	seenSQL := db.q(`WITH seen AS (INSERT INTO {data}.messages (id, received_ms) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id)
		SELECT count(*), 0::bigint FROM seen`)
	countSQL := db.q(`INSERT INTO {data}.anonymous_counts (day, name, n) VALUES ($1, $2, $3)
		ON CONFLICT (day, name) DO UPDATE SET n = {data}.anonymous_counts.n + excluded.n`)
	// Every writer inserts message ids in the same (sorted) order, so that
	// two writers racing with the same ids wait for each other instead of
	// deadlocking.
	msgs = slices.Clone(msgs)
	slices.SortStableFunc(msgs, func(a, b candor.Message) int { return strings.Compare(a.ID, b.ID) })
	batch := &pgx.Batch{}
	for _, m := range msgs {
		if e := m.Event; e != nil {
			batch.Queue(eventSQL, m.ID, m.At.UnixMilli(), e.SubjectID, e.Type, e.Name, strings.Join(e.Purposes, ","),
				e.Time.UnixMilli(), e.Received.UnixMilli(), e.Expires.UnixMilli(), e.Sealed, e.ID)
		} else {
			batch.Queue(seenSQL, m.ID, m.At.UnixMilli())
		}
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return 0, wrap("append messages", err)
	}
	defer conn.Release()
	var stored int
	for attempt := 0; attempt < 8; attempt++ {
		stored = 0
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			type key struct{ day, name string }
			counts := map[key]int64{}
			br := tx.SendBatch(ctx, batch)
			for _, m := range msgs {
				var seen, linked int64
				if err := br.QueryRow().Scan(&seen, &linked); err != nil {
					br.Close()
					return err
				}
				if seen == 1 {
					stored++
					if linked == 0 {
						counts[key{m.At.UTC().Format(time.DateOnly), m.Name}]++
					}
				}
			}
			if err := br.Close(); err != nil {
				return err
			}
			if len(counts) == 0 {
				return nil
			}
			keys := make([]key, 0, len(counts))
			for k := range counts {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool {
				return keys[i].day < keys[j].day || (keys[i].day == keys[j].day && keys[i].name < keys[j].name)
			})
			add := &pgx.Batch{}
			for _, k := range keys {
				add.Queue(countSQL, k.day, k.name, counts[k])
			}
			return tx.SendBatch(ctx, add).Close()
		})
		// Retry a deadlock or serialization failure (racing writers of the
		// same message ids); and a statement that pgx's cache believed
		// prepared after an earlier failed batch: start that connection's
		// cache afresh.
		code := pgCode(err)
		if code == "26000" {
			if derr := conn.Conn().DeallocateAll(ctx); derr != nil {
				break
			}
			continue
		}
		if code != "40P01" && code != "40001" {
			break
		}
	}
	if err != nil {
		return 0, wrap("append messages", err)
	}
	return stored, nil
}

// SubjectEvents implements [candor.EventStore].
func (db *DB) SubjectEvents(ctx context.Context, subjectID string, before time.Time, limit int) ([]candor.EventRecord, error) {
	bound := int64(1<<63 - 1)
	if !before.IsZero() {
		bound = before.UnixMilli()
	}
	rows, _ := db.pool.Query(ctx, db.q(`SELECT id, subject_id, type, name, purposes, time_ms, received_ms, expires_ms, sealed
		FROM {data}.events WHERE subject_id = $1 AND time_ms < $2 ORDER BY time_ms DESC, id DESC LIMIT $3`), subjectID, bound, limit)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.EventRecord, error) {
		var e candor.EventRecord
		var purposes string
		var t, rc, x int64
		err := r.Scan(&e.ID, &e.SubjectID, &e.Type, &e.Name, &purposes, &t, &rc, &x, &e.Sealed)
		e.Purposes = splitList(purposes)
		e.Time, e.Received, e.Expires = time.UnixMilli(t).UTC(), time.UnixMilli(rc).UTC(), time.UnixMilli(x).UTC()
		return e, err
	})
	return out, wrap("subject events", err)
}

// EventStats implements [candor.EventStore].
func (db *DB) EventStats(ctx context.Context, subjectID string) ([]candor.EventStat, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT name, count(*), min(time_ms), max(time_ms) FROM {data}.events WHERE subject_id = $1 GROUP BY name ORDER BY name`), subjectID)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.EventStat, error) {
		var s candor.EventStat
		var first, last int64
		err := r.Scan(&s.Name, &s.Count, &first, &last)
		s.FirstSeen, s.LastSeen = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		return s, err
	})
	return out, wrap("event stats", err)
}

// AnonymousCounts implements [candor.EventStore].
func (db *DB) AnonymousCounts(ctx context.Context, from, to string) ([]candor.EventCount, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT day, name, n FROM {data}.anonymous_counts WHERE day >= $1 AND day <= $2 ORDER BY day, name`), from, to)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.EventCount, error) {
		var c candor.EventCount
		err := r.Scan(&c.Day, &c.Name, &c.Count)
		return c, err
	})
	return out, wrap("anonymous counts", err)
}

// AddMinimization implements [candor.EventStore].
func (db *DB) AddMinimization(ctx context.Context, counts []candor.MinimizationCount) error {
	if len(counts) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for _, c := range counts {
		batch.Queue(db.q(`INSERT INTO {data}.minimization (day, event, item, action, detector, n) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (day, event, item, action, detector) DO UPDATE SET n = {data}.minimization.n + excluded.n`), c.Day, c.Event, c.Item, c.Action, c.Detector, c.Count)
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, batch).Close()
	})
	return wrap("add minimization", err)
}

// Minimization implements [candor.EventStore].
func (db *DB) Minimization(ctx context.Context, from, to string) ([]candor.MinimizationCount, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT day, event, item, action, detector, n FROM {data}.minimization
		WHERE day >= $1 AND day <= $2 ORDER BY day, event, item, action, detector`), from, to)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.MinimizationCount, error) {
		var c candor.MinimizationCount
		err := r.Scan(&c.Day, &c.Event, &c.Item, &c.Action, &c.Detector, &c.Count)
		return c, err
	})
	return out, wrap("minimization", err)
}

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
