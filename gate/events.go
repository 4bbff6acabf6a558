package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/vault"
)

// MaxProfileEvents is how many of a subject's latest events a summary
// looks at.
const MaxProfileEvents = 10000

// EventSummary aggregates a subject's events collected for one purpose:
// only events whose purposes, when they were collected, included it.
type EventSummary struct {
	Total         int64          `json:"total"`
	ByName        []EventCount   `json:"by_name"`
	TopCategories []CategoryRank `json:"top_categories"`
	FirstSeen     *time.Time     `json:"first_seen,omitempty"`
	LastSeen      *time.Time     `json:"last_seen,omitempty"`
	// Truncated says the subject has more events than a summary reads.
	Truncated bool `json:"truncated,omitempty"`
}

// EventCount counts one event name.
type EventCount struct {
	Name      string    `json:"name"`
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// CategoryRank is one product category and how many events named it.
type CategoryRank struct {
	Category string `json:"category"`
	Count    int64  `json:"count"`
}

func (g *Gate) eventSummary(ctx context.Context, subjectID, purpose string) (*EventSummary, error) {
	evs, err := g.store.SubjectEvents(ctx, subjectID, time.Time{}, MaxProfileEvents+1)
	if err != nil {
		return nil, err
	}
	sum := &EventSummary{ByName: []EventCount{}, TopCategories: []CategoryRank{}}
	if len(evs) > MaxProfileEvents {
		evs, sum.Truncated = evs[:MaxProfileEvents], true
	}
	byName := map[string]*EventCount{}
	cats := map[string]int64{}
	now := g.now()
	for _, e := range evs {
		if !contains(e.Purposes, purpose) || !e.Expires.After(now) {
			continue
		}
		sum.Total++
		c := byName[e.Name]
		if c == nil {
			c = &EventCount{Name: e.Name, FirstSeen: e.Time, LastSeen: e.Time}
			byName[e.Name] = c
		}
		c.Count++
		if e.Time.Before(c.FirstSeen) {
			c.FirstSeen = e.Time
		}
		if e.Time.After(c.LastSeen) {
			c.LastSeen = e.Time
		}
		plain, err := g.sealer.Unseal(ctx, subjectID, candor.EventSealField(e.ID), e.Sealed)
		if errors.Is(err, vault.ErrShredded) {
			return nil, &candor.Error{Code: candor.EGONE, Message: "the subject was erased", Reason: "erased"}
		}
		if err != nil {
			return nil, fmt.Errorf("gate: unseal event: %w", err)
		}
		var payload struct {
			Properties map[string]any `json:"properties"`
		}
		if json.Unmarshal(plain, &payload) == nil {
			if cat, ok := payload.Properties["category"].(string); ok && cat != "" {
				cats[cat]++
			}
		}
	}
	for _, c := range byName {
		sum.ByName = append(sum.ByName, *c)
		if sum.FirstSeen == nil || c.FirstSeen.Before(*sum.FirstSeen) {
			t := c.FirstSeen
			sum.FirstSeen = &t
		}
		if sum.LastSeen == nil || c.LastSeen.After(*sum.LastSeen) {
			t := c.LastSeen
			sum.LastSeen = &t
		}
	}
	sort.Slice(sum.ByName, func(i, j int) bool { return sum.ByName[i].Name < sum.ByName[j].Name })
	for cat, n := range cats {
		sum.TopCategories = append(sum.TopCategories, CategoryRank{Category: cat, Count: n})
	}
	sort.Slice(sum.TopCategories, func(i, j int) bool {
		a, b := sum.TopCategories[i], sum.TopCategories[j]
		return a.Count > b.Count || (a.Count == b.Count && a.Category < b.Category)
	})
	if len(sum.TopCategories) > 5 {
		sum.TopCategories = sum.TopCategories[:5]
	}
	return sum, nil
}

// MaxPersonEvents is how many of a person's events a run that asks for
// them ([ScanRequest.EventDays]) yields per person: the newest.
const MaxPersonEvents = 500

// MaxEventDays is the longest window of events a run may ask for.
const MaxEventDays = 1095

// maxEventsLooked bounds how many of a person's stored events a run looks
// at to find those of its window and purpose.
const maxEventsLooked = 20 * MaxPersonEvents

// Activity is one of a person's events as a run yields it: its name, when
// it happened, and its declared properties, unsealed.
type Activity struct {
	Name       string         `json:"name"`
	Time       time.Time      `json:"time"`
	Properties map[string]any `json:"properties,omitempty"`
}

// activity returns the subject's events of the last days days collected
// for purpose (their purposes when collected included it) and not past
// their retention, newest first, unsealed, with only the properties the
// policy declares for the event; at most [MaxPersonEvents] (truncated
// then). EGONE if the subject was erased meanwhile.
func (g *Gate) activity(ctx context.Context, subjectID, purpose string, days int) ([]Activity, bool, error) {
	now := g.now()
	since := now.AddDate(0, 0, -days)
	var out []Activity
	before, looked := time.Time{}, 0
	for looked < maxEventsLooked {
		evs, err := g.store.SubjectEvents(ctx, subjectID, before, 200)
		if err != nil {
			return nil, false, err
		}
		if len(evs) == 0 {
			return out, false, nil
		}
		for _, e := range evs {
			looked++
			if e.Time.Before(since) {
				return out, false, nil
			}
			if !contains(e.Purposes, purpose) || !e.Expires.After(now) {
				continue
			}
			if len(out) == MaxPersonEvents {
				return out, true, nil
			}
			plain, err := g.sealer.Unseal(ctx, subjectID, candor.EventSealField(e.ID), e.Sealed)
			if errors.Is(err, vault.ErrShredded) {
				return nil, false, &candor.Error{Code: candor.EGONE, Message: "the subject was erased", Reason: "erased"}
			}
			if err != nil {
				return nil, false, fmt.Errorf("gate: unseal event: %w", err)
			}
			var payload struct {
				Properties map[string]any `json:"properties"`
			}
			a := Activity{Name: e.Name, Time: e.Time}
			if json.Unmarshal(plain, &payload) == nil {
				if decl := g.policy.Event(e.Name); decl != nil {
					for k, v := range payload.Properties {
						if _, ok := decl.Properties[k]; ok {
							if a.Properties == nil {
								a.Properties = map[string]any{}
							}
							a.Properties[k] = v
						}
					}
				}
			}
			out = append(out, a)
		}
		// The next read starts before the oldest of this one (stores
		// read strictly before: the bound moves back each time).
		before = evs[len(evs)-1].Time
	}
	return out, true, nil
}
