package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

const campaignColumns = `id, name, channel, purpose, segment, subject, body, status, actor, sent_by, sent_role, created_at, updated_at, lease_node, lease_until, subject_b, holdout, trigger_name`

// PutCampaign implements [candor.CampaignStore].
func (db *DB) PutCampaign(ctx context.Context, c candor.Campaign) error {
	subject, _ := json.Marshal(c.Subject)
	body, _ := json.Marshal(c.Body)
	subjectB, _ := json.Marshal(c.SubjectB)
	_, err := db.pool.Exec(ctx, db.q(`INSERT INTO {data}.campaigns (`+campaignColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, $15, $16, $17)`),
		c.ID, c.Name, c.Channel, c.Purpose, c.Segment, string(subject), string(body), c.Status, c.Actor, c.SentBy, c.SentRole, c.CreatedAt, c.UpdatedAt, c.LeaseNode, string(subjectB), c.Holdout, c.Trigger)
	if pgCode(err) == uniqueViolation {
		return candor.Errorf(candor.ECONFLICT, "campaign exists")
	}
	return wrap("put campaign", err)
}

func scanCampaign(row pgx.CollectableRow) (candor.Campaign, error) {
	var c candor.Campaign
	var subject, body, subjectB string
	var lease *time.Time
	if err := row.Scan(&c.ID, &c.Name, &c.Channel, &c.Purpose, &c.Segment, &subject, &body, &c.Status, &c.Actor, &c.SentBy, &c.SentRole, &c.CreatedAt, &c.UpdatedAt, &c.LeaseNode, &lease, &subjectB, &c.Holdout, &c.Trigger); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(subject), &c.Subject); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(body), &c.Body); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(subjectB), &c.SubjectB); err != nil {
		return c, err
	}
	if len(c.SubjectB) == 0 {
		c.SubjectB = nil
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	if lease != nil {
		c.LeaseUntil = lease.UTC()
	}
	return c, nil
}

// Campaign implements [candor.CampaignStore].
func (db *DB) Campaign(ctx context.Context, id string) (*candor.Campaign, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT `+campaignColumns+` FROM {data}.campaigns WHERE id = $1`), id)
	c, err := pgx.CollectExactlyOneRow(rows, scanCampaign)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "campaign not found")
	}
	if err != nil {
		return nil, wrap("campaign", err)
	}
	return &c, nil
}

// Campaigns implements [candor.CampaignStore].
func (db *DB) Campaigns(ctx context.Context, after string, limit int) ([]candor.Campaign, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT `+campaignColumns+` FROM {data}.campaigns WHERE id > $1 ORDER BY id LIMIT $2`), after, limit)
	out, err := pgx.CollectRows(rows, scanCampaign)
	return out, wrap("campaigns", err)
}

// CampaignsByStatus implements [candor.CampaignStore].
func (db *DB) CampaignsByStatus(ctx context.Context, status string) ([]candor.Campaign, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT `+campaignColumns+` FROM {data}.campaigns WHERE status = $1 ORDER BY id`), status)
	out, err := pgx.CollectRows(rows, scanCampaign)
	return out, wrap("campaigns", err)
}

// SetCampaignStatus implements [candor.CampaignStore].
func (db *DB) SetCampaignStatus(ctx context.Context, c candor.Campaign, from []string, to string, at time.Time) (bool, error) {
	tag, err := db.pool.Exec(ctx, db.q(`UPDATE {data}.campaigns SET status = $1, updated_at = $2,
		sent_by = CASE WHEN $1 = 'sending' THEN $3 ELSE sent_by END, sent_role = CASE WHEN $1 = 'sending' THEN $4 ELSE sent_role END
		WHERE id = $5 AND status = ANY($6)`), to, at, c.SentBy, c.SentRole, c.ID, from)
	if err != nil {
		return false, wrap("set campaign status", err)
	}
	if tag.RowsAffected() > 0 {
		return true, nil
	}
	if _, err := db.Campaign(ctx, c.ID); err != nil {
		return false, err
	}
	return false, nil
}

// LeaseCampaign implements [candor.CampaignStore].
func (db *DB) LeaseCampaign(ctx context.Context, id, node string, now, until time.Time) (bool, error) {
	tag, err := db.pool.Exec(ctx, db.q(`UPDATE {data}.campaigns SET lease_node = $1, lease_until = $2
		WHERE id = $3 AND status = 'sending' AND (lease_node = $1 OR lease_until IS NULL OR lease_until < $4)`), node, until, id, now)
	if err != nil {
		return false, wrap("lease campaign", err)
	}
	return tag.RowsAffected() > 0, nil
}

