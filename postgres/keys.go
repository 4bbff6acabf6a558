package postgres

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

// keyStore is the key store half of DB: its own schema, or its own database.
type keyStore DB

var _ candor.KeyStore = (*keyStore)(nil)

func (ks *keyStore) db() *DB { return (*DB)(ks) }

// PutSubjectKey implements [candor.KeyStore].
func (ks *keyStore) PutSubjectKey(ctx context.Context, subjectID string, wrapped []byte, at time.Time) error {
	_, err := ks.keysPool.Exec(ctx, ks.db().q(`INSERT INTO {keys}.subject_keys (subject_id, wrapped, created_at) VALUES ($1, $2, $3)`), subjectID, wrapped, at)
	if pgCode(err) == uniqueViolation {
		return candor.Errorf(candor.ECONFLICT, "subject key exists")
	}
	return wrap("put subject key", err)
}

// SubjectKey implements [candor.KeyStore].
func (ks *keyStore) SubjectKey(ctx context.Context, subjectID string) (*candor.WrappedKey, error) {
	k := &candor.WrappedKey{SubjectID: subjectID}
	err := ks.keysPool.QueryRow(ctx, ks.db().q(`SELECT wrapped, shredded_at FROM {keys}.subject_keys WHERE subject_id = $1`), subjectID).Scan(&k.Wrapped, &k.ShreddedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "subject key not found")
	}
	if err != nil {
		return nil, wrap("subject key", err)
	}
	if k.ShreddedAt != nil {
		t := k.ShreddedAt.UTC()
		k.ShreddedAt, k.Wrapped = &t, nil
	}
	return k, nil
}

// ShredSubjectKey implements [candor.KeyStore]. The row keeps a tombstone;
// the key's bytes go with the old row version once PostgreSQL vacuums it.
func (ks *keyStore) ShredSubjectKey(ctx context.Context, subjectID string, at time.Time) error {
	tag, err := ks.keysPool.Exec(ctx, ks.db().q(`UPDATE {keys}.subject_keys SET wrapped = NULL, shredded_at = coalesce(shredded_at, $1) WHERE subject_id = $2`), at, subjectID)
	if err != nil {
		return wrap("shred subject key", err)
	}
	if tag.RowsAffected() == 0 {
		return candor.Errorf(candor.ENOTFOUND, "subject key not found")
	}
	return nil
}

// SubjectKeys implements [candor.KeyStore].
func (ks *keyStore) SubjectKeys(ctx context.Context, after string, limit int) ([]candor.WrappedKey, error) {
	rows, _ := ks.keysPool.Query(ctx, ks.db().q(`SELECT subject_id, wrapped FROM {keys}.subject_keys WHERE subject_id > $1 AND wrapped IS NOT NULL ORDER BY subject_id LIMIT $2`), after, limit)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.WrappedKey, error) {
		var k candor.WrappedKey
		return k, r.Scan(&k.SubjectID, &k.Wrapped)
	})
	return out, wrap("subject keys", err)
}

// ReplaceSubjectKey implements [candor.KeyStore].
func (ks *keyStore) ReplaceSubjectKey(ctx context.Context, subjectID string, old, new []byte) (bool, error) {
	tag, err := ks.keysPool.Exec(ctx, ks.db().q(`UPDATE {keys}.subject_keys SET wrapped = $1 WHERE subject_id = $2 AND wrapped = $3`), new, subjectID, old)
	if err != nil {
		return false, wrap("replace subject key", err)
	}
	return tag.RowsAffected() == 1, nil
}

// CountSubjectKeys implements [candor.KeyStore].
func (ks *keyStore) CountSubjectKeys(ctx context.Context) (live, shredded int, err error) {
	err = ks.keysPool.QueryRow(ctx, ks.db().q(`SELECT count(wrapped), count(*) - count(wrapped) FROM {keys}.subject_keys`)).Scan(&live, &shredded)
	return live, shredded, wrap("count subject keys", err)
}

// PutSystemKey implements [candor.KeyStore].
func (ks *keyStore) PutSystemKey(ctx context.Context, name string, wrapped []byte, at time.Time) error {
	_, err := ks.keysPool.Exec(ctx, ks.db().q(`INSERT INTO {keys}.system_keys (name, wrapped, created_at) VALUES ($1, $2, $3)`), name, wrapped, at)
	if pgCode(err) == uniqueViolation {
		return candor.Errorf(candor.ECONFLICT, "system key %s exists", name)
	}
	return wrap("put system key", err)
}

