package postgres

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candorhq/candor"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// ResetAll is the payload that tells every feed to drop everything cached,
// sent by a restore. Subject ids never take this form.
const ResetAll = "*"

// FeedOptions configures [DB.Watch].
type FeedOptions struct {
	// Changed is called with a subject's id after a change to it commits,
	// through any node.
	Changed func(subjectID string)
	// Reset is called whenever changes may have been missed (at the start
	// and after every reconnection): drop everything cached.
	Reset func()
	// Ping is how often the connection is checked and the node announces
	// itself; default 200ms.
	Ping time.Duration
	// Lease is how long a successful check vouches for the feed; default
	// 1s. It bounds how long a write waits for a node that does not answer.
	Lease time.Duration
}

// Feed hears of subject changes committed by any node, through LISTEN on
// a connection of its own, and makes the cache that trusts it strict:
//
//   - The data schema's triggers NOTIFY every change to a subject in the
//     writing transaction, as "id:version", so a change is announced when,
//     and only if, it commits.
//   - Each node, on hearing a change, drops its cached state and then
//     acknowledges it on a second channel; every Ping it also announces
//     itself there ("hello"), which doubles as the check of its connection.
//   - The node that wrote waits, before it answers its caller, until every
//     node that announced itself within the lease has acknowledged the
//     change, or until the lease has run out.
//   - A node trusts its cache only while its last check succeeded within
//     the lease ([Feed.Fresh]); a check that succeeds proves that every
//     change committed before it was sent has been delivered (PostgreSQL
//     sends a notification before the reply to any later query on the same
//     connection).
//
// So when a write returns, no node still answers from a state older than
// it: each has dropped it, or has stopped trusting its cache.
type Feed struct {
	db      *DB
	opts    FeedOptions
	node    string
	data    string       // channel of changes
	acks    string       // channel of acknowledgements and announcements
	contact atomic.Int64 // unix nanoseconds when the last successful check was sent; 0: none
	cancel  context.CancelFunc
	done    chan struct{}

	mu      sync.Mutex
	live    map[string]time.Time // node → last announcement heard
	waiters map[string]*waiter   // "id:version" → the write waiting for acknowledgements
	pending []string             // acknowledgements to send
}

// waiter is a write waiting for other nodes to acknowledge its change.
type waiter struct {
	need map[string]bool
	done chan struct{}
}

// Watch starts a feed of subject changes. Close it when done. While it
// runs, the store's writes wait for other nodes' acknowledgements.
func (db *DB) Watch(opts FeedOptions) *Feed {
	if opts.Ping <= 0 {
		opts.Ping = 200 * time.Millisecond
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Second
	}
	if opts.Changed == nil {
		opts.Changed = func(string) {}
	}
	if opts.Reset == nil {
		opts.Reset = func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &Feed{db: db, opts: opts, node: candor.NewID(candor.PrefixNode), data: db.prefix + "_data", acks: db.prefix + "_acks",
		cancel: cancel, done: make(chan struct{}), live: map[string]time.Time{}, waiters: map[string]*waiter{}}
	db.feed.Store(f)
	go f.run(ctx)
	return f
}

// Fresh reports whether every change committed more than a moment ago
// has been delivered: the feed's last check succeeded within its lease.
func (f *Feed) Fresh() bool {
	c := f.contact.Load()
	return c != 0 && time.Since(time.Unix(0, c)) < f.opts.Lease
}

// Close stops the feed and waits for it.
func (f *Feed) Close() {
	f.db.feed.CompareAndSwap(f, nil)
	f.cancel()
	<-f.done
}

// expect registers, before the writing transaction commits, the wait for
// the acknowledgements of change key ("id:version").
func (f *Feed) expect(key string) *waiter {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &waiter{need: map[string]bool{}, done: make(chan struct{})}
	for n, t := range f.live {
		if n != f.node && time.Since(t) < f.opts.Lease {
			w.need[n] = true
		}
	}
	if len(w.need) == 0 {
		close(w.done)
		return w
	}
	f.waiters[key] = w
	return w
}

// forget drops a waiter whose write did not commit, or is done.
func (f *Feed) forget(key string) {
	f.mu.Lock()
	delete(f.waiters, key)
	f.mu.Unlock()
}

// wait waits until every node expected has acknowledged, or the lease ran
// out (such a node's own lease has then run out too, so it no longer
// trusts its cache).
func (f *Feed) wait(ctx context.Context, key string, w *waiter) {
	defer f.forget(key)
	t := time.NewTimer(f.opts.Lease)
	defer t.Stop()
	select {
	case <-w.done:
	case <-t.C:
	case <-ctx.Done():
	}
}

func (f *Feed) run(ctx context.Context) {
	defer close(f.done)
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := f.listen(ctx)
		f.contact.Store(0)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			backoff = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// notified handles one notification, on the feed's connection.
func (f *Feed) notified(n *pgconn.Notification) {
	switch n.Channel {
	case f.data:
		if n.Payload == ResetAll {
			f.db.traits.clear()
			f.opts.Reset()
			return
		}
		id, _, _ := strings.Cut(n.Payload, ":")
		f.db.traits.invalidate(id)
		f.opts.Changed(id)
		f.mu.Lock()
		f.pending = append(f.pending, "ack|"+f.node+"|"+n.Payload)
		f.mu.Unlock()
	case f.acks:
		kind, rest, _ := strings.Cut(n.Payload, "|")
		f.mu.Lock()
		defer f.mu.Unlock()
		switch kind {
		case "hello":
			f.live[rest] = time.Now()
		case "ack":
			node, key, _ := strings.Cut(rest, "|")
			f.live[node] = time.Now()
			if w := f.waiters[key]; w != nil && w.need[node] {
				delete(w.need, node)
				if len(w.need) == 0 {
					close(w.done)
					delete(f.waiters, key)
				}
			}
		}
		if len(f.live) > 1000 {
			for n, t := range f.live {
				if time.Since(t) > time.Minute {
					delete(f.live, n)
				}
			}
		}
	}
}

// listen holds one connection until it fails.
func (f *Feed) listen(ctx context.Context) error {
	cfg := f.db.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "candor-feed:" + f.db.prefix
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) { f.notified(n) }
	// A timed-out wait must leave the connection usable: interrupt it with
	// a deadline, not a cancel request.
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: pc.Conn()}
	}
	cctx, cancel := context.WithTimeout(ctx, f.opts.Lease)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	sent := time.Now()
	if err := f.exec(ctx, conn, "LISTEN "+pgx.Identifier{f.data}.Sanitize()+"; LISTEN "+pgx.Identifier{f.acks}.Sanitize()); err != nil {
		return err
	}
	// Changes may have been missed before LISTEN took effect.
	f.db.traits.clear()
	f.opts.Reset()
	if err := f.announce(ctx, conn, true); err != nil {
		return err
	}
	f.contact.Store(sent.UnixNano())
	for {
		wctx, cancel := context.WithTimeout(ctx, f.opts.Ping)
		err := conn.PgConn().WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !pgconn.Timeout(err) {
			return err
		}
		due := time.Since(time.Unix(0, f.contact.Load())) >= f.opts.Ping
		sent := time.Now()
		if err := f.announce(ctx, conn, due); err != nil {
			return err
		}
		if due {
			f.contact.Store(sent.UnixNano())
		}
	}
}

