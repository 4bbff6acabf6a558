package postgres

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

// SetObjection implements [candor.SubjectStore].
func (db *DB) SetObjection(ctx context.Context, subjectID, purpose string, objected bool, at time.Time) error {
	err := db.announced(ctx, func(tx pgx.Tx, changed func(string, int64, bool)) error {
		var list string
		err := tx.QueryRow(ctx, db.q(`SELECT objections FROM {data}.subjects WHERE id = $1 FOR UPDATE`), subjectID).Scan(&list)
		if errors.Is(err, pgx.ErrNoRows) {
			return candor.Errorf(candor.ENOTFOUND, "subject not found")
		}
		if err != nil {
			return err
		}
		l := slices.DeleteFunc(splitList(list), func(p string) bool { return p == purpose })
		if objected {
			l = append(l, purpose)
		}
		slices.Sort(l)
		var version int64
		err = tx.QueryRow(ctx, db.q(`UPDATE {data}.subjects SET objections = $1, updated_at = $2, version = version + 1 WHERE id = $3 RETURNING version`), strings.Join(l, ","), at, subjectID).Scan(&version)
		changed(subjectID, version, false)
		return err
	})
	return wrap("set objection", err)
}

// DeleteSubject implements [candor.SubjectStore]. The delete cascades to
// identifiers, traits, consents and events, and its trigger tells every
// node's feed.
func (db *DB) DeleteSubject(ctx context.Context, subjectID string) (bool, error) {
	existed := false
	err := db.announced(ctx, func(tx pgx.Tx, changed func(string, int64, bool)) error {
		tag, err := tx.Exec(ctx, db.q(`DELETE FROM {data}.subjects WHERE id = $1`), subjectID)
		if err == nil && tag.RowsAffected() > 0 {
			existed = true
			changed(subjectID, 0, true)
		}
		return err
	})
	return existed, wrap("delete subject", err)
}

// DeleteSubjects implements [candor.SubjectStore]: one statement, and the
// wait for other nodes' acknowledgements as for one.
func (db *DB) DeleteSubjects(ctx context.Context, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	n := 0
	err := db.announced(ctx, func(tx pgx.Tx, changed func(string, int64, bool)) error {
		rows, _ := tx.Query(ctx, db.q(`DELETE FROM {data}.subjects WHERE id = ANY($1) RETURNING id`), ids)
		gone, err := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, id := range gone {
			changed(id, 0, true)
		}
		n = len(gone)
		return err
	})
	return n, wrap("delete subjects", err)
}

// PutRequest implements [candor.RequestStore].
func (db *DB) PutRequest(ctx context.Context, r candor.RightsRequest) error {
	details, err := json.Marshal(r.Details)
	if err != nil {
		return err
	}
	_, err = db.pool.Exec(ctx, db.q(`INSERT INTO {data}.requests (id, type, subject_id, status, jurisdiction, received_at, due_at, updated_at, state_since, actor, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::jsonb)`), r.ID, r.Type, r.SubjectID, r.Status, r.Jurisdiction, r.ReceivedAt, r.DueAt, r.UpdatedAt, r.StateSince, r.Actor, string(details))
	if pgCode(err) == uniqueViolation {
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
	tag, err := db.pool.Exec(ctx, db.q(`UPDATE {data}.requests SET status = $1, subject_id = $2, due_at = $3, updated_at = $4, state_since = $5, details = $6::text::jsonb
		WHERE id = $7 AND status = $8`), r.Status, r.SubjectID, r.DueAt, r.UpdatedAt, r.StateSince, string(details), r.ID, from)
	if err != nil {
		return wrap("update request", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := db.Request(ctx, r.ID); err != nil {
			return err
		}
		return candor.Errorf(candor.ECONFLICT, "the request changed meanwhile")
	}
	return nil
}

const requestColumns = `id, type, subject_id, status, jurisdiction, received_at, due_at, updated_at, state_since, actor, details::text`

func scanRequest(row pgx.Row) (*candor.RightsRequest, error) {
	var r candor.RightsRequest
	var details string
	if err := row.Scan(&r.ID, &r.Type, &r.SubjectID, &r.Status, &r.Jurisdiction, &r.ReceivedAt, &r.DueAt, &r.UpdatedAt, &r.StateSince, &r.Actor, &details); err != nil {
		return nil, err
	}
	r.ReceivedAt, r.DueAt, r.UpdatedAt, r.StateSince = r.ReceivedAt.UTC(), r.DueAt.UTC(), r.UpdatedAt.UTC(), r.StateSince.UTC()
	if err := json.Unmarshal([]byte(details), &r.Details); err != nil {
		return nil, err
	}
	return &r, nil
}

// Request implements [candor.RequestStore].
func (db *DB) Request(ctx context.Context, id string) (*candor.RightsRequest, error) {
	r, err := scanRequest(db.pool.QueryRow(ctx, db.q(`SELECT `+requestColumns+` FROM {data}.requests WHERE id = $1`), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "request not found")
	}
	return r, wrap("request", err)
}

// Requests implements [candor.RequestStore].
func (db *DB) Requests(ctx context.Context, f candor.RequestFilter) ([]candor.RightsRequest, error) {
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	var due *time.Time
	if !f.DueBefore.IsZero() {
		due = &f.DueBefore
	}
	var status []string
	if len(f.Status) > 0 {
		status = f.Status
	}
	rows, _ := db.pool.Query(ctx, db.q(`SELECT `+requestColumns+` FROM {data}.requests
		WHERE ($1::text[] IS NULL OR status = ANY($1)) AND ($2::timestamptz IS NULL OR due_at < $2) AND ($3 = '' OR subject_id = $3)
		ORDER BY due_at, id LIMIT $4`), status, due, f.SubjectID, f.Limit)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.RightsRequest, error) {
		req, err := scanRequest(r)
		if err != nil {
			return candor.RightsRequest{}, err
		}
		return *req, nil
	})
	return out, wrap("requests", err)
}

