package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
)

// MarkSend implements [candor.CampaignMeasureStore].
func (db *DB) MarkSend(ctx context.Context, campaignID, subjectID, channel, mark string, at time.Time) (bool, error) {
	if !slices.Contains(candor.SendMarks, mark) {
		return false, fmt.Errorf("postgres: mark send: unknown mark %q", mark)
	}
	col := mark + "_at"
	q := `UPDATE {data}.campaign_sends SET ` + col + ` = $1 WHERE campaign_id = $2 AND subject_id = $3 AND status = 'sent' AND ` + col + ` IS NULL`
	args := []any{at, campaignID, subjectID}
	if campaignID == "" {
		// The person's latest sent message over the channel.
		q = `UPDATE {data}.campaign_sends SET ` + col + ` = $1 WHERE (campaign_id, subject_id) = (SELECT campaign_id, subject_id FROM {data}.campaign_sends
			WHERE subject_id = $2 AND channel = $3 AND status = 'sent' ORDER BY at DESC LIMIT 1) AND ` + col + ` IS NULL`
		args = []any{at, subjectID, channel}
	}
	tag, err := db.pool.Exec(ctx, db.q(q), args...)
	if err != nil {
		return false, wrap("mark send", err)
	}
	return tag.RowsAffected() > 0, nil
}

// CampaignMarks implements [candor.CampaignMeasureStore].
func (db *DB) CampaignMarks(ctx context.Context, campaignID string) (map[string]int, error) {
	var o, c, b, m, u int
	err := db.pool.QueryRow(ctx, db.q(`SELECT count(opened_at), count(clicked_at), count(bounced_at), count(complained_at), count(unsubscribed_at)
		FROM {data}.campaign_sends WHERE campaign_id = $1`), campaignID).Scan(&o, &c, &b, &m, &u)
	if err != nil {
		return nil, wrap("campaign marks", err)
	}
	return map[string]int{candor.MarkOpened: o, candor.MarkClicked: c, candor.MarkBounced: b, candor.MarkComplained: m, candor.MarkUnsubscribed: u}, nil
}

// CampaignSends implements [candor.CampaignMeasureStore].
func (db *DB) CampaignSends(ctx context.Context, campaignID, reason, after string, limit int) ([]candor.CampaignSend, error) {
	rows, _ := db.pool.Query(ctx, db.q(`SELECT subject_id, channel, status, reason, at FROM {data}.campaign_sends
		WHERE campaign_id = $1 AND subject_id > $2 AND (status = 'sent' OR (status = 'skipped' AND reason = $3)) ORDER BY subject_id LIMIT $4`),
		campaignID, after, reason, limit)
	var out []candor.CampaignSend
	s := candor.CampaignSend{CampaignID: campaignID}
	_, err := pgx.ForEachRow(rows, []any{&s.SubjectID, &s.Channel, &s.Status, &s.Reason, &s.At}, func() error {
		r := s
		r.At = r.At.UTC()
		out = append(out, r)
		return nil
	})
	return out, wrap("campaign sends", err)
}
