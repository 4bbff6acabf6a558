package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/candorhq/candor"
)

// Report is the result of [Verify].
type Report struct {
	OK          bool   `json:"ok"`
	Entries     int64  `json:"entries"`
	Checkpoints int    `json:"checkpoints"`
	FirstBroken *int64 `json:"first_broken"`
	Reason      string `json:"reason,omitempty"`
}

// pageSize is how many entries Verify reads at a time.
const pageSize = 2000

// Verify reads the whole chain in pages and checks that sequence numbers run
// from 1 without gaps, that each entry holds the hash of the one before,
// that each hash matches its entry, and that every checkpoint is signed by a
// known key, matches the entry at its sequence number and is not beyond the
// last entry. keys returns the public key for a key id, or nil. The report
// names the first broken sequence number and why. progress, if not nil, is
// told how many entries were read.
func Verify(ctx context.Context, store candor.AuditStore, keys func(keyID string) ed25519.PublicKey, progress func(done int64)) (Report, error) {
	var rep Report
	cps, err := store.Checkpoints(ctx)
	if err != nil {
		return rep, err
	}
	rep.Checkpoints = len(cps)
	broken := func(seq int64, why string) {
		if rep.FirstBroken == nil || seq < *rep.FirstBroken {
			rep.FirstBroken, rep.Reason = &seq, why
		}
	}
	bySeq := make(map[int64]candor.AuditCheckpoint, len(cps))
	for _, c := range cps {
		pub := keys(c.KeyID)
		switch {
		case pub == nil:
			broken(c.Seq, fmt.Sprintf("checkpoint at %d is signed by an unknown key %q", c.Seq, c.KeyID))
		case !ed25519.Verify(pub, CheckpointMessage(c), c.Signature):
			broken(c.Seq, fmt.Sprintf("checkpoint at %d has a bad signature", c.Seq))
		default:
			bySeq[c.Seq] = c
		}
	}
	var prev []byte
	next := int64(1)
	for chainOK := true; chainOK; {
		page, err := store.AuditEntries(ctx, next, pageSize)
		if err != nil {
			return rep, err
		}
		for i := range page {
			e := &page[i]
			switch {
			case e.Seq != next:
				broken(next, fmt.Sprintf("entry %d is missing (removed)", next))
			case !bytes.Equal(e.PrevHash, prev):
				broken(e.Seq, fmt.Sprintf("entry %d does not follow the entry before it (removed, inserted or reordered)", e.Seq))
			case !bytes.Equal(Hash(prev, e), e.Hash):
				broken(e.Seq, fmt.Sprintf("entry %d was changed: its hash does not match its content", e.Seq))
			}
			if rep.FirstBroken != nil && *rep.FirstBroken <= e.Seq {
				chainOK = false
				break
			}
			if c, ok := bySeq[e.Seq]; ok && !bytes.Equal(c.Hash, e.Hash) {
				broken(e.Seq, fmt.Sprintf("the chain does not match the signed checkpoint at %d: entries up to it were altered", e.Seq))
				chainOK = false
				break
			}
			prev, next = e.Hash, e.Seq+1
			rep.Entries++
		}
		if progress != nil {
			progress(rep.Entries)
		}
		if len(page) < pageSize {
			break
		}
	}
	if rep.FirstBroken == nil {
		for _, c := range cps {
			if c.Seq >= next {
				broken(next, fmt.Sprintf("the log was truncated: a checkpoint covers entry %d but the log ends at %d", c.Seq, next-1))
				break
			}
		}
	}
	rep.OK = rep.FirstBroken == nil
	return rep, nil
}
