// Package apikeys issues and checks API keys. A key is shown once, when it
// is issued; only its SHA-256 is stored. Keys are long random strings, so a
// fast hash is enough: there is nothing to guess.
//
// Keys live in the data store, which a restore rolls back; each revocation
// is also written to a journal beside the keys ([Journal], the key store),
// which a restore never rolls back. A key whose hash is in the journal is
// refused whatever the data store says, and [Replay] writes the journal
// back into the data store after a restore.
package apikeys

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/candorhq/candor"
)

// Prefix starts every key Candor issues, so that secret scanners can find
// one that leaked.
const Prefix = "cndr_"

// Generate returns a new random key: the prefix and 256 random bits.
func Generate() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return Prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Hash returns the stored form of a key.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// Journal keeps the revocation journal; [candor.KeyStore] is one.
type Journal interface {
	// JournalRevocation appends r; journaling a key twice keeps the first.
	JournalRevocation(ctx context.Context, r candor.Revocation) error
	// APIKeyRevoked reports whether a key with the hash is in the journal.
	APIKeyRevoked(ctx context.Context, hash []byte) (bool, error)
	// Revocations returns up to limit entries with key ids after after.
	Revocations(ctx context.Context, after string, limit int) ([]candor.Revocation, error)
}

// Service issues, checks and revokes API keys: it checks keys against the
// store and the revocation journal, keeping recent answers for a few
// seconds so the hot paths do not query the store on every request.
// Revoking through [Service.Revoke] takes effect at once on this node.
type Service struct {
	store   candor.APIKeyStore
	journal Journal
	ttl     time.Duration
	now     func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]cached
}

type cached struct {
	key *candor.APIKey
	at  time.Time
}

// New returns a service for the keys in store, refusing those in journal
// (required); ttl is how long an answer is kept (default 5s).
func New(store candor.APIKeyStore, journal Journal, ttl time.Duration) *Service {
	if journal == nil {
		panic("apikeys: New: a revocation journal is required")
	}
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	return &Service{store: store, journal: journal, ttl: ttl, now: time.Now, cache: map[[32]byte]cached{}}
}

// Check returns the key's record, or EUNAUTHORIZED for an unknown or revoked key.
func (k *Service) Check(ctx context.Context, key string) (*candor.APIKey, error) {
	if !strings.HasPrefix(key, Prefix) || len(key) > 200 {
		return nil, candor.Errorf(candor.EUNAUTHORIZED, "invalid API key")
	}
	var h [32]byte
	copy(h[:], Hash(key))
	now := k.now()
	k.mu.Lock()
	c, ok := k.cache[h]
	k.mu.Unlock()
	if !ok || now.Sub(c.at) > k.ttl {
		rec, err := k.store.APIKeyByHash(ctx, h[:])
		if candor.ErrorCode(err) == candor.ENOTFOUND {
			return nil, candor.Errorf(candor.EUNAUTHORIZED, "invalid API key")
		}
		if err != nil {
			return nil, err
		}
		if rec.RevokedAt == nil {
			// The data store may have been restored from before the
			// revocation: the journal has the last word.
			revoked, err := k.journal.APIKeyRevoked(ctx, h[:])
			if err != nil {
				return nil, err
			}
			if revoked {
				r := *rec
				r.RevokedAt = &now
				rec = &r
			}
		}
		c = cached{key: rec, at: now}
		k.mu.Lock()
		if len(k.cache) > 10000 {
			clear(k.cache)
		}
		k.cache[h] = c
		k.mu.Unlock()
	}
	if c.key.RevokedAt != nil {
		return nil, candor.Errorf(candor.EUNAUTHORIZED, "invalid API key")
	}
	return c.key, nil
}

// Issue stores a new key for the role and returns the record and the key,
// which is never shown again.
func (k *Service) Issue(ctx context.Context, name, role string) (*candor.APIKey, string, error) {
	key := Generate()
	rec := candor.APIKey{ID: candor.NewID(candor.PrefixAPIKey), Name: name, Role: role, Hash: Hash(key), CreatedAt: k.now().UTC()}
	if err := k.store.PutAPIKey(ctx, rec); err != nil {
		return nil, "", err
	}
	return &rec, key, nil
}