// SystemKey implements [candor.KeyStore].
func (ks *keyStore) SystemKey(ctx context.Context, name string) ([]byte, error) {
	var wrapped []byte
	err := ks.keysPool.QueryRow(ctx, ks.db().q(`SELECT wrapped FROM {keys}.system_keys WHERE name = $1`), name).Scan(&wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "system key %s not found", name)
	}
	return wrapped, wrap("system key", err)
}

// SystemKeyNames implements [candor.KeyStore].
func (ks *keyStore) SystemKeyNames(ctx context.Context) ([]string, error) {
	rows, _ := ks.keysPool.Query(ctx, ks.db().q(`SELECT name FROM {keys}.system_keys ORDER BY name`))
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, wrap("system key names", err)
}

// ReplaceSystemKey implements [candor.KeyStore].
func (ks *keyStore) ReplaceSystemKey(ctx context.Context, name string, old, new []byte) (bool, error) {
	if bytes.Equal(old, new) {
		return true, nil
	}
	tag, err := ks.keysPool.Exec(ctx, ks.db().q(`UPDATE {keys}.system_keys SET wrapped = $1 WHERE name = $2 AND wrapped = $3`), new, name, old)
	if err != nil {
		return false, wrap("replace system key", err)
	}
	return tag.RowsAffected() == 1, nil
}

// PutAuditAnchor implements [candor.KeyStore].
func (ks *keyStore) PutAuditAnchor(ctx context.Context, c candor.AuditCheckpoint) error {
	_, err := ks.keysPool.Exec(ctx, ks.db().q(`INSERT INTO {keys}.audit_anchor AS a (id, seq, hash, time, key_id, signature) VALUES (1, $1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, time = excluded.time, key_id = excluded.key_id, signature = excluded.signature
		WHERE excluded.seq > a.seq`), c.Seq, c.Hash, c.Time, c.KeyID, c.Signature)
	return wrap("put audit anchor", err)
}

// AuditAnchor implements [candor.KeyStore].
func (ks *keyStore) AuditAnchor(ctx context.Context) (*candor.AuditCheckpoint, error) {
	var c candor.AuditCheckpoint
	err := ks.keysPool.QueryRow(ctx, ks.db().q(`SELECT seq, hash, time, key_id, signature FROM {keys}.audit_anchor WHERE id = 1`)).Scan(&c.Seq, &c.Hash, &c.Time, &c.KeyID, &c.Signature)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "no audit anchor")
	}
	if err != nil {
		return nil, wrap("audit anchor", err)
	}
	c.Time = c.Time.UTC()
	return &c, nil
}

// JournalRevocation implements [candor.KeyStore].
func (ks *keyStore) JournalRevocation(ctx context.Context, r candor.Revocation) error {
	_, err := ks.keysPool.Exec(ctx, ks.db().q(`INSERT INTO {keys}.api_key_revocations (key_id, hash, revoked_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`), r.KeyID, r.Hash, r.At)
	return wrap("journal revocation", err)
}

// APIKeyRevoked implements [candor.KeyStore].
func (ks *keyStore) APIKeyRevoked(ctx context.Context, hash []byte) (bool, error) {
	var n int
	err := ks.keysPool.QueryRow(ctx, ks.db().q(`SELECT count(*) FROM {keys}.api_key_revocations WHERE hash = $1`), hash).Scan(&n)
	return n > 0, wrap("api key revoked", err)
}

// Revocations implements [candor.KeyStore].
func (ks *keyStore) Revocations(ctx context.Context, after string, limit int) ([]candor.Revocation, error) {
	rows, _ := ks.keysPool.Query(ctx, ks.db().q(`SELECT key_id, hash, revoked_at FROM {keys}.api_key_revocations WHERE key_id > $1 ORDER BY key_id LIMIT $2`), after, limit)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.Revocation, error) {
		var v candor.Revocation
		err := r.Scan(&v.KeyID, &v.Hash, &v.At)
		v.At = v.At.UTC()
		return v, err
	})
	return out, wrap("revocations", err)
}
