// Package collect is Candor's event collector: the Segment spec (track,
// page, screen, identify, group, alias, batch) with privacy at the door.
//
// Every message goes through the same steps before anything is stored:
//
//  1. policy check: an undeclared event, property or trait is dropped, or
//     the message rejected, as the policy's `undeclared` says; values are
//     checked against their declared types;
//  2. PII scan: personal data in any string that is not a declared personal
//     field (an e-mail in a search query) is replaced by a placeholder;
//  3. context minimization: IP addresses cut to their network, user agents
//     to browser, OS and device class, precise location and device
//     identifiers dropped, unless the policy declares and allows them;
//  4. consent gate: the event is stored, linked to its subject, only if one
//     of its purposes is allowed for that subject now; otherwise only an
//     anonymous count of it is kept. A GPC or DNT signal on the request is
//     recorded in the consent ledger first;
//  5. encryption: properties and context are sealed under the subject's key.
//
// What was dropped, redacted, truncated or reduced is counted for the
// minimization report. A call returns only once its messages are committed;
// a bounded queue refuses work with EBUSY when full.
package collect

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/subjects"
)

// Options configures a [Collector].
type Options struct {
	Policy   *candor.Policy
	Store    candor.EventStore
	Subjects *subjects.Service
	Ledger   *consent.Ledger
	Gate     *gate.Gate
	Sealer   candor.Sealer
	// Index keys message ids: the sender chooses them, and one may hold
	// personal data (an e-mail in a message id), so only a keyed hash of
	// each is stored. The vault's BlindIndex.
	Index  func(kind, value string) []byte
	Now    func() time.Time
	Logger *slog.Logger
	// Queue bounds the messages accepted but not yet committed; beyond it
	// Collect returns EBUSY. Default 50,000.
	Queue int
	// Batch is the most messages one commit takes; default 5,000.
	Batch int
	// Writers is the number of concurrent commits; default 1 (the embedded
	// store has one writer; PostgreSQL gains from a few).
	Writers int
	// Flush is how often the minimization counters are written; default 5s.
	Flush time.Duration
	// IdentitySecret verifies the identity tokens with which a browser key
	// may name a user id (see [IdentityToken]).
	IdentitySecret []byte
}

// Collector collects events. It is safe for concurrent use.
type Collector struct {
	o       Options
	log     *slog.Logger
	events  eventStage // an event message's last step: private, or the benchmark's baseline
	tally   tally
	pending atomic.Int64
	mu      sync.RWMutex // held for reading while enqueuing; Close takes it
	closed  bool
	jobs    chan *job
	writers sync.WaitGroup
	stop    chan struct{}
	flushed chan struct{}
}

// New starts a collector. Close it to drain what it accepted. Every option
// up to Index is required.
func New(o Options) *Collector {
	return start(o, (*Collector).private)
}

// start checks o, fills in its defaults and starts a collector whose
// events end in stage.
func start(o Options, stage eventStage) *Collector {
	switch {
	case o.Index == nil:
		panic("collect: Options.Index is required")
	case o.Policy == nil:
		panic("collect: Options.Policy is required")
	case o.Store == nil:
		panic("collect: Options.Store is required")
	case o.Subjects == nil:
		panic("collect: Options.Subjects is required")
	case o.Ledger == nil:
		panic("collect: Options.Ledger is required")
	case o.Gate == nil:
		panic("collect: Options.Gate is required")
	case o.Sealer == nil:
		panic("collect: Options.Sealer is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Queue <= 0 {
		o.Queue = 50000
	}
	if o.Batch <= 0 {
		o.Batch = 5000
	}
	if o.Writers <= 0 {
		o.Writers = 1
	}
	if o.Flush <= 0 {
		o.Flush = 5 * time.Second
	}
	c := &Collector{o: o, log: o.Logger, events: stage, jobs: make(chan *job, 4096), stop: make(chan struct{}), flushed: make(chan struct{})}
	for range o.Writers {
		c.writers.Add(1)
		go c.write()
	}
	go c.flusher()
	return c
}

// Close stops accepting messages, commits everything accepted, and writes
// the minimization counters.
func (c *Collector) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.jobs)
	c.mu.Unlock()
	c.writers.Wait()
	close(c.stop)
	<-c.flushed
	return nil
}

