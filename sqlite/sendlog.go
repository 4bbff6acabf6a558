package sqlite

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/candorhq/candor"
)

// jsonList is ids as a JSON array, for json_each: one statement (parsed
// once) whatever their number.
func jsonList(ids []string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// sameBatch returns EINVALID unless rows are of one campaign, channel and node.
func sameBatch(rows []candor.CampaignSend) error {
	for _, r := range rows[1:] {
		if r.CampaignID != rows[0].CampaignID || r.Channel != rows[0].Channel || r.Node != rows[0].Node {
			return candor.Errorf(candor.EINVALID, "a batch of sends is of one campaign, channel and node")
		}
	}
	return nil
}

// SendLogged implements [candor.SendBatchStore].
func (db *DB) SendLogged(ctx context.Context, campaignID string, subjectIDs []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(subjectIDs) == 0 {
		return out, nil
	}
	rows, err := db.data.query(ctx, `SELECT subject_id FROM campaign_sends WHERE campaign_id = ? AND subject_id IN (SELECT value FROM json_each(?))`, campaignID, jsonList(subjectIDs))
	if err != nil {
		return nil, wrap("send logged", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("send logged", err)
		}
		out[id] = true
	}
	return out, wrap("send logged", rows.Err())
}

// ClaimSends implements [candor.SendBatchStore]. The writer connection is
// one, so the batch is serialized with every other claim; each statement
// is prepared once per batch.
func (db *DB) ClaimSends(ctx context.Context, rows []candor.CampaignSend, limit *candor.FrequencyCap) ([]candor.ClaimOutcome, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	if err := sameBatch(rows); err != nil {
		return nil, err
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.SubjectID
	}
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap("claim sends", err)
	}
	defer tx.Rollback()
	taken := map[string]bool{}
	list, err := tx.QueryContext(ctx, `SELECT subject_id FROM campaign_sends WHERE campaign_id = ? AND subject_id IN (SELECT value FROM json_each(?))`, rows[0].CampaignID, jsonList(ids))
	if err != nil {
		return nil, wrap("claim sends", err)
	}
	for list.Next() {
		var id string
		if err := list.Scan(&id); err != nil {
			list.Close()
			return nil, wrap("claim sends", err)
		}
		taken[id] = true
	}
	list.Close()
	if err := list.Err(); err != nil {
		return nil, wrap("claim sends", err)
	}
	count, err := tx.PrepareContext(ctx, `SELECT count(*) FROM campaign_sends WHERE subject_id = ? AND channel = ? AND at > ? AND status IN ('sent', 'claimed', 'interrupted')`)
	if err != nil {
		return nil, wrap("claim sends", err)
	}
	defer count.Close()
	insert, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO campaign_sends (campaign_id, subject_id, channel, status, reason, node, at, updated_at)
		SELECT ?, id, ?, ?, ?, ?, ?, ? FROM subjects WHERE id = ?`)
	if err != nil {
		return nil, wrap("claim sends", err)
	}
	defer insert.Close()
	out := make([]candor.ClaimOutcome, len(rows))
	for i, s := range rows {
		if taken[s.SubjectID] {
			out[i] = candor.ClaimTaken
			continue
		}
		out[i], s.Status, s.Reason = candor.ClaimOK, candor.SendClaimed, ""
		if limit != nil {
			var n int
			if err := count.QueryRowContext(ctx, s.SubjectID, s.Channel, ts(s.At.Add(-time.Duration(limit.Window)))).Scan(&n); err != nil {
				return nil, wrap("claim sends", err)
			}
			if n >= limit.Count {
				out[i], s.Status, s.Reason = candor.ClaimCapped, candor.SendSkipped, "frequency_cap"
			}
		}
		res, err := insert.ExecContext(ctx, s.CampaignID, s.Channel, s.Status, s.Reason, s.Node, ts(s.At), ts(s.At), s.SubjectID)
		if err != nil {
			return nil, wrap("claim sends", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			out[i] = candor.ClaimTaken // erased, or twice in the batch
		}
		taken[s.SubjectID] = true
	}
	if err := tx.Commit(); err != nil {
		return nil, wrap("claim sends", err)
	}
	return out, nil
}

// FinishSends implements [candor.SendBatchStore].
func (db *DB) FinishSends(ctx context.Context, campaignID string, rows []candor.CampaignSend) error {
	if len(rows) == 0 {
		return nil
	}
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("finish sends", err)
	}
	defer tx.Rollback()
	update, err := tx.PrepareContext(ctx, `UPDATE campaign_sends SET status = ?, reason = ?, updated_at = ? WHERE campaign_id = ? AND subject_id = ? AND status = 'claimed'`)
	if err != nil {
		return wrap("finish sends", err)
	}
	defer update.Close()
	for _, r := range rows {
		if _, err := update.ExecContext(ctx, r.Status, r.Reason, ts(r.UpdatedAt), campaignID, r.SubjectID); err != nil {
			return wrap("finish sends", err)
		}
	}
	return wrap("finish sends", tx.Commit())
}

// ReleaseSends implements [candor.SendBatchStore].
func (db *DB) ReleaseSends(ctx context.Context, campaignID, node string, subjectIDs []string) (int, error) {
	if len(subjectIDs) == 0 {
		return 0, nil
	}
	res, err := db.data.w.ExecContext(ctx, `DELETE FROM campaign_sends WHERE campaign_id = ? AND node = ? AND status = 'claimed' AND subject_id IN (SELECT value FROM json_each(?))`,
		campaignID, node, jsonList(subjectIDs))
	if err != nil {
		return 0, wrap("release sends", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// SuppressedAmong implements [candor.KeyStore]: one read, the blind
// indexes passed as hex in a JSON array.
func (ks *keyStore) SuppressedAmong(ctx context.Context, kind string, blinds [][]byte) ([]bool, error) {
	out := make([]bool, len(blinds))
	if len(blinds) == 0 {
		return out, nil
	}
	hexes := make([]string, len(blinds))
	at := make(map[string][]int, len(blinds))
	for i, b := range blinds {
		hexes[i] = hex.EncodeToString(b)
		at[string(b)] = append(at[string(b)], i)
	}
	rows, err := ks.c().query(ctx, `SELECT blind FROM suppressions WHERE kind = ? AND blind IN (SELECT unhex(value) FROM json_each(?))`, kind, jsonList(hexes))
	if err != nil {
		return nil, wrap("suppressed among", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, wrap("suppressed among", err)
		}
		for _, i := range at[string(b)] {
			out[i] = true
		}
	}
	return out, wrap("suppressed among", rows.Err())
}
