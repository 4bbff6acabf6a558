package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/candorhq/candor"
)

// AppendAudit implements [candor.AuditStore]. The single writer connection
// and the immediate transaction serialize appends, so the chain cannot fork.
func (db *DB) AppendAudit(ctx context.Context, entries []*candor.AuditEntry, seal func(prevSeq int64, prevHash []byte, e *candor.AuditEntry)) error {
	tx, err := db.audit.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("append audit", err)
	}
	defer tx.Rollback()
	var seq int64
	var hash []byte
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return wrap("append audit: head", err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_log (seq, time, actor, action, purpose, subject_id, fields, decision, reason, request_id, rights_request, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return wrap("append audit", err)
	}
	defer stmt.Close()
	for _, e := range entries {
		seal(seq, hash, e)
		if _, err := stmt.ExecContext(ctx, e.Seq, ts(e.Time), e.Actor, string(e.Action), e.Purpose, e.SubjectID, strings.Join(e.Fields, ","), string(e.Decision), e.Reason, e.TraceID, e.RightsRequest, e.PrevHash, e.Hash); err != nil {
			return wrap("append audit", err)
		}
		seq, hash = e.Seq, e.Hash
	}
	return wrap("append audit: commit", tx.Commit())
}

// AuditHead implements [candor.AuditStore].
func (db *DB) AuditHead(ctx context.Context) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := db.audit.r.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	return seq, hash, wrap("audit head", err)
}

// AuditEntries implements [candor.AuditStore].
func (db *DB) AuditEntries(ctx context.Context, from int64, limit int) ([]candor.AuditEntry, error) {
	rows, err := db.audit.r.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?`, from, limit)
	if err != nil {
		return nil, wrap("audit entries", err)
	}
	out, err := scanAudit(rows)
	return out, wrap("audit entries", err)
}

// AuditSearch implements [candor.AuditStore]. Each filter has an index
// that leads with its column and ends with seq (migrations 0002, 0003), so a page
// is a range scan of one index whichever filter is set.
func (db *DB) AuditSearch(ctx context.Context, q candor.AuditQuery) ([]candor.AuditEntry, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	query, args := auditSearchSQL(q)
	rows, err := db.audit.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap("audit search", err)
	}
	out, err := scanAudit(rows)
	if err != nil {
		return nil, wrap("audit search", err)
	}
	if q.After > 0 {
		slices.Reverse(out) // read oldest first from After; shown newest first
	}
	return out, nil
}

// auditColumns are the audit log's columns; request_id holds the trace id.
const auditColumns = `seq, time, actor, action, purpose, subject_id, fields, decision, reason, request_id, rights_request, prev_hash, hash`

// auditSearchSQL builds the query of an [candor.AuditQuery]: the values
// are parameters, never text in the statement.
func auditSearchSQL(q candor.AuditQuery) (string, []any) {
	var where []string
	var args []any
	for _, f := range []struct{ cond, v string }{
		{"actor = ?", q.Actor}, {"action = ?", string(q.Action)}, {"subject_id = ?", q.SubjectID}, {"purpose = ?", q.Purpose},
		{"request_id = ?", q.TraceID},
		{"rights_request = ? AND rights_request <> ''", q.RightsRequest}, // the partial index's condition, said so that it is used
	} {
		if f.v != "" {
			where = append(where, f.cond)
			args = append(args, f.v)
		}
	}
	if q.Before > 0 {
		where = append(where, "seq < ?")
		args = append(args, q.Before)
	}
	order := "DESC"
	if q.After > 0 {
		where = append(where, "seq > ?")
		args = append(args, q.After)
		order = "ASC"
	}
	query := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	return query + ` ORDER BY seq ` + order + ` LIMIT ?`, append(args, q.Limit)
}

func scanAudit(rows *sql.Rows) ([]candor.AuditEntry, error) {
	defer rows.Close()
	var out []candor.AuditEntry
	for rows.Next() {
		var e candor.AuditEntry
		var t, fields string
		if err := rows.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Purpose, &e.SubjectID, &fields, &e.Decision, &e.Reason, &e.TraceID, &e.RightsRequest, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.Time = parseTS(t)
		if fields != "" {
			e.Fields = strings.Split(fields, ",")
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// PutCheckpoint implements [candor.AuditStore].
func (db *DB) PutCheckpoint(ctx context.Context, c candor.AuditCheckpoint) error {
	_, err := db.audit.w.ExecContext(ctx, `INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING`, c.Seq, c.Hash, ts(c.Time), c.KeyID, c.Signature)
	return wrap("put checkpoint", err)
}

// Checkpoints implements [candor.AuditStore].
func (db *DB) Checkpoints(ctx context.Context) ([]candor.AuditCheckpoint, error) {
	rows, err := db.audit.r.QueryContext(ctx, `SELECT seq, hash, time, key_id, signature FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return nil, wrap("checkpoints", err)
	}
	defer rows.Close()
	var out []candor.AuditCheckpoint
	for rows.Next() {
		var c candor.AuditCheckpoint
		var t string
		if err := rows.Scan(&c.Seq, &c.Hash, &t, &c.KeyID, &c.Signature); err != nil {
			return nil, wrap("checkpoints", err)
		}
		c.Time = parseTS(t)
		out = append(out, c)
	}
	return out, wrap("checkpoints", rows.Err())
}
