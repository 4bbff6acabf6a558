package campaign

import (
	"context"
	"strings"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/subjects"
)

// ErrBadLink is the error of a link whose token does not check.
var ErrBadLink = &candor.Error{Code: candor.ENOTFOUND, Message: "this link is not valid", Reason: "bad_link"}

// LinkInfo says what a link is about, for the page that asks to confirm.
type LinkInfo struct {
	Organization string
	Purpose      candor.Text // the purpose's name
}

// Link checks an unsubscribe (kind "unsubscribe") or confirmation (kind
// "confirm") token and says what it is about, changing nothing.
func (s *Service) Link(ctx context.Context, kind, token string) (*LinkInfo, error) {
	campaignID, _, ok := s.parseToken(kind, token)
	if !ok {
		return nil, ErrBadLink
	}
	c, err := s.o.Store.Campaign(ctx, campaignID)
	if err != nil {
		return nil, ErrBadLink
	}
	info := &LinkInfo{Organization: s.o.Policy.Organization.Name}
	if p := s.o.Policy.Purpose(c.Purpose); p != nil {
		info.Purpose = p.Name
	}
	return info, nil
}

// Unsubscribe withdraws the campaign's purpose for the person the token
// names, in the consent ledger (channel unsubscribe), at once: the next
// decision on every node refuses it. It returns ErrBadLink for a token
// that does not check, and succeeds for a person erased since (there is
// nothing left to withdraw).
func (s *Service) Unsubscribe(ctx context.Context, token, requestID string) error {
	campaignID, subjectID, ok := s.parseToken("unsubscribe", token)
	if !ok {
		return ErrBadLink
	}
	c, err := s.o.Store.Campaign(ctx, campaignID)
	if err != nil {
		return ErrBadLink
	}
	if err := s.withdraw(ctx, subjectID, []string{c.Purpose}, "unsubscribe", requestID); err != nil {
		return err
	}
	// Counted on the campaign whose link it was (once per message).
	_, err = s.o.Store.MarkSend(ctx, c.ID, subjectID, c.Channel, candor.MarkUnsubscribed, s.o.Now().UTC())
	return err
}

func (s *Service) withdraw(ctx context.Context, subjectID string, purposes []string, channel, requestID string) error {
	choices := map[string]bool{}
	for _, p := range purposes {
		choices[p] = false
	}
	_, err := s.o.Ledger.Record(ctx, gate.SubjectActor(subjectID), requestID, subjectID,
		consent.Choice{NoticeVersion: s.o.Ledger.Notices().Current().Version, Choices: choices, Channel: channel})
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return nil
	}
	return err
}

// ConfirmURL returns the person's double opt-in confirmation link.
func (s *Service) ConfirmURL(campaignID, subjectID string) string {
	return s.o.PublicURL + "/v1/confirm/" + campaignID + "." + subjectID + "." + s.mac("confirm", campaignID, subjectID)
}

// Confirm records the campaign's purpose as granted for the person the
// token names, confirmed (channel confirmation): the evidence is the
// ledger entry, its signed receipt and the audit entry, all saying the
// choice came through the link sent to the person's address. ErrBadLink.
func (s *Service) Confirm(ctx context.Context, token, requestID string) error {
	campaignID, subjectID, ok := s.parseToken("confirm", token)
	if !ok {
		return ErrBadLink
	}
	c, err := s.o.Store.Campaign(ctx, campaignID)
	if err != nil {
		return ErrBadLink
	}
	_, err = s.o.Ledger.Record(ctx, gate.SubjectActor(subjectID), requestID, subjectID,
		consent.Choice{NoticeVersion: s.o.Ledger.Notices().Current().Version, Choices: map[string]bool{c.Purpose: true},
			Channel: consent.ChannelConfirmation, Confirmed: true})
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return ErrBadLink
	}
	return err
}

// confirmed reports whether the person's current grant of purpose came
// through a confirmation link.
func (s *Service) confirmed(ctx context.Context, purpose, subjectID string) (bool, error) {
	st, err := s.o.Ledger.State(ctx, subjectID)
	if err != nil {
		return false, err
	}
	latest := st.Latest[purpose]
	return latest != nil && latest.State == candor.ConsentGranted && latest.Channel == consent.ChannelConfirmation, nil
}

// stopWords are the replies that refuse further text messages.
var stopWords = map[string]bool{"TD": true, "T": true, "退订": true, "STOP": true, "UNSUBSCRIBE": true, "STOPALL": true, "CANCEL": true, "END": true, "QUIT": true}

// Reply handles a reply to a text message that the SMS gateway relays:
// TD, 退订 or STOP (any case, alone) from a number withdraws, for the
// person holding that number (found by its blind index), every marketing
// purpose that sends text messages, in the consent ledger (channel sms).
// It reports whether the reply was a refusal from a number on file.
func (s *Service) Reply(ctx context.Context, from, text, requestID string) (bool, error) {
	if !stopWords[strings.ToUpper(strings.TrimSpace(text))] {
		return false, nil
	}
	phone, err := subjects.Normalize(candor.IdentPhone, from)
	if err != nil {
		return false, err
	}
	subjectID, err := s.o.Store.FindSubject(ctx, candor.IdentPhone, s.o.Blind(candor.IdentPhone, phone))
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var purposes []string
	for _, p := range s.o.Policy.Purposes {
		if p.MarketingChannel(candor.ChannelSMS) {
			purposes = append(purposes, p.ID)
		}
	}
	if len(purposes) == 0 {
		return false, nil
	}
	return true, s.withdraw(ctx, subjectID, purposes, "sms", requestID)
}