// Ensure makes sure the key named name is the one given. If key is not
// empty (it came from the environment or a file), it is stored unless stored
// already, and any other live key of that name is revoked: the variable is
// the key, so changing it replaces the old one. "" is returned. Otherwise,
// when no live key with that name exists, a new one is generated and
// returned, to be shown once.
func (k *Service) Ensure(ctx context.Context, name, role, key string) (string, error) {
	all, err := k.store.APIKeys(ctx)
	if err != nil {
		return "", err
	}
	if key == "" {
		for _, r := range all {
			if r.Name == name && r.RevokedAt == nil {
				return "", nil
			}
		}
		_, key, err = k.Issue(ctx, name, role)
		return key, err
	}
	if !strings.HasPrefix(key, Prefix) || len(key) < len(Prefix)+32 {
		return "", candor.Errorf(candor.EINVALID, "a %s key must start with %q and hold at least 32 random characters after it", name, Prefix)
	}
	h := Hash(key)
	if revoked, err := k.journal.APIKeyRevoked(ctx, h); err != nil {
		return "", err
	} else if revoked {
		return "", candor.Errorf(candor.ECONFLICT, "the %s key given was revoked; give a new one", name)
	}
	rec, err := k.store.APIKeyByHash(ctx, h)
	switch {
	case err == nil && (rec.Role != role || rec.RevokedAt != nil):
		return "", candor.Errorf(candor.ECONFLICT, "the %s key given is stored already with another role, or was revoked", name)
	case candor.ErrorCode(err) == candor.ENOTFOUND:
		if err := k.store.PutAPIKey(ctx, candor.APIKey{ID: candor.NewID(candor.PrefixAPIKey), Name: name, Role: role, Hash: h, CreatedAt: k.now().UTC()}); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	}
	for _, r := range all {
		if r.Name == name && r.RevokedAt == nil && !bytes.Equal(r.Hash, h) {
			if err := k.Revoke(ctx, r.ID); err != nil {
				return "", err
			}
		}
	}
	return "", nil
}

// Revoke revokes a key and forgets it at once. The revocation is written
// to the journal first, so that once Revoke returns (or fails after the
// journal was written) the key is refused, even after a restore of the data
// store. ENOTFOUND if there is no such key.
func (k *Service) Revoke(ctx context.Context, id string) error {
	all, err := k.store.APIKeys(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(all, func(r candor.APIKey) bool { return r.ID == id })
	if i < 0 {
		return candor.Errorf(candor.ENOTFOUND, "API key not found")
	}
	at := k.now().UTC()
	if all[i].RevokedAt != nil {
		at = *all[i].RevokedAt
	}
	if err := k.journal.JournalRevocation(ctx, candor.Revocation{KeyID: id, Hash: all[i].Hash, At: at}); err != nil {
		return err
	}
	if err := k.store.RevokeAPIKey(ctx, id, at); err != nil {
		return err
	}
	k.mu.Lock()
	clear(k.cache)
	k.mu.Unlock()
	return nil
}

// Replay makes the data store agree with the revocation journal after a
// restore (and at start, to finish a revocation interrupted between the
// journal and the store): every journaled key still live in store is
// revoked again, as of the journaled time. It also journals every key store
// has as revoked but the journal lacks (revoked before the journal
// existed). It returns how many keys it revoked again.
func Replay(ctx context.Context, store candor.APIKeyStore, journal Journal) (int, error) {
	all, err := store.APIKeys(ctx)
	if err != nil {
		return 0, err
	}
	live := make(map[string]string, 2*len(all)) // id and hash to id
	for _, r := range all {
		if r.RevokedAt == nil {
			live[r.ID], live["h:"+string(r.Hash)] = r.ID, r.ID
			continue
		}
		if err := journal.JournalRevocation(ctx, candor.Revocation{KeyID: r.ID, Hash: r.Hash, At: *r.RevokedAt}); err != nil {
			return 0, err
		}
	}
	n := 0
	for after := ""; ; {
		page, err := journal.Revocations(ctx, after, 500)
		if err != nil {
			return n, err
		}
		for _, r := range page {
			id, ok := live[r.KeyID]
			if !ok {
				id, ok = live["h:"+string(r.Hash)]
			}
			if ok {
				if err := store.RevokeAPIKey(ctx, id, r.At); err != nil {
					return n, err
				}
				delete(live, id)
				n++
			}
		}
		if len(page) < 500 {
			return n, nil
		}
		after = page[len(page)-1].KeyID
	}
}
