package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/candorhq/candor"
)

// SetObjection implements [candor.SubjectStore].
func (db *DB) SetObjection(ctx context.Context, subjectID, purpose string, objected bool, at time.Time) error {
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("set objection", err)
	}
	defer tx.Rollback()
	var list string
	err = tx.QueryRowContext(ctx, `SELECT objections FROM subjects WHERE id = ?`, subjectID).Scan(&list)
	if errors.Is(err, sql.ErrNoRows) {
		return candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	if err != nil {
		return wrap("set objection", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE subjects SET objections = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
		strings.Join(withObjection(splitList(list), purpose, objected), ","), ts(at), subjectID); err != nil {
		return wrap("set objection", err)
	}
	return wrap("set objection: commit", tx.Commit())
}

// withObjection adds or removes purpose, keeping the list sorted.
func withObjection(list []string, purpose string, objected bool) []string {
	list = slices.DeleteFunc(list, func(p string) bool { return p == purpose })
	if objected {
		list = append(list, purpose)
	}
	slices.Sort(list)
	return list
}

// DeleteSubject implements [candor.SubjectStore]. With secure_delete on, the
// freed pages are zeroed; the WAL is checkpointed so no old page lingers.
func (db *DB) DeleteSubject(ctx context.Context, subjectID string) (bool, error) {
	res, err := db.data.w.ExecContext(ctx, `DELETE FROM subjects WHERE id = ?`, subjectID)
	if err != nil {
		return false, wrap("delete subject", err)
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		if _, err := db.data.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return true, wrap("delete subject: checkpoint", err)
		}
	}
	return n > 0, nil
}

