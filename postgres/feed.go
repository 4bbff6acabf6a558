package postgres

import (
	"context"
	"sync/atomic"
	"time"

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
	// Ping is how often the connection is checked; default 200ms.
	Ping time.Duration
	// Lease is how long a successful check vouches for the feed; default
	// 1s. It bounds how stale a cache that trusts the feed can be when the
	// database becomes unreachable.
	Lease time.Duration
}

// Feed hears of subject changes committed by any node, through LISTEN on
// a connection of its own. The data schema's triggers NOTIFY on every
// change, in the writing transaction, so a change is announced when, and
// only if, it commits.
//
// A cache may trust the feed only while [Feed.Fresh] is true: the feed
// checks its connection every Ping, and each check that succeeds proves
// that every change committed before it was sent has been delivered (a
// notification is sent before the reply to any later query on the same
// connection). When checks fail for Lease, Fresh turns false and callers
// must go back to the database; on reconnection Reset is called first.
type Feed struct {
	db      *DB
	opts    FeedOptions
	contact atomic.Int64 // unix nanoseconds when the last successful check was sent; 0: none
	cancel  context.CancelFunc
	done    chan struct{}
}

// Watch starts a feed of subject changes. Close it when done.
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
	f := &Feed{db: db, opts: opts, cancel: cancel, done: make(chan struct{})}
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
	f.cancel()
	<-f.done
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

// listen holds one connection until it fails.
func (f *Feed) listen(ctx context.Context) error {
	cfg := f.db.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "candor-feed:" + f.db.prefix
	channel := f.db.prefix + "_data"
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) {
		switch {
		case n.Channel != channel:
		case n.Payload == ResetAll:
			f.opts.Reset()
		default:
			f.opts.Changed(n.Payload)
		}
	}
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
	if err := f.check(ctx, conn, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	// Changes may have been missed before LISTEN took effect.
	f.opts.Reset()
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
		if time.Since(time.Unix(0, f.contact.Load())) >= f.opts.Ping {
			sent := time.Now()
			if err := f.check(ctx, conn, ";"); err != nil {
				return err
			}
			f.contact.Store(sent.UnixNano())
		}
	}
}

// check runs sql on the feed's connection within the lease.
func (f *Feed) check(ctx context.Context, conn *pgx.Conn, sql string) error {
	cctx, cancel := context.WithTimeout(ctx, f.opts.Lease)
	defer cancel()
	_, err := conn.Exec(cctx, sql)
	return err
}
