package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

// WriteSubject implements [candor.SubjectStore].
func (db *DB) WriteSubject(ctx context.Context, w candor.SubjectWrite) error {
	err := db.announced(ctx, func(tx pgx.Tx, changed func(string, int64, bool)) error {
		var version int64
		if w.Create {
			if err := tx.QueryRow(ctx, db.q(`INSERT INTO {data}.subjects (id, created_at, updated_at) VALUES ($1, $2, $2) RETURNING version`), w.SubjectID, w.At).Scan(&version); err != nil {
				if pgCode(err) == uniqueViolation {
					return candor.Errorf(candor.ECONFLICT, "subject exists")
				}
				return err
			}
		} else {
			err := tx.QueryRow(ctx, db.q(`UPDATE {data}.subjects SET updated_at = $1, version = version + 1 WHERE id = $2 RETURNING version`), w.At, w.SubjectID).Scan(&version)
			if errors.Is(err, pgx.ErrNoRows) {
				return candor.Errorf(candor.ENOTFOUND, "subject not found")
			}
			if err != nil {
				return err
			}
		}
		changed(w.SubjectID, version, false)
		for _, kind := range w.Replace {
			if _, err := tx.Exec(ctx, db.q(`DELETE FROM {data}.identifiers WHERE subject_id = $1 AND kind = $2`), w.SubjectID, kind); err != nil {
				return err
			}
		}
		// The subject's row is locked by the update above: writes to one
		// subject are serialized, so what it holds cannot change under us.
		held := map[string][]byte{}
		anonymousOnly := w.Create
		if !w.Create {
			rows, _ := tx.Query(ctx, db.q(`SELECT kind, blind FROM {data}.identifiers WHERE subject_id = $1`), w.SubjectID)
			ids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.Identifier, error) {
				var id candor.Identifier
				return id, r.Scan(&id.Kind, &id.Blind)
			})
			if err != nil {
				return err
			}
			for _, id := range ids {
				if candor.SingleKind(id.Kind) {
					held[id.Kind] = id.Blind
				}
			}
			anonymousOnly = len(held) == 0
		}
		for _, id := range w.Identifiers {
			if err := candor.CheckSingle(held, id); err != nil {
				return err
			}
			// Insert, or find who holds it: the unique key settles racing writers.
			var owner string
			err := tx.QueryRow(ctx, db.q(`INSERT INTO {data}.identifiers (kind, blind, subject_id, sealed, origin) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (kind, blind) DO UPDATE SET kind = excluded.kind RETURNING subject_id`), id.Kind, id.Blind, w.SubjectID, id.Sealed, candor.OriginOf(id, anonymousOnly)).Scan(&owner)
			if err != nil {
				return err
			}
			if owner != w.SubjectID {
				return &candor.Error{Code: candor.ECONFLICT, Message: "the " + id.Kind + " belongs to another subject", Reason: "identifier_conflict",
					Fields: []candor.FieldError{{Field: id.Kind, Message: "belongs to another subject"}}}
			}
			if candor.SingleKind(id.Kind) {
				held[id.Kind] = id.Blind
			}
		}
		for _, t := range w.Traits {
			if _, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.traits (subject_id, field, sealed, updated_at, source) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (subject_id, field) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at, source = excluded.source`), w.SubjectID, t.Field, t.Sealed, w.At, t.Source); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("write subject", err)
}

// Subject implements [candor.SubjectStore].
func (db *DB) Subject(ctx context.Context, id string) (*candor.Subject, error) {
	var s candor.Subject
	var objections string
	err := db.pool.QueryRow(ctx, db.q(`SELECT id, created_at, updated_at, restricted, version, objections FROM {data}.subjects WHERE id = $1`), id).Scan(&s.ID, &s.CreatedAt, &s.UpdatedAt, &s.Restricted, &s.Version, &objections)
	s.Objections = splitList(objections)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	if err != nil {
		return nil, wrap("subject", err)
	}
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return &s, nil
}

// SubjectVersion implements [candor.SubjectStore].
func (db *DB) SubjectVersion(ctx context.Context, id string) (int64, error) {
	var v int64
	err := db.pool.QueryRow(ctx, db.q(`SELECT version FROM {data}.subjects WHERE id = $1`), id).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	return v, wrap("subject version", err)
}

// FindSubject implements [candor.SubjectStore].
func (db *DB) FindSubject(ctx context.Context, kind string, blind []byte) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, db.q(`SELECT subject_id FROM {data}.identifiers WHERE kind = $1 AND blind = $2`), kind, blind).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	return id, wrap("find subject", err)
}

// Identifiers implements [candor.SubjectStore].
func (db *DB) Identifiers(ctx context.Context, subjectID string) ([]candor.Identifier, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT kind, blind, sealed, origin FROM {data}.identifiers WHERE subject_id = $1 ORDER BY kind, blind`), subjectID)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.Identifier, error) {
		var id candor.Identifier
		return id, r.Scan(&id.Kind, &id.Blind, &id.Sealed, &id.Origin)
	})
	return out, wrap("identifiers", err)
}

