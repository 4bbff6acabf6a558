// Package consent keeps the consent ledger: it records people's choices per
// purpose against the notice they saw, derives their current state, and
// issues signed receipts.
//
// Entries are appended, never updated. The current state is derived from the
// ledger; a cache of derived state is kept per node and invalidated on every
// write through this node, so a withdrawal is honoured by the very next
// decision.
package consent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/policy"
)

// Notices knows every notice version people were shown: the current one,
// generated from the policy, and the older ones kept in the store.
type Notices struct {
	current *policy.Notice

	mu        sync.RWMutex
	byHash    map[string]candor.StoredNotice
	byVersion map[string]string // version → hash
}

// LoadNotices stores the current notice if it is new and loads every stored one.
func LoadNotices(ctx context.Context, store candor.NoticeStore, current *policy.Notice, now time.Time) (*Notices, error) {
	if err := store.PutNotice(ctx, current.Stored(now)); err != nil {
		return nil, fmt.Errorf("consent: store notice: %w", err)
	}
	all, err := store.Notices(ctx)
	if err != nil {
		return nil, fmt.Errorf("consent: load notices: %w", err)
	}
	n := &Notices{current: current, byHash: map[string]candor.StoredNotice{}, byVersion: map[string]string{}}
	for _, s := range all {
		n.byHash[s.Hash] = s
		n.byVersion[s.Version] = s.Hash
	}
	return n, nil
}

// Current returns the notice generated from the policy in force.
func (n *Notices) Current() *policy.Notice { return n.current }

// Resolve finds a stored notice by its version or its hash.
func (n *Notices) Resolve(v string) (candor.StoredNotice, bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if h, ok := n.byVersion[v]; ok {
		v = h
	}
	s, ok := n.byHash[v]
	return s, ok
}

// Stale reports whether a consent to purpose given against the notice with
// hash noticeHash no longer matches the purpose's definition today.
func (n *Notices) Stale(noticeHash, purpose string) bool {
	if noticeHash == n.current.Hash {
		return false
	}
	n.mu.RLock()
	s, ok := n.byHash[noticeHash]
	n.mu.RUnlock()
	if !ok {
		return true
	}
	return s.PurposeHashes[purpose] != n.current.PurposeHashes[purpose]
}
