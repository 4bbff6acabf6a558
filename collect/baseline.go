package collect

import (
	"context"
	"encoding/json"
	"time"

	"github.com/candorhq/candor"
)

// NewBaseline starts a collector that stores events as they came: the
// same steps as [New] up to the event's subject, and then no policy check,
// PII scan, context minimization, consent gate or encryption. It is the
// point of comparison of `candor bench ingest`, which measures what
// privacy costs; never serve with it.
func NewBaseline(o Options) *Collector {
	return start(o, (*Collector).baseline)
}

// baseline is the event stage of [NewBaseline]: the event as it came,
// under its subject (an event of nobody known is counted, as it would be
// without consent).
func (c *Collector) baseline(_ context.Context, r *request, m *message) (*candor.Message, error) {
	msg := &candor.Message{ID: m.msgID, Name: m.name, At: r.now}
	if m.subjectID == "" {
		return msg, nil
	}
	payload, err := json.Marshal(map[string]any{"properties": m.props, "context": m.context})
	if err != nil {
		return nil, err
	}
	msg.Event = &candor.EventRecord{ID: m.eventID, SubjectID: m.subjectID, Type: m.w.Type, Name: m.name, Purposes: []string{},
		Time: m.when, Received: r.now, Expires: r.now.Add(24 * time.Hour), Sealed: payload}
	return msg, nil
}
