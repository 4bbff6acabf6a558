package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/candorhq/candor"
)

// The reads of a page of a bulk run: one statement each, whatever the
// number of ids, which go in as one array. They bypass the trait cache:
// a bulk run reads each person once, and would only push out the people
// read one at a time.

// BulkSubjects implements [candor.SubjectStore].
func (db *DB) BulkSubjects(ctx context.Context, ids []string) ([]candor.Subject, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, _ := db.pool.Query(ctx, db.q(`SELECT id, created_at, updated_at, restricted, version, objections FROM {data}.subjects WHERE id = ANY($1)`), ids)
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.Subject, error) {
		var s candor.Subject
		var objections string
		err := r.Scan(&s.ID, &s.CreatedAt, &s.UpdatedAt, &s.Restricted, &s.Version, &objections)
		s.CreatedAt, s.UpdatedAt, s.Objections = s.CreatedAt.UTC(), s.UpdatedAt.UTC(), splitList(objections)
		return s, err
	})
	if err != nil {
		return nil, wrap("bulk subjects", err)
	}
	found := make(map[string]candor.Subject, len(all))
	for _, s := range all {
		found[s.ID] = s
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
	out := make(map[string][]candor.Trait, len(ids))
	if len(ids) == 0 || (fields != nil && len(fields) == 0) {
		return out, nil
	}
	rows, _ := db.pool.Query(ctx, db.q(`SELECT subject_id, field, sealed, updated_at, source FROM {data}.traits
		WHERE subject_id = ANY($1) AND ($2::text[] IS NULL OR field = ANY($2)) ORDER BY subject_id, field`), ids, fields)
	var id string
	var t candor.Trait
	_, err := pgx.ForEachRow(rows, []any{&id, &t.Field, &t.Sealed, &t.UpdatedAt, &t.Source}, func() error {
		t.UpdatedAt = t.UpdatedAt.UTC()
		out[id] = append(out[id], t)
		t = candor.Trait{}
		return nil
	})
	return out, wrap("bulk traits", err)
}

// BulkConsents implements [candor.ConsentStore].
func (db *DB) BulkConsents(ctx context.Context, ids []string) (map[string][]candor.Consent, error) {
	out := make(map[string][]candor.Consent, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, _ := db.pool.Query(ctx, db.q(`SELECT seq, id, receipt_id, subject_id, purpose, state, notice_hash, channel, gpc, explicit, guardian, guardian_evidence, actor, at
		FROM {data}.consents WHERE subject_id = ANY($1) ORDER BY seq`), ids)
	var r candor.Consent
	var state string
	_, err := pgx.ForEachRow(rows, []any{&r.Seq, &r.ID, &r.ReceiptID, &r.SubjectID, &r.Purpose, &state, &r.NoticeHash, &r.Channel, &r.GPC, &r.Explicit, &r.Guardian, &r.GuardianEvidence, &r.Actor, &r.At}, func() error {
		r.State, r.At = candor.ConsentState(state), r.At.UTC()
		out[r.SubjectID] = append(out[r.SubjectID], r)
		r = candor.Consent{}
		return nil
	})
	return out, wrap("bulk consents", err)
}
