package collect

import (
	"context"
	"time"

	"github.com/candorhq/candor"
)

// job is one call's messages, queued for the writers.
type job struct {
	msgs []candor.Message
	done chan error
}

// commit queues msgs for the writers and waits until they are committed.
func (c *Collector) commit(ctx context.Context, msgs []candor.Message) error {
	n := int64(len(msgs))
	// Over the bound, refuse, unless the call is alone (a call larger
	// than the whole queue must still be able to pass).
	if p := c.pending.Add(n); p > int64(c.o.Queue) && p != n {
		c.pending.Add(-n)
		return &candor.Error{Code: candor.EBUSY, Message: "the collector is busy; retry in a second"}
	}
	j := &job{msgs: msgs, done: make(chan error, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		c.pending.Add(-n)
		return &candor.Error{Code: candor.EUNAVAILABLE, Message: "the collector is shutting down; retry"}
	}
	c.jobs <- j
	c.mu.RUnlock()
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		// The job will still be committed; the caller's retry is a duplicate.
		return ctx.Err()
	}
}

// write commits queued jobs, several at a time.
func (c *Collector) write() {
	defer c.writers.Done()
	for j := range c.jobs {
		batch := []*job{j}
		n := len(j.msgs)
	more:
		for n < c.o.Batch {
			select {
			case j2, ok := <-c.jobs:
				if !ok {
					break more
				}
				batch = append(batch, j2)
				n += len(j2.msgs)
			default:
				break more
			}
		}
		msgs := j.msgs
		if len(batch) > 1 {
			msgs = make([]candor.Message, 0, n)
			for _, b := range batch {
				msgs = append(msgs, b.msgs...)
			}
		}
		_, err := c.o.Store.AppendMessages(context.Background(), msgs)
		if err != nil {
			c.log.Error("collect: commit failed", "messages", len(msgs), "err", err)
			if candor.ErrorCode(err) == candor.EINTERNAL {
				err = &candor.Error{Code: candor.EUNAVAILABLE, Message: "events could not be stored; retry"}
			}
		}
		for _, b := range batch {
			b.done <- err
		}
		c.pending.Add(-int64(n))
	}
}

// flusher writes the minimization counters every Flush, and once more
// after the writers stop.
func (c *Collector) flusher() {
	defer close(c.flushed)
	t := time.NewTicker(c.o.Flush)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.FlushCounters(context.Background())
		case <-c.stop:
			c.FlushCounters(context.Background())
			return
		}
	}
}

// FlushCounters writes the minimization counters counted so far.
func (c *Collector) FlushCounters(ctx context.Context) {
	counts := c.tally.take()
	if len(counts) == 0 {
		return
	}
	if err := c.o.Store.AddMinimization(ctx, counts); err != nil {
		c.log.Error("collect: minimization counters lost", "counters", len(counts), "err", err)
	}
}