// DeleteSubjects implements [candor.SubjectStore].
func (db *DB) DeleteSubjects(ctx context.Context, ids []string) (int, error) {
	n := 0
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		res, err := db.data.w.ExecContext(ctx, `DELETE FROM subjects WHERE id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return n, wrap("delete subjects", err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	if n > 0 {
		if _, err := db.data.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return n, wrap("delete subjects: checkpoint", err)
		}
	}
	return n, nil
}

// PutRequest implements [candor.RequestStore].
func (db *DB) PutRequest(ctx context.Context, r candor.RightsRequest) error {
	details, err := json.Marshal(r.Details)
	if err != nil {
		return err
	}
	_, err = db.data.w.ExecContext(ctx, `INSERT INTO requests (id, type, subject_id, status, jurisdiction, received_at, due_at, updated_at, state_since, actor, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Type, r.SubjectID, r.Status, r.Jurisdiction, ts(r.ReceivedAt), ts(r.DueAt), ts(r.UpdatedAt), ts(r.StateSince), r.Actor, string(details))
	if isConstraint(err) {
		return candor.Errorf(candor.ECONFLICT, "request exists")
	}
	return wrap("put request", err)
}

// UpdateRequest implements [candor.RequestStore].
func (db *DB) UpdateRequest(ctx context.Context, r candor.RightsRequest, from string) error {
	details, err := json.Marshal(r.Details)
	if err != nil {
		return err
	}
	res, err := db.data.w.ExecContext(ctx, `UPDATE requests SET status = ?, subject_id = ?, due_at = ?, updated_at = ?, state_since = ?, details = ? WHERE id = ? AND status = ?`,
		r.Status, r.SubjectID, ts(r.DueAt), ts(r.UpdatedAt), ts(r.StateSince), string(details), r.ID, from)
	if err != nil {
		return wrap("update request", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := db.Request(ctx, r.ID); err != nil {
			return err
		}
		return candor.Errorf(candor.ECONFLICT, "the request changed meanwhile")
	}
	return nil
}

const requestColumns = `id, type, subject_id, status, jurisdiction, received_at, due_at, updated_at, state_since, actor, details`

func scanRequest(sc interface{ Scan(...any) error }) (*candor.RightsRequest, error) {
	var r candor.RightsRequest
	var rec, due, upd, since, details string
	if err := sc.Scan(&r.ID, &r.Type, &r.SubjectID, &r.Status, &r.Jurisdiction, &rec, &due, &upd, &since, &r.Actor, &details); err != nil {
		return nil, err
	}
	r.ReceivedAt, r.DueAt, r.UpdatedAt, r.StateSince = parseTS(rec), parseTS(due), parseTS(upd), parseTS(since)
	if err := json.Unmarshal([]byte(details), &r.Details); err != nil {
		return nil, err
	}
	return &r, nil
}

// Request implements [candor.RequestStore].
func (db *DB) Request(ctx context.Context, id string) (*candor.RightsRequest, error) {
	r, err := scanRequest(db.data.queryRow(ctx, `SELECT `+requestColumns+` FROM requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "request not found")
	}
	return r, wrap("request", err)
}

// Requests implements [candor.RequestStore].
func (db *DB) Requests(ctx context.Context, f candor.RequestFilter) ([]candor.RightsRequest, error) {
	q := `SELECT ` + requestColumns + ` FROM requests WHERE 1 = 1`
	var args []any
	if len(f.Status) > 0 {
		q += ` AND status IN (?` + strings.Repeat(", ?", len(f.Status)-1) + `)`
		for _, s := range f.Status {
			args = append(args, s)
		}
	}
	if !f.DueBefore.IsZero() {
		q += ` AND due_at < ?`
		args = append(args, ts(f.DueBefore))
	}
	if f.SubjectID != "" {
		q += ` AND subject_id = ?`
		args = append(args, f.SubjectID)
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	q += ` ORDER BY due_at, id LIMIT ?`
	args = append(args, f.Limit)
	rows, err := db.data.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("requests", err)
	}
	defer rows.Close()
	var out []candor.RightsRequest
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, wrap("requests", err)
		}
		out = append(out, *r)
	}
	return out, wrap("requests", rows.Err())
}

// ShredSubjectKeyAndJournal implements [candor.KeyStore].
func (ks *keyStore) ShredSubjectKeyAndJournal(ctx context.Context, e candor.Erasure) error {
	tx, err := ks.c().w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("shred subject key for erasure", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE subject_keys SET wrapped = NULL, shredded_at = coalesce(shredded_at, ?) WHERE subject_id = ?`, ts(e.At), e.SubjectID); err != nil {
		return wrap("shred subject key for erasure", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO erasures (subject_id, erased_at, request_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, e.SubjectID, ts(e.At), e.RequestID); err != nil {
		return wrap("shred subject key for erasure: journal", err)
	}
	if err := tx.Commit(); err != nil {
		return wrap("shred subject key for erasure: commit", err)
	}
	_, err = ks.c().w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return wrap("shred subject key for erasure: checkpoint", err)
}

// Erasures implements [candor.KeyStore].
func (ks *keyStore) Erasures(ctx context.Context, after string, limit int) ([]candor.Erasure, error) {
	rows, err := ks.c().r.QueryContext(ctx, `SELECT subject_id, erased_at, request_id FROM erasures WHERE subject_id > ? ORDER BY subject_id LIMIT ?`, after, limit)
	if err != nil {
		return nil, wrap("erasures", err)
	}
	defer rows.Close()
	var out []candor.Erasure
	for rows.Next() {
		var e candor.Erasure
		var at string
		if err := rows.Scan(&e.SubjectID, &at, &e.RequestID); err != nil {
			return nil, wrap("erasures", err)
		}
		e.At = parseTS(at)
		out = append(out, e)
	}
	return out, wrap("erasures", rows.Err())
}

// Suppress implements [candor.KeyStore].
func (ks *keyStore) Suppress(ctx context.Context, kind string, blind []byte, at time.Time) error {
	_, err := ks.c().w.ExecContext(ctx, `INSERT INTO suppressions (kind, blind, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, kind, blind, ts(at))
	return wrap("suppress", err)
}

// Suppressed implements [candor.KeyStore].
func (ks *keyStore) Suppressed(ctx context.Context, kind string, blind []byte) (bool, error) {
	var n int
	err := ks.c().r.QueryRowContext(ctx, `SELECT count(*) FROM suppressions WHERE kind = ? AND blind = ?`, kind, blind).Scan(&n)
	return n > 0, wrap("suppressed", err)
}

// AppendDisclosures implements [candor.DisclosureStore].
func (db *DB) AppendDisclosures(ctx context.Context, ds []candor.Disclosure) error {
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("append disclosures", err)
	}
	defer tx.Rollback()
	for _, d := range ds {
		_, err := tx.ExecContext(ctx, `INSERT INTO disclosures (id, subject_id, recipient, purpose, fields, at, reference) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.SubjectID, d.Recipient, d.Purpose, strings.Join(d.Fields, ","), ts(d.At), d.Reference)
		if isForeignKey(err) {
			return candor.Errorf(candor.ENOTFOUND, "subject not found")
		}
		if err != nil {
			return wrap("append disclosures", err)
		}
	}
	return wrap("append disclosures: commit", tx.Commit())
}

// Disclosures implements [candor.DisclosureStore].
func (db *DB) Disclosures(ctx context.Context, subjectID string) ([]candor.Disclosure, error) {
	rows, err := db.data.query(ctx, `SELECT id, subject_id, recipient, purpose, fields, at, reference FROM disclosures WHERE subject_id = ? ORDER BY at, id`, subjectID)
	if err != nil {
		return nil, wrap("disclosures", err)
	}
	defer rows.Close()
	var out []candor.Disclosure
	for rows.Next() {
		var d candor.Disclosure
		var fields, at string
		if err := rows.Scan(&d.ID, &d.SubjectID, &d.Recipient, &d.Purpose, &fields, &at, &d.Reference); err != nil {
			return nil, wrap("disclosures", err)
		}
		d.Fields, d.At = splitList(fields), parseTS(at)
		out = append(out, d)
	}
	return out, wrap("disclosures", rows.Err())
}

// PutChallenge implements [candor.ChallengeStore]: the counts and the
// insert are one write transaction, which the single writer serializes.
func (db *DB) PutChallenge(ctx context.Context, c candor.Challenge, limits ...candor.ChallengeLimit) error {
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("put challenge", err)
	}
	defer tx.Rollback()
	for _, l := range limits {
		q, args, err := challengeCount(c, l)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, q, append(args, ts(l.Since))...).Scan(&n); err != nil {
			return wrap("put challenge: count", err)
		}
		if n >= l.Max {
			return challengeLimited(l)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO challenges (id, kind, blind, code_hash, created_at, expires_at, subject_id, session) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Kind, c.Blind, c.CodeHash, ts(c.CreatedAt), ts(c.ExpiresAt), nullString(c.SubjectID), nullBytes(c.Session)); err != nil {
		return wrap("put challenge", err)
	}
	return wrap("put challenge: commit", tx.Commit())
}

// challengeCount returns the query (without its last argument, the window's
// start) that counts what limit l bounds for the new challenge c.
func challengeCount(c candor.Challenge, l candor.ChallengeLimit) (string, []any, error) {
	switch {
	case l.Scope == candor.ChallengeScopeIdentifier:
		return `SELECT count(*) FROM challenges WHERE kind = ? AND blind = ? AND created_at >= ?`, []any{c.Kind, c.Blind}, nil
	case l.Scope == candor.ChallengeScopeSubject && c.SubjectID != "":
		return `SELECT count(*) FROM challenges WHERE subject_id = ? AND created_at >= ?`, []any{c.SubjectID}, nil
	case l.Scope == candor.ChallengeScopeSession && c.SubjectID != "" && c.Session != nil:
		return `SELECT count(*) FROM challenges WHERE subject_id = ? AND session = ? AND created_at >= ?`, []any{c.SubjectID, c.Session}, nil
	}
	return "", nil, candor.Errorf(candor.EINVALID, "a challenge limit of scope %q does not apply to this challenge", l.Scope)
}

// challengeLimited is the error of a challenge beyond a limit.
func challengeLimited(l candor.ChallengeLimit) error {
	return &candor.Error{Code: candor.EBUSY, Reason: l.Scope, Message: fmt.Sprintf("at most %d codes since %s for this %s", l.Max, l.Since.UTC().Format(time.RFC3339), l.Scope)}
}

// Challenge implements [candor.ChallengeStore].
func (db *DB) Challenge(ctx context.Context, id string) (*candor.Challenge, error) {
	var c candor.Challenge
	var created, expires string
	var subject sql.NullString
	err := db.data.queryRow(ctx, `SELECT id, kind, blind, code_hash, created_at, expires_at, tries, used, subject_id, session FROM challenges WHERE id = ?`, id).
		Scan(&c.ID, &c.Kind, &c.Blind, &c.CodeHash, &created, &expires, &c.Tries, &c.Used, &subject, &c.Session)
	c.SubjectID = subject.String
	if errors.Is(err, sql.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "challenge not found")
	}
	c.CreatedAt, c.ExpiresAt = parseTS(created), parseTS(expires)
	return &c, wrap("challenge", err)
}

// SpendChallenge implements [candor.ChallengeStore].
func (db *DB) SpendChallenge(ctx context.Context, id string, success bool, maxTries int) (bool, error) {
	set := `tries = tries + 1`
	if success {
		set = `used = 1`
	}
	res, err := db.data.w.ExecContext(ctx, `UPDATE challenges SET `+set+` WHERE id = ? AND used = 0 AND tries < ?`, id, maxTries)
	if err != nil {
		return false, wrap("spend challenge", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// CountChallenges implements [candor.ChallengeStore].
func (db *DB) CountChallenges(ctx context.Context, kind string, blind []byte, since time.Time) (int, error) {
	var n int
	err := db.data.queryRow(ctx, `SELECT count(*) FROM challenges WHERE kind = ? AND blind = ? AND created_at >= ?`, kind, blind, ts(since)).Scan(&n)
	return n, wrap("count challenges", err)
}

// CountChangeChallenges implements [candor.ChallengeStore].
func (db *DB) CountChangeChallenges(ctx context.Context, subjectID string, session []byte, since time.Time) (int, int, error) {
	var n, inSession int
	err := db.data.queryRow(ctx, `SELECT count(*), coalesce(sum(session IS NOT NULL AND session = ?), 0) FROM challenges WHERE subject_id = ? AND created_at >= ?`,
		nullBytes(session), subjectID, ts(since)).Scan(&n, &inSession)
	return n, inSession, wrap("count change challenges", err)
}

// PutDeliveries implements [candor.DeliveryStore].
func (db *DB) PutDeliveries(ctx context.Context, ds []candor.Delivery) error {
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("put deliveries", err)
	}
	defer tx.Rollback()
	for _, d := range ds {
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, request_id, recipient, event, body, status, attempts, next_at, last_error, updated_at, subject_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.RequestID, d.Recipient, d.Event, d.Body, d.Status, d.Attempts, ts(d.NextAt), d.LastError, ts(d.UpdatedAt), d.SubjectID); err != nil {
			return wrap("put deliveries", err)
		}
	}
	return wrap("put deliveries: commit", tx.Commit())
}

const deliveryColumns = `id, request_id, recipient, event, body, status, attempts, next_at, last_error, updated_at, subject_id`

func (db *DB) deliveries(ctx context.Context, q string, args ...any) ([]candor.Delivery, error) {
	rows, err := db.data.query(ctx, `SELECT `+deliveryColumns+` FROM deliveries `+q, args...)
	if err != nil {
		return nil, wrap("deliveries", err)
	}
	defer rows.Close()
	var out []candor.Delivery
	for rows.Next() {
		var d candor.Delivery
		var next, upd string
		if err := rows.Scan(&d.ID, &d.RequestID, &d.Recipient, &d.Event, &d.Body, &d.Status, &d.Attempts, &next, &d.LastError, &upd, &d.SubjectID); err != nil {
			return nil, wrap("deliveries", err)
		}
		d.NextAt, d.UpdatedAt = parseTS(next), parseTS(upd)
		out = append(out, d)
	}
	return out, wrap("deliveries", rows.Err())
}

// DueDeliveries implements [candor.DeliveryStore].
func (db *DB) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]candor.Delivery, error) {
	return db.deliveries(ctx, `WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?`, ts(now), limit)
}

// Deliveries implements [candor.DeliveryStore].
func (db *DB) Deliveries(ctx context.Context, requestID string) ([]candor.Delivery, error) {
	return db.deliveries(ctx, `WHERE request_id = ? ORDER BY recipient, id`, requestID)
}

// ClaimDelivery implements [candor.DeliveryStore].
func (db *DB) ClaimDelivery(ctx context.Context, id string, attempts int, until time.Time) (bool, error) {
	res, err := db.data.w.ExecContext(ctx, `UPDATE deliveries SET attempts = attempts + 1, next_at = ? WHERE id = ? AND status = 'pending' AND attempts = ?`, ts(until), id, attempts)
	if err != nil {
		return false, wrap("claim delivery", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FinishAttempt implements [candor.DeliveryStore].
func (db *DB) FinishAttempt(ctx context.Context, d candor.Delivery) error {
	_, err := db.data.w.ExecContext(ctx, `UPDATE deliveries SET status = ?, next_at = ?, last_error = ?, updated_at = ? WHERE id = ?`,
		d.Status, ts(d.NextAt), d.LastError, ts(d.UpdatedAt), d.ID)
	return wrap("finish attempt", err)
}

// MergeSubject implements [candor.SubjectStore].
func (db *DB) MergeSubject(ctx context.Context, m candor.SubjectMerge) error {
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("merge subject", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM subjects WHERE id IN (?, ?)`, m.From, m.Into).Scan(&n); err != nil {
		return wrap("merge subject", err)
	}
	if n != 2 || m.From == m.Into {
		return candor.Errorf(candor.ENOTFOUND, "subject not found")
	}
	kinds := func(subjectID string) (map[string]bool, bool, error) {
		rows, err := tx.QueryContext(ctx, `SELECT kind, origin FROM identifiers WHERE subject_id = ?`, subjectID)
		if err != nil {
			return nil, false, err
		}
		defer rows.Close()
		held, account := map[string]bool{}, false
		for rows.Next() {
			var id candor.Identifier
			if err := rows.Scan(&id.Kind, &id.Origin); err != nil {
				return nil, false, err
			}
			held[id.Kind] = true
			account = account || !candor.Anonymous([]candor.Identifier{id})
		}
		return held, account, rows.Err()
	}
	if _, account, err := kinds(m.From); err != nil {
		return wrap("merge subject: identifiers", err)
	} else if account {
		return notAnonymous()
	}
	intoHas, _, err := kinds(m.Into)
	if err != nil {
		return wrap("merge subject: identifiers", err)
	}
	for _, id := range m.Identifiers {
		if candor.SingleKind(id.Kind) && intoHas[id.Kind] {
			continue // the account's own stays; the visitor's goes with it
		}
		if _, err := tx.ExecContext(ctx, `UPDATE identifiers SET subject_id = ?, sealed = ? WHERE kind = ? AND blind = ? AND subject_id = ?`,
			m.Into, id.Sealed, id.Kind, id.Blind, m.From); err != nil {
			return wrap("merge subject: identifier", err)
		}
	}
	for _, t := range m.Traits {
		if _, err := tx.ExecContext(ctx, `INSERT INTO traits (subject_id, field, sealed, updated_at, source) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			m.Into, t.Field, t.Sealed, ts(t.UpdatedAt), t.Source); err != nil {
			return wrap("merge subject: trait", err)
		}
	}
	for _, e := range m.Events {
		if _, err := tx.ExecContext(ctx, `UPDATE events SET subject_id = ?, sealed = ? WHERE id = ? AND subject_id = ?`, m.Into, e.Sealed, e.ID, m.From); err != nil {
			return wrap("merge subject: event", err)
		}
	}
	// The sharing ledger is append-only: its entries are copied to Into
	// (with new ids), and From's go with From.
	if _, err := tx.ExecContext(ctx, `INSERT INTO disclosures (id, subject_id, recipient, purpose, fields, at, reference)
		SELECT id || '.merged', ?, recipient, purpose, fields, at, reference FROM disclosures WHERE subject_id = ?`, m.Into, m.From); err != nil {
		return wrap("merge subject: disclosures", err)
	}
	for _, c := range m.Consents {
		if _, err := tx.ExecContext(ctx, `INSERT INTO consents (id, receipt_id, subject_id, purpose, state, notice_hash, channel, gpc, explicit, guardian, guardian_evidence, actor, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.ReceiptID, m.Into, c.Purpose, string(c.State), c.NoticeHash, c.Channel, c.GPC, c.Explicit, c.Guardian, c.GuardianEvidence, c.Actor, ts(c.At)); err != nil {
			return wrap("merge subject: consent", err)
		}
	}
	// The runs that used the visitor's data used the person's.
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO run_members (subject_id, run_id) SELECT ?, run_id FROM run_members WHERE subject_id = ?`, m.Into, m.From); err != nil {
		return wrap("merge subject: runs", err)
	}
	// So do the snapshots the visitor was in: the person is in them now.
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO segment_members (segment_id, subject_id) SELECT segment_id, ? FROM segment_members WHERE subject_id = ?`, m.Into, m.From); err != nil {
		return wrap("merge subject: segments", err)
	}
	// The messages sent to the visitor count towards the person's caps.
	if _, err := tx.ExecContext(ctx, `UPDATE OR IGNORE campaign_sends SET subject_id = ? WHERE subject_id = ?`, m.Into, m.From); err != nil {
		return wrap("merge subject: campaign sends", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM subjects WHERE id = ?`, m.From); err != nil {
		return wrap("merge subject: delete", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE subjects SET updated_at = ?, version = version + 1 WHERE id = ?`, ts(m.At), m.Into); err != nil {
		return wrap("merge subject", err)
	}
	return wrap("merge subject: commit", tx.Commit())
}

// notAnonymous is MergeSubject's refusal to merge an account.
func notAnonymous() error {
	return &candor.Error{Code: candor.ECONFLICT, Reason: "not_anonymous",
		Message: "only an anonymous visitor is merged into an account: this one has a user id or a verified identifier"}
}

// nullString stores an empty string as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
