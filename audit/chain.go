// Package audit keeps Candor's audit log: append-only, hash-chained (each
// entry holds the hash of the one before), with checkpoints signed by an
// Ed25519 key every N entries or T seconds. [Verify] finds any entry that
// was changed, removed, inserted or reordered.
//
// Entries name subjects by id and fields by name, never by value.
//
// Every checkpoint is also mirrored into the anchor, kept outside the
// audit store (in the key store: a separate file, or a separate schema).
// Someone who can write the audit store alone, with its append-only
// triggers dropped, can therefore neither cut off the log's tail together
// with the checkpoints beyond it (the anchor is then beyond the head), nor
// recompute the whole chain without checkpoints (the chain no longer
// holds the anchor's hash, and more entries are unsigned than a running
// log leaves): [Verify] reports both, and [New] refuses to append to such
// a log.
//
// What remains: the entries after the last checkpoint (at most
// CheckpointEvery + MaxBatch, written within the last CheckpointInterval;
// none after a clean [Log.Close]) can be cut off unnoticed. And someone
// who can write both the audit store and the key store can roll both back
// to an older signed checkpoint, or forge checkpoints if they hold the
// signing key: only a head kept outside Candor ([VerifyOptions.Head],
// from `candor audit head`) catches that, for the entries up to it.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/candorhq/candor"
)

// hashVersion tags the encoding below, so that it can change without
// ambiguity.
const hashVersion = 1

// Hash returns the chain hash of e after prev: SHA-256 over a version byte
// and a length-prefixed encoding of prev, the sequence number, the time
// (UTC, RFC 3339 with nanoseconds), actor, action, purpose, subject id,
// fields, decision, reason and trace id, then, only when the entry names
// one, the rights request id.
//
// The rights request came later: an entry without one (every entry written
// before it existed) hashes exactly as it always did. One with one is
// still unambiguous, since every part is length-prefixed and the rights
// request is the only part that may follow the trace id. A further
// optional part must therefore not simply be appended too: tag it, or
// change hashVersion.
func Hash(prev []byte, e *candor.AuditEntry) []byte {
	h := sha256.New()
	var n [8]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	h.Write([]byte{hashVersion})
	put(prev)
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	put([]byte(e.Time.UTC().Format(time.RFC3339Nano)))
	for _, s := range []string{e.Actor, string(e.Action), e.Purpose, e.SubjectID} {
		put([]byte(s))
	}
	binary.BigEndian.PutUint64(n[:], uint64(len(e.Fields)))
	h.Write(n[:])
	for _, f := range e.Fields {
		put([]byte(f))
	}
	for _, s := range []string{string(e.Decision), e.Reason, e.TraceID} {
		put([]byte(s))
	}
	if e.RightsRequest != "" {
		put([]byte(e.RightsRequest))
	}
	return h.Sum(nil)
}

// CheckpointMessage returns the bytes a checkpoint's signature covers: a
// domain-separation prefix, the sequence number, the hash and the time.
func CheckpointMessage(c candor.AuditCheckpoint) []byte {
	msg := []byte("candor-audit-checkpoint/v1\x00")
	msg = binary.BigEndian.AppendUint64(msg, uint64(c.Seq))
	msg = binary.BigEndian.AppendUint64(msg, uint64(len(c.Hash)))
	msg = append(msg, c.Hash...)
	return append(msg, c.Time.UTC().Format(time.RFC3339Nano)...)
}

// seal sets an entry's place in the chain; the store calls it inside the
// append transaction with the entry before it.
func seal(prevSeq int64, prevHash []byte, e *candor.AuditEntry) {
	e.Seq = prevSeq + 1
	e.PrevHash = prevHash
	e.Hash = Hash(prevHash, e)
}
