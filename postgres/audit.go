package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

// AppendAudit implements [candor.AuditStore] without a lock: the entries
// are sealed after the last head this node knows and inserted in one
// statement, and the primary key on seq is the serialization point. If
// another node appended meanwhile, the insert conflicts on seq; the head is
// read again and the entries are sealed anew. Entries never change, so an
// insert at seq N+1 that succeeds proves that its previous hash is entry
// N's: the chain cannot fork. One round trip per batch when one node writes.
func (db *DB) AppendAudit(ctx context.Context, entries []*candor.AuditEntry, seal func(prevSeq int64, prevHash []byte, e *candor.AuditEntry)) error {
	if len(entries) == 0 {
		return nil
	}
	db.auditMu.Lock()
	defer db.auditMu.Unlock()
	for attempt := 0; attempt < 100; attempt++ {
		if !db.auditHeadKnown {
			seq, hash, err := db.AuditHead(ctx)
			if err != nil {
				return err
			}
			db.auditSeq, db.auditHash, db.auditHeadKnown = seq, hash, true
		}
		seq, hash := db.auditSeq, db.auditHash
		var sql strings.Builder
		sql.WriteString(db.q(`INSERT INTO {audit}.audit_log (seq, time, actor, action, purpose, subject_id, fields, decision, reason, request_id, rights_request, prev_hash, hash) VALUES `))
		args := make([]any, 0, 13*len(entries))
		for i, e := range entries {
			seal(seq, hash, e)
			fields := e.Fields
			if fields == nil {
				fields = []string{}
			}
			if i > 0 {
				sql.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&sql, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11, n+12, n+13)
			args = append(args, e.Seq, e.Time, e.Actor, string(e.Action), e.Purpose, e.SubjectID, fields, string(e.Decision), e.Reason, e.TraceID, e.RightsRequest, e.PrevHash, e.Hash)
			seq, hash = e.Seq, e.Hash
		}
		_, err := db.pool.Exec(ctx, sql.String(), args...)
		if pgCode(err) == uniqueViolation {
			db.auditHeadKnown = false // another node appended: read the head again
			continue
		}
		if err != nil {
			// Whether it committed is unknown: read the head next time.
			db.auditHeadKnown = false
			return wrap("append audit", err)
		}
		db.auditSeq, db.auditHash = seq, hash
		return nil
	}
	return &candor.Error{Code: candor.EUNAVAILABLE, Message: "audit log contended; try again"}
}

// AuditHead implements [candor.AuditStore].
func (db *DB) AuditHead(ctx context.Context) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := db.pool.QueryRow(ctx, db.q(`SELECT seq, hash FROM {audit}.audit_log ORDER BY seq DESC LIMIT 1`)).Scan(&seq, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, nil
	}
	return seq, hash, wrap("audit head", err)
}

// AuditEntries implements [candor.AuditStore].
func (db *DB) AuditEntries(ctx context.Context, from int64, limit int) ([]candor.AuditEntry, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT `+auditColumns+` FROM {audit}.audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2`), from, limit)
	out, err := pgx.CollectRows(rows, scanAudit)
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
	rows, _ := db.pool.Query(ctx, db.q(query), args...)
	out, err := pgx.CollectRows(rows, scanAudit)
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
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	for _, f := range []struct{ cond, v string }{
		{"actor = $%d", q.Actor}, {"action = $%d", string(q.Action)}, {"subject_id = $%d", q.SubjectID}, {"purpose = $%d", q.Purpose},
		{"request_id = $%d", q.TraceID},
		{"rights_request = $%d AND rights_request <> ''", q.RightsRequest}, // the partial index's condition, said so that it is used
	} {
		if f.v != "" {
			add(f.cond, f.v)
		}
	}
	if q.Before > 0 {
		add("seq < $%d", q.Before)
	}
	order := "DESC"
	if q.After > 0 {
		add("seq > $%d", q.After)
		order = "ASC"
	}
	query := `SELECT ` + auditColumns + ` FROM {audit}.audit_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, q.Limit)
	return query + fmt.Sprintf(` ORDER BY seq %s LIMIT $%d`, order, len(args)), args
}

func scanAudit(r pgx.CollectableRow) (candor.AuditEntry, error) {
	var e candor.AuditEntry
	err := r.Scan(&e.Seq, &e.Time, &e.Actor, &e.Action, &e.Purpose, &e.SubjectID, &e.Fields, &e.Decision, &e.Reason, &e.TraceID, &e.RightsRequest, &e.PrevHash, &e.Hash)
	e.Time = e.Time.UTC()
	if len(e.Fields) == 0 {
		e.Fields = nil
	}
	return e, err
}

// PutCheckpoint implements [candor.AuditStore].
func (db *DB) PutCheckpoint(ctx context.Context, c candor.AuditCheckpoint) error {
	_, err := db.pool.Exec(ctx, db.q(`INSERT INTO {audit}.audit_checkpoints (seq, hash, time, key_id, signature) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING`),
		c.Seq, c.Hash, c.Time, c.KeyID, c.Signature)
	return wrap("put checkpoint", err)
}

// Checkpoints implements [candor.AuditStore].
func (db *DB) Checkpoints(ctx context.Context) ([]candor.AuditCheckpoint, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT seq, hash, time, key_id, signature FROM {audit}.audit_checkpoints ORDER BY seq`))
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.AuditCheckpoint, error) {
		var c candor.AuditCheckpoint
		err := r.Scan(&c.Seq, &c.Hash, &c.Time, &c.KeyID, &c.Signature)
		c.Time = c.Time.UTC()
		return c, err
	})
	return out, wrap("checkpoints", err)
}
