package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/candorhq/candor"
)

// ErrClosed is returned by [Log.Append] after [Log.Close].
var ErrClosed = errors.New("audit: log closed")

// ErrAnchor is returned (wrapped, with what was found) by [New] when the
// audit store does not hold the anchor: its head is behind the anchor (the
// log was truncated) or its entry at the anchor's sequence number has
// another hash (the log was rewritten). [Verify] says more.
var ErrAnchor = errors.New("audit: the log does not hold its anchor from the key store")

// Defaults of [Options]; [Verify] bounds the unsigned remainder by
// DefaultCheckpointEvery + DefaultMaxBatch unless told otherwise.
const (
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = time.Minute
	DefaultMaxBatch           = 256
)

// AnchorStore keeps the log's anchor, a copy of its latest signed
// checkpoint, outside the audit store. [candor.KeyStore] is one.
type AnchorStore interface {
	// PutAuditAnchor keeps c unless the anchor is at c.Seq or beyond.
	PutAuditAnchor(ctx context.Context, c candor.AuditCheckpoint) error
	// AuditAnchor returns the anchor, or ENOTFOUND.
	AuditAnchor(ctx context.Context) (*candor.AuditCheckpoint, error)
}

// Signer signs checkpoints; the vault provides an Ed25519 one.
type Signer interface {
	KeyID() string
	Sign(msg []byte) []byte
}

// Options configures a [Log].
type Options struct {
	// Anchors keeps the anchor: every checkpoint is mirrored into it, and
	// [New] refuses a log that does not hold it. Required.
	Anchors AnchorStore
	// CheckpointEvery is how many entries lie between checkpoints; default 1000.
	CheckpointEvery int64
	// CheckpointInterval bounds how long an entry waits for a checkpoint; default 60s.
	CheckpointInterval time.Duration
	// MaxBatch is how many entries one transaction commits at most; default 256.
	MaxBatch int
	Now      func() time.Time
	Logger   *slog.Logger
}

// Log appends to the audit log. Concurrent appends are group-committed by
// one writer goroutine: it takes every pending entry (up to MaxBatch),
// commits them in one transaction and wakes each caller with the result.
type Log struct {
	store  candor.AuditStore
	signer Signer
	opts   Options

	mu     sync.RWMutex // held for reading while queueing, for writing by Close
	closed bool
	reqs   chan *request
	quit   chan struct{}
	done   chan struct{}
	held   *request // received by the writer, left for the next batch

	// Owned by the writer goroutine.
	headSeq  int64
	headHash []byte
	lastCP   int64
	timer    *time.Timer
	armed    bool
}

type request struct {
	entries []candor.AuditEntry
	done    chan error
}

// New returns a log on store and starts its writer. It reads the store's
// last checkpoint, so a restarted process continues where it stopped.
//
// It first checks the store against the anchor in opts.Anchors, and
// returns an error wrapping [ErrAnchor] if the store's head is behind the
// anchor or its entry at the anchor's sequence number has another hash:
// the log was truncated or rewritten, and appending to it would hide that.
// A log that has checkpoints but no anchor yet (written before anchors
// existed) has its latest checkpoint mirrored as the anchor.
func New(store candor.AuditStore, signer Signer, opts Options) (*Log, error) {
	if opts.Anchors == nil {
		return nil, errors.New("audit: Options.Anchors is required")
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = DefaultCheckpointEvery
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	l := &Log{store: store, signer: signer, opts: opts, reqs: make(chan *request, 1024), quit: make(chan struct{}), done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The anchor first, then the head: another node may append and move
	// the anchor meanwhile, but never beyond the head read after it.
	anchor, err := opts.Anchors.AuditAnchor(ctx)
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		anchor, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read the anchor: %w", err)
	}
	cps, err := store.Checkpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: read the checkpoints: %w", err)
	}
	if len(cps) > 0 {
		l.lastCP = cps[len(cps)-1].Seq
	}
	if l.headSeq, l.headHash, err = store.AuditHead(ctx); err != nil {
		return nil, fmt.Errorf("audit: read the head: %w", err)
	}
	if err := holdsAnchor(ctx, store, anchor, l.headSeq); err != nil {
		return nil, err
	}
	if anchor == nil && len(cps) > 0 {
		if err := opts.Anchors.PutAuditAnchor(ctx, cps[len(cps)-1]); err != nil {
			return nil, fmt.Errorf("audit: put the anchor: %w", err)
		}
	}
	l.timer = time.NewTimer(time.Hour)
	l.timer.Stop()
	if l.headSeq > l.lastCP {
		l.armTimer()
	}
	go l.run()
	return l, nil
}

