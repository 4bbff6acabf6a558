package policy

import (
	"slices"
	"time"

	"github.com/candorhq/candor"
	"go.yaml.in/yaml/v3"
)

var (
	triggerNames = []string{candor.TriggerWelcome, candor.TriggerAbandonedCart}
	triggerKeys  = []string{"purpose", "after", "within", "subject", "body"}
	measureKeys  = []string{"purpose", "conversion", "within"}
)

// collectedFor reports whether the event is declared and collected for purpose.
func collectedFor(events []*eventDecl, name, purpose string) (declared, collected bool) {
	for _, e := range events {
		if e.Name == name {
			return true, slices.Contains(e.Purposes, purpose)
		}
	}
	return false, false
}

func (c *checker) duration(n *yaml.Node, what string, def time.Duration) candor.Duration {
	if n == nil {
		return candor.Duration(def)
	}
	s, ok := c.text(n, what)
	if !ok {
		return candor.Duration(def)
	}
	d, err := candor.ParseDuration(s)
	if err != nil {
		c.errf(n, "%s %q must be a number and a unit (h, d, w), such as 4h or 7d", what, short(s))
		return candor.Duration(def)
	}
	return d
}

// triggers reads campaigns.triggers: a welcome and an abandoned-cart
// reminder, each for a marketing purpose that sends e-mail. A cart
// reminder reads the person's Product Added and Order Completed events for
// its own purpose, so both must be collected for that purpose (purpose
// limitation: events collected for analytics or personalization do not
// drive marketing).
func (c *checker) triggers(n *yaml.Node, purposes []*purposeDecl, events []*eventDecl) map[string]*candor.TriggerPolicy {
	o := c.object(n, "campaigns triggers", triggerNames)
	if o == nil {
		return nil
	}
	out := map[string]*candor.TriggerPolicy{}
	for _, name := range o.order {
		if !slices.Contains(triggerNames, name) {
			continue
		}
		lbl := "campaigns triggers " + name
		t := c.object(o.vals[name], lbl, triggerKeys)
		if t == nil {
			continue
		}
		c.require(t, lbl, "purpose", "subject", "body")
		tp := &candor.TriggerPolicy{Name: name}
		if v := t.get("purpose"); v != nil {
			if id, ok := c.text(v, lbl+" purpose"); ok {
				var p *purposeDecl
				for _, d := range purposes {
					if d.ID == id {
						p = d
					}
				}
				switch {
				case p == nil:
					c.errf(v, "%s refers to unknown purpose %q", lbl, short(id))
				case !p.MarketingChannel(candor.ChannelEmail):
					c.errf(v, "%s names purpose %q, which is not a marketing purpose for e-mail (marketing: [email])", lbl, p.ID)
				default:
					tp.Purpose = p.ID
				}
			}
		}
		switch name {
		case candor.TriggerWelcome:
			if v := t.get("after"); v != nil {
				c.errf(t.keys["after"], "%s: after is for abandoned_cart only", lbl)
			}
			tp.Within = c.duration(t.get("within"), lbl+" within", 7*24*time.Hour)
		case candor.TriggerAbandonedCart:
			tp.After = c.duration(t.get("after"), lbl+" after", 4*time.Hour)
			tp.Within = c.duration(t.get("within"), lbl+" within", 3*24*time.Hour)
			if tp.Within <= tp.After {
				c.errf(o.vals[name], "%s: within (%s) must be longer than after (%s)", lbl, time.Duration(tp.Within), time.Duration(tp.After))
			}
			if tp.Purpose != "" {
				for _, ev := range []string{candor.EventProductAdded, candor.EventOrderCompleted} {
					declared, collected := collectedFor(events, ev, tp.Purpose)
					switch {
					case !declared:
						c.errf(t.keys["purpose"], "%s needs the event %q, which the policy does not declare", lbl, ev)
					case !collected:
						c.errf(t.keys["purpose"], "%s is sent for %s, but the event %q is not collected for %s: add %s to its purposes (the notice then tells people that their cart and orders are used for %s), or send the reminder for a purpose the event is collected for",
							lbl, tp.Purpose, ev, tp.Purpose, tp.Purpose, tp.Purpose)
					}
				}
			}
		}
		tp.Subject = c.texts(t.get("subject"), lbl, "subject")
		tp.Body = c.texts(t.get("body"), lbl, "body")
		out[name] = tp
	}
	return out
}

// measure reads campaigns.measure: the purpose opens, clicks and
// conversions are measured for (one that rests on consent: a pixel and
// a tracked link are processing the person must have agreed to), and the
// conversion event, which must be collected for that purpose.
func (c *checker) measure(n *yaml.Node, purposes []*purposeDecl, events []*eventDecl) *candor.MeasurePolicy {
	const lbl = "campaigns measure"
	o := c.object(n, lbl, measureKeys)
	if o == nil {
		return nil
	}
	c.require(o, lbl, "purpose")
	m := &candor.MeasurePolicy{Conversion: candor.EventOrderCompleted}
	if v := o.get("purpose"); v != nil {
		if id, ok := c.text(v, lbl+" purpose"); ok {
			var p *purposeDecl
			for _, d := range purposes {
				if d.ID == id {
					p = d
				}
			}
			switch {
			case p == nil:
				c.errf(v, "%s refers to unknown purpose %q", lbl, short(id))
			case p.Basis != candor.BasisConsent:
				c.errf(v, "%s names purpose %q, which rests on %s: opens and clicks are measured only with consent", lbl, p.ID, p.Basis)
			default:
				m.Purpose = p.ID
			}
		}
	}
	if v := o.get("conversion"); v != nil {
		if s, ok := c.text(v, lbl+" conversion"); ok {
			m.Conversion = s
		}
	}
	if m.Purpose != "" {
		declared, collected := collectedFor(events, m.Conversion, m.Purpose)
		switch {
		case !declared:
			c.errf(o.node, "%s counts the event %q, which the policy does not declare", lbl, short(m.Conversion))
		case !collected:
			c.errf(o.node, "%s counts the event %q for %s, but it is not collected for %s", lbl, m.Conversion, m.Purpose, m.Purpose)
		}
	}
	m.Within = c.duration(o.get("within"), lbl+" within", 7*24*time.Hour)
	if m.Purpose == "" {
		return nil
	}
	return m
}