// Traits implements [candor.SubjectStore].
func (db *DB) Traits(ctx context.Context, subjectID string, fields []string) ([]candor.Trait, error) {
	if fields != nil && len(fields) == 0 {
		return nil, nil
	}
	// While the feed is fresh, a subject's traits are read whole once and
	// kept (see traitCache).
	if f := db.feed.Load(); f != nil && f.Fresh() {
		all, gen, ok := db.traits.get(subjectID)
		if !ok {
			var err error
			if all, err = db.loadTraits(ctx, subjectID, nil); err != nil {
				return nil, err
			}
			db.traits.put(subjectID, all, gen)
		}
		return pick(all, fields), nil
	}
	return db.loadTraits(ctx, subjectID, fields)
}

func (db *DB) loadTraits(ctx context.Context, subjectID string, fields []string) ([]candor.Trait, error) {
	q := db.q(`SELECT field, sealed, updated_at, source FROM {data}.traits WHERE subject_id = $1 AND ($2::text[] IS NULL OR field = ANY($2)) ORDER BY field`)
	rows, _ := db.pool.Query(ctx, q, subjectID, fields)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.Trait, error) {
		var t candor.Trait
		err := r.Scan(&t.Field, &t.Sealed, &t.UpdatedAt, &t.Source)
		t.UpdatedAt = t.UpdatedAt.UTC()
		return t, err
	})
	return out, wrap("traits", err)
}

// SetRestricted implements [candor.SubjectStore].
func (db *DB) SetRestricted(ctx context.Context, subjectID string, restricted bool, at time.Time) error {
	err := db.announced(ctx, func(tx pgx.Tx, changed func(string, int64, bool)) error {
		var version int64
		err := tx.QueryRow(ctx, db.q(`UPDATE {data}.subjects SET restricted = $1, updated_at = $2, version = version + 1 WHERE id = $3 RETURNING version`), restricted, at, subjectID).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			return candor.Errorf(candor.ENOTFOUND, "subject not found")
		}
		changed(subjectID, version, false)
		return err
	})
	return wrap("set restricted", err)
}

// CountSubjects implements [candor.SubjectStore].
func (db *DB) CountSubjects(ctx context.Context) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, db.q(`SELECT count(*) FROM {data}.subjects`)).Scan(&n)
	return n, wrap("count subjects", err)
}

// SubjectIDs implements [candor.SubjectStore].
func (db *DB) SubjectIDs(ctx context.Context, after string, limit int) ([]string, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT id FROM {data}.subjects WHERE id > $1 ORDER BY id LIMIT $2`), after, limit)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, wrap("subject ids", err)
}

// AppendConsents implements [candor.ConsentStore].
func (db *DB) AppendConsents(ctx context.Context, records []candor.Consent) error {
	err := db.announced(ctx, func(tx pgx.Tx, changed func(string, int64, bool)) error {
		for i := range records {
			r := &records[i]
			err := tx.QueryRow(ctx, db.q(`INSERT INTO {data}.consents (id, receipt_id, subject_id, purpose, state, notice_hash, channel, gpc, explicit, guardian, guardian_evidence, actor, at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING seq`),
				r.ID, r.ReceiptID, r.SubjectID, r.Purpose, string(r.State), r.NoticeHash, r.Channel, r.GPC, r.Explicit, r.Guardian, r.GuardianEvidence, r.Actor, r.At).Scan(&r.Seq)
			switch pgCode(err) {
			case uniqueViolation:
				return candor.Errorf(candor.ECONFLICT, "consent record exists")
			case foreignKeyViolation:
				return candor.Errorf(candor.ENOTFOUND, "subject not found")
			}
			if err != nil {
				return err
			}
		}
		bumped := map[string]bool{}
		for _, r := range records {
			if !bumped[r.SubjectID] {
				bumped[r.SubjectID] = true
				var version int64
				if err := tx.QueryRow(ctx, db.q(`UPDATE {data}.subjects SET version = version + 1 WHERE id = $1 RETURNING version`), r.SubjectID).Scan(&version); err != nil {
					return err
				}
				changed(r.SubjectID, version, false)
			}
		}
		return nil
	})
	return wrap("append consents", err)
}

// Consents implements [candor.ConsentStore].
func (db *DB) Consents(ctx context.Context, subjectID string) ([]candor.Consent, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT seq, id, receipt_id, subject_id, purpose, state, notice_hash, channel, gpc, explicit, guardian, guardian_evidence, actor, at
		FROM {data}.consents WHERE subject_id = $1 ORDER BY seq`), subjectID)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (candor.Consent, error) {
		var r candor.Consent
		var state string
		err := row.Scan(&r.Seq, &r.ID, &r.ReceiptID, &r.SubjectID, &r.Purpose, &state, &r.NoticeHash, &r.Channel, &r.GPC, &r.Explicit, &r.Guardian, &r.GuardianEvidence, &r.Actor, &r.At)
		r.State, r.At = candor.ConsentState(state), r.At.UTC()
		return r, err
	})
	return out, wrap("consents", err)
}

