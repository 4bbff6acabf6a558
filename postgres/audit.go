package postgres

import (
	"context"
	"errors"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

// auditLock is the advisory lock key that serializes audit appends across
// every node, so that the chain stays one chain.
const auditLock = 0x617564697400 // "audit"

// AppendAudit implements [candor.AuditStore]. A transaction-scoped
// advisory lock serializes appends from every node; the head is read under
// it, so the chain cannot fork.
func (db *DB) AppendAudit(ctx context.Context, entries []*candor.AuditEntry, seal func(prevSeq int64, prevHash []byte, e *candor.AuditEntry)) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditLock); err != nil {
			return err
		}
		var seq int64
		var hash []byte
		err := tx.QueryRow(ctx, db.q(`SELECT seq, hash FROM {audit}.audit_log ORDER BY seq DESC LIMIT 1`)).Scan(&seq, &hash)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		rows := make([][]any, 0, len(entries))
		for _, e := range entries {
			seal(seq, hash, e)
			fields := e.Fields
			if fields == nil {
				fields = []string{}
			}
			rows = append(rows, []any{e.Seq, e.Time, e.Actor, e.Action, e.Purpose, e.SubjectID, fields, e.Decision, e.Reason, e.RequestID, e.PrevHash, e.Hash})
			seq, hash = e.Seq, e.Hash
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{db.prefix + "_audit", "audit_log"},
			[]string{"seq", "time", "actor", "action", "purpose", "subject_id", "fields", "decision", "reason", "request_id", "prev_hash", "hash"},
			pgx.CopyFromRows(rows))
		return err
	})
	return wrap("append audit", err)
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
	rows, _ := db.pool.Query(ctx, db.q(`SELECT seq, time, actor, action, purpose, subject_id, fields, decision, reason, request_id, prev_hash, hash
		FROM {audit}.audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2`), from, limit)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.AuditEntry, error) {
		var e candor.AuditEntry
		err := r.Scan(&e.Seq, &e.Time, &e.Actor, &e.Action, &e.Purpose, &e.SubjectID, &e.Fields, &e.Decision, &e.Reason, &e.RequestID, &e.PrevHash, &e.Hash)
		e.Time = e.Time.UTC()
		if len(e.Fields) == 0 {
			e.Fields = nil
		}
		return e, err
	})
	return out, wrap("audit entries", err)
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
