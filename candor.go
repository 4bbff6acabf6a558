// Package candor holds Candor's domain: the types every part shares
// (subjects, purposes, fields, consents, notices, audit entries, the
// actor who asks), the interfaces between the parts (the stores; the
// sealer, the auditor and the signer), and the one error type.
//
// It depends on nothing but the standard library. Capabilities (gate, audit,
// vault, policy, …) depend on it; adapters (sqlite, postgres, http) implement
// or serve its interfaces; only cmd/candor wires concrete things together.
package candor

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Languages of the notice. Every purpose has a name and a description in each.
const (
	LangEN = "en"
	LangZH = "zh-CN"
)

// Languages lists the notice languages, in the order they are shown.
var Languages = []string{LangZH, LangEN}

// Text is a text in several languages, keyed by language tag.
type Text map[string]string

// In returns the text in lang, falling back to English and then to any.
func (t Text) In(lang string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	if s, ok := t[LangEN]; ok && s != "" {
		return s
	}
	for _, s := range t {
		return s
	}
	return ""
}

// Duration is a retention period. It is written in the policy as a whole
// number followed by a unit: h (hours), d (days), w (weeks) or y (365 days).
type Duration time.Duration

// ParseDuration parses a retention period such as "730d" or "12h".
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("retention %q: want a number and a unit (h, d, w or y), such as 365d", s)
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("retention %q: want a positive whole number before the unit", s)
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	case 'w':
		unit = 7 * 24 * time.Hour
	case 'y':
		unit = 365 * 24 * time.Hour
	default:
		return 0, fmt.Errorf("retention %q: unknown unit %q (want h, d, w or y)", s, s[len(s)-1:])
	}
	if n > int64(100*365*24*time.Hour/unit) {
		return 0, fmt.Errorf("retention %q: longer than 100 years", s)
	}
	return Duration(time.Duration(n) * unit), nil
}

// String formats d in the largest unit that divides it.
func (d Duration) String() string {
	td := time.Duration(d)
	switch {
	case td == 0:
		return "0h"
	case td%(365*24*time.Hour) == 0:
		return strconv.FormatInt(int64(td/(365*24*time.Hour)), 10) + "y"
	case td%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	default:
		return strconv.FormatInt(int64(td/time.Hour), 10) + "h"
	}
}

// Days returns d in whole days, rounded up.
func (d Duration) Days() int {
	day := 24 * time.Hour
	return int((time.Duration(d) + day - 1) / day)
}

// ID prefixes: the first characters of the ids made by [NewID] and
// [NewTimeID], which say what an id names.
const (
	PrefixSubject    = "sub_"  // a subject
	PrefixRun        = "run_"  // a bulk run of the gate
	PrefixConsent    = "cns_"  // one consent in the ledger
	PrefixReceipt    = "rcpt_" // a consent receipt: the consents recorded together
	PrefixMessage    = "msg_"  // a collected message
	PrefixEvent      = "evt_"  // a stored event
	PrefixRequest    = "req_"  // a data-subject request
	PrefixChallenge  = "chl_"  // a verification challenge (a one-time code)
	PrefixDisclosure = "dis_"  // a disclosure to a recipient
	PrefixDelivery   = "dlv_"  // a webhook delivery to a recipient
	PrefixStaff      = "stf_"  // a staff member
	PrefixAPIKey     = "key_"  // an API key
	PrefixNode       = "node_" // a node on a shared store (its change feed)
)

// NewID returns a new random identifier with the given prefix, such as
// [PrefixSubject]: 128 random bits in lower-case base32.
func NewID(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// NewTimeID returns a random id of the same length as [NewID]'s (in
// base32hex, which keeps the order of bytes), whose first characters
// encode t to the millisecond, so that ids made later sort later: rows
// keyed by them are appended at the end of an index instead of scattered
// through it. It reveals when the row was made, nothing else.
func NewTimeID(prefix string, t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err)
	}
	return prefix + strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// ValidID reports whether s has the shape of an id made by [NewID] with prefix.
func ValidID(prefix, s string) bool {
	if !strings.HasPrefix(s, prefix) || len(s) != len(prefix)+26 {
		return false
	}
	for _, c := range s[len(prefix):] {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
