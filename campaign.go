package candor

import (
	"context"
	"time"
)

// PrefixCampaign starts a campaign's id.
const PrefixCampaign = "cmp_"

// Campaign states.
const (
	CampaignDraft   = "draft"
	CampaignSending = "sending"
	CampaignDone    = "done"
	CampaignStopped = "stopped"
)

// Campaign is one e-mail or text-message campaign: templates per language,
// sent for one marketing purpose to the people whose decision allows it at
// the moment each message is sent. It holds no personal data: templates
// name traits by field id, and what each person received is in the send
// log ([CampaignSend]).
type Campaign struct {
	ID      string
	Name    string
	Channel string // ChannelEmail or ChannelSMS
	Purpose string
	// Segment is the id of the segment the audience is drawn from; empty:
	// everyone the purpose allows.
	Segment string
	Subject Text // e-mail only
	// SubjectB, when set, is a second subject line: each person gets A or
	// B by a keyed hash of the campaign and their id (an A/B test).
	SubjectB Text
	// Holdout is the percentage (0–50) of people, chosen the same way,
	// who are sent nothing and counted, so conversions can be compared.
	Holdout int
	// Trigger names the triggered message this campaign row sends
	// ("welcome", "abandoned_cart"); empty for a campaign sent once.
	Trigger string
	Body    Text
	Status  string
	Actor   string // who created it
	// SentBy is who started the sending (whose role the gate reads for).
	SentBy    string
	SentRole  string
	CreatedAt time.Time
	UpdatedAt time.Time
	// LeaseNode and LeaseUntil say which node drives the sending, until
	// when: another node takes over only once the lease has run out.
	LeaseNode  string
	LeaseUntil time.Time
}

// Send-log states.
const (
	SendClaimed     = "claimed"     // a node is sending it (or crashed while it did)
	SendSent        = "sent"        // the server or gateway accepted it
	SendFailed      = "failed"      // the server or gateway refused it
	SendSkipped     = "skipped"     // not sent, for Reason
	SendInterrupted = "interrupted" // claimed, never confirmed: not sent again
)

// CampaignSend is one row of a campaign's send log: one person, at most
// once (the row is claimed before the message goes out).
type CampaignSend struct {
	CampaignID string
	SubjectID  string
	Channel    string
	Status     string
	Reason     string // why skipped or failed: a code, never personal data
	Node       string
	At         time.Time // claimed
	UpdatedAt  time.Time
}

// ClaimOutcome says what [CampaignStore.ClaimSend] did.
type ClaimOutcome string

// Claim outcomes.
const (
	ClaimOK     ClaimOutcome = "claimed" // the caller sends it
	ClaimTaken  ClaimOutcome = "taken"   // the log has the person already (sent, skipped, or another node's claim)
	ClaimCapped ClaimOutcome = "capped"  // recorded as skipped: the frequency cap is reached
)

// CampaignStats counts a campaign's send log by status, and its skips
// and failures by reason.
type CampaignStats struct {
	Sent        int
	Failed      int
	Claimed     int // in flight
	Interrupted int
	Skipped     map[string]int
}

