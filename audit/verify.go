package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/candorhq/candor"
)

// Report is the result of [Verify].
type Report struct {
	OK          bool   `json:"ok"`
	Entries     int64  `json:"entries"`
	Checkpoints int    `json:"checkpoints"`
	FirstBroken *int64 `json:"first_broken"`
	Reason      string `json:"reason,omitempty"`
	// Unsigned counts the entries after the last signed checkpoint: the
	// tail that nothing signed covers yet (see [VerifyOptions.MaxUnsigned]).
	Unsigned int64 `json:"unsigned"`
	// AnchorSeq is the sequence number of the anchor in the key store; 0
	// when there is none (an empty log).
	AnchorSeq int64 `json:"anchor_seq"`
	// HeadChecked is the sequence number of the externally kept head that
	// was checked ([VerifyOptions.Head]); 0 when none was given.
	HeadChecked int64 `json:"head_checked,omitempty"`
}

// VerifyOptions says what [Verify] checks the log against.
type VerifyOptions struct {
	// Anchors holds the anchor (the key store). Required.
	Anchors AnchorStore
	// Keys returns the public key for a key id, or nil. Required.
	Keys func(keyID string) ed25519.PublicKey
	// Progress, if not nil, is told how many entries were read.
	Progress func(done int64)
	// Head, if not nil, is a signed head kept outside Candor (from
	// `candor audit head`): the log must still hold it.
	Head *candor.AuditCheckpoint
	// MaxUnsigned bounds the entries after the last checkpoint; default
	// DefaultCheckpointEvery + DefaultMaxBatch, what a log with the
	// default options leaves at most. Set it to the log's CheckpointEvery
	// + MaxBatch when those are not the defaults.
	MaxUnsigned int64
}

// pageSize is how many entries Verify reads at a time.
const pageSize = 2000