// PutNotice implements [candor.NoticeStore].
func (db *DB) PutNotice(ctx context.Context, n candor.StoredNotice) error {
	ph, err := json.Marshal(n.PurposeHashes)
	if err != nil {
		return err
	}
	_, err = db.pool.Exec(ctx, db.q(`INSERT INTO {data}.notices (hash, version, canonical, purpose_hashes, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash) DO NOTHING`),
		n.Hash, n.Version, n.Canonical, ph, n.CreatedAt)
	return wrap("put notice", err)
}

// Notices implements [candor.NoticeStore].
func (db *DB) Notices(ctx context.Context) ([]candor.StoredNotice, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT hash, version, canonical, purpose_hashes, created_at FROM {data}.notices ORDER BY created_at, hash`))
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.StoredNotice, error) {
		var n candor.StoredNotice
		var ph []byte
		if err := r.Scan(&n.Hash, &n.Version, &n.Canonical, &ph, &n.CreatedAt); err != nil {
			return n, err
		}
		n.CreatedAt = n.CreatedAt.UTC()
		return n, json.Unmarshal(ph, &n.PurposeHashes)
	})
	return out, wrap("notices", err)
}

// PutAPIKey implements [candor.APIKeyStore].
func (db *DB) PutAPIKey(ctx context.Context, k candor.APIKey) error {
	_, err := db.pool.Exec(ctx, db.q(`INSERT INTO {data}.api_keys (id, name, role, hash, created_at) VALUES ($1, $2, $3, $4, $5)`), k.ID, k.Name, k.Role, k.Hash, k.CreatedAt)
	if pgCode(err) == uniqueViolation {
		return candor.Errorf(candor.ECONFLICT, "API key exists")
	}
	return wrap("put api key", err)
}

// APIKeyByHash implements [candor.APIKeyStore].
func (db *DB) APIKeyByHash(ctx context.Context, hash []byte) (*candor.APIKey, error) {
	keys, err := db.apiKeys(ctx, `WHERE hash = $1`, hash)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, candor.Errorf(candor.ENOTFOUND, "API key not found")
	}
	return &keys[0], nil
}

// APIKeys implements [candor.APIKeyStore].
func (db *DB) APIKeys(ctx context.Context) ([]candor.APIKey, error) { return db.apiKeys(ctx, ``) }

func (db *DB) apiKeys(ctx context.Context, where string, args ...any) ([]candor.APIKey, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT id, name, role, hash, created_at, revoked_at FROM {data}.api_keys `+where+` ORDER BY created_at, id`), args...)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.APIKey, error) {
		var k candor.APIKey
		err := r.Scan(&k.ID, &k.Name, &k.Role, &k.Hash, &k.CreatedAt, &k.RevokedAt)
		k.CreatedAt = k.CreatedAt.UTC()
		if k.RevokedAt != nil {
			t := k.RevokedAt.UTC()
			k.RevokedAt = &t
		}
		return k, err
	})
	return out, wrap("api keys", err)
}

// RevokeAPIKey implements [candor.APIKeyStore].
func (db *DB) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	tag, err := db.pool.Exec(ctx, db.q(`UPDATE {data}.api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`), at, id)
	if err != nil {
		return wrap("revoke api key", err)
	}
	if tag.RowsAffected() == 0 {
		return candor.Errorf(candor.ENOTFOUND, "API key not found")
	}
	return nil
}
