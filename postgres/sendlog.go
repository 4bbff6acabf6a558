package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/candorhq/candor"
)

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
	rows, err := db.pool.Query(ctx, db.q(`SELECT subject_id FROM {data}.campaign_sends WHERE campaign_id = $1 AND subject_id = ANY($2)`), campaignID, subjectIDs)
	if err != nil {
		return nil, wrap("send logged", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap("send logged", err)
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// ClaimSends implements [candor.SendBatchStore]: the same transaction-scoped
// advisory lock per person as ClaimSend, taken in the order of the ids (so
// that two batches never wait on each other in a cycle), then one read of
// what the log has, one count per person for the cap and one insert.
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
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	out := make([]candor.ClaimOutcome, len(rows))
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('campaign:' || id, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n) ORDER BY n`, sorted); err != nil {
			return err
		}
		list, err := tx.Query(ctx, db.q(`SELECT subject_id FROM {data}.campaign_sends WHERE campaign_id = $1 AND subject_id = ANY($2)`), first.CampaignID, ids)
		if err != nil {
			return err
		}
		logged, err := pgx.CollectRows(list, pgx.RowTo[string])
		if err != nil {
			return err
		}
		taken := map[string]bool{}
		for _, id := range logged {
			taken[id] = true
		}
		capped := map[string]bool{}
		if limit != nil {
			since := make([]time.Time, len(rows))
			for i, r := range rows {
				since[i] = r.At.Add(-time.Duration(limit.Window))
			}
			counts, err := tx.Query(ctx, db.q(`SELECT r.id FROM unnest($1::text[], $2::timestamptz[]) AS r(id, since)
				WHERE (SELECT count(*) FROM {data}.campaign_sends s WHERE s.subject_id = r.id AND s.channel = $3 AND s.at > r.since
					AND s.status IN ('sent', 'claimed', 'interrupted')) >= $4`), ids, since, first.Channel, limit.Count)
			if err != nil {
				return err
			}
			over, err := pgx.CollectRows(counts, pgx.RowTo[string])
			if err != nil {
				return err
			}
			for _, id := range over {
				capped[id] = true
			}
		}
		var insIDs, insStatus, insReason []string
		var insAt []time.Time
		for i, r := range rows {
			switch {
			case taken[r.SubjectID]:
				out[i] = candor.ClaimTaken
				continue
			case capped[r.SubjectID]:
				out[i] = candor.ClaimCapped
				insStatus, insReason = append(insStatus, candor.SendSkipped), append(insReason, "frequency_cap")
			default:
				out[i] = candor.ClaimOK
				insStatus, insReason = append(insStatus, candor.SendClaimed), append(insReason, "")
			}
			taken[r.SubjectID] = true // twice in the batch: the second is taken
			insIDs, insAt = append(insIDs, r.SubjectID), append(insAt, r.At)
		}
		if len(insIDs) == 0 {
			return nil
		}
		ins, err := tx.Query(ctx, db.q(`INSERT INTO {data}.campaign_sends (campaign_id, subject_id, channel, status, reason, node, at, updated_at)
			SELECT $1, s.id, $2, r.status, r.reason, $3, r.at, r.at
			FROM unnest($4::text[], $5::text[], $6::text[], $7::timestamptz[]) AS r(id, status, reason, at) JOIN {data}.subjects s ON s.id = r.id
			ON CONFLICT DO NOTHING RETURNING subject_id`), first.CampaignID, first.Channel, first.Node, insIDs, insStatus, insReason, insAt)
		if err != nil {
			return err
		}
		inserted, err := pgx.CollectRows(ins, pgx.RowTo[string])
		if err != nil {
			return err
		}
		done := map[string]bool{}
		for _, id := range inserted {
			done[id] = true
		}
		for i, r := range rows {
			if out[i] != candor.ClaimTaken && !done[r.SubjectID] {
				out[i] = candor.ClaimTaken // erased meanwhile
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("claim sends", err)
	}
	return out, nil
}

// FinishSends implements [candor.SendBatchStore]: one statement.
func (db *DB) FinishSends(ctx context.Context, campaignID string, rows []candor.CampaignSend) error {
	if len(rows) == 0 {
		return nil
	}
	ids, status, reason := make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows))
	at := make([]time.Time, len(rows))
	for i, r := range rows {
		ids[i], status[i], reason[i], at[i] = r.SubjectID, r.Status, r.Reason, r.UpdatedAt
	}
	_, err := db.pool.Exec(ctx, db.q(`UPDATE {data}.campaign_sends c SET status = r.status, reason = r.reason, updated_at = r.at
		FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS r(id, status, reason, at)
		WHERE c.campaign_id = $1 AND c.subject_id = r.id AND c.status = 'claimed'`), campaignID, ids, status, reason, at)
	return wrap("finish sends", err)
}

// ReleaseSends implements [candor.SendBatchStore].
func (db *DB) ReleaseSends(ctx context.Context, campaignID, node string, subjectIDs []string) (int, error) {
	if len(subjectIDs) == 0 {
		return 0, nil
	}
	tag, err := db.pool.Exec(ctx, db.q(`DELETE FROM {data}.campaign_sends WHERE campaign_id = $1 AND node = $2 AND status = 'claimed' AND subject_id = ANY($3)`),
		campaignID, node, subjectIDs)
	if err != nil {
		return 0, wrap("release sends", err)
	}
	return int(tag.RowsAffected()), nil
}

// SuppressedAmong implements [candor.KeyStore]: one read.
func (ks *keyStore) SuppressedAmong(ctx context.Context, kind string, blinds [][]byte) ([]bool, error) {
	out := make([]bool, len(blinds))
	if len(blinds) == 0 {
		return out, nil
	}
	rows, err := ks.keysPool.Query(ctx, ks.db().q(`SELECT blind FROM {keys}.suppressions WHERE kind = $1 AND blind = ANY($2::bytea[])`), kind, blinds)
	if err != nil {
		return nil, wrap("suppressed among", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, wrap("suppressed among", err)
	}
	on := map[string]bool{}
	for _, b := range found {
		on[string(b)] = true
	}
	for i, b := range blinds {
		out[i] = on[string(b)]
	}
	return out, nil
}
