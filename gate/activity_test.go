package gate_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/subjects"
)

// TestScanActivity: a run with EventDays yields each person's events of
// the window that were collected for the run's purpose only (purpose
// limitation: orders, collected for service, legal and analytics, are not
// yielded to a personalization run), unsealed, newest first; the page's
// audit entry says events were read; a snapshot's ids as Source are read,
// and nobody else; the decisions asked for come with each person, and a
// role without their purpose is refused.
func TestScanActivity(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	a := e.MustSubject(t, subjects.Input{UserID: "act-a"}, consent.ScopeAll)
	e.MustSubject(t, subjects.Input{UserID: "act-b"}, consent.ScopeAll) // not in the source: not read
	send := func(event string, ago time.Duration, props map[string]any) {
		m, _ := json.Marshal(map[string]any{"type": "track", "event": event, "userId": "act-a", "messageId": candor.NewID("m_"),
			"timestamp": time.Now().Add(-ago).UTC().Format(time.RFC3339Nano), "properties": props})
		if _, err := e.App.Collector.Collect(ctx, candor.Actor{ID: "w", Role: candor.RoleWrite}, collect.Call{Messages: []json.RawMessage{m}}, collect.Signals{}); err != nil {
			t.Fatal(err)
		}
	}
	send("Product Viewed", time.Hour, map[string]any{"category": "tea", "price": 3})
	send("Product Viewed", 40*24*time.Hour, map[string]any{"category": "old"})
	send("Order Completed", 2*time.Hour, map[string]any{"revenue": 10})
	before, _, _ := e.Store.AuditHead(ctx)
	people, _ := scanAll(t, e, gate.ScanRequest{Actor: marketer, Purpose: "personalization", Fields: []string{}, EventDays: 30,
		Decisions: []string{"marketing.email"}, Source: func(ctx context.Context, after string, limit int) ([]string, error) {
			if after >= a {
				return nil, nil
			}
			return []string{a}, nil
		}})
	if len(people) != 1 || people[0].SubjectID != a {
		t.Fatalf("yielded %+v, want only the source's person", people)
	}
	act := people[0].Activity
	if len(act) != 1 || act[0].Name != "Product Viewed" || act[0].Properties["category"] != "tea" {
		t.Errorf("activity %+v, want the one view of the window (no order: not collected for personalization)", act)
	}
	if !people[0].Allows["marketing.email"] {
		t.Errorf("decisions %+v", people[0].Allows)
	}
	entries, _ := e.Store.AuditEntries(ctx, before+1, 10)
	if len(entries) != 1 || !slices.Contains(entries[0].Fields, "events:30d") || !slices.Contains(entries[0].Fields, "decision:marketing.email") {
		t.Errorf("audit %+v", entries)
	}
	if _, err := e.Gate.Scan(ctx, gate.ScanRequest{Actor: marketer, Purpose: "personalization", Decisions: []string{"legal"}}, func(*gate.Person) error { return nil }); candor.ErrorCode(err) != candor.EFORBIDDEN {
		t.Errorf("a decision for a purpose the role lacks: %v", err)
	}
	if _, err := e.Gate.Scan(ctx, gate.ScanRequest{Actor: marketer, Purpose: "personalization", EventDays: 5000}, func(*gate.Person) error { return nil }); candor.ErrorCode(err) != candor.EINVALID {
		t.Errorf("a window too long: %v", err)
	}
}
