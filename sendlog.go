package candor

import "context"

// SendBatchStore holds the send log's operations on many people at once,
// with which a campaign's pass claims, confirms and releases a batch of
// messages in a few round trips instead of a few per message. Each keeps
// the guarantee of its one-person counterpart in [CampaignStore].
type SendBatchStore interface {
	// SendLogged returns which of subjectIDs the campaign's send log has
	// a row for (any status).
	SendLogged(ctx context.Context, campaignID string, subjectIDs []string) (map[string]bool, error)
	// ClaimSends is [CampaignStore.ClaimSend] for rows of one campaign,
	// channel and node, in one transaction: each row is claimed unless the
	// log has the person already (ClaimTaken, as for a person erased
	// meanwhile), or recorded as skipped for "frequency_cap" when cap is
	// reached (ClaimCapped), counted from the row's At. The people are
	// serialized with every other claim as ClaimSend serializes them. The
	// outcomes are in the order of rows. EINVALID for rows of several
	// campaigns, channels or nodes.
	ClaimSends(ctx context.Context, rows []CampaignSend, cap *FrequencyCap) ([]ClaimOutcome, error)
	// FinishSends sets each row's status and reason, at its UpdatedAt,
	// when the row is still claimed (as [CampaignStore.FinishSend]), in one
	// transaction. The rows are of campaignID.
	FinishSends(ctx context.Context, campaignID string, rows []CampaignSend) error
	// ReleaseSends removes the rows of subjectIDs that node claimed for the
	// campaign and that are still claimed: messages it never handed to a
	// server (its pass ended first), so that a later pass may send them.
	// It returns how many it removed.
	ReleaseSends(ctx context.Context, campaignID, node string, subjectIDs []string) (int, error)
}