// CampaignStore keeps campaigns and their send logs. A send-log row goes
// with its person's erasure, and with a merge to the person merged into.
type CampaignStore interface {
	SendBatchStore
	// PutCampaign stores a new campaign. ECONFLICT if its id exists.
	PutCampaign(ctx context.Context, c Campaign) error
	// Campaign returns a campaign, or ENOTFOUND.
	Campaign(ctx context.Context, id string) (*Campaign, error)
	// Campaigns returns up to limit campaigns with ids greater than after
	// (all when after is empty), in id order.
	Campaigns(ctx context.Context, after string, limit int) ([]Campaign, error)
	// CampaignsByStatus returns the campaigns in the status.
	CampaignsByStatus(ctx context.Context, status string) ([]Campaign, error)
	// SetCampaignStatus moves a campaign from one of from to status to
	// (with c's SentBy and SentRole when to is sending) and reports
	// whether it did. ENOTFOUND.
	SetCampaignStatus(ctx context.Context, c Campaign, from []string, to string, at time.Time) (bool, error)
	// LeaseCampaign gives node the lease of a sending campaign until
	// until, if no other node holds one that runs past now, and reports
	// whether it did.
	LeaseCampaign(ctx context.Context, id, node string, now, until time.Time) (bool, error)
	// ClaimSend records s (status claimed) unless the log has s's person
	// for s's campaign already (ClaimTaken). With cap, it first counts the
	// person's messages over s.Channel (sent or claimed, any campaign)
	// since s.At minus the cap's window, and at the cap records s as
	// skipped for "frequency_cap" instead (ClaimCapped): one transaction,
	// serialized per person, so that two campaigns racing cannot both pass
	// the cap.
	ClaimSend(ctx context.Context, s CampaignSend, cap *FrequencyCap) (ClaimOutcome, error)
	// SkipSend records s as skipped for s.Reason unless the log has the
	// person for the campaign already, and reports whether it did.
	SkipSend(ctx context.Context, s CampaignSend) (bool, error)
	// FinishSend sets a claimed row's status (sent or failed) and reason.
	FinishSend(ctx context.Context, campaignID, subjectID, status, reason string, at time.Time) error
	// InterruptSends marks the campaign's rows claimed before t as
	// interrupted (their node died between the claim and the outcome:
	// the message may have gone out, so it is not sent again) and returns
	// how many.
	InterruptSends(ctx context.Context, campaignID string, before time.Time) (int, error)
	// CampaignSend returns one row of the log, or ENOTFOUND.
	CampaignSend(ctx context.Context, campaignID, subjectID string) (*CampaignSend, error)
	// CampaignStats counts the campaign's log.
	CampaignStats(ctx context.Context, campaignID string) (CampaignStats, error)
}

// Send-log marks: what happened to a sent message afterwards, each
// recorded once per message ([CampaignStore.MarkSend]).
const (
	MarkOpened       = "opened"
	MarkClicked      = "clicked"
	MarkBounced      = "bounced"
	MarkComplained   = "complained"
	MarkUnsubscribed = "unsubscribed"
)

// SendMarks are the marks a send-log row can carry.
var SendMarks = []string{MarkOpened, MarkClicked, MarkBounced, MarkComplained, MarkUnsubscribed}

// CampaignMeasureStore counts what happened to a campaign's messages,
// as aggregates on its send log: no event of its own per person.
type CampaignMeasureStore interface {
	// MarkSend records mark (one of [SendMarks]) on a sent message's row
	// once and reports whether it did (false: marked already, or no such
	// sent message). With campaignID empty it marks the person's latest
	// sent message over channel.
	MarkSend(ctx context.Context, campaignID, subjectID, channel, mark string, at time.Time) (bool, error)
	// CampaignMarks counts the campaign's rows by mark.
	CampaignMarks(ctx context.Context, campaignID string) (map[string]int, error)
	// CampaignSends returns up to limit rows of the campaign's log with
	// subject ids greater than after, in subject id order, that are sent
	// or skipped for reason (the holdout): the people whose conversions
	// are counted.
	CampaignSends(ctx context.Context, campaignID, reason, after string, limit int) ([]CampaignSend, error)
}

// Add counts n rows of the log in status for reason (a store's helper).
func (s *CampaignStats) Add(status, reason string, n int) {
	switch status {
	case SendSent:
		s.Sent += n
	case SendFailed:
		s.Failed += n
	case SendClaimed:
		s.Claimed += n
	case SendInterrupted:
		s.Interrupted += n
	case SendSkipped:
		if s.Skipped == nil {
			s.Skipped = map[string]int{}
		}
		s.Skipped[reason] += n
	}
}
