package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"go.yaml.in/yaml/v3"
)

var (
	campaignKeys = []string{"frequency", "quiet_hours", "double_opt_in", "triggers", "measure"}
	channelKeys  = []string{candor.ChannelEmail, candor.ChannelSMS}
)

// campaigns reads the optional campaigns section: frequency caps and
// quiet hours per channel, and the purposes that need a confirmed consent.
func (c *checker) campaigns(n *yaml.Node, purposes []*purposeDecl, events []*eventDecl) candor.CampaignPolicy {
	var cp candor.CampaignPolicy
	if n == nil {
		return cp
	}
	o := c.object(n, "campaigns", campaignKeys)
	if o == nil {
		return cp
	}
	if v := o.get("frequency"); v != nil {
		if f := c.object(v, "campaigns frequency", channelKeys); f != nil {
			cp.Frequency = map[string]candor.FrequencyCap{}
			for _, ch := range f.order {
				if !slices.Contains(channelKeys, ch) {
					continue
				}
				if fc, ok := c.frequency(f.vals[ch], "campaigns frequency "+ch); ok {
					cp.Frequency[ch] = fc
				}
			}
		}
	}
	if v := o.get("quiet_hours"); v != nil {
		if q := c.object(v, "campaigns quiet_hours", channelKeys); q != nil {
			cp.QuietHours = map[string]candor.QuietHours{}
			for _, ch := range q.order {
				if !slices.Contains(channelKeys, ch) {
					continue
				}
				if qh, ok := c.quietHours(q.vals[ch], "campaigns quiet_hours "+ch); ok {
					cp.QuietHours[ch] = qh
				}
			}
		}
	}
	if v := o.get("double_opt_in"); v != nil {
		byID := map[string]*purposeDecl{}
		var ids []string
		for _, p := range purposes {
			byID[p.ID] = p
			ids = append(ids, p.ID)
		}
		for _, r := range c.refs(v, "campaigns double_opt_in", false) {
			p := byID[r.id]
			switch {
			case p == nil:
				c.errf(r.node, "campaigns double_opt_in refers to unknown purpose %q%s", short(r.id), suggest(r.id, ids))
			case len(p.Marketing) == 0:
				c.errf(r.node, "campaigns double_opt_in names purpose %q, which is not a marketing purpose (it has no marketing: [email] or [sms])", p.ID)
			default:
				cp.DoubleOptIn = append(cp.DoubleOptIn, p.ID)
			}
		}
	}
	if v := o.get("triggers"); v != nil {
		cp.Triggers = c.triggers(v, purposes, events)
	}
	if v := o.get("measure"); v != nil {
		cp.Measure = c.measure(v, purposes, events)
	}
	return cp
}

// frequency reads a cap such as "2/7d": at most 2 messages in any 7 days.
func (c *checker) frequency(n *yaml.Node, what string) (candor.FrequencyCap, bool) {
	s, ok := c.text(n, what)
	if !ok {
		return candor.FrequencyCap{}, false
	}
	count, period, found := strings.Cut(s, "/")
	k, err := strconv.Atoi(strings.TrimSpace(count))
	d, derr := candor.ParseDuration(strings.TrimSpace(period))
	if !found || err != nil || k < 1 || derr != nil || d <= 0 {
		c.errf(n, "%s %q must be a number of messages over a period, such as \"2/7d\" (at most 2 in any 7 days)", what, short(s))
		return candor.FrequencyCap{}, false
	}
	return candor.FrequencyCap{Count: k, Window: d}, true
}

// quietHours reads a window such as "21:00-08:00".
func (c *checker) quietHours(n *yaml.Node, what string) (candor.QuietHours, bool) {
	s, ok := c.text(n, what)
	if !ok {
		return candor.QuietHours{}, false
	}
	from, to, found := strings.Cut(s, "-")
	a, errA := time.Parse("15:04", strings.TrimSpace(from))
	b, errB := time.Parse("15:04", strings.TrimSpace(to))
	if !found || errA != nil || errB != nil {
		c.errf(n, "%s %q must be a window of the day, such as \"21:00-08:00\"", what, short(s))
		return candor.QuietHours{}, false
	}
	q := candor.QuietHours{Start: a.Hour()*60 + a.Minute(), End: b.Hour()*60 + b.Minute()}
	if q.Start == q.End {
		c.errf(n, "%s %q starts and ends at the same time", what, short(s))
		return candor.QuietHours{}, false
	}
	return q, true
}

// marketing checks that a campaign of each marketing purpose can reach
// people: the purpose declares the address field of each of its channels.
func (c *checker) marketing(purposes []*purposeDecl, fields []*fieldDecl) {
	for _, p := range purposes {
		for _, ch := range p.Marketing {
			category := candor.CategoryEmail
			if ch == candor.ChannelSMS {
				category = candor.CategoryPhone
			}
			if !slices.ContainsFunc(fields, func(f *fieldDecl) bool {
				return f.Category == category && slices.Contains(f.Purposes, p.ID)
			}) {
				c.errf(p.marketing, "%s", fmt.Sprintf("purpose %q sends %s, but no field of category %s is declared for it: add %s to the purposes of that field", p.ID, ch, category, p.ID))
			}
		}
	}
}
