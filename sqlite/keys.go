package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/candorhq/candor"
)

// keyStore is the key store half of DB, in keys.db.
type keyStore DB

var _ candor.KeyStore = (*keyStore)(nil)

func (ks *keyStore) c() *conn { return ks.keys }

// PutSubjectKey implements [candor.KeyStore].
func (ks *keyStore) PutSubjectKey(ctx context.Context, subjectID string, wrapped []byte, at time.Time) error {
	_, err := ks.c().w.ExecContext(ctx, `INSERT INTO subject_keys (subject_id, wrapped, created_at) VALUES (?, ?, ?)`, subjectID, wrapped, ts(at))
	if isConstraint(err) {
		return candor.Errorf(candor.ECONFLICT, "subject key exists")
	}
	return wrap("put subject key", err)
}

// SubjectKey implements [candor.KeyStore].
func (ks *keyStore) SubjectKey(ctx context.Context, subjectID string) (*candor.WrappedKey, error) {
	var wrapped []byte
	var shredded sql.NullString
	err := ks.c().r.QueryRowContext(ctx, `SELECT wrapped, shredded_at FROM subject_keys WHERE subject_id = ?`, subjectID).Scan(&wrapped, &shredded)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "subject key not found")
	}
	if err != nil {
		return nil, wrap("subject key", err)
	}
	k := &candor.WrappedKey{SubjectID: subjectID, Wrapped: wrapped}
	if shredded.Valid {
		t := parseTS(shredded.String)
		k.ShreddedAt, k.Wrapped = &t, nil
	}
	return k, nil
}

// ShredSubjectKey implements [candor.KeyStore]. With secure_delete on, the
// key's bytes are overwritten in the file, and the WAL is checkpointed so no
// copy stays in the log.
func (ks *keyStore) ShredSubjectKey(ctx context.Context, subjectID string, at time.Time) error {
	res, err := ks.c().w.ExecContext(ctx, `UPDATE subject_keys SET wrapped = NULL, shredded_at = coalesce(shredded_at, ?) WHERE subject_id = ?`, ts(at), subjectID)
	if err != nil {
		return wrap("shred subject key", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return candor.Errorf(candor.ENOTFOUND, "subject key not found")
	}
	if _, err := ks.c().w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return wrap("shred subject key: checkpoint", err)
	}
	return nil
}

// SubjectKeys implements [candor.KeyStore].
func (ks *keyStore) SubjectKeys(ctx context.Context, after string, limit int) ([]candor.WrappedKey, error) {
	rows, err := ks.c().r.QueryContext(ctx, `SELECT subject_id, wrapped FROM subject_keys WHERE subject_id > ? AND wrapped IS NOT NULL ORDER BY subject_id LIMIT ?`, after, limit)
	if err != nil {
		return nil, wrap("subject keys", err)
	}
	defer rows.Close()
	var out []candor.WrappedKey
	for rows.Next() {
		var k candor.WrappedKey
		if err := rows.Scan(&k.SubjectID, &k.Wrapped); err != nil {
			return nil, wrap("subject keys", err)
		}
		out = append(out, k)
	}
	return out, wrap("subject keys", rows.Err())
}

