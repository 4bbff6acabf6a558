package consent

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candorhq/candor"
)

// State is a subject's current state as far as decisions need it, derived
// from the subject record, its birth date and the consent ledger.
type State struct {
	SubjectID  string
	Exists     bool
	Restricted bool
	// Version is the subject's version when the state was read; the
	// subject record is read first, so the state is at least that new.
	Version int64
	// BirthDate is the subject's birth date, if known (zero otherwise). It
	// is used to decide whether a guardian's consent is needed; it never
	// leaves the decision.
	BirthDate time.Time
	// Latest holds the last ledger entry per purpose.
	Latest map[string]*candor.Consent
	// Objected holds the purposes the person objected to.
	Objected map[string]bool
}

// loader reads a subject's state from the stores.
type loader struct {
	store candor.Store
	// birthDate opens the subject's birth date (gate.BirthDates): the
	// ledger never unseals anything itself.
	birthDate func(ctx context.Context, subjectID string) (time.Time, error)
}

func (l *loader) load(ctx context.Context, subjectID string) (*State, error) {
	st := &State{SubjectID: subjectID, Latest: map[string]*candor.Consent{}}
	s, err := l.store.Subject(ctx, subjectID)
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	st.Exists, st.Restricted, st.Version = true, s.Restricted, s.Version
	for _, p := range s.Objections {
		if st.Objected == nil {
			st.Objected = map[string]bool{}
		}
		st.Objected[p] = true
	}
	if st.BirthDate, err = l.birthDate(ctx, subjectID); err != nil {
		return nil, fmt.Errorf("consent: birth date: %w", err)
	}
	records, err := l.store.Consents(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	for i := range records {
		st.Latest[records[i].Purpose] = &records[i]
	}
	return st, nil
}

// stateCache is a bounded LRU of derived states. A load that overlaps an
// invalidation is returned to its caller but not cached, so a write that
// committed before a decision began is always seen by it.
type stateCache struct {
	max   int
	gen   atomic.Uint64
	mu    sync.Mutex
	ll    *list.List
	items map[string]*list.Element
}

type cacheEntry struct {
	id string
	st *State
}

// newStateCache returns a cache of max states: 0 means 20,000; a negative
// max, no cache at all.
func newStateCache(max int) *stateCache {
	if max == 0 {
		max = 20000
	}
	return &stateCache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *stateCache) get(id string) (*State, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[id]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*cacheEntry).st, 0, true
	}
	return nil, c.gen.Load(), false
}

func (c *stateCache) put(id string, st *State, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.max < 0 || c.gen.Load() != gen {
		return
	}
	if e, ok := c.items[id]; ok {
		e.Value.(*cacheEntry).st = st
		c.ll.MoveToFront(e)
		return
	}
	c.items[id] = c.ll.PushFront(&cacheEntry{id: id, st: st})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).id)
	}
}

func (c *stateCache) invalidate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	if e, ok := c.items[id]; ok {
		c.ll.Remove(e)
		delete(c.items, id)
	}
}

func (c *stateCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.ll.Init()
	clear(c.items)
}

func (c *stateCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
