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
	// birthDates opens the subjects' birth dates (gate.BirthDates): the
	// ledger never unseals anything itself.
	birthDates func(ctx context.Context, subjectIDs []string) (map[string]time.Time, error)
}

func (l *loader) load(ctx context.Context, subjectID string) (*State, error) {
	s, err := l.store.Subject(ctx, subjectID)
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		return &State{SubjectID: subjectID, Latest: map[string]*candor.Consent{}}, nil
	}
	if err != nil {
		return nil, err
	}
	births, err := l.birthDates(ctx, []string{subjectID})
	if err != nil {
		return nil, fmt.Errorf("consent: birth date: %w", err)
	}
	records, err := l.store.Consents(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	return derive(subjectID, s, births[subjectID], records), nil
}

// loadMany reads the states of ids in three reads, whatever their number:
// the subjects first, then their birth dates and ledgers, as load does
// for one; or, without consent, the subjects alone.
func (l *loader) loadMany(ctx context.Context, ids []string, withConsent bool) ([]*State, error) {
	subjects, err := l.store.BulkSubjects(ctx, ids)
	if err != nil {
		return nil, err
	}
	found := make(map[string]*candor.Subject, len(subjects))
	onFile := make([]string, len(subjects))
	for i := range subjects {
		found[subjects[i].ID], onFile[i] = &subjects[i], subjects[i].ID
	}
	var births map[string]time.Time
	var ledgers map[string][]candor.Consent
	if withConsent {
		if births, err = l.birthDates(ctx, onFile); err != nil {
			return nil, fmt.Errorf("consent: birth dates: %w", err)
		}
		if ledgers, err = l.store.BulkConsents(ctx, onFile); err != nil {
			return nil, err
		}
	}
	out := make([]*State, len(ids))
	for i, id := range ids {
		out[i] = derive(id, found[id], births[id], ledgers[id])
	}
	return out, nil
}

// derive makes the state of a subject from its record (nil when it is not
// on file), its birth date and its ledger.
func derive(id string, s *candor.Subject, birth time.Time, records []candor.Consent) *State {
	st := &State{SubjectID: id, Latest: make(map[string]*candor.Consent, len(records))}
	if s == nil {
		return st
	}
	st.Exists, st.Restricted, st.Version, st.BirthDate = true, s.Restricted, s.Version, birth
	for _, p := range s.Objections {
		if st.Objected == nil {
			st.Objected = map[string]bool{}
		}
		st.Objected[p] = true
	}
	for i := range records {
		st.Latest[records[i].Purpose] = &records[i]
	}
	return st
}

// stateCache is a bounded LRU of derived states. A load that overlaps an
// invalidation is returned to its caller but not cached, so a write that
// committed before a decision began is always seen by it.
//
// It also remembers which subjects were invalidated lately, and at which
// generation, so that a bulk run can tell, just before it yields a person,
// whether that person's state changed since the run's page was read
// ([Ledger.Recheck]) without reading it again.
type stateCache struct {
	max   int
	gen   atomic.Uint64
	mu    sync.Mutex
	ll    *list.List
	items map[string]*list.Element
	// recent maps a subject to the generation of its last invalidation,
	// for the invalidations after floor (those at or before floor are
	// forgotten: any page read before floor counts as changed).
	recent map[string]uint64
	floor  uint64
}

// maxRecent bounds the invalidations a cache remembers: past it, it
// forgets them all, and a bulk run rereads what it is about to yield.
const maxRecent = 65536

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
	return &stateCache{max: max, ll: list.New(), items: map[string]*list.Element{}, recent: map[string]uint64{}}
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
	g := c.gen.Add(1)
	if e, ok := c.items[id]; ok {
		c.ll.Remove(e)
		delete(c.items, id)
	}
	if len(c.recent) >= maxRecent {
		clear(c.recent)
		c.floor = g
		return
	}
	c.recent[id] = g
}

func (c *stateCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.floor = c.gen.Add(1)
	c.ll.Init()
	clear(c.items)
	clear(c.recent)
}

// mark returns the current generation: what changedSince compares with.
func (c *stateCache) mark() uint64 { return c.gen.Load() }

// changedSince reports whether the subject's state may have changed since
// the generation m: it was invalidated after m, or the cache no longer
// knows.
func (c *stateCache) changedSince(id string, m uint64) bool {
	if c.gen.Load() == m {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return m < c.floor || c.recent[id] > m
}

func (c *stateCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
