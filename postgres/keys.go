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
