package segment

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/candorhq/candor/gate"
)

// Match reports whether the person, as the gate yielded them for the
// segment's purpose (with [ScanRequest.EventDays] at least [Rule.Days] and
// the decisions of [Rule.Consents]), passes the rule at time now. A trait
// the gate did not let through (not declared for the purpose, withheld)
// is absent: only ne, and exists with false, hold for it.
func (r *Rule) Match(x *gate.Person, now time.Time) bool {
	switch {
	case r.All != nil:
		for _, c := range r.All {
			if !c.Match(x, now) {
				return false
			}
		}
		return true
	case r.Any != nil:
		for _, c := range r.Any {
			if c.Match(x, now) {
				return true
			}
		}
		return false
	case r.Not != nil:
		return !r.Not.Match(x, now)
	case r.Trait != "":
		v, ok := x.Fields[r.Trait]
		return test(r.Op, r.Value, v, ok && v != "")
	case r.Consent != "":
		return x.Allows[r.Consent]
	case r.Event != "":
		return r.matchEvent(x, now)
	}
	return false
}

func (r *Rule) matchEvent(x *gate.Person, now time.Time) bool {
	since := now.AddDate(0, 0, -r.within)
	n, sum := 0, 0.0
	var last time.Time
	for _, a := range x.Activity {
		if a.Name != r.Event || a.Time.Before(since) {
			continue
		}
		ok := true
		for _, w := range r.Where {
			v, has := a.Properties[w.Property]
			if !test(w.Op, w.Value, v, has && v != nil) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		n++
		if a.Time.After(last) {
			last = a.Time
		}
		if r.Sum != "" {
			if f, ok := number(a.Properties[r.Sum]); ok {
				sum += f
			}
		}
	}
	given := false
	if r.Min != nil {
		given = true
		if n < *r.Min {
			return false
		}
	}
	if r.Max != nil {
		given = true
		if n > *r.Max {
			return false
		}
	}
	if r.Sum != "" {
		given = true
		if !test(r.Op, r.Value, sum, true) {
			return false
		}
	}
	if r.lastIn > 0 {
		given = true
		if n == 0 || last.Before(now.AddDate(0, 0, -r.lastIn)) {
			return false
		}
	}
	if r.lastNot > 0 {
		given = true
		if n == 0 || !last.Before(now.AddDate(0, 0, -r.lastNot)) {
			return false
		}
	}
	return given || n > 0
}

// test applies op and want to a value got (a trait's string, or an event
// property as JSON decoded it) that is there or not.
func test(op string, want, got any, there bool) bool {
	switch op {
	case "exists":
		b, ok := want.(bool)
		return there == (!ok || b)
	case "ne":
		return !there || !equal(want, got)
	}
	if !there {
		return false
	}
	switch op {
	case "eq":
		return equal(want, got)
	case "in":
		list, _ := want.([]any)
		for _, w := range list {
			if equal(w, got) {
				return true
			}
		}
		return false
	case "prefix":
		w, _ := want.(string)
		g, ok := got.(string)
		return ok && strings.HasPrefix(g, w)
	case "lt", "lte", "gt", "gte":
		c, ok := compare(got, want)
		if !ok {
			return false
		}
		switch op {
		case "lt":
			return c < 0
		case "lte":
			return c <= 0
		case "gt":
			return c > 0
		}
		return c >= 0
	}
	return false
}

func equal(want, got any) bool {
	if c, ok := compare(got, want); ok {
		return c == 0
	}
	switch w := want.(type) {
	case bool:
		switch g := got.(type) {
		case bool:
			return g == w
		case string:
			return g == strconv.FormatBool(w)
		}
	}
	return false
}

// compare orders got against want: as numbers when want is one (got a
// number or a string that holds one), as strings when both are.
func compare(got, want any) (int, bool) {
	if w, ok := want.(json.Number); ok {
		wf, err := w.Float64()
		g, ok := number(got)
		if err != nil || !ok {
			return 0, false
		}
		switch {
		case g < wf:
			return -1, true
		case g > wf:
			return 1, true
		}
		return 0, true
	}
	w, ok1 := want.(string)
	g, ok2 := got.(string)
	if !ok1 || !ok2 {
		return 0, false
	}
	return strings.Compare(g, w), true
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	case int:
		return float64(x), true
	}
	return 0, false
}