// holdsAnchor returns an error wrapping [ErrAnchor] unless the store,
// whose head is at headSeq, holds the anchor's hash at the anchor's
// sequence number. A nil anchor is held by any store.
func holdsAnchor(ctx context.Context, store candor.AuditStore, anchor *candor.AuditCheckpoint, headSeq int64) error {
	if anchor == nil {
		return nil
	}
	if headSeq < anchor.Seq {
		return fmt.Errorf("%w: the anchor covers entry %d, signed at %s, but the log ends at entry %d (truncated)",
			ErrAnchor, anchor.Seq, anchor.Time.Format(time.RFC3339), headSeq)
	}
	es, err := store.AuditEntries(ctx, anchor.Seq, 1)
	if err != nil {
		return fmt.Errorf("audit: read the entry at the anchor: %w", err)
	}
	if len(es) == 0 || es[0].Seq != anchor.Seq {
		return fmt.Errorf("%w: entry %d, which the anchor covers, is missing", ErrAnchor, anchor.Seq)
	}
	if !bytes.Equal(es[0].Hash, anchor.Hash) {
		return fmt.Errorf("%w: entry %d does not have the hash the anchor signed (rewritten)", ErrAnchor, anchor.Seq)
	}
	return nil
}

// Append writes e and returns once it is committed. Seq, PrevHash, Hash
// and, when zero, Time are set by the log; when empty, TraceID and
// RightsRequest are those ctx carries ([candor.WithTraceID],
// [candor.WithRightsRequest]). An error means the entry was not written:
// the caller must fail closed. ctx bounds the wait to be queued; once
// queued, the entry is either committed or reported failed.
func (l *Log) Append(ctx context.Context, e candor.AuditEntry) error {
	fromContext(ctx, &e)
	return l.appendMany(ctx, []candor.AuditEntry{e})
}

// AppendMany writes several entries together, in order, with one wait:
// at most MaxBatch of them, so that a checkpoint is never more than
// CheckpointEvery + MaxBatch entries behind. Like [Log.Append], it takes
// an entry's empty TraceID and RightsRequest from ctx (into a copy: es
// is left as it is).
func (l *Log) AppendMany(ctx context.Context, es []candor.AuditEntry) error {
	if candor.TraceID(ctx) != "" || candor.RightsRequestID(ctx) != "" {
		es = slices.Clone(es)
		for i := range es {
			fromContext(ctx, &es[i])
		}
	}
	return l.appendMany(ctx, es)
}

// fromContext fills e's empty TraceID and RightsRequest from ctx.
func fromContext(ctx context.Context, e *candor.AuditEntry) {
	if e.TraceID == "" {
		e.TraceID = candor.TraceID(ctx)
	}
	if e.RightsRequest == "" {
		e.RightsRequest = candor.RightsRequestID(ctx)
	}
}

func (l *Log) appendMany(ctx context.Context, es []candor.AuditEntry) error {
	if len(es) == 0 {
		return nil
	}
	if len(es) > l.opts.MaxBatch {
		return candor.Errorf(candor.EINVALID, "audit: %d entries in one append; at most %d", len(es), l.opts.MaxBatch)
	}
	return l.enqueue(ctx, es)
}

// Checkpoint signs a checkpoint of the head now, if entries are not yet covered.
func (l *Log) Checkpoint(ctx context.Context) error {
	return l.enqueue(ctx, nil) // an empty request asks for a checkpoint
}

// enqueue hands entries to the writer and waits for the result.
func (l *Log) enqueue(ctx context.Context, es []candor.AuditEntry) error {
	r := &request{entries: es, done: make(chan error, 1)}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	select {
	case l.reqs <- r:
	case <-ctx.Done():
		l.mu.RUnlock()
		return ctx.Err()
	}
	l.mu.RUnlock()
	return <-r.done
}

