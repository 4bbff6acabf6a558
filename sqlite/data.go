package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/candorhq/candor"
)

// WriteSubject implements [candor.SubjectStore].
func (db *DB) WriteSubject(ctx context.Context, w candor.SubjectWrite) error {
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("write subject", err)
	}
	defer tx.Rollback()
	at := ts(w.At)
	if w.Create {
		if _, err := tx.ExecContext(ctx, `INSERT INTO subjects (id, created_at, updated_at) VALUES (?, ?, ?)`, w.SubjectID, at, at); err != nil {
			if isConstraint(err) {
				return candor.Errorf(candor.ECONFLICT, "subject exists")
			}
			return wrap("write subject", err)
		}
	} else {
		res, err := tx.ExecContext(ctx, `UPDATE subjects SET updated_at = ?, version = version + 1 WHERE id = ?`, at, w.SubjectID)
		if err != nil {
			return wrap("write subject", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return candor.Errorf(candor.ENOTFOUND, "subject not found")
		}
	}
	for _, kind := range w.Replace {
		if _, err := tx.ExecContext(ctx, `DELETE FROM identifiers WHERE subject_id = ? AND kind = ?`, w.SubjectID, kind); err != nil {
			return wrap("write subject: replace identifier", err)
		}
	}
	held := map[string][]byte{} // single kinds the subject holds, after Replace
	anonymousOnly := w.Create
	if !w.Create {
		rows, err := tx.QueryContext(ctx, `SELECT kind, blind FROM identifiers WHERE subject_id = ?`, w.SubjectID)
		if err != nil {
			return wrap("write subject: identifiers", err)
		}
		for rows.Next() {
			var kind string
			var blind []byte
			if err := rows.Scan(&kind, &blind); err != nil {
				rows.Close()
				return wrap("write subject: identifiers", err)
			}
			if candor.SingleKind(kind) {
				held[kind] = blind
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("write subject: identifiers", err)
		}
		anonymousOnly = len(held) == 0
	}
	for _, id := range w.Identifiers {
		if err := candor.CheckSingle(held, id); err != nil {
			return err
		}
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT subject_id FROM identifiers WHERE kind = ? AND blind = ?`, id.Kind, id.Blind).Scan(&owner)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO identifiers (kind, blind, subject_id, sealed, origin) VALUES (?, ?, ?, ?, ?)`,
				id.Kind, id.Blind, w.SubjectID, id.Sealed, candor.OriginOf(id, anonymousOnly)); err != nil {
				return wrap("write subject: identifier", err)
			}
			if candor.SingleKind(id.Kind) {
				held[id.Kind] = id.Blind
			}
		case err != nil:
			return wrap("write subject: identifier", err)
		case owner != w.SubjectID:
			return &candor.Error{Code: candor.ECONFLICT, Message: "the " + id.Kind + " belongs to another subject", Reason: "identifier_conflict",
				Fields: []candor.FieldError{{Field: id.Kind, Message: "belongs to another subject"}}}
		}
	}
	for _, t := range w.Traits {
		if _, err := tx.ExecContext(ctx, `INSERT INTO traits (subject_id, field, sealed, updated_at, source) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (subject_id, field) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at, source = excluded.source`, w.SubjectID, t.Field, t.Sealed, at, t.Source); err != nil {
			return wrap("write subject: trait", err)
		}
	}
	return wrap("write subject: commit", tx.Commit())
}

// Subject implements [candor.SubjectStore].
func (db *DB) Subject(ctx context.Context, id string) (*candor.Subject, error) {
	var s candor.Subject
	var c, u string
	var objections string
	err := db.data.queryRow(ctx, `SELECT id, created_at, updated_at, restricted, version, objections FROM subjects WHERE id = ?`, id).Scan(&s.ID, &c, &u, &s.Restricted, &s.Version, &objections)
	s.Objections = splitList(objections)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	if err != nil {
		return nil, wrap("subject", err)
	}
	s.CreatedAt, s.UpdatedAt = parseTS(c), parseTS(u)
	return &s, nil
}

