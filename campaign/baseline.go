package campaign

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/smtp"
)

// MeasureBaseline is the point of comparison of `candor bench send`, which
// measures what the checks at the moment of each send cost: it reads the
// campaign's audience through the gate as a pass does (the same bulk read,
// audited per page), renders each person's message as a pass does, and
// hands it to the same mailer from as many workers (with the open pixel
// and tracked links a measured message carries), but without any of the
// per-recipient checks: no send log (no claim, no outcome), no suppression
// list, no frequency cap, no quiet hours, no double opt-in, no decision
// just before the send and none for the measure purpose. It returns how many messages the mailer accepted.
// The server never calls it; it sends e-mail campaigns only.
func (s *Service) MeasureBaseline(ctx context.Context, id string) (int, error) {
	c, err := s.o.Store.Campaign(ctx, id)
	if err != nil {
		return 0, err
	}
	if c.Channel != candor.ChannelEmail || s.o.Mail == nil {
		return 0, candor.Invalid("the baseline sends e-mail campaigns only")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	people := make(chan *gate.Person, s.o.Workers)
	var sent atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	for i := 0; i < s.o.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range people {
				m := s.render(c, p.SubjectID, p.Fields)
				if m.to == "" {
					continue
				}
				if s.o.Policy.Campaigns.Measure != nil {
					// The same message as a measured one (pixel and
					// tracked links), without the decision that allows it.
					m = s.tracked(c, p.SubjectID, m)
				}
				err := s.o.Mail.Send(ctx, smtp.Mail{To: m.to, Subject: m.subject, Text: m.body, HTML: m.html, Headers: map[string]string{
					"List-Unsubscribe":      "<" + m.unsubscribe + ">",
					"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
					"Content-Language":      m.lang,
				}})
				if err != nil {
					once.Do(func() { firstErr = err; cancel() })
					continue
				}
				sent.Add(1)
			}
		}()
	}
	actor := candor.Actor{ID: "campaign:" + c.ID, Role: candor.RoleAdmin}
	req := gate.ScanRequest{Actor: actor, Purpose: c.Purpose, Fields: s.fieldsOf(c), Label: "campaign " + c.Name + " (baseline)", RequestID: c.ID}
	_, scanErr := s.o.Gate.Scan(ctx, req, func(p *gate.Person) error {
		select {
		case people <- p:
			return nil
		case <-ctx.Done():
			return gate.ErrStop
		}
	})
	close(people)
	wg.Wait()
	if firstErr != nil {
		return int(sent.Load()), firstErr
	}
	return int(sent.Load()), scanErr
}
