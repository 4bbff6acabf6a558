package collect

import (
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/pii"
)

// Minimization actions, as the report names them.
const (
	ActionDropped   = "dropped"   // removed: undeclared, wrong type, or no purpose allowed
	ActionRedacted  = "redacted"  // personal data found in free text and replaced
	ActionTruncated = "truncated" // an IP address cut to its network
	ActionReduced   = "reduced"   // a user agent cut to browser, OS and device class
	ActionRejected  = "rejected"  // the whole message refused
	ActionCounted   = "counted"   // no purpose allowed: only an anonymous count kept
)

// Detectors that are not PII detectors, as the report names them.
const (
	ReasonUndeclared = "undeclared"
	ReasonType       = "type"
	ReasonConsent    = "consent"
	ReasonConflict   = "conflict"
	ReasonExpired    = "expired"
	// ReasonUnverified: an e-mail or phone other than the one on file; it
	// replaces that one only through a verified change.
	ReasonUnverified = "unverified_change"
	// ReasonSuppressed: an e-mail or phone on the suppression list.
	ReasonSuppressed = "suppressed"
)

// MaxStringBytes bounds one string value; a longer one is dropped.
const MaxStringBytes = 4096

// maxTallyKeys bounds the distinct counters kept per day between flushes.
const maxTallyKeys = 10000

type tallyKey struct{ event, item, action, detector string }

// tally counts minimization findings in memory until they are flushed.
type tally struct {
	mu sync.Mutex
	m  map[string]map[tallyKey]int64 // by day
}

func (t *tally) add(day string, local map[tallyKey]int64) {
	if len(local) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]map[tallyKey]int64{}
	}
	d := t.m[day]
	if d == nil {
		d = map[tallyKey]int64{}
		t.m[day] = d
	}
	for k, n := range local {
		if _, ok := d[k]; !ok && len(d) >= maxTallyKeys {
			// Hostile input can invent names without end: bound the report.
			k.item, k.event = "(other)", "(other)"
		}
		d[k] += n
	}
}

// take empties the tally into counts.
func (t *tally) take() []candor.MinimizationCount {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []candor.MinimizationCount
	for day, d := range t.m {
		for k, n := range d {
			out = append(out, candor.MinimizationCount{Day: day, Event: k.event, Item: k.item, Action: k.action, Detector: k.detector, Count: n})
		}
	}
	t.m = nil
	return out
}

// findings collects one message's minimization findings.
type findings struct {
	event string
	m     map[tallyKey]int64
}

func (f *findings) note(item, action, detector string) {
	if f.m == nil {
		f.m = map[tallyKey]int64{}
	}
	f.m[tallyKey{f.event, item, action, detector}]++
}

// checkValue reports whether v has the declared property type, and the
// value to keep (strings are redacted unless personal is set).
func checkValue(typ string, v any) (any, bool) {
	switch typ {
	case "string":
		s, ok := v.(string)
		return s, ok && len(s) <= MaxStringBytes && utf8.ValidString(s)
	case "number":
		n, ok := v.(float64)
		return n, ok && !math.IsInf(n, 0) && !math.IsNaN(n)
	case "integer":
		n, ok := v.(float64)
		return n, ok && n == math.Trunc(n) && math.Abs(n) <= 1<<53
	case "boolean":
		b, ok := v.(bool)
		return b, ok
	case "timestamp":
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		t, ok := parseTime(s)
		if !ok {
			return nil, false
		}
		return t.Format(time.RFC3339Nano), true
	}
	return nil, false
}

// redact replaces personal data in s, noting what it found under item.
func redact(s, item string, f *findings) string {
	out, kinds := pii.Redact(s)
	for _, k := range kinds {
		f.note(item, ActionRedacted, string(k))
	}
	return out
}

// contextPolicy says what of a message's context may be kept.
type contextPolicy struct {
	fullIP  bool // the policy declares the full IP address, and a purpose of it is allowed
	precise bool // the policy declares precise location, and a purpose of it is allowed
}