// Signals are what the request itself says about the person's choices.
type Signals struct {
	GPC       bool // Sec-GPC: 1
	DNT       bool // DNT: 1
	RequestID string
}

// channel names the signal as the consent ledger records it: "gpc" when
// the request sent both.
func (sig Signals) channel() string {
	if sig.GPC {
		return "gpc"
	}
	return "dnt"
}

// ItemError is one message of a call that was refused.
type ItemError struct {
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Result is what a call accepted and refused.
type Result struct {
	Accepted int         `json:"accepted"`
	Errors   []ItemError `json:"errors,omitempty"`
}

// Call is one call's messages: a single message (Type set from the
// endpoint), or a batch with its sentAt and context.
type Call struct {
	Type     string // the endpoint's type for a single message; "" for a batch
	Messages []json.RawMessage
	SentAt   string
	Context  map[string]any
}

// Collect checks, minimizes, gates and seals the call's messages and
// returns once every accepted message is committed. A message that is
// refused is reported by its index; the others are stored. It returns
// EBUSY when the queue is full, EUNAVAILABLE when closed or when the store
// fails (nothing of the call is then known to be stored; retry it: message
// ids make retries harmless).
func (c *Collector) Collect(ctx context.Context, actor candor.Actor, call Call, sig Signals) (*Result, error) {
	r := &request{actor: actor, call: call, sig: sig, now: c.o.Now().UTC(), signalled: map[string]bool{}}
	res := &Result{}
	out := make([]candor.Message, 0, len(call.Messages))
	local := map[string]map[tallyKey]int64{}
	for i, raw := range call.Messages {
		m, f, err := c.prepare(ctx, r, raw)
		if f.m != nil {
			d := day(r.now)
			if local[d] == nil {
				local[d] = map[tallyKey]int64{}
			}
			for k, n := range f.m {
				local[d][k] += n
			}
		}
		if err != nil {
			var ce *candor.Error
			if !errors.As(err, &ce) || ce.Code == candor.EINTERNAL || ce.Code == candor.EUNAVAILABLE {
				return nil, err // the store or the vault failed: the whole call fails
			}
			res.Errors = append(res.Errors, ItemError{Index: i, Code: ce.Code, Message: ce.Message})
			continue
		}
		res.Accepted++
		if m != nil {
			out = append(out, *m)
		}
	}
	for d, m := range local {
		c.tally.add(d, m)
	}
	if len(out) == 0 {
		return res, nil
	}
	if err := c.commit(ctx, out); err != nil {
		return nil, err
	}
	return res, nil
}

// MessageKey is the key under which a message is remembered, to
// recognize its retries (which repeat its id and timestamp): the message's
// own timestamp to the millisecond, then a keyed hash of its id (a sender
// may put personal data in one). The timestamp first keeps keys in time
// order, so that remembering them appends to the index instead of writing
// all over it.
func (c *Collector) MessageKey(messageID, timestamp string) string {
	return MessageKey(c.o.Index, messageID, timestamp)
}

// MessageKey is [Collector.MessageKey] given the keyed hash (the vault's
// BlindIndex).
func MessageKey(index func(kind, value string) []byte, messageID, timestamp string) string {
	var b [16]byte
	if t, ok := parseTime(timestamp); ok && t.UnixMilli() > 0 {
		ms := uint64(t.UnixMilli())
		for i := 5; i >= 0; i-- {
			b[i] = byte(ms)
			ms >>= 8
		}
	}
	copy(b[6:], index("message", messageID))
	return candor.PrefixMessage + strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}
