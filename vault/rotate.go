package vault

import (
	"context"
	"fmt"
	"slices"
)

// rotatePage is how many subject keys Rotate and Status read at a time.
const rotatePage = 500

// RotateResult reports what [Vault.Rotate] did.
type RotateResult struct {
	MasterKeyID uint32 // the new primary master key
	Rewrapped   int    // subject keys re-wrapped with it
	Skipped     int    // subject keys shredded or changed by someone else meanwhile
	Failed      int    // subject keys that did not unwrap with any master key (see [Vault.Status])
}

// Rotate adds a new AES-256-GCM master key, makes it primary and writes the
// keyset file atomically (a temporary file renamed over it, mode 0600),
// then re-wraps every subject key and every system key with it. Each
// re-wrapped key replaces the old one only if that is still stored
// (compare and swap), so a concurrent shred wins. Old master keys stay in
// the keyset, so a key not yet re-wrapped still opens, here and in other
// processes, which pick up the new keyset when they first meet a key
// wrapped with it. progress, if not nil, is called after each subject key
// with the number done and the number of live keys when it started (or
// more, if keys were added meanwhile).
//
// A subject key that does not unwrap is counted in Failed and left as it
// is; a system key that does not unwrap is an error ([ErrTampered]). Rotate
// may be run again after an error: it adds another key and re-wraps the
// rest.
func (v *Vault) Rotate(ctx context.Context, progress func(done, total int)) (RotateResult, error) {
	id, err := v.master.rotate()
	if err != nil {
		return RotateResult{}, err
	}
	res := RotateResult{MasterKeyID: id}
	total, _, err := v.ks.CountSubjectKeys(ctx)
	if err != nil {
		return res, fmt.Errorf("vault: rotate: %w", err)
	}
	if progress != nil {
		progress(0, total)
	}
	done := 0
	for after := ""; ; {
		page, err := v.ks.SubjectKeys(ctx, after, rotatePage)
		if err != nil {
			return res, fmt.Errorf("vault: rotate: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, k := range page {
			after = k.SubjectID
			if err := ctx.Err(); err != nil {
				return res, err
			}
			nw, err := v.rewrap(k.Wrapped, subjectKeyAD(k.SubjectID))
			switch {
			case err != nil:
				res.Failed++
			case nw == nil: // already under the primary: created meanwhile
			default:
				ok, err := v.ks.ReplaceSubjectKey(ctx, k.SubjectID, k.Wrapped, nw)
				if err != nil {
					return res, fmt.Errorf("vault: rotate: %w", err)
				}
				if ok {
					res.Rewrapped++
				} else {
					res.Skipped++
				}
			}
			done++
			if progress != nil {
				progress(done, max(total, done))
			}
		}
	}
	names, err := v.ks.SystemKeyNames(ctx)
	if err != nil {
		return res, fmt.Errorf("vault: rotate: %w", err)
	}
	for _, name := range names {
		old, err := v.ks.SystemKey(ctx, name)
		if err != nil {
			return res, fmt.Errorf("vault: rotate: %w", err)
		}
		nw, err := v.rewrap(old, systemKeyAD(name))
		if err != nil {
			return res, fmt.Errorf("vault: rotate: system key %s: %w", name, err)
		}
		if nw == nil {
			continue
		}
		// A lost race means another rotation re-wrapped it: nothing to do.
		if _, err := v.ks.ReplaceSystemKey(ctx, name, old, nw); err != nil {
			return res, fmt.Errorf("vault: rotate: %w", err)
		}
	}
	return res, nil
}

// rewrap returns the key wrapped with the primary master key, or nil if it
// is already.
func (v *Vault) rewrap(wrapped, ad []byte) ([]byte, error) {
	if wrappingKeyID(wrapped) == v.master.state().primary {
		return nil, nil
	}
	key, err := v.unwrap(wrapped, ad)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	return v.wrap(key, ad)
}

// MasterKeyInfo describes one key of the master keyset.
type MasterKeyInfo struct {
	ID      uint32
	Primary bool   // new keys are wrapped with it
	Status  string // "enabled", "disabled" or "destroyed"
}

// Status describes the keys.
type Status struct {
	// MasterKeys lists the master keyset, as in the file.
	MasterKeys []MasterKeyInfo
	// PrimaryID is the id of the primary master key.
	PrimaryID uint32
	// SubjectKeys counts the live subject keys by the id of the master key
	// that wraps them (0 for a key without a TINK prefix). An id missing
	// from MasterKeys means those keys cannot be opened.
	SubjectKeys map[uint32]int
	// Shredded counts the destroyed subject keys.
	Shredded int
	// SystemKeys names the system keys, in order.
	SystemKeys []string
}

// Status reports the master keyset (re-read from its file if it changed),
// how many subject keys each master key wraps, how many were shredded and
// which system keys exist. It returns errors from the key store or from
// reading the keyset file.
func (v *Vault) Status(ctx context.Context) (Status, error) {
	if _, err := v.master.reload(); err != nil {
		return Status{}, err
	}
	st := v.master.state()
	s := Status{MasterKeys: slices.Clone(st.keys), PrimaryID: st.primary, SubjectKeys: map[uint32]int{}}
	for after := ""; ; {
		page, err := v.ks.SubjectKeys(ctx, after, rotatePage)
		if err != nil {
			return Status{}, fmt.Errorf("vault: status: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, k := range page {
			s.SubjectKeys[wrappingKeyID(k.Wrapped)]++
		}
		after = page[len(page)-1].SubjectID
	}
	var err error
	if _, s.Shredded, err = v.ks.CountSubjectKeys(ctx); err != nil {
		return Status{}, fmt.Errorf("vault: status: %w", err)
	}
	if s.SystemKeys, err = v.ks.SystemKeyNames(ctx); err != nil {
		return Status{}, fmt.Errorf("vault: status: %w", err)
	}
	return s, nil
}