// Categories of fields that let collection keep more of the context.
const (
	CategoryIP              = "device.ip"
	CategoryPreciseLocation = "location.precise"
)

// minimizeContext keeps of the context only what marketing needs: the
// library, locale, time zone, campaign, page and app; the IP address cut to
// its network and the user agent to browser, OS and device class, unless
// the policy declares more; precise location only when declared and
// allowed. Everything else is dropped and noted. Strings are redacted.
func minimizeContext(in map[string]any, cp contextPolicy, f *findings) map[string]any {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]any, 8)
	for k, v := range in {
		item := "context." + safeName(k)
		switch k {
		case "library", "campaign", "page", "app":
			m, ok := v.(map[string]any)
			if !ok {
				f.note(item, ActionDropped, ReasonType)
				continue
			}
			keep := map[string]any{}
			for mk, mv := range m {
				s, ok := mv.(string)
				if !ok || len(s) > MaxStringBytes || !utf8.ValidString(s) || !contextMember(k, mk) {
					f.note(item+"."+safeName(mk), ActionDropped, ReasonUndeclared)
					continue
				}
				keep[mk] = redact(s, item+"."+mk, f)
			}
			if len(keep) > 0 {
				out[k] = keep
			}
		case "locale", "timezone":
			s, ok := v.(string)
			if !ok || len(s) > 64 {
				f.note(item, ActionDropped, ReasonType)
				continue
			}
			out[k] = s
		case "ip":
			s, _ := v.(string)
			if cp.fullIP {
				if _, ok := pii.TruncateIP(s); ok {
					out[k] = s
				}
				continue
			}
			if t, ok := pii.TruncateIP(s); ok {
				out[k] = t
				f.note(item, ActionTruncated, "")
			} else {
				f.note(item, ActionDropped, ReasonType)
			}
		case "userAgent":
			s, _ := v.(string)
			a := pii.ReduceUserAgent(s)
			out["agent"] = map[string]any{"browser": a.Browser, "os": a.OS, "device": a.Device}
			f.note(item, ActionReduced, "")
		case "location":
			m, ok := v.(map[string]any)
			lat, ok1 := m["latitude"].(float64)
			lon, ok2 := m["longitude"].(float64)
			if cp.precise && ok && ok1 && ok2 {
				out[k] = map[string]any{"latitude": lat, "longitude": lon}
			} else {
				f.note(item, ActionDropped, ReasonConsent)
			}
		default:
			// device ids, advertising ids, screen, network, os version,
			// context.traits, …: fingerprints and identifiers.
			f.note(item, ActionDropped, ReasonUndeclared)
		}
	}
	return out
}

// contextMember reports whether a member of a kept context object is kept.
func contextMember(object, member string) bool {
	switch object {
	case "library", "app":
		return member == "name" || member == "version" || member == "build"
	case "campaign":
		return member == "name" || member == "source" || member == "medium" || member == "term" || member == "content"
	case "page":
		return member == "path" || member == "referrer" || member == "search" || member == "title" || member == "url"
	}
	return false
}

// mergeContext lays the message's own context over the batch's.
func mergeContext(batch, own map[string]any) map[string]any {
	if len(batch) == 0 {
		return own
	}
	out := make(map[string]any, len(batch)+len(own))
	for k, v := range batch {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

// day is the UTC date of t, as the counters use it.
func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// safeName makes a name taken from the input (an undeclared event or
// property name) fit for the report: personal data redacted, at most 64
// bytes of valid UTF-8. The PII scan runs over the whole name (up to
// maxScannedName bytes) before it is cut: cutting first could split an
// e-mail address or an ID number so that the scan no longer knows it,
// and leave its first half in the report.
func safeName(s string) string {
	if len(s) > maxScannedName {
		s = s[:maxScannedName]
	}
	s = strings.ToValidUTF8(s, "?")
	s, _ = pii.Redact(s)
	if len(s) > 64 {
		s = strings.ToValidUTF8(s[:64], "")
		s, _ = pii.Redact(s)
	}
	return s
}

// maxScannedName bounds the work the scan does on one name.
const maxScannedName = 4096
