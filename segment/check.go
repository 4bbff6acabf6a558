package segment

import (
	"encoding/json"
	"fmt"

	"github.com/candorhq/candor"
)

// Check returns an EINVALID error naming each path of the rule that the
// policy refuses for a segment for purpose read by a staff member of role
// (nil when there is none):
//
//   - a trait not declared, or not declared for the purpose;
//   - a trait the role sees masked, with any op but exists (a rule must not
//     learn, by counting, a value the role may not read: prefix, eq, lt …
//     on a masked e-mail would spell it out a character at a time);
//   - an event not declared, or not collected for the purpose (events
//     carry the purposes they were collected for: a marketing segment may
//     not use events collected for service or legal obligations);
//   - a property not declared for the event, or a sum of one that is not
//     a number;
//   - a consent purpose unknown, or one the role may not use;
//   - a value of the wrong type for the field's type (a number for a
//     number field; lt, gt … on a string field only for a date).
func (r *Rule) Check(pol *candor.Policy, purpose, role string) error {
	c := &checker{pol: pol, purpose: purpose, masked: map[string]bool{}}
	if pr := pol.Role(role); pr != nil {
		for _, m := range pr.Masked {
			c.masked[m] = true
		}
	}
	c.role = role
	c.rule(r)
	if len(c.errs) > 0 {
		return candor.Invalid("the rule names what the policy does not allow for "+purpose, c.errs...)
	}
	return nil
}

type checker struct {
	pol     *candor.Policy
	purpose string
	role    string
	masked  map[string]bool
	errs    []candor.FieldError
}

func (c *checker) fail(path, msg string) {
	if len(c.errs) < 20 {
		c.errs = append(c.errs, candor.FieldError{Field: path, Message: msg})
	}
}

func (c *checker) rule(r *Rule) {
	switch {
	case r.All != nil || r.Any != nil:
		for _, x := range append(append([]*Rule{}, r.All...), r.Any...) {
			c.rule(x)
		}
	case r.Not != nil:
		c.rule(r.Not)
	case r.Trait != "":
		f := c.pol.Field(r.Trait)
		switch {
		case f == nil:
			c.fail(r.path+".trait", "not declared in the policy")
		case !contains(f.Purposes, c.purpose):
			c.fail(r.path+".trait", "not declared for "+c.purpose)
		case c.masked[f.ID] && r.Op != "exists":
			c.fail(r.path+".op", fmt.Sprintf("your role sees %s masked: only exists may test it", f.ID))
		default:
			c.value(r.path, r.Op, r.Value, f.Type)
		}
	case r.Event != "":
		e := c.pol.Event(r.Event)
		switch {
		case e == nil:
			c.fail(r.path+".event", "not declared in the policy")
			return
		case !contains(e.Purposes, c.purpose):
			c.fail(r.path+".event", "not collected for "+c.purpose)
			return
		}
		for _, w := range r.Where {
			typ, ok := e.Properties[w.Property]
			if !ok {
				c.fail(w.path+".property", "not declared for "+e.Name)
				continue
			}
			c.value(w.path, w.Op, w.Value, typ)
		}
		if r.Sum != "" {
			if typ, ok := e.Properties[r.Sum]; !ok {
				c.fail(r.path+".sum", "not declared for "+e.Name)
			} else if typ != "number" && typ != "integer" {
				c.fail(r.path+".sum", "not a number")
			}
		}
	case r.Consent != "":
		switch {
		case c.pol.Purpose(r.Consent) == nil:
			c.fail(r.path+".consent", "not a purpose of the policy")
		case !c.pol.RoleAllows(c.role, r.Consent):
			c.fail(r.path+".consent", "your role may not use "+r.Consent)
		}
	}
}

// value checks a test's value against the type of what it tests.
func (c *checker) value(path, op string, v any, typ string) {
	if op == "exists" {
		return
	}
	numeric := typ == "number" || typ == "integer"
	check := func(x any, p string) {
		switch x.(type) {
		case json.Number:
			if !numeric {
				c.fail(p, "want a string: "+typ+" values are compared as text")
			}
		case bool:
			if typ != "boolean" {
				c.fail(p, "want a "+typ)
			}
		case string:
			if numeric {
				c.fail(p, "want a number")
			}
		}
	}
	switch op {
	case "in":
		list, _ := v.([]any)
		for i, x := range list {
			check(x, fmt.Sprintf("%s.value[%d]", path, i))
		}
	case "prefix":
		if numeric {
			c.fail(path+".op", "prefix tests text; the field is a number")
		}
	case "lt", "lte", "gt", "gte":
		if !numeric && typ != "date" && typ != "timestamp" {
			c.fail(path+".op", op+" compares numbers and dates; the field is "+typ)
			return
		}
		check(v, path+".value")
	default:
		check(v, path+".value")
	}
}

// Days returns how many days of events the rule looks at (0: none).
func (r *Rule) Days() int {
	n := 0
	r.walk(func(x *Rule) {
		if x.Event != "" {
			n = max(n, x.within)
		}
	})
	return n
}

// Consents returns the purposes the rule's consent conditions name.
func (r *Rule) Consents() []string {
	var out []string
	r.walk(func(x *Rule) {
		if x.Consent != "" && !contains(out, x.Consent) {
			out = append(out, x.Consent)
		}
	})
	return out
}

func (r *Rule) walk(f func(*Rule)) {
	f(r)
	for _, x := range r.All {
		x.walk(f)
	}
	for _, x := range r.Any {
		x.walk(f)
	}
	if r.Not != nil {
		r.Not.walk(f)
	}
}
