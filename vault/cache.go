package vault

import (
	"sync"
	"time"

	"github.com/tink-crypto/tink-go/v2/tink"
)

// keyCache is a least-recently-used cache of unwrapped subject keys, safe
// for concurrent use.
//
// A key being loaded while the same subject is shredded must not land in the
// cache after the shred evicted it. So every shred bumps epoch (under mu,
// together with the eviction), a loader reads epoch before it reads the key
// store, and put drops the key if epoch moved meanwhile.
type keyCache struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration // 0: entries never expire
	m     map[string]*cacheEntry
	head  cacheEntry // sentinel of the recency list: head.next is the newest
	epoch uint64
}

type cacheEntry struct {
	subject    string
	aead       tink.AEAD
	loaded     time.Time
	prev, next *cacheEntry
}

// newKeyCache returns a cache of up to size keys (none when size <= 0)
// that each stay at most ttl (forever when ttl <= 0).
func newKeyCache(size int, ttl time.Duration) *keyCache {
	c := &keyCache{max: size, ttl: max(ttl, 0), m: make(map[string]*cacheEntry, min(max(size, 0), 1024))}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

// get returns the subject's key if cached and fresh at now.
func (c *keyCache) get(subject string, now func() time.Time) tink.AEAD {
	c.mu.Lock()
	e := c.m[subject]
	if e == nil {
		c.mu.Unlock()
		return nil
	}
	if c.ttl > 0 && now().Sub(e.loaded) >= c.ttl {
		c.remove(e)
		c.mu.Unlock()
		return nil
	}
	if c.head.next != e {
		c.unlink(e)
		c.pushFront(e)
	}
	a := e.aead
	c.mu.Unlock()
	return a
}

// startLoad returns the epoch to pass to put; call it before reading the
// key store.
func (c *keyCache) startLoad() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// put caches a key loaded at the given epoch, unless a shred happened since.
func (c *keyCache) put(subject string, a tink.AEAD, epoch uint64, at time.Time) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	if e := c.m[subject]; e != nil {
		e.aead, e.loaded = a, at
		c.unlink(e)
		c.pushFront(e)
		return
	}
	e := &cacheEntry{subject: subject, aead: a, loaded: at}
	c.m[subject] = e
	c.pushFront(e)
	for len(c.m) > c.max {
		c.remove(c.head.prev)
	}
}

// evict drops the subject's key and stops keys loaded before now from
// being cached.
func (c *keyCache) evict(subject string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if e := c.m[subject]; e != nil {
		c.remove(e)
	}
}

// len returns the number of cached keys.
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func (c *keyCache) remove(e *cacheEntry) {
	c.unlink(e)
	delete(c.m, e.subject)
	e.aead = nil
}

func (c *keyCache) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (c *keyCache) pushFront(e *cacheEntry) {
	e.prev, e.next = &c.head, c.head.next
	c.head.next.prev = e
	c.head.next = e
}