// ReplaceSubjectKey implements [candor.KeyStore].
func (ks *keyStore) ReplaceSubjectKey(ctx context.Context, subjectID string, old, new []byte) (bool, error) {
	res, err := ks.c().w.ExecContext(ctx, `UPDATE subject_keys SET wrapped = ? WHERE subject_id = ? AND wrapped = ?`, new, subjectID, old)
	if err != nil {
		return false, wrap("replace subject key", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// CountSubjectKeys implements [candor.KeyStore].
func (ks *keyStore) CountSubjectKeys(ctx context.Context) (live, shredded int, err error) {
	err = ks.c().r.QueryRowContext(ctx, `SELECT count(wrapped), count(*) - count(wrapped) FROM subject_keys`).Scan(&live, &shredded)
	return live, shredded, wrap("count subject keys", err)
}

// PutSystemKey implements [candor.KeyStore].
func (ks *keyStore) PutSystemKey(ctx context.Context, name string, wrapped []byte, at time.Time) error {
	_, err := ks.c().w.ExecContext(ctx, `INSERT INTO system_keys (name, wrapped, created_at) VALUES (?, ?, ?)`, name, wrapped, ts(at))
	if isConstraint(err) {
		return candor.Errorf(candor.ECONFLICT, "system key %s exists", name)
	}
	return wrap("put system key", err)
}

// SystemKey implements [candor.KeyStore].
func (ks *keyStore) SystemKey(ctx context.Context, name string) ([]byte, error) {
	var wrapped []byte
	err := ks.c().r.QueryRowContext(ctx, `SELECT wrapped FROM system_keys WHERE name = ?`, name).Scan(&wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "system key %s not found", name)
	}
	return wrapped, wrap("system key", err)
}

// SystemKeyNames implements [candor.KeyStore].
func (ks *keyStore) SystemKeyNames(ctx context.Context) ([]string, error) {
	rows, err := ks.c().r.QueryContext(ctx, `SELECT name FROM system_keys ORDER BY name`)
	if err != nil {
		return nil, wrap("system key names", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, wrap("system key names", err)
		}
		out = append(out, n)
	}
	return out, wrap("system key names", rows.Err())
}

// ReplaceSystemKey implements [candor.KeyStore].
func (ks *keyStore) ReplaceSystemKey(ctx context.Context, name string, old, new []byte) (bool, error) {
	if bytes.Equal(old, new) {
		return true, nil
	}
	res, err := ks.c().w.ExecContext(ctx, `UPDATE system_keys SET wrapped = ? WHERE name = ? AND wrapped = ?`, new, name, old)
	if err != nil {
		return false, wrap("replace system key", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// PutAuditAnchor implements [candor.KeyStore].
func (ks *keyStore) PutAuditAnchor(ctx context.Context, c candor.AuditCheckpoint) error {
	_, err := ks.c().w.ExecContext(ctx, `INSERT INTO audit_anchor (id, seq, hash, time, key_id, signature) VALUES (1, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, time = excluded.time, key_id = excluded.key_id, signature = excluded.signature
		WHERE excluded.seq > audit_anchor.seq`, c.Seq, c.Hash, ts(c.Time), c.KeyID, c.Signature)
	return wrap("put audit anchor", err)
}

// AuditAnchor implements [candor.KeyStore].
func (ks *keyStore) AuditAnchor(ctx context.Context) (*candor.AuditCheckpoint, error) {
	var c candor.AuditCheckpoint
	var t string
	err := ks.c().r.QueryRowContext(ctx, `SELECT seq, hash, time, key_id, signature FROM audit_anchor WHERE id = 1`).Scan(&c.Seq, &c.Hash, &t, &c.KeyID, &c.Signature)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "no audit anchor")
	}
	if err != nil {
		return nil, wrap("audit anchor", err)
	}
	c.Time = parseTS(t)
	return &c, nil
}

// JournalRevocation implements [candor.KeyStore].
func (ks *keyStore) JournalRevocation(ctx context.Context, r candor.Revocation) error {
	_, err := ks.c().w.ExecContext(ctx, `INSERT INTO api_key_revocations (key_id, hash, revoked_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, r.KeyID, r.Hash, ts(r.At))
	return wrap("journal revocation", err)
}

// APIKeyRevoked implements [candor.KeyStore].
func (ks *keyStore) APIKeyRevoked(ctx context.Context, hash []byte) (bool, error) {
	var n int
	err := ks.c().r.QueryRowContext(ctx, `SELECT count(*) FROM api_key_revocations WHERE hash = ?`, hash).Scan(&n)
	return n > 0, wrap("api key revoked", err)
}

// Revocations implements [candor.KeyStore].
func (ks *keyStore) Revocations(ctx context.Context, after string, limit int) ([]candor.Revocation, error) {
	rows, err := ks.c().r.QueryContext(ctx, `SELECT key_id, hash, revoked_at FROM api_key_revocations WHERE key_id > ? ORDER BY key_id LIMIT ?`, after, limit)
	if err != nil {
		return nil, wrap("revocations", err)
	}
	defer rows.Close()
	var out []candor.Revocation
	for rows.Next() {
		var r candor.Revocation
		var t string
		if err := rows.Scan(&r.KeyID, &r.Hash, &t); err != nil {
			return nil, wrap("revocations", err)
		}
		r.At = parseTS(t)
		out = append(out, r)
	}
	return out, wrap("revocations", rows.Err())
}
