// Package ratelog keeps a log readable under a flood: a line that would be
// written once per refused request (a 429, a rate-limited sign-in) is
// written at most once per period per kind, and says how many were held
// back since the last one. A metric, not the log, counts every one.
package ratelog

import (
	"sync"
	"time"
)

// DefaultEvery is the period of a [Limiter] whose Every is zero.
const DefaultEvery = 10 * time.Second

// Limiter lets through at most one log line per Every for each kind. The
// zero value is ready to use; its methods are safe for concurrent use.
type Limiter struct {
	// Every is the shortest time between two lines of one kind
	// (DefaultEvery when zero).
	Every time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu    sync.Mutex
	kinds map[string]*kindState
}

type kindState struct {
	last       time.Time
	suppressed int
}

// Allow reports whether a line of this kind may be written now and, when
// it may, how many lines of the kind were held back since the last one
// written. Callers pass a small, fixed set of kinds (an error code, a
// route pattern), never personal data.
func (l *Limiter) Allow(kind string) (ok bool, suppressed int) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	every := l.Every
	if every <= 0 {
		every = DefaultEvery
	}
	t := now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.kinds == nil {
		l.kinds = map[string]*kindState{}
	}
	k := l.kinds[kind]
	if k == nil {
		k = &kindState{}
		l.kinds[kind] = k
	} else if t.Sub(k.last) < every {
		k.suppressed++
		return false, 0
	}
	n := k.suppressed
	k.last, k.suppressed = t, 0
	return true, n
}