// ClaimSend implements [candor.CampaignStore]: a transaction-scoped
// advisory lock on the person serializes the count and the insert with
// every other node's claims for them.
func (db *DB) ClaimSend(ctx context.Context, s candor.CampaignSend, limit *candor.FrequencyCap) (candor.ClaimOutcome, error) {
	out := candor.ClaimOK
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('campaign:' || $1, 0))`, s.SubjectID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, db.q(`SELECT count(*) FROM {data}.campaign_sends WHERE campaign_id = $1 AND subject_id = $2`), s.CampaignID, s.SubjectID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			out = candor.ClaimTaken
			return nil
		}
		s.Status = candor.SendClaimed
		if limit != nil {
			since := s.At.Add(-time.Duration(limit.Window))
			if err := tx.QueryRow(ctx, db.q(`SELECT count(*) FROM {data}.campaign_sends WHERE subject_id = $1 AND channel = $2 AND at > $3 AND status IN ('sent', 'claimed', 'interrupted')`),
				s.SubjectID, s.Channel, since).Scan(&n); err != nil {
				return err
			}
			if n >= limit.Count {
				out, s.Status, s.Reason = candor.ClaimCapped, candor.SendSkipped, "frequency_cap"
			}
		}
		tag, err := tx.Exec(ctx, db.q(`INSERT INTO {data}.campaign_sends (campaign_id, subject_id, channel, status, reason, node, at, updated_at)
			SELECT $1, id, $2, $3, $4, $5, $6, $6 FROM {data}.subjects WHERE id = $7 ON CONFLICT DO NOTHING`), s.CampaignID, s.Channel, s.Status, s.Reason, s.Node, s.At, s.SubjectID)
		if err == nil && tag.RowsAffected() == 0 {
			out = candor.ClaimTaken // erased meanwhile
		}
		return err
	})
	if err != nil {
		return "", wrap("claim send", err)
	}
	return out, nil
}

// SkipSend implements [candor.CampaignStore].
func (db *DB) SkipSend(ctx context.Context, s candor.CampaignSend) (bool, error) {
	tag, err := db.pool.Exec(ctx, db.q(`INSERT INTO {data}.campaign_sends (campaign_id, subject_id, channel, status, reason, node, at, updated_at)
		SELECT $1, id, $2, 'skipped', $3, $4, $5, $5 FROM {data}.subjects WHERE id = $6 ON CONFLICT DO NOTHING`), s.CampaignID, s.Channel, s.Reason, s.Node, s.At, s.SubjectID)
	if err != nil {
		return false, wrap("skip send", err)
	}
	return tag.RowsAffected() > 0, nil
}

// FinishSend implements [candor.CampaignStore].
func (db *DB) FinishSend(ctx context.Context, campaignID, subjectID, status, reason string, at time.Time) error {
	_, err := db.pool.Exec(ctx, db.q(`UPDATE {data}.campaign_sends SET status = $1, reason = $2, updated_at = $3 WHERE campaign_id = $4 AND subject_id = $5 AND status = 'claimed'`),
		status, reason, at, campaignID, subjectID)
	return wrap("finish send", err)
}

// InterruptSends implements [candor.CampaignStore].
func (db *DB) InterruptSends(ctx context.Context, campaignID string, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, db.q(`UPDATE {data}.campaign_sends SET status = 'interrupted', reason = 'interrupted' WHERE campaign_id = $1 AND status = 'claimed' AND at < $2`),
		campaignID, before)
	if err != nil {
		return 0, wrap("interrupt sends", err)
	}
	return int(tag.RowsAffected()), nil
}

// CampaignSend implements [candor.CampaignStore].
func (db *DB) CampaignSend(ctx context.Context, campaignID, subjectID string) (*candor.CampaignSend, error) {
	s := candor.CampaignSend{CampaignID: campaignID, SubjectID: subjectID}
	err := db.pool.QueryRow(ctx, db.q(`SELECT channel, status, reason, node, at, updated_at FROM {data}.campaign_sends WHERE campaign_id = $1 AND subject_id = $2`), campaignID, subjectID).
		Scan(&s.Channel, &s.Status, &s.Reason, &s.Node, &s.At, &s.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "no such send")
	}
	if err != nil {
		return nil, wrap("campaign send", err)
	}
	s.At, s.UpdatedAt = s.At.UTC(), s.UpdatedAt.UTC()
	return &s, nil
}

// CampaignStats implements [candor.CampaignStore].
func (db *DB) CampaignStats(ctx context.Context, campaignID string) (candor.CampaignStats, error) {
	st := candor.CampaignStats{Skipped: map[string]int{}}
	rows, _ := db.pool.Query(ctx, db.q(`SELECT status, reason, count(*) FROM {data}.campaign_sends WHERE campaign_id = $1 GROUP BY status, reason`), campaignID)
	var status, reason string
	var n int
	_, err := pgx.ForEachRow(rows, []any{&status, &reason, &n}, func() error { st.Add(status, reason, n); return nil })
	return st, wrap("campaign stats", err)
}