// ShredSubjectKeyAndJournal implements [candor.KeyStore].
func (ks *keyStore) ShredSubjectKeyAndJournal(ctx context.Context, e candor.Erasure) error {
	err := pgx.BeginFunc(ctx, ks.keysPool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, ks.db().q(`UPDATE {keys}.subject_keys SET wrapped = NULL, shredded_at = coalesce(shredded_at, $1) WHERE subject_id = $2`), e.At, e.SubjectID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, ks.db().q(`INSERT INTO {keys}.erasures (subject_id, erased_at, request_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`), e.SubjectID, e.At, e.RequestID)
		return err
	})
	return wrap("shred subject key for erasure", err)
}

// Erasures implements [candor.KeyStore].
func (ks *keyStore) Erasures(ctx context.Context, after string, limit int) ([]candor.Erasure, error) {
	rows, _ := ks.keysPool.Query(ctx, ks.db().q(`SELECT subject_id, erased_at, request_id FROM {keys}.erasures WHERE subject_id > $1 ORDER BY subject_id LIMIT $2`), after, limit)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.Erasure, error) {
		var e candor.Erasure
		err := r.Scan(&e.SubjectID, &e.At, &e.RequestID)
		e.At = e.At.UTC()
		return e, err
	})
	return out, wrap("erasures", err)
}

// Suppress implements [candor.KeyStore].
func (ks *keyStore) Suppress(ctx context.Context, kind string, blind []byte, at time.Time) error {
	_, err := ks.keysPool.Exec(ctx, ks.db().q(`INSERT INTO {keys}.suppressions (kind, blind, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`), kind, blind, at)
	return wrap("suppress", err)
}

// Suppressed implements [candor.KeyStore].
func (ks *keyStore) Suppressed(ctx context.Context, kind string, blind []byte) (bool, error) {
	var n int
	err := ks.keysPool.QueryRow(ctx, ks.db().q(`SELECT count(*) FROM {keys}.suppressions WHERE kind = $1 AND blind = $2`), kind, blind).Scan(&n)
	return n > 0, wrap("suppressed", err)
}