// Close commits what is queued, writes a final checkpoint and stops the
// writer. Appends after Close return [ErrClosed].
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.done
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	<-l.done
	return nil
}

func (l *Log) run() {
	defer close(l.done)
	for {
		if r := l.held; r != nil {
			l.held = nil
			l.handle(r)
			continue
		}
		select {
		case r := <-l.reqs:
			l.handle(r)
		case <-l.timer.C:
			l.armed = false
			l.checkpoint()
		case <-l.quit:
			for {
				if r := l.held; r != nil {
					l.held = nil
					l.handle(r)
					continue
				}
				select {
				case r := <-l.reqs:
					l.handle(r)
					continue
				default:
				}
				break
			}
			l.timer.Stop()
			l.checkpoint()
			return
		}
	}
}

// handle commits r and whatever else is queued, up to MaxBatch entries; a
// request that would go beyond is held for the next batch.
func (l *Log) handle(first *request) {
	batch := []*request{first}
	n := len(first.entries)
	for n < l.opts.MaxBatch {
		select {
		case r := <-l.reqs:
			if n+len(r.entries) > l.opts.MaxBatch {
				l.held = r
				break
			}
			batch = append(batch, r)
			n += len(r.entries)
			continue
		default:
		}
		break
	}
	ptrs := make([]*candor.AuditEntry, 0, n)
	wantCP := false
	now := l.opts.Now().UTC()
	for _, r := range batch {
		if len(r.entries) == 0 {
			wantCP = true
		}
		for i := range r.entries {
			e := &r.entries[i]
			if e.Time.IsZero() {
				e.Time = now
			}
			// Microseconds: what every store keeps exactly.
			e.Time = e.Time.UTC().Truncate(time.Microsecond)
			ptrs = append(ptrs, e)
		}
	}
	var err error
	if len(ptrs) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = l.store.AppendAudit(ctx, ptrs, seal)
		cancel()
		if err != nil {
			err = fmt.Errorf("audit: append: %w", err)
		} else {
			last := ptrs[len(ptrs)-1]
			l.headSeq, l.headHash = last.Seq, last.Hash
		}
	}
	if err == nil && (wantCP || l.headSeq-l.lastCP >= l.opts.CheckpointEvery) {
		if cerr := l.checkpoint(); wantCP {
			err = cerr
		}
	} else if err == nil && l.headSeq > l.lastCP {
		l.armTimer()
	}
	for _, r := range batch {
		r.done <- err
	}
}

// armTimer starts the checkpoint timer unless it runs already, so that an
// uncovered entry waits at most CheckpointInterval.
func (l *Log) armTimer() {
	if !l.armed {
		l.armed = true
		l.timer.Reset(l.opts.CheckpointInterval)
	}
}

// checkpoint signs the head if it is not covered, stores the checkpoint
// in the audit store and then mirrors it as the anchor. A failure of
// either is logged and retried at the next opportunity; it does not fail
// appends.
func (l *Log) checkpoint() error {
	if l.headSeq <= l.lastCP {
		return nil
	}
	c := candor.AuditCheckpoint{Seq: l.headSeq, Hash: l.headHash, Time: l.opts.Now().UTC().Truncate(time.Microsecond), KeyID: l.signer.KeyID()}
	c.Signature = l.signer.Sign(CheckpointMessage(c))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.store.PutCheckpoint(ctx, c); err != nil {
		l.opts.Logger.Warn("audit: checkpoint failed; will retry", "seq", c.Seq, "err", err)
		l.armTimer()
		return fmt.Errorf("audit: checkpoint: %w", err)
	}
	if err := l.opts.Anchors.PutAuditAnchor(ctx, c); err != nil {
		l.opts.Logger.Warn("audit: anchoring the checkpoint failed; will retry", "seq", c.Seq, "err", err)
		l.armTimer()
		return fmt.Errorf("audit: anchor: %w", err)
	}
	l.lastCP = c.Seq
	l.timer.Stop()
	l.armed = false
	return nil
}
