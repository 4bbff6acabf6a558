package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/candorhq/candor"
)

// PutSegment implements [candor.SegmentStore].
func (db *DB) PutSegment(ctx context.Context, s candor.Segment, members []string) error {
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("put segment", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO segments (id, name, purpose, rule, snapshot, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Name, s.Purpose, string(s.Rule), s.Snapshot, s.CreatedBy, ts(s.CreatedAt))
	if isConstraint(err) {
		return candor.Errorf(candor.ECONFLICT, "segment exists")
	} else if err != nil {
		return wrap("put segment", err)
	}
	if s.Snapshot && len(members) > 0 {
		list, err := json.Marshal(members)
		if err != nil {
			return wrap("put segment", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO segment_members (segment_id, subject_id)
			SELECT ?, id FROM subjects WHERE id IN (SELECT value FROM json_each(?))`, s.ID, string(list)); err != nil {
			return wrap("put segment: members", err)
		}
	}
	return wrap("put segment", tx.Commit())
}

const segmentColumns = `s.id, s.name, s.purpose, s.rule, s.snapshot, s.created_by, s.created_at,
	(SELECT count(*) FROM segment_members m WHERE m.segment_id = s.id)`

func scanSegment(sc interface{ Scan(...any) error }) (candor.Segment, error) {
	var s candor.Segment
	var rule, created string
	err := sc.Scan(&s.ID, &s.Name, &s.Purpose, &rule, &s.Snapshot, &s.CreatedBy, &created, &s.Members)
	s.Rule, s.CreatedAt = []byte(rule), parseTS(created)
	return s, err
}

// Segment implements [candor.SegmentStore].
func (db *DB) Segment(ctx context.Context, id string) (*candor.Segment, error) {
	s, err := scanSegment(db.data.queryRow(ctx, `SELECT `+segmentColumns+` FROM segments s WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "segment not found")
	}
	if err != nil {
		return nil, wrap("segment", err)
	}
	return &s, nil
}

// Segments implements [candor.SegmentStore].
func (db *DB) Segments(ctx context.Context, after string, limit int) ([]candor.Segment, error) {
	rows, err := db.data.query(ctx, `SELECT `+segmentColumns+` FROM segments s WHERE s.id > ? ORDER BY s.id LIMIT ?`, after, limit)
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
	res, err := db.data.w.ExecContext(ctx, `DELETE FROM segments WHERE id = ?`, id)
	if err != nil {
		return wrap("delete segment", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return candor.Errorf(candor.ENOTFOUND, "segment not found")
	}
	return nil
}

// SegmentMembers implements [candor.SegmentStore].
func (db *DB) SegmentMembers(ctx context.Context, segmentID, after string, limit int) ([]string, error) {
	rows, err := db.data.query(ctx, `SELECT subject_id FROM segment_members WHERE segment_id = ? AND subject_id > ? ORDER BY subject_id LIMIT ?`, segmentID, after, limit)
	if err != nil {
		return nil, wrap("segment members", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("segment members", err)
		}
		out = append(out, id)
	}
	return out, wrap("segment members", rows.Err())
}