// AppendDisclosures implements [candor.DisclosureStore].
func (db *DB) AppendDisclosures(ctx context.Context, ds []candor.Disclosure) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		for _, d := range ds {
			_, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.disclosures (id, subject_id, recipient, purpose, fields, at, reference) VALUES ($1, $2, $3, $4, $5, $6, $7)`),
				d.ID, d.SubjectID, d.Recipient, d.Purpose, strings.Join(d.Fields, ","), d.At, d.Reference)
			if pgCode(err) == foreignKeyViolation {
				return candor.Errorf(candor.ENOTFOUND, "subject not found")
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("append disclosures", err)
}

// Disclosures implements [candor.DisclosureStore].
func (db *DB) Disclosures(ctx context.Context, subjectID string) ([]candor.Disclosure, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT id, subject_id, recipient, purpose, fields, at, reference FROM {data}.disclosures WHERE subject_id = $1 ORDER BY at, id`), subjectID)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.Disclosure, error) {
		var d candor.Disclosure
		var fields string
		err := r.Scan(&d.ID, &d.SubjectID, &d.Recipient, &d.Purpose, &fields, &d.At, &d.Reference)
		d.Fields, d.At = splitList(fields), d.At.UTC()
		return d, err
	})
	return out, wrap("disclosures", err)
}

// PutChallenge implements [candor.ChallengeStore]: the transaction first
// takes advisory locks on the identifier and, for a change of address, on
// the subject (always in that order), so that puts on any node that count
// the same challenges wait for each other.
func (db *DB) PutChallenge(ctx context.Context, c candor.Challenge, limits ...candor.ChallengeLimit) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		locks := []string{"challenge:" + c.Kind + ":" + hex.EncodeToString(c.Blind)}
		if c.SubjectID != "" {
			locks = append(locks, "challenge-subject:"+c.SubjectID)
		}
		for _, k := range locks {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, db.prefix+":"+k); err != nil {
				return err
			}
		}
		for _, l := range limits {
			var q string
			var args []any
			switch {
			case l.Scope == candor.ChallengeScopeIdentifier:
				q, args = `SELECT count(*) FROM {data}.challenges WHERE kind = $1 AND blind = $2 AND created_at >= $3`, []any{c.Kind, c.Blind, l.Since}
			case l.Scope == candor.ChallengeScopeSubject && c.SubjectID != "":
				q, args = `SELECT count(*) FROM {data}.challenges WHERE subject_id = $1 AND created_at >= $2`, []any{c.SubjectID, l.Since}
			case l.Scope == candor.ChallengeScopeSession && c.SubjectID != "" && c.Session != nil:
				q, args = `SELECT count(*) FROM {data}.challenges WHERE subject_id = $1 AND session = $2 AND created_at >= $3`, []any{c.SubjectID, c.Session, l.Since}
			default:
				return candor.Errorf(candor.EINVALID, "a challenge limit of scope %q does not apply to this challenge", l.Scope)
			}
			var n int
			if err := tx.QueryRow(ctx, db.q(q), args...).Scan(&n); err != nil {
				return err
			}
			if n >= l.Max {
				return &candor.Error{Code: candor.EBUSY, Reason: l.Scope, Message: fmt.Sprintf("at most %d codes since %s for this %s", l.Max, l.Since.UTC().Format(time.RFC3339), l.Scope)}
			}
		}
		_, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.challenges (id, kind, blind, code_hash, created_at, expires_at, subject_id, session) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`),
			c.ID, c.Kind, c.Blind, c.CodeHash, c.CreatedAt, c.ExpiresAt, nullString(c.SubjectID), nullBytes(c.Session))
		return err
	})
	return wrap("put challenge", err)
}

// Challenge implements [candor.ChallengeStore].
func (db *DB) Challenge(ctx context.Context, id string) (*candor.Challenge, error) {
	var c candor.Challenge
	var subject *string
	err := db.pool.QueryRow(ctx, db.q(`SELECT id, kind, blind, code_hash, created_at, expires_at, tries, used, subject_id, session FROM {data}.challenges WHERE id = $1`), id).
		Scan(&c.ID, &c.Kind, &c.Blind, &c.CodeHash, &c.CreatedAt, &c.ExpiresAt, &c.Tries, &c.Used, &subject, &c.Session)
	if subject != nil {
		c.SubjectID = *subject
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "challenge not found")
	}
	c.CreatedAt, c.ExpiresAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC()
	return &c, wrap("challenge", err)
}

// SpendChallenge implements [candor.ChallengeStore].
func (db *DB) SpendChallenge(ctx context.Context, id string, success bool, maxTries int) (bool, error) {
	set := `tries = tries + 1`
	if success {
		set = `used = true`
	}
	tag, err := db.pool.Exec(ctx, db.q(`UPDATE {data}.challenges SET `+set+` WHERE id = $1 AND NOT used AND tries < $2`), id, maxTries)
	if err != nil {
		return false, wrap("spend challenge", err)
	}
	return tag.RowsAffected() == 1, nil
}

// CountChallenges implements [candor.ChallengeStore].
func (db *DB) CountChallenges(ctx context.Context, kind string, blind []byte, since time.Time) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, db.q(`SELECT count(*) FROM {data}.challenges WHERE kind = $1 AND blind = $2 AND created_at >= $3`), kind, blind, since).Scan(&n)
	return n, wrap("count challenges", err)
}

// CountChangeChallenges implements [candor.ChallengeStore].
func (db *DB) CountChangeChallenges(ctx context.Context, subjectID string, session []byte, since time.Time) (int, int, error) {
	var n, inSession int
	err := db.pool.QueryRow(ctx, db.q(`SELECT count(*), count(*) FILTER (WHERE session = $1) FROM {data}.challenges WHERE subject_id = $2 AND created_at >= $3`),
		nullBytes(session), subjectID, since).Scan(&n, &inSession)
	return n, inSession, wrap("count change challenges", err)
}

// PutDeliveries implements [candor.DeliveryStore].
func (db *DB) PutDeliveries(ctx context.Context, ds []candor.Delivery) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		for _, d := range ds {
			if _, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.deliveries (id, request_id, recipient, event, body, status, attempts, next_at, last_error, updated_at, subject_id)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`), d.ID, d.RequestID, d.Recipient, d.Event, d.Body, d.Status, d.Attempts, d.NextAt, d.LastError, d.UpdatedAt, d.SubjectID); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("put deliveries", err)
}

