package postgres

import (
	"context"
	"errors"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

// PutSegment implements [candor.SegmentStore].
func (db *DB) PutSegment(ctx context.Context, s candor.Segment, members []string) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.segments (id, name, purpose, rule, snapshot, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`),
			s.ID, s.Name, s.Purpose, string(s.Rule), s.Snapshot, s.CreatedBy, s.CreatedAt)
		if pgCode(err) == uniqueViolation {
			return candor.Errorf(candor.ECONFLICT, "segment exists")
		} else if err != nil {
			return err
		}
		if s.Snapshot && len(members) > 0 {
			_, err = tx.Exec(ctx, db.q(`INSERT INTO {data}.segment_members (segment_id, subject_id)
				SELECT $1, id FROM {data}.subjects WHERE id = ANY($2) ON CONFLICT DO NOTHING`), s.ID, members)
		}
		return err
	})
	return wrap("put segment", err)
}

const segmentColumns = `s.id, s.name, s.purpose, s.rule, s.snapshot, s.created_by, s.created_at,
	(SELECT count(*) FROM {data}.segment_members m WHERE m.segment_id = s.id)`

func scanSegment(row pgx.Row) (candor.Segment, error) {
	var s candor.Segment
	var rule string
	err := row.Scan(&s.ID, &s.Name, &s.Purpose, &rule, &s.Snapshot, &s.CreatedBy, &s.CreatedAt, &s.Members)
	s.Rule, s.CreatedAt = []byte(rule), s.CreatedAt.UTC()
	return s, err
}

// Segment implements [candor.SegmentStore].
func (db *DB) Segment(ctx context.Context, id string) (*candor.Segment, error) {
	s, err := scanSegment(db.pool.QueryRow(ctx, db.q(`SELECT `+segmentColumns+` FROM {data}.segments s WHERE s.id = $1`), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "segment not found")
	}
	if err != nil {
		return nil, wrap("segment", err)
	}
	return &s, nil
}

// Segments implements [candor.SegmentStore].
func (db *DB) Segments(ctx context.Context, after string, limit int) ([]candor.Segment, error) {
	rows, err := db.pool.Query(ctx, db.q(`SELECT `+segmentColumns+` FROM {data}.segments s WHERE s.id > $1 ORDER BY s.id LIMIT $2`), after, limit)
	if err != nil {
		return nil, wrap("segments", err)
	}
	defer rows.Close()
	var out []candor.Segment
	for rows.Next() {
		s, err := scanSegment(rows)
		if err != nil {
			return nil, wrap("segments", err)
		}
		out = append(out, s)
	}
	return out, wrap("segments", rows.Err())
}

// DeleteSegment implements [candor.SegmentStore]; its members go with it.
func (db *DB) DeleteSegment(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, db.q(`DELETE FROM {data}.segments WHERE id = $1`), id)
	if err != nil {
		return wrap("delete segment", err)
	}
	if tag.RowsAffected() == 0 {
		return candor.Errorf(candor.ENOTFOUND, "segment not found")
	}
	return nil
}

// SegmentMembers implements [candor.SegmentStore].
func (db *DB) SegmentMembers(ctx context.Context, segmentID, after string, limit int) ([]string, error) {
	rows, err := db.pool.Query(ctx, db.q(`SELECT subject_id FROM {data}.segment_members WHERE segment_id = $1 AND subject_id > $2 ORDER BY subject_id LIMIT $3`), segmentID, after, limit)
	if err != nil {
		return nil, wrap("segment members", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return ids, wrap("segment members", err)
}