// announce sends the pending acknowledgements and, with hello, the node's
// announcement, in one round trip that also checks the connection.
func (f *Feed) announce(ctx context.Context, conn *pgx.Conn, hello bool) error {
	f.mu.Lock()
	msgs := f.pending
	f.pending = nil
	f.mu.Unlock()
	if hello {
		msgs = append(msgs, "hello|"+f.node)
	}
	if len(msgs) == 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, f.opts.Lease)
	defer cancel()
	_, err := conn.Exec(cctx, `SELECT pg_notify($1, m) FROM unnest($2::text[]) AS m`, f.acks, msgs)
	return err
}

// exec runs sql on the feed's connection within the lease.
func (f *Feed) exec(ctx context.Context, conn *pgx.Conn, sql string) error {
	cctx, cancel := context.WithTimeout(ctx, f.opts.Lease)
	defer cancel()
	_, err := conn.Exec(cctx, sql)
	return err
}

// announced runs fn in a transaction that changes subjects, and returns
// only once every other node has dropped its cached state of them (see
// [Feed]). fn reports each change as (subject id, version, deleted).
func (db *DB) announced(ctx context.Context, fn func(tx pgx.Tx, changed func(id string, version int64, deleted bool)) error) error {
	f := db.feed.Load()
	type pending struct {
		key string
		w   *waiter
	}
	var ws []pending
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return fn(tx, func(id string, version int64, deleted bool) {
			if f == nil {
				return
			}
			key := id + ":" + strconv.FormatInt(version, 10)
			if deleted {
				key = id + ":d"
			}
			ws = append(ws, pending{key, f.expect(key)})
		})
	})
	if f == nil {
		return err
	}
	if err != nil {
		for _, p := range ws {
			f.forget(p.key)
		}
		return err
	}
	// This node's own cache, at once (its feed will hear of it too).
	for _, p := range ws {
		id, _, _ := strings.Cut(p.key, ":")
		db.traits.invalidate(id)
	}
	if !f.Fresh() && len(ws) > 0 {
		// This node cannot hear acknowledgements now: wait out the lease,
		// after which no other node trusts a cache it did not refresh.
		select {
		case <-time.After(f.opts.Lease):
		case <-ctx.Done():
		}
		for _, p := range ws {
			f.forget(p.key)
		}
		return nil
	}
	for _, p := range ws {
		f.wait(ctx, p.key, p.w)
	}
	return nil
}
