package sqlite

import (
	"context"
	"database/sql"
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
// one, so the batch is serialized with every other claim. Three
// statements whatever the batch's size: what the log has of the people,
// their messages over the channel in the cap's window (counted here per
// row), and one insert of the rows, which returns those it wrote.
func (db *DB) ClaimSends(ctx context.Context, rows []candor.CampaignSend, limit *candor.FrequencyCap) ([]candor.ClaimOutcome, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	if err := sameBatch(rows); err != nil {
		return nil, err
	}
	first := rows[0]
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.SubjectID
	}
	list := jsonList(ids)
	tx, err := db.data.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap("claim sends", err)
	}
	defer tx.Rollback()
	taken := map[string]bool{}
	if err := collect(ctx, tx, func(scan func(...any) error) error {
		var id string
		err := scan(&id)
		taken[id] = true
		return err
	}, `SELECT subject_id FROM campaign_sends WHERE campaign_id = ? AND subject_id IN (SELECT value FROM json_each(?))`, first.CampaignID, list); err != nil {
		return nil, wrap("claim sends", err)
	}
	// Each person's messages over the channel, since the earliest row's
	// window began; each row counts from its own At.
	var sent map[string][]time.Time
	if limit != nil {
		since := first.At
		for _, r := range rows {
			if r.At.Before(since) {
				since = r.At
			}
		}
		sent = map[string][]time.Time{}
		if err := collect(ctx, tx, func(scan func(...any) error) error {
			var id, at string
			err := scan(&id, &at)
			sent[id] = append(sent[id], parseTS(at))
			return err
		}, `SELECT subject_id, at FROM campaign_sends WHERE subject_id IN (SELECT value FROM json_each(?)) AND channel = ? AND at > ? AND status IN ('sent', 'claimed', 'interrupted')`,
			list, first.Channel, ts(since.Add(-time.Duration(limit.Window)))); err != nil {
			return nil, wrap("claim sends", err)
		}
	}
	type insert struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Reason string `json:"reason"`
		At     string `json:"at"`
	}
	out := make([]candor.ClaimOutcome, len(rows))
	var ins []insert
	for i, r := range rows {
		if taken[r.SubjectID] {
			out[i] = candor.ClaimTaken // in the log, or twice in the batch
			continue
		}
		taken[r.SubjectID] = true
		out[i] = candor.ClaimOK
		row := insert{ID: r.SubjectID, Status: candor.SendClaimed, At: ts(r.At)}
		if limit != nil {
			n, from := 0, r.At.Add(-time.Duration(limit.Window))
			for _, t := range sent[r.SubjectID] {
				if t.After(from) {
					n++
				}
			}
			if n >= limit.Count {
				out[i], row.Status, row.Reason = candor.ClaimCapped, candor.SendSkipped, "frequency_cap"
			}
		}
		ins = append(ins, row)
	}
	if len(ins) > 0 {
		b, _ := json.Marshal(ins)
		inserted := map[string]bool{}
		if err := collect(ctx, tx, func(scan func(...any) error) error {
			var id string
			err := scan(&id)
			inserted[id] = true
			return err
		}, `INSERT OR IGNORE INTO campaign_sends (campaign_id, subject_id, channel, status, reason, node, at, updated_at)
			SELECT ?, s.id, ?, j.value ->> 'status', j.value ->> 'reason', ?, j.value ->> 'at', j.value ->> 'at'
			FROM json_each(?) AS j CROSS JOIN subjects s ON s.id = j.value ->> 'id'
			RETURNING subject_id`, first.CampaignID, first.Channel, first.Node, string(b)); err != nil {
			return nil, wrap("claim sends", err)
		}
		for i, r := range rows {
			if out[i] != candor.ClaimTaken && !inserted[r.SubjectID] {
				out[i] = candor.ClaimTaken // erased meanwhile
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, wrap("claim sends", err)
	}
	return out, nil
}

// collect runs a query in tx and calls row for each row.
func collect(ctx context.Context, tx *sql.Tx, row func(scan func(...any) error) error, q string, args ...any) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// FinishSends implements [candor.SendBatchStore]: one transaction, one
// prepared statement. (An UPDATE … FROM json_each would read every row of
// the campaign's log for each outcome.)
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
