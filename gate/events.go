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