// SubjectVersion implements [candor.SubjectStore].
func (db *DB) SubjectVersion(ctx context.Context, id string) (int64, error) {
	var v int64
	err := db.data.queryRow(ctx, `SELECT version FROM subjects WHERE id = ?`, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	return v, wrap("subject version", err)
}

// FindSubject implements [candor.SubjectStore].
func (db *DB) FindSubject(ctx context.Context, kind string, blind []byte) (string, error) {
	var id string
	err := db.data.queryRow(ctx, `SELECT subject_id FROM identifiers WHERE kind = ? AND blind = ?`, kind, blind).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	return id, wrap("find subject", err)
}

// Identifiers implements [candor.SubjectStore].
func (db *DB) Identifiers(ctx context.Context, subjectID string) ([]candor.Identifier, error) {
	rows, err := db.data.query(ctx, `SELECT kind, blind, sealed, origin FROM identifiers WHERE subject_id = ? ORDER BY kind, blind`, subjectID)
	if err != nil {
		return nil, wrap("identifiers", err)
	}
	defer rows.Close()
	var out []candor.Identifier
	for rows.Next() {
		var id candor.Identifier
		if err := rows.Scan(&id.Kind, &id.Blind, &id.Sealed, &id.Origin); err != nil {
			return nil, wrap("identifiers", err)
		}
		out = append(out, id)
	}
	return out, wrap("identifiers", rows.Err())
}

// Traits implements [candor.SubjectStore].
func (db *DB) Traits(ctx context.Context, subjectID string, fields []string) ([]candor.Trait, error) {
	q := `SELECT field, sealed, updated_at, source FROM traits WHERE subject_id = ?`
	args := []any{subjectID}
	if fields != nil {
		if len(fields) == 0 {
			return nil, nil
		}
		q += ` AND field IN (` + placeholders(len(fields)) + `)`
		for _, f := range fields {
			args = append(args, f)
		}
	}
	rows, err := db.data.query(ctx, q+` ORDER BY field`, args...)
	if err != nil {
		return nil, wrap("traits", err)
	}
	defer rows.Close()
	var out []candor.Trait
	for rows.Next() {
		var t candor.Trait
		var u string
		if err := rows.Scan(&t.Field, &t.Sealed, &u, &t.Source); err != nil {
			return nil, wrap("traits", err)
		}
		t.UpdatedAt = parseTS(u)
		out = append(out, t)
	}
	return out, wrap("traits", rows.Err())
}

// SetRestricted implements [candor.SubjectStore].
func (db *DB) SetRestricted(ctx context.Context, subjectID string, restricted bool, at time.Time) error {
	res, err := db.data.w.ExecContext(ctx, `UPDATE subjects SET restricted = ?, updated_at = ?, version = version + 1 WHERE id = ?`, restricted, ts(at), subjectID)
	if err != nil {
		return wrap("set restricted", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	return nil
}

// CountSubjects implements [candor.SubjectStore].
func (db *DB) CountSubjects(ctx context.Context) (int, error) {
	var n int
	err := db.data.queryRow(ctx, `SELECT count(*) FROM subjects`).Scan(&n)
	return n, wrap("count subjects", err)
}

// SubjectIDs implements [candor.SubjectStore].
func (db *DB) SubjectIDs(ctx context.Context, after string, limit int) ([]string, error) {
	rows, err := db.data.query(ctx, `SELECT id FROM subjects WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, wrap("subject ids", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("subject ids", err)
		}
		out = append(out, id)
	}
	return out, wrap("subject ids", rows.Err())
}

// AppendConsents implements [candor.ConsentStore].
func (db *DB) AppendConsents(ctx context.Context, records []candor.Consent) error {
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("append consents", err)
	}
	defer tx.Rollback()
	for i := range records {
		r := &records[i]
		err := tx.QueryRowContext(ctx, `INSERT INTO consents (id, receipt_id, subject_id, purpose, state, notice_hash, channel, gpc, explicit, guardian, guardian_evidence, actor, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
			r.ID, r.ReceiptID, r.SubjectID, r.Purpose, string(r.State), r.NoticeHash, r.Channel, r.GPC, r.Explicit, r.Guardian, r.GuardianEvidence, r.Actor, ts(r.At)).Scan(&r.Seq)
		if err != nil {
			if isConstraint(err) {
				return candor.Errorf(candor.ECONFLICT, "consent record exists")
			}
			if isForeignKey(err) {
				return candor.Errorf(candor.ENOTFOUND, "subject not found")
			}
			return wrap("append consents", err)
		}
	}
	bumped := map[string]bool{}
	for _, r := range records {
		if !bumped[r.SubjectID] {
			bumped[r.SubjectID] = true
			if _, err := tx.ExecContext(ctx, `UPDATE subjects SET version = version + 1 WHERE id = ?`, r.SubjectID); err != nil {
				return wrap("append consents: version", err)
			}
		}
	}
	return wrap("append consents: commit", tx.Commit())
}

// Consents implements [candor.ConsentStore].
func (db *DB) Consents(ctx context.Context, subjectID string) ([]candor.Consent, error) {
	rows, err := db.data.query(ctx, `SELECT seq, id, receipt_id, subject_id, purpose, state, notice_hash, channel, gpc, explicit, guardian, guardian_evidence, actor, at
		FROM consents WHERE subject_id = ? ORDER BY seq`, subjectID)
	if err != nil {
		return nil, wrap("consents", err)
	}
	defer rows.Close()
	var out []candor.Consent
	for rows.Next() {
		var r candor.Consent
		var state, at string
		if err := rows.Scan(&r.Seq, &r.ID, &r.ReceiptID, &r.SubjectID, &r.Purpose, &state, &r.NoticeHash, &r.Channel, &r.GPC, &r.Explicit, &r.Guardian, &r.GuardianEvidence, &r.Actor, &at); err != nil {
			return nil, wrap("consents", err)
		}
		r.State, r.At = candor.ConsentState(state), parseTS(at)
		out = append(out, r)
	}
	return out, wrap("consents", rows.Err())
}

// PutNotice implements [candor.NoticeStore].
func (db *DB) PutNotice(ctx context.Context, n candor.StoredNotice) error {
	ph, err := json.Marshal(n.PurposeHashes)
	if err != nil {
		return wrap("put notice", err)
	}
	_, err = db.data.w.ExecContext(ctx, `INSERT INTO notices (hash, version, canonical, purpose_hashes, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING`,
		n.Hash, n.Version, n.Canonical, string(ph), ts(n.CreatedAt))
	return wrap("put notice", err)
}

// Notices implements [candor.NoticeStore].
func (db *DB) Notices(ctx context.Context) ([]candor.StoredNotice, error) {
	rows, err := db.data.query(ctx, `SELECT hash, version, canonical, purpose_hashes, created_at FROM notices ORDER BY created_at, hash`)
	if err != nil {
		return nil, wrap("notices", err)
	}
	defer rows.Close()
	var out []candor.StoredNotice
	for rows.Next() {
		var n candor.StoredNotice
		var ph, c string
		if err := rows.Scan(&n.Hash, &n.Version, &n.Canonical, &ph, &c); err != nil {
			return nil, wrap("notices", err)
		}
		if err := json.Unmarshal([]byte(ph), &n.PurposeHashes); err != nil {
			return nil, wrap("notices", err)
		}
		n.CreatedAt = parseTS(c)
		out = append(out, n)
	}
	return out, wrap("notices", rows.Err())
}

// PutAPIKey implements [candor.APIKeyStore].
func (db *DB) PutAPIKey(ctx context.Context, k candor.APIKey) error {
	_, err := db.data.w.ExecContext(ctx, `INSERT INTO api_keys (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)`, k.ID, k.Name, k.Role, k.Hash, ts(k.CreatedAt))
	if isConstraint(err) {
		return candor.Errorf(candor.ECONFLICT, "API key exists")
	}
	return wrap("put api key", err)
}

// APIKeyByHash implements [candor.APIKeyStore].
func (db *DB) APIKeyByHash(ctx context.Context, hash []byte) (*candor.APIKey, error) {
	keys, err := db.apiKeys(ctx, `WHERE hash = ?`, hash)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, candor.Errorf(candor.ENOTFOUND, "API key not found")
	}
	return &keys[0], nil
}

// APIKeys implements [candor.APIKeyStore].
func (db *DB) APIKeys(ctx context.Context) ([]candor.APIKey, error) {
	return db.apiKeys(ctx, ``)
}

func (db *DB) apiKeys(ctx context.Context, where string, args ...any) ([]candor.APIKey, error) {
	rows, err := db.data.query(ctx, `SELECT id, name, role, hash, created_at, revoked_at FROM api_keys `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, wrap("api keys", err)
	}
	defer rows.Close()
	var out []candor.APIKey
	for rows.Next() {
		var k candor.APIKey
		var c string
		var r sql.NullString
		if err := rows.Scan(&k.ID, &k.Name, &k.Role, &k.Hash, &c, &r); err != nil {
			return nil, wrap("api keys", err)
		}
		k.CreatedAt = parseTS(c)
		if r.Valid {
			t := parseTS(r.String)
			k.RevokedAt = &t
		}
		out = append(out, k)
	}
	return out, wrap("api keys", rows.Err())
}

// RevokeAPIKey implements [candor.APIKeyStore].
func (db *DB) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := db.data.w.ExecContext(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, ts(at), id)
	if err != nil {
		return wrap("revoke api key", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return candor.Errorf(candor.ENOTFOUND, "API key not found")
	}
	return nil
}
