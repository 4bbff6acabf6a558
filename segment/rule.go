// Package segment picks people for a purpose by a rule: the rule language
// of API.md ("Segments and campaigns") with recency, frequency and
// monetary conditions over declared events, parsed strictly, checked
// against the policy for the segment's purpose and the reader's role, and
// evaluated on what the gate's bulk read ([gate.Gate.Scan]) yields, never
// on anything opened elsewhere.
//
// A rule is one of
//
//	{"all": [R, …]}  {"any": [R, …]}  {"not": R}
//	{"trait": FIELD, "op": OP, "value": V}
//	{"event": NAME, "within": "30d", "min": N, "max": N,
//	 "where": {"property": P, "op": OP, "value": V} | [{…}, …],
//	 "sum": PROPERTY, "op": OP, "value": NUMBER,
//	 "last_within": "7d", "last_not_within": "30d"}
//	{"consent": PURPOSE}
//
// OP is eq, ne, in, lt, lte, gt, gte, exists or prefix. An event
// condition looks at the person's events of the window (within, default
// 90d) that were collected for the segment's purpose and match every
// where filter; it holds when every part given holds: min and max bound
// their number (with none of min, max, sum, last_within or
// last_not_within, at least one must be there); sum, op and value compare
// the sum of a numeric property (monetary); last_within says the latest
// of them is at most that old, last_not_within that there is one and the
// latest is older (recency).
package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/candorhq/candor"
)

// Limits on a rule: every rule is typed or sent by someone, and read as
// hostile.
const (
	MaxRuleBytes  = 16 << 10 // the rule's JSON
	MaxDepth      = 8        // nested all/any/not
	MaxConditions = 64       // conditions and groups, in all
	MaxList       = 100      // members of all/any, values of in, where filters
	MaxString     = 200      // a name or a value, in bytes
	DefaultWithin = 90       // days an event condition looks back without within
)

// Ops are the operators of trait and property conditions.
var Ops = []string{"eq", "ne", "in", "lt", "lte", "gt", "gte", "exists", "prefix"}

// Rule is a parsed rule. Exactly one of its kinds is set: All, Any, Not,
// Trait, Event or Consent.
type Rule struct {
	All     []*Rule `json:"all,omitempty"`
	Any     []*Rule `json:"any,omitempty"`
	Not     *Rule   `json:"not,omitempty"`
	Trait   string  `json:"trait,omitempty"`
	Event   string  `json:"event,omitempty"`
	Consent string  `json:"consent,omitempty"`
	// Op and Value: a trait's test; for an event, the test of Sum.
	Op    string `json:"op,omitempty"`
	Value any    `json:"value,omitempty"`
	// Event conditions.
	Within        string   `json:"within,omitempty"`
	Min           *int     `json:"min,omitempty"`
	Max           *int     `json:"max,omitempty"`
	Where         []*Where `json:"where,omitempty"`
	Sum           string   `json:"sum,omitempty"`
	LastWithin    string   `json:"last_within,omitempty"`
	LastNotWithin string   `json:"last_not_within,omitempty"`

	path                    string
	within, lastIn, lastNot int // days
	hasValue                bool
}

// Where is a filter on an event's property.
type Where struct {
	Property string `json:"property"`
	Op       string `json:"op"`
	Value    any    `json:"value,omitempty"`
	path     string
	hasValue bool
}

// Parse reads a rule strictly: valid UTF-8 JSON of at most [MaxRuleBytes],
// no duplicate or unknown members, no more than [MaxDepth] levels and
// [MaxConditions] conditions, one kind per object, the members each kind
// needs with values of the right type. It returns an EINVALID error
// whose fields name each offending path ("rule.all[1].trait"); it does
// not look at the policy ([Rule.Check] does).
func Parse(data []byte) (*Rule, error) {
	if len(data) > MaxRuleBytes {
		return nil, candor.Invalid("the rule is too long", candor.FieldError{Field: "rule", Message: fmt.Sprintf("at most %d bytes", MaxRuleBytes)})
	}
	if !utf8.Valid(data) {
		return nil, candor.Invalid("the rule is not UTF-8", candor.FieldError{Field: "rule", Message: "not UTF-8"})
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tree, err := readValue(dec, 0)
	if err != nil {
		return nil, candor.Invalid("the rule is not valid JSON", candor.FieldError{Field: "rule", Message: err.Error()})
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, candor.Invalid("the rule is not valid JSON", candor.FieldError{Field: "rule", Message: "data after the rule"})
	}
	p := &parser{}
	r := p.rule(tree, "rule", 0)
	if len(p.errs) > 0 {
		return nil, candor.Invalid("the rule is not valid", p.errs...)
	}
	return r, nil
}

// object is a JSON object in the order written.
type object struct {
	keys []string
	vals map[string]any
}

var errDepth = errors.New("nested too deeply")

// readValue reads one JSON value as a tree (object, []any, string,
// json.Number, bool, nil), refusing duplicate members and more nesting
// than a rule can have.
func readValue(dec *json.Decoder, depth int) (any, error) {
	if depth > 3*MaxDepth+4 {
		return nil, errDepth
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, errors.New("malformed JSON")
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, errors.New("malformed JSON")
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("malformed JSON")
				}
				if _, dup := o.vals[k]; dup {
					return nil, fmt.Errorf("member %q given twice", trunc(k))
				}
				v, err := readValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				o.keys = append(o.keys, k)
				o.vals[k] = v
				if len(o.keys) > 32 {
					return nil, errors.New("too many members")
				}
			}
			if _, err := dec.Token(); err != nil {
				return nil, errors.New("malformed JSON")
			}
			return o, nil
		case '[':
			var list []any
			for dec.More() {
				v, err := readValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if list = append(list, v); len(list) > MaxList {
					return nil, fmt.Errorf("a list of more than %d", MaxList)
				}
			}
			if _, err := dec.Token(); err != nil {
				return nil, errors.New("malformed JSON")
			}
			if list == nil {
				list = []any{}
			}
			return list, nil
		}
		return nil, errors.New("malformed JSON")
	default:
		return t, nil
	}
}

