package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/candorhq/candor"
)

const campaignColumns = `id, name, channel, purpose, segment, subject, body, status, actor, sent_by, sent_role, created_at, updated_at, lease_node, lease_until, subject_b, holdout, trigger_name`

// PutCampaign implements [candor.CampaignStore].
func (db *DB) PutCampaign(ctx context.Context, c candor.Campaign) error {
	subject, _ := json.Marshal(c.Subject)
	body, _ := json.Marshal(c.Body)
	subjectB, _ := json.Marshal(c.SubjectB)
	_, err := db.data.w.ExecContext(ctx, `INSERT INTO campaigns (`+campaignColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
		c.ID, c.Name, c.Channel, c.Purpose, c.Segment, string(subject), string(body), c.Status, c.Actor, c.SentBy, c.SentRole, ts(c.CreatedAt), ts(c.UpdatedAt), c.LeaseNode, string(subjectB), c.Holdout, c.Trigger)
	if isConstraint(err) {
		return candor.Errorf(candor.ECONFLICT, "campaign exists")
	}
	return wrap("put campaign", err)
}

func scanCampaign(scan func(...any) error) (candor.Campaign, error) {
	var c candor.Campaign
	var subject, body, subjectB, created, updated string
	var lease sql.NullString
	if err := scan(&c.ID, &c.Name, &c.Channel, &c.Purpose, &c.Segment, &subject, &body, &c.Status, &c.Actor, &c.SentBy, &c.SentRole, &created, &updated, &c.LeaseNode, &lease, &subjectB, &c.Holdout, &c.Trigger); err != nil {
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
	c.CreatedAt, c.UpdatedAt = parseTS(created), parseTS(updated)
	if lease.Valid {
		c.LeaseUntil = parseTS(lease.String)
	}
	return c, nil
}

// Campaign implements [candor.CampaignStore].
func (db *DB) Campaign(ctx context.Context, id string) (*candor.Campaign, error) {
	c, err := scanCampaign(db.data.queryRow(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = ?`, id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "campaign not found")
	}
	if err != nil {
		return nil, wrap("campaign", err)
	}
	return &c, nil
}

func (db *DB) campaigns(ctx context.Context, q string, args ...any) ([]candor.Campaign, error) {
	rows, err := db.data.query(ctx, q, args...)
	if err != nil {
		return nil, wrap("campaigns", err)
	}
	defer rows.Close()
	var out []candor.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows.Scan)
		if err != nil {
			return nil, wrap("campaigns", err)
		}
		out = append(out, c)
	}
	return out, wrap("campaigns", rows.Err())
}

// Campaigns implements [candor.CampaignStore].
func (db *DB) Campaigns(ctx context.Context, after string, limit int) ([]candor.Campaign, error) {
	return db.campaigns(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

// CampaignsByStatus implements [candor.CampaignStore].
func (db *DB) CampaignsByStatus(ctx context.Context, status string) ([]candor.Campaign, error) {
	return db.campaigns(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE status = ? ORDER BY id`, status)
}

// SetCampaignStatus implements [candor.CampaignStore].
func (db *DB) SetCampaignStatus(ctx context.Context, c candor.Campaign, from []string, to string, at time.Time) (bool, error) {
	list, _ := json.Marshal(from)
	res, err := db.data.w.ExecContext(ctx, `UPDATE campaigns SET status = ?, updated_at = ?,
		sent_by = CASE WHEN ? = 'sending' THEN ? ELSE sent_by END, sent_role = CASE WHEN ? = 'sending' THEN ? ELSE sent_role END
		WHERE id = ? AND status IN (SELECT value FROM json_each(?))`, to, ts(at), to, c.SentBy, to, c.SentRole, c.ID, string(list))
	if err != nil {
		return false, wrap("set campaign status", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return true, nil
	}
	if _, err := db.Campaign(ctx, c.ID); err != nil {
		return false, err
	}
	return false, nil
}

// LeaseCampaign implements [candor.CampaignStore].
func (db *DB) LeaseCampaign(ctx context.Context, id, node string, now, until time.Time) (bool, error) {
	res, err := db.data.w.ExecContext(ctx, `UPDATE campaigns SET lease_node = ?, lease_until = ?
		WHERE id = ? AND status = 'sending' AND (lease_node = ? OR lease_until IS NULL OR lease_until < ?)`, node, ts(until), id, node, ts(now))
	if err != nil {
		return false, wrap("lease campaign", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ClaimSend implements [candor.CampaignStore]. The writer connection is
// one, so the count and the insert are serialized with every other claim.
func (db *DB) ClaimSend(ctx context.Context, s candor.CampaignSend, limit *candor.FrequencyCap) (candor.ClaimOutcome, error) {
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return "", wrap("claim send", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM campaign_sends WHERE campaign_id = ? AND subject_id = ?`, s.CampaignID, s.SubjectID).Scan(&n); err != nil {
		return "", wrap("claim send", err)
	}
	if n > 0 {
		return candor.ClaimTaken, nil
	}
	out := candor.ClaimOK
	s.Status = candor.SendClaimed
	if limit != nil {
		since := s.At.Add(-time.Duration(limit.Window))
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM campaign_sends WHERE subject_id = ? AND channel = ? AND at > ? AND status IN ('sent', 'claimed', 'interrupted')`,
			s.SubjectID, s.Channel, ts(since)).Scan(&n); err != nil {
			return "", wrap("claim send", err)
		}
		if n >= limit.Count {
			out, s.Status, s.Reason = candor.ClaimCapped, candor.SendSkipped, "frequency_cap"
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_sends (campaign_id, subject_id, channel, status, reason, node, at, updated_at)
		SELECT ?, id, ?, ?, ?, ?, ?, ? FROM subjects WHERE id = ?`, s.CampaignID, s.Channel, s.Status, s.Reason, s.Node, ts(s.At), ts(s.At), s.SubjectID); err != nil {
		return "", wrap("claim send", err)
	}
	if err := tx.Commit(); err != nil {
		return "", wrap("claim send", err)
	}
	return out, nil
}

// SkipSend implements [candor.CampaignStore].
func (db *DB) SkipSend(ctx context.Context, s candor.CampaignSend) (bool, error) {
	res, err := db.data.w.ExecContext(ctx, `INSERT OR IGNORE INTO campaign_sends (campaign_id, subject_id, channel, status, reason, node, at, updated_at)
		SELECT ?, id, ?, 'skipped', ?, ?, ?, ? FROM subjects WHERE id = ?`, s.CampaignID, s.Channel, s.Reason, s.Node, ts(s.At), ts(s.At), s.SubjectID)
	if err != nil {
		return false, wrap("skip send", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// FinishSend implements [candor.CampaignStore].
func (db *DB) FinishSend(ctx context.Context, campaignID, subjectID, status, reason string, at time.Time) error {
	_, err := db.data.w.ExecContext(ctx, `UPDATE campaign_sends SET status = ?, reason = ?, updated_at = ? WHERE campaign_id = ? AND subject_id = ? AND status = 'claimed'`,
		status, reason, ts(at), campaignID, subjectID)
	return wrap("finish send", err)
}

// InterruptSends implements [candor.CampaignStore].
func (db *DB) InterruptSends(ctx context.Context, campaignID string, before time.Time) (int, error) {
	res, err := db.data.w.ExecContext(ctx, `UPDATE campaign_sends SET status = 'interrupted', reason = 'interrupted' WHERE campaign_id = ? AND status = 'claimed' AND at < ?`,
		campaignID, ts(before))
	if err != nil {
		return 0, wrap("interrupt sends", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CampaignSend implements [candor.CampaignStore].
func (db *DB) CampaignSend(ctx context.Context, campaignID, subjectID string) (*candor.CampaignSend, error) {
	s := candor.CampaignSend{CampaignID: campaignID, SubjectID: subjectID}
	var at, updated string
	err := db.data.queryRow(ctx, `SELECT channel, status, reason, node, at, updated_at FROM campaign_sends WHERE campaign_id = ? AND subject_id = ?`, campaignID, subjectID).
		Scan(&s.Channel, &s.Status, &s.Reason, &s.Node, &at, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, candor.Errorf(candor.ENOTFOUND, "no such send")
	}
	if err != nil {
		return nil, wrap("campaign send", err)
	}
	s.At, s.UpdatedAt = parseTS(at), parseTS(updated)
	return &s, nil
}

// CampaignStats implements [candor.CampaignStore].
func (db *DB) CampaignStats(ctx context.Context, campaignID string) (candor.CampaignStats, error) {
	rows, err := db.data.query(ctx, `SELECT status, reason, count(*) FROM campaign_sends WHERE campaign_id = ? GROUP BY status, reason`, campaignID)
	if err != nil {
		return candor.CampaignStats{}, wrap("campaign stats", err)
	}
	defer rows.Close()
	st := candor.CampaignStats{Skipped: map[string]int{}}
	for rows.Next() {
		var status, reason string
		var n int
		if err := rows.Scan(&status, &reason, &n); err != nil {
			return st, wrap("campaign stats", err)
		}
		st.Add(status, reason, n)
	}
	return st, wrap("campaign stats", rows.Err())
}
