package postgres

import (
	"slices"
	"sync"

	"github.com/candorhq/candor"
)

// traitCache keeps subjects' sealed traits (ciphertext only) on a node, so
// that a gate read costs one round trip (its audit entry) instead of two.
// It is used only while the change feed is fresh, and dropped per subject
// on every change the feed announces (before the writing node's caller
// hears back, see [Feed]); a load that overlaps a change is not kept.
type traitCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string][]candor.Trait
}

// maxCachedSubjects bounds the cache; past it, it starts again.
const maxCachedSubjects = 20000

func (c *traitCache) get(id string) ([]candor.Trait, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[id]
	return t, c.gen, ok
}

func (c *traitCache) put(id string, traits []candor.Trait, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // a change arrived while loading
	}
	if c.m == nil || len(c.m) >= maxCachedSubjects {
		c.m = make(map[string][]candor.Trait)
	}
	c.m[id] = traits
}

func (c *traitCache) invalidate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, id)
}

func (c *traitCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
}

// pick returns the traits of fields (all when fields is nil), in field order.
func pick(all []candor.Trait, fields []string) []candor.Trait {
	if fields == nil {
		return slices.Clone(all)
	}
	var out []candor.Trait
	for _, t := range all {
		if slices.Contains(fields, t.Field) {
			out = append(out, t)
		}
	}
	return out
}