func trunc(s string) string {
	if len(s) > 40 {
		for i := 40; i > 0; i-- {
			if utf8.RuneStart(s[i]) {
				return s[:i] + "…"
			}
		}
	}
	return s
}

type parser struct {
	errs  []candor.FieldError
	count int
}

func (p *parser) fail(path, msg string) {
	if len(p.errs) < 20 {
		p.errs = append(p.errs, candor.FieldError{Field: path, Message: msg})
	}
}

var kinds = []string{"all", "any", "not", "trait", "event", "consent"}

// members says which members each kind of rule may have.
var members = map[string][]string{
	"all":     {"all"},
	"any":     {"any"},
	"not":     {"not"},
	"trait":   {"trait", "op", "value"},
	"event":   {"event", "within", "min", "max", "where", "sum", "op", "value", "last_within", "last_not_within"},
	"consent": {"consent"},
}

func (p *parser) rule(v any, path string, depth int) *Rule {
	r := &Rule{path: path}
	if p.count++; p.count > MaxConditions {
		if p.count == MaxConditions+1 {
			p.fail(path, fmt.Sprintf("a rule has at most %d conditions", MaxConditions))
		}
		return r
	}
	if depth > MaxDepth {
		p.fail(path, fmt.Sprintf("nested more than %d levels", MaxDepth))
		return r
	}
	o, ok := v.(*object)
	if !ok {
		p.fail(path, "want an object")
		return r
	}
	kind := ""
	for _, k := range kinds {
		if _, ok := o.vals[k]; ok {
			if kind != "" {
				p.fail(path, "one of all, any, not, trait, event or consent, not both "+kind+" and "+k)
				return r
			}
			kind = k
		}
	}
	if kind == "" {
		p.fail(path, "want one of all, any, not, trait, event or consent")
		return r
	}
	for _, k := range o.keys {
		if !contains(members[kind], k) {
			p.fail(path+"."+trunc(k), "unknown member")
		}
	}
	switch kind {
	case "all", "any":
		list, ok := o.vals[kind].([]any)
		if !ok || len(list) == 0 {
			p.fail(path+"."+kind, "want a list of rules, not empty")
			return r
		}
		out := make([]*Rule, len(list))
		for i, x := range list {
			out[i] = p.rule(x, fmt.Sprintf("%s.%s[%d]", path, kind, i), depth+1)
		}
		if kind == "all" {
			r.All = out
		} else {
			r.Any = out
		}
	case "not":
		r.Not = p.rule(o.vals["not"], path+".not", depth+1)
	case "consent":
		r.Consent = p.name(o.vals["consent"], path+".consent")
	case "trait":
		r.Trait = p.name(o.vals["trait"], path+".trait")
		r.Op, r.Value, r.hasValue = p.test(o, path)
	case "event":
		r.Event = p.name(o.vals["event"], path+".event")
		r.within = DefaultWithin
		if w, ok := o.vals["within"]; ok {
			r.Within, r.within = p.days(w, path+".within")
		}
		if w, ok := o.vals["last_within"]; ok {
			r.LastWithin, r.lastIn = p.days(w, path+".last_within")
		}
		if w, ok := o.vals["last_not_within"]; ok {
			r.LastNotWithin, r.lastNot = p.days(w, path+".last_not_within")
		}
		for _, lw := range []struct {
			n    int
			name string
		}{{r.lastIn, "last_within"}, {r.lastNot, "last_not_within"}} {
			if lw.n > r.within {
				p.fail(path+"."+lw.name, "longer than the window (within)")
			}
		}
		if m, ok := o.vals["min"]; ok {
			r.Min = p.count0(m, path+".min")
		}
		if m, ok := o.vals["max"]; ok {
			r.Max = p.count0(m, path+".max")
		}
		if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
			p.fail(path+".max", "less than min")
		}
		if w, ok := o.vals["where"]; ok {
			list, isList := w.([]any)
			if !isList {
				list = []any{w}
			}
			if len(list) == 0 {
				p.fail(path+".where", "want a filter or a list of filters, not empty")
			}
			for i, x := range list {
				wp := path + ".where"
				if isList {
					wp = fmt.Sprintf("%s[%d]", wp, i)
				}
				r.Where = append(r.Where, p.where(x, wp))
			}
		}
		_, hasOp := o.vals["op"]
		_, hasValue := o.vals["value"]
		if s, ok := o.vals["sum"]; ok {
			r.Sum = p.name(s, path+".sum")
			r.Op, r.Value, r.hasValue = p.test(o, path)
			if r.Op != "" && !contains([]string{"eq", "ne", "lt", "lte", "gt", "gte"}, r.Op) {
				p.fail(path+".op", "a sum is compared with eq, ne, lt, lte, gt or gte")
			} else if _, isNum := r.Value.(json.Number); r.Op != "" && !isNum {
				p.fail(path+".value", "want a number to compare the sum with")
			}
		} else if hasOp || hasValue {
			p.fail(path+".op", "op and value test a sum: give sum")
		}
	}
	return r
}