func (db *DB) deliveries(ctx context.Context, q string, args ...any) ([]candor.Delivery, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT id, request_id, recipient, event, body, status, attempts, next_at, last_error, updated_at, subject_id FROM {data}.deliveries `+q), args...)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.Delivery, error) {
		var d candor.Delivery
		err := r.Scan(&d.ID, &d.RequestID, &d.Recipient, &d.Event, &d.Body, &d.Status, &d.Attempts, &d.NextAt, &d.LastError, &d.UpdatedAt, &d.SubjectID)
		d.NextAt, d.UpdatedAt = d.NextAt.UTC(), d.UpdatedAt.UTC()
		return d, err
	})
	return out, wrap("deliveries", err)
}

// DueDeliveries implements [candor.DeliveryStore].
func (db *DB) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]candor.Delivery, error) {
	return db.deliveries(ctx, `WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT $2`, now, limit)
}

// Deliveries implements [candor.DeliveryStore].
func (db *DB) Deliveries(ctx context.Context, requestID string) ([]candor.Delivery, error) {
	return db.deliveries(ctx, `WHERE request_id = $1 ORDER BY recipient, id`, requestID)
}

// ClaimDelivery implements [candor.DeliveryStore].
func (db *DB) ClaimDelivery(ctx context.Context, id string, attempts int, until time.Time) (bool, error) {
	tag, err := db.pool.Exec(ctx, db.q(`UPDATE {data}.deliveries SET attempts = attempts + 1, next_at = $1 WHERE id = $2 AND status = 'pending' AND attempts = $3`), until, id, attempts)
	if err != nil {
		return false, wrap("claim delivery", err)
	}
	return tag.RowsAffected() == 1, nil
}

// FinishAttempt implements [candor.DeliveryStore].
func (db *DB) FinishAttempt(ctx context.Context, d candor.Delivery) error {
	_, err := db.pool.Exec(ctx, db.q(`UPDATE {data}.deliveries SET status = $1, next_at = $2, last_error = $3, updated_at = $4 WHERE id = $5`),
		d.Status, d.NextAt, d.LastError, d.UpdatedAt, d.ID)
	return wrap("finish attempt", err)
}

// MergeSubject implements [candor.SubjectStore].
func (db *DB) MergeSubject(ctx context.Context, m candor.SubjectMerge) error {
	err := db.announced(ctx, func(tx pgx.Tx, changed func(string, int64, bool)) error {
		var n int
		if err := tx.QueryRow(ctx, db.q(`SELECT count(*) FROM (SELECT id FROM {data}.subjects WHERE id = ANY($1) FOR UPDATE) s`), []string{m.From, m.Into}).Scan(&n); err != nil {
			return err
		}
		if n != 2 || m.From == m.Into {
			return candor.Errorf(candor.ENOTFOUND, "subject not found")
		}
		kinds := func(subjectID string) (map[string]bool, bool, error) {
			rows, _ := tx.Query(ctx, db.q(`SELECT kind, origin FROM {data}.identifiers WHERE subject_id = $1`), subjectID)
			ids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candor.Identifier, error) {
				var id candor.Identifier
				return id, r.Scan(&id.Kind, &id.Origin)
			})
			held, account := map[string]bool{}, false
			for _, id := range ids {
				held[id.Kind] = true
				account = account || !candor.Anonymous([]candor.Identifier{id})
			}
			return held, account, err
		}
		if _, account, err := kinds(m.From); err != nil {
			return err
		} else if account {
			return &candor.Error{Code: candor.ECONFLICT, Reason: "not_anonymous",
				Message: "only an anonymous visitor is merged into an account: this one has a user id or a verified identifier"}
		}
		intoHas, _, err := kinds(m.Into)
		if err != nil {
			return err
		}
		for _, id := range m.Identifiers {
			if candor.SingleKind(id.Kind) && intoHas[id.Kind] {
				continue // the account's own stays; the visitor's goes with it
			}
			if _, err := tx.Exec(ctx, db.q(`UPDATE {data}.identifiers SET subject_id = $1, sealed = $2 WHERE kind = $3 AND blind = $4 AND subject_id = $5`),
				m.Into, id.Sealed, id.Kind, id.Blind, m.From); err != nil {
				return err
			}
		}
		for _, t := range m.Traits {
			if _, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.traits (subject_id, field, sealed, updated_at, source) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`),
				m.Into, t.Field, t.Sealed, t.UpdatedAt, t.Source); err != nil {
				return err
			}
		}
		for _, e := range m.Events {
			if _, err := tx.Exec(ctx, db.q(`UPDATE {data}.events SET subject_id = $1, sealed = $2 WHERE id = $3 AND subject_id = $4`), m.Into, e.Sealed, e.ID, m.From); err != nil {
				return err
			}
		}
		// The sharing ledger is append-only: copied, with new ids.
		if _, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.disclosures (id, subject_id, recipient, purpose, fields, at, reference)
			SELECT id || '.merged', $1, recipient, purpose, fields, at, reference FROM {data}.disclosures WHERE subject_id = $2`), m.Into, m.From); err != nil {
			return err
		}
		for _, c := range m.Consents {
			if _, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.consents (id, receipt_id, subject_id, purpose, state, notice_hash, channel, gpc, explicit, guardian, guardian_evidence, actor, at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`), c.ID, c.ReceiptID, m.Into, c.Purpose, string(c.State), c.NoticeHash, c.Channel, c.GPC, c.Explicit, c.Guardian, c.GuardianEvidence, c.Actor, c.At); err != nil {
				return err
			}
		}
		// The runs that used the visitor's data used the person's.
		if _, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.run_members (subject_id, run_id) SELECT $1, run_id FROM {data}.run_members WHERE subject_id = $2 ON CONFLICT DO NOTHING`), m.Into, m.From); err != nil {
			return err
		}
		// So do the snapshots the visitor was in: the person is in them now.
		if _, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.segment_members (segment_id, subject_id) SELECT segment_id, $1 FROM {data}.segment_members WHERE subject_id = $2 ON CONFLICT DO NOTHING`), m.Into, m.From); err != nil {
			return err
		}
		// The messages sent to the visitor count towards the person's caps.
		if _, err := tx.Exec(ctx, db.q(`UPDATE {data}.campaign_sends s SET subject_id = $1 WHERE s.subject_id = $2
			AND NOT EXISTS (SELECT 1 FROM {data}.campaign_sends x WHERE x.campaign_id = s.campaign_id AND x.subject_id = $1)`), m.Into, m.From); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, db.q(`DELETE FROM {data}.subjects WHERE id = $1`), m.From); err != nil {
			return err
		}
		changed(m.From, 0, true)
		var version int64
		if err := tx.QueryRow(ctx, db.q(`UPDATE {data}.subjects SET updated_at = $1, version = version + 1 WHERE id = $2 RETURNING version`), m.At, m.Into).Scan(&version); err != nil {
			return err
		}
		changed(m.Into, version, false)
		return nil
	})
	return wrap("merge subject", err)
}

// nullString stores an empty string as NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
