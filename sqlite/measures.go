package sqlite

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/candorhq/candor"
)

// MarkSend implements [candor.CampaignMeasureStore].
func (db *DB) MarkSend(ctx context.Context, campaignID, subjectID, channel, mark string, at time.Time) (bool, error) {
	if !slices.Contains(candor.SendMarks, mark) {
		return false, fmt.Errorf("sqlite: mark send: unknown mark %q", mark)
	}
	col := mark + "_at"
	q := `UPDATE campaign_sends SET ` + col + ` = ? WHERE campaign_id = ? AND subject_id = ? AND status = 'sent' AND ` + col + ` IS NULL`
	args := []any{ts(at), campaignID, subjectID}
	if campaignID == "" {
		// The person's latest sent message over the channel.
		q = `UPDATE campaign_sends SET ` + col + ` = ? WHERE (campaign_id, subject_id) = (SELECT campaign_id, subject_id FROM campaign_sends
			WHERE subject_id = ? AND channel = ? AND status = 'sent' ORDER BY at DESC LIMIT 1) AND ` + col + ` IS NULL`
		args = []any{ts(at), subjectID, channel}
	}
	res, err := db.data.w.ExecContext(ctx, q, args...)
	if err != nil {
		return false, wrap("mark send", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// CampaignMarks implements [candor.CampaignMeasureStore].
func (db *DB) CampaignMarks(ctx context.Context, campaignID string) (map[string]int, error) {
	var o, c, b, m, u int
	err := db.data.queryRow(ctx, `SELECT count(opened_at), count(clicked_at), count(bounced_at), count(complained_at), count(unsubscribed_at)
		FROM campaign_sends WHERE campaign_id = ?`, campaignID).Scan(&o, &c, &b, &m, &u)
	if err != nil {
		return nil, wrap("campaign marks", err)
	}
	return map[string]int{candor.MarkOpened: o, candor.MarkClicked: c, candor.MarkBounced: b, candor.MarkComplained: m, candor.MarkUnsubscribed: u}, nil
}

// CampaignSends implements [candor.CampaignMeasureStore].
func (db *DB) CampaignSends(ctx context.Context, campaignID, reason, after string, limit int) ([]candor.CampaignSend, error) {
	rows, err := db.data.query(ctx, `SELECT subject_id, channel, status, reason, at FROM campaign_sends
		WHERE campaign_id = ? AND subject_id > ? AND (status = 'sent' OR (status = 'skipped' AND reason = ?)) ORDER BY subject_id LIMIT ?`,
		campaignID, after, reason, limit)
	if err != nil {
		return nil, wrap("campaign sends", err)
	}
	defer rows.Close()
	var out []candor.CampaignSend
	for rows.Next() {
		s := candor.CampaignSend{CampaignID: campaignID}
		var at string
		if err := rows.Scan(&s.SubjectID, &s.Channel, &s.Status, &s.Reason, &at); err != nil {
			return nil, wrap("campaign sends", err)
		}
		s.At = parseTS(at)
		out = append(out, s)
	}
	return out, wrap("campaign sends", rows.Err())
}
