package vault

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

func testAEAD(t *testing.T) tink.AEAD {
	t.Helper()
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	a, err := aead.New(h)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestKeyCacheLRU(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	c := newKeyCache(3, 0)
	a := testAEAD(t)
	for _, s := range []string{"a", "b", "c"} {
		c.put(s, a, c.startLoad(), now)
	}
	c.get("a", clock) // a is now the newest; b the oldest
	c.put("d", a, c.startLoad(), now)
	for s, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if got := c.get(s, clock) != nil; got != want {
			t.Errorf("cached(%s) = %v, want %v", s, got, want)
		}
	}
	if c.len() != 3 {
		t.Errorf("len = %d, want 3", c.len())
	}
	c.evict("c")
	if c.get("c", clock) != nil || c.len() != 2 {
		t.Error("evict left the key")
	}

	off := newKeyCache(-1, 0)
	off.put("a", a, off.startLoad(), now)
	if off.get("a", clock) != nil {
		t.Error("a disabled cache keeps keys")
	}
}

func TestKeyCacheTTL(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	c := newKeyCache(10, time.Minute)
	c.put("a", testAEAD(t), c.startLoad(), now)
	now = now.Add(59 * time.Second)
	if c.get("a", clock) == nil {
		t.Error("expired early")
	}
	now = now.Add(time.Second)
	if c.get("a", clock) != nil || c.len() != 0 {
		t.Error("not expired after the TTL")
	}
}

// TestKeyCacheShredDuringLoad: a key read from the store before a shred
// and put in the cache after it must not stay cached.
func TestKeyCacheShredDuringLoad(t *testing.T) {
	c := newKeyCache(10, 0)
	epoch := c.startLoad() // loader: before reading the store
	c.evict("a")           // shred: store updated, then evict
	c.put("a", testAEAD(t), epoch, time.Now())
	if c.get("a", time.Now) != nil {
		t.Error("a key loaded before a shred was cached after it")
	}
}

func TestKeyCacheConcurrent(t *testing.T) {
	c := newKeyCache(16, time.Hour)
	a := testAEAD(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				s := fmt.Sprint((w + i) % 40)
				if c.get(s, time.Now) == nil {
					c.put(s, a, c.startLoad(), time.Now())
				}
				if i%97 == 0 {
					c.evict(s)
				}
			}
		})
	}
	wg.Wait()
	if n := c.len(); n > 16 {
		t.Errorf("len = %d, over the bound 16", n)
	}
	// The list and the map agree.
	n := 0
	for e := c.head.next; e != &c.head; e = e.next {
		if c.m[e.subject] != e {
			t.Fatalf("list entry %s not in the map", e.subject)
		}
		n++
	}
	if n != len(c.m) {
		t.Errorf("list has %d entries, map %d", n, len(c.m))
	}
}