// Verify reads the whole chain in pages and checks that sequence numbers run
// from 1 without gaps, that each entry holds the hash of the one before,
// that each hash matches its entry, and that every checkpoint is signed by a
// known key, matches the entry at its sequence number and is not beyond the
// last entry.
//
// It then checks the log against what is kept outside it: the anchor in
// opts.Anchors must be present once the log has a checkpoint, validly
// signed, within the chain, with the chain's hash at its sequence number,
// and among the log's checkpoints; and the entries after the last
// checkpoint may not be more than opts.MaxUnsigned, so that a chain
// recomputed without its checkpoints fails. With opts.Head, the chain must
// also hold that head. The report names the first broken sequence number
// and why.
func Verify(ctx context.Context, store candor.AuditStore, opts VerifyOptions) (Report, error) {
	var rep Report
	if opts.Anchors == nil || opts.Keys == nil {
		return rep, errors.New("audit: verify: Anchors and Keys are required")
	}
	if opts.MaxUnsigned <= 0 {
		opts.MaxUnsigned = DefaultCheckpointEvery + DefaultMaxBatch
	}
	anchor, err := opts.Anchors.AuditAnchor(ctx)
	if candor.ErrorCode(err) == candor.ENOTFOUND {
		anchor, err = nil, nil
	}
	if err != nil {
		return rep, err
	}
	// The anchor before the checkpoints and the entries: a log that is
	// being appended to is then never behind it.
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
	signed := func(c candor.AuditCheckpoint, what string) bool {
		pub := opts.Keys(c.KeyID)
		switch {
		case pub == nil:
			broken(c.Seq, fmt.Sprintf("%s at %d is signed by an unknown key %q", what, c.Seq, c.KeyID))
		case !ed25519.Verify(pub, CheckpointMessage(c), c.Signature):
			broken(c.Seq, fmt.Sprintf("%s at %d has a bad signature", what, c.Seq))
		default:
			return true
		}
		return false
	}
	bySeq := make(map[int64]candor.AuditCheckpoint, len(cps))
	for _, c := range cps {
		if signed(c, "checkpoint") {
			bySeq[c.Seq] = c
		}
	}
	// External statements of the head, checked against the chain as it
	// is read.
	type mark struct {
		c    candor.AuditCheckpoint
		what string
	}
	var marks []mark
	if anchor != nil {
		rep.AnchorSeq = anchor.Seq
		if signed(*anchor, "the anchor in the key store") {
			marks = append(marks, mark{*anchor, "its anchor in the key store"})
		}
	}
	if h := opts.Head; h != nil {
		rep.HeadChecked = h.Seq
		if signed(*h, "the head given") {
			marks = append(marks, mark{*h, fmt.Sprintf("the head kept at %s", h.Time.Format(time.RFC3339))})
		}
	}
	var prev []byte
	next := int64(1)
	var lastCP int64
	stopped := false // at a break in the chain
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
				chainOK, stopped = false, true
				break
			}
			if c, ok := bySeq[e.Seq]; ok {
				if !bytes.Equal(c.Hash, e.Hash) {
					broken(e.Seq, fmt.Sprintf("the chain does not match the signed checkpoint at %d: entries up to it were altered", e.Seq))
					chainOK, stopped = false, true
					break
				}
				lastCP = e.Seq
			}
			for _, m := range marks {
				if m.c.Seq == e.Seq && !bytes.Equal(m.c.Hash, e.Hash) {
					broken(e.Seq, fmt.Sprintf("the chain does not match %s at entry %d: the log was rewritten or rolled back", m.what, e.Seq))
					chainOK, stopped = false, true
				}
			}
			if !chainOK {
				break
			}
			prev, next = e.Hash, e.Seq+1
			rep.Entries++
		}
		if opts.Progress != nil {
			opts.Progress(rep.Entries)
		}
		if len(page) < pageSize {
			break
		}
	}
	rep.Unsigned = rep.Entries - lastCP
	if !stopped && rep.Unsigned > opts.MaxUnsigned {
		// A running log went on appending, and signing, while the chain
		// was read: count from the latest checkpoint now.
		if lastCP, err = latestCheckpoint(ctx, store, opts.Keys, rep.Entries, lastCP); err != nil {
			return rep, err
		}
		rep.Unsigned = rep.Entries - lastCP
	}
	if !stopped {
		for _, c := range cps {
			if c.Seq >= next {
				broken(next, fmt.Sprintf("the log was truncated: a checkpoint covers entry %d but the log ends at %d", c.Seq, next-1))
				break
			}
		}
		for _, m := range marks {
			if m.c.Seq >= next {
				broken(next, fmt.Sprintf("the log was truncated or rolled back: %s covers entry %d but the log ends at %d", m.what, m.c.Seq, next-1))
			}
		}
		if anchor != nil && !hasSeq(cps, anchor.Seq) {
			broken(anchor.Seq, fmt.Sprintf("the checkpoint at %d, which the key store anchors, is missing from the log: checkpoints were removed", anchor.Seq))
		}
		if anchor == nil && len(cps) > 0 {
			broken(1, fmt.Sprintf("the key store holds no anchor although the log has %d signed checkpoints: the anchor was removed, or the log is not this key store's (a log from before anchors gets one when candor serve starts)", len(cps)))
		}
		switch {
		case rep.Unsigned <= opts.MaxUnsigned:
		case lastCP == 0:
			broken(1, fmt.Sprintf("the log has %d entries and no signed checkpoint (at most %d may wait for one): checkpoints were removed, or the chain was recomputed", rep.Entries, opts.MaxUnsigned))
		default:
			broken(lastCP+1, fmt.Sprintf("%d entries after the last signed checkpoint (at %d) are unsigned, more than the %d a running log leaves: checkpoints were removed or the chain was recomputed (or checkpoints have been failing)", rep.Unsigned, lastCP, opts.MaxUnsigned))
		}
	}
	rep.OK = rep.FirstBroken == nil
	return rep, nil
}

func hasSeq(cps []candor.AuditCheckpoint, seq int64) bool {
	for _, c := range cps {
		if c.Seq == seq {
			return true
		}
	}
	return false
}

// latestCheckpoint returns the sequence number of the latest validly
// signed checkpoint at or before end that matches the chain as stored, or
// def if there is none later than def.
func latestCheckpoint(ctx context.Context, store candor.AuditStore, keys func(string) ed25519.PublicKey, end, def int64) (int64, error) {
	cps, err := store.Checkpoints(ctx)
	if err != nil {
		return def, err
	}
	for i := len(cps) - 1; i >= 0 && cps[i].Seq > def; i-- {
		c := cps[i]
		pub := keys(c.KeyID)
		if c.Seq > end || pub == nil || !ed25519.Verify(pub, CheckpointMessage(c), c.Signature) {
			continue
		}
		es, err := store.AuditEntries(ctx, c.Seq, 1)
		if err != nil {
			return def, err
		}
		if len(es) == 1 && es[0].Seq == c.Seq && bytes.Equal(es[0].Hash, c.Hash) {
			return c.Seq, nil
		}
	}
	return def, nil
}