// test reads op and value of a trait, a filter or a sum.
func (p *parser) test(o *object, path string) (string, any, bool) {
	op, _ := o.vals["op"].(string)
	if !contains(Ops, op) {
		p.fail(path+".op", "want one of "+strings.Join(Ops, ", "))
		return "", nil, false
	}
	v, has := o.vals["value"]
	switch {
	case op == "exists":
		if has {
			if _, ok := v.(bool); !ok {
				p.fail(path+".value", "exists takes true, false or no value")
			}
		}
	case !has:
		p.fail(path+".value", "required for "+op)
	case op == "in":
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			p.fail(path+".value", "in takes a list of values, not empty")
			break
		}
		for i, x := range list {
			p.scalar(x, fmt.Sprintf("%s.value[%d]", path, i))
		}
	case op == "prefix":
		if s, ok := v.(string); !ok || s == "" {
			p.fail(path+".value", "prefix takes a string, not empty")
		} else {
			p.scalar(v, path+".value")
		}
	case op == "lt" || op == "lte" || op == "gt" || op == "gte":
		switch x := v.(type) {
		case json.Number:
			p.scalar(x, path+".value")
		case string:
			p.scalar(x, path+".value")
		default:
			p.fail(path+".value", op+" takes a number or a string (a date)")
		}
	default:
		p.scalar(v, path+".value")
	}
	return op, v, has
}

// scalar checks a value: a string of at most MaxString bytes, a finite
// number or a boolean.
func (p *parser) scalar(v any, path string) {
	switch x := v.(type) {
	case string:
		if len(x) > MaxString {
			p.fail(path, fmt.Sprintf("at most %d bytes", MaxString))
		}
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || len(x) > 40 {
			p.fail(path, "not a number a rule can hold")
		}
	case bool:
	default:
		p.fail(path, "want a string, a number or a boolean")
	}
}

func (p *parser) name(v any, path string) string {
	s, ok := v.(string)
	if !ok || s == "" {
		p.fail(path, "want a name")
		return ""
	}
	if len(s) > MaxString {
		p.fail(path, fmt.Sprintf("at most %d bytes", MaxString))
		return ""
	}
	return s
}

// days reads a window: "30d", 1 to gate.MaxEventDays days.
func (p *parser) days(v any, path string) (string, int) {
	s, _ := v.(string)
	n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if !strings.HasSuffix(s, "d") || err != nil || n < 1 || n > MaxWindowDays || strconv.Itoa(n)+"d" != s {
		p.fail(path, fmt.Sprintf(`want a number of days, 1d to %dd, such as "30d"`, MaxWindowDays))
		return "", 0
	}
	return s, n
}

// MaxWindowDays is the longest window of an event condition (the gate's
// limit: three years, the longest retention of the example policy).
const MaxWindowDays = 1095

func (p *parser) count0(v any, path string) *int {
	n, ok := v.(json.Number)
	i, err := strconv.Atoi(string(n))
	if !ok || err != nil || i < 0 || i > 1_000_000 {
		p.fail(path, "want a whole number from 0 to 1000000")
		return nil
	}
	return &i
}

func (p *parser) where(v any, path string) *Where {
	w := &Where{path: path}
	o, ok := v.(*object)
	if !ok {
		p.fail(path, "want an object {property, op, value}")
		return w
	}
	for _, k := range o.keys {
		if !contains([]string{"property", "op", "value"}, k) {
			p.fail(path+"."+trunc(k), "unknown member")
		}
	}
	w.Property = p.name(o.vals["property"], path+".property")
	w.Op, w.Value, w.hasValue = p.test(o, path)
	return w
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
