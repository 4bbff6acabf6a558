package sqlite

import (
	"context"
	"encoding/json"

	"github.com/candorhq/candor"
)

// The reads of a page of a bulk run: one statement each, whatever the
// number of ids, which go in as one JSON array (json_each), so that the
// statement is prepared once and no limit on host parameters applies.

// BulkSubjects implements [candor.SubjectStore].
func (db *DB) BulkSubjects(ctx context.Context, ids []string) ([]candor.Subject, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, wrap("bulk subjects", err)
	}
	rows, err := db.data.query(ctx, `SELECT id, created_at, updated_at, restricted, version, objections FROM subjects
		WHERE id IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, wrap("bulk subjects", err)
	}
	defer rows.Close()
	found := make(map[string]candor.Subject, len(ids))
	for rows.Next() {
		var s candor.Subject
		var c, u, objections string
		if err := rows.Scan(&s.ID, &c, &u, &s.Restricted, &s.Version, &objections); err != nil {
			return nil, wrap("bulk subjects", err)
		}
		s.CreatedAt, s.UpdatedAt, s.Objections = parseTS(c), parseTS(u), splitList(objections)
		found[s.ID] = s
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("bulk subjects", err)
	}
	out := make([]candor.Subject, 0, len(found))
	for _, id := range ids {
		if s, ok := found[id]; ok {
			out = append(out, s)
			delete(found, id) // an id asked twice is answered once
		}
	}
	return out, nil
}

// BulkTraits implements [candor.SubjectStore].
func (db *DB) BulkTraits(ctx context.Context, ids []string, fields []string) (map[string][]candor.Trait, error) {
	if len(ids) == 0 || (fields != nil && len(fields) == 0) {
		return map[string][]candor.Trait{}, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, wrap("bulk traits", err)
	}
	q := `SELECT subject_id, field, sealed, updated_at, source FROM traits WHERE subject_id IN (SELECT value FROM json_each(?))`
	args := []any{string(list)}
	if fields != nil {
		names, err := json.Marshal(fields)
		if err != nil {
			return nil, wrap("bulk traits", err)
		}
		q += ` AND field IN (SELECT value FROM json_each(?))`
		args = append(args, string(names))
	}
	rows, err := db.data.query(ctx, q+` ORDER BY subject_id, field`, args...)
	if err != nil {
		return nil, wrap("bulk traits", err)
	}
	defer rows.Close()
	out := make(map[string][]candor.Trait, len(ids))
	for rows.Next() {
		var id, u string
		var t candor.Trait
		if err := rows.Scan(&id, &t.Field, &t.Sealed, &u, &t.Source); err != nil {
			return nil, wrap("bulk traits", err)
		}
		t.UpdatedAt = parseTS(u)
		out[id] = append(out[id], t)
	}
	return out, wrap("bulk traits", rows.Err())
}

// BulkConsents implements [candor.ConsentStore].
func (db *DB) BulkConsents(ctx context.Context, ids []string) (map[string][]candor.Consent, error) {
	if len(ids) == 0 {
		return map[string][]candor.Consent{}, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, wrap("bulk consents", err)
	}
	rows, err := db.data.query(ctx, `SELECT seq, id, receipt_id, subject_id, purpose, state, notice_hash, channel, gpc, explicit, guardian, guardian_evidence, actor, at
		FROM consents WHERE subject_id IN (SELECT value FROM json_each(?)) ORDER BY seq`, string(list))
	if err != nil {
		return nil, wrap("bulk consents", err)
	}
	defer rows.Close()
	out := make(map[string][]candor.Consent, len(ids))
	for rows.Next() {
		var r candor.Consent
		var state, at string
		if err := rows.Scan(&r.Seq, &r.ID, &r.ReceiptID, &r.SubjectID, &r.Purpose, &state, &r.NoticeHash, &r.Channel, &r.GPC, &r.Explicit, &r.Guardian, &r.GuardianEvidence, &r.Actor, &at); err != nil {
			return nil, wrap("bulk consents", err)
		}
		r.State, r.At = candor.ConsentState(state), parseTS(at)
		out[r.SubjectID] = append(out[r.SubjectID], r)
	}
	return out, wrap("bulk consents", rows.Err())
}
