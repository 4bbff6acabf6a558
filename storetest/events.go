package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
)

func event(id, subjectID, name string, sec int) *candor.EventRecord {
	// The event's id differs from its message's: the store must keep both.
	return &candor.EventRecord{ID: "ev-" + id, SubjectID: subjectID, Type: "track", Name: name, Purposes: []string{"analytics", "personalization"},
		Time: at(sec), Received: at(sec + 1), Expires: at(sec).Add(24 * time.Hour), Sealed: []byte("sealed-" + id)}
}

func testEvents(t *testing.T, s candor.Store) {
	if err := s.WriteSubject(ctx, subject("sub_ev")); err != nil {
		t.Fatal(err)
	}
	msgs := []candor.Message{
		{ID: "m1", Event: event("m1", "sub_ev", "Product Viewed", 10), Name: "Product Viewed", At: at(11)},
		{ID: "m2", Event: event("m2", "sub_ev", "Product Viewed", 20), Name: "Product Viewed", At: at(21)},
		{ID: "m3", Event: event("m3", "sub_ev", "Order Completed", 15), Name: "Order Completed", At: at(16)},
		{ID: "m4", Name: "Product Viewed", At: at(30)}, // anonymous
		{ID: "m5", Name: "Product Viewed", At: at(30)},
		{ID: "m6", Event: event("m6", "sub_gone", "Product Viewed", 30), Name: "Product Viewed", At: at(31)}, // no such subject: counted
	}
	n, err := s.AppendMessages(ctx, msgs)
	if err != nil || n != 6 {
		t.Fatalf("append: %d %v", n, err)
	}
	// Retries are stored once, in a batch with new ones.
	n, err = s.AppendMessages(ctx, append(msgs[:2:2], candor.Message{ID: "m7", Event: event("m7", "sub_ev", "Products Searched", 40), Name: "Products Searched", At: at(41)}))
	if err != nil || n != 1 {
		t.Fatalf("retry: %d %v", n, err)
	}
	if n, err := s.AppendMessages(ctx, nil); err != nil || n != 0 {
		t.Fatalf("empty: %d %v", n, err)
	}
	evs, err := s.SubjectEvents(ctx, "sub_ev", time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, e := range evs {
		order = append(order, e.ID)
	}
	if fmt.Sprint(order) != "[ev-m7 ev-m2 ev-m3 ev-m1]" {
		t.Fatalf("events newest first: %v", order)
	}
	e := evs[1]
	if e.Type != "track" || e.Name != "Product Viewed" || fmt.Sprint(e.Purposes) != "[analytics personalization]" || !e.Time.Equal(at(20)) ||
		!e.Received.Equal(at(21)) || !e.Expires.Equal(at(20).Add(24*time.Hour)) || string(e.Sealed) != "sealed-m2" {
		t.Fatalf("event read back: %+v", e)
	}
	if page, _ := s.SubjectEvents(ctx, "sub_ev", at(20), 2); len(page) != 2 || page[0].ID != "ev-m3" || page[1].ID != "ev-m1" {
		t.Fatalf("page before t=20: %+v", page)
	}
	stats, err := s.EventStats(ctx, "sub_ev")
	if err != nil {
		t.Fatal(err)
	}
	want := "[{Order Completed 1 15 15} {Product Viewed 2 10 20} {Products Searched 1 40 40}]"
	var got []string
	for _, st := range stats {
		got = append(got, fmt.Sprintf("{%s %d %d %d}", st.Name, st.Count, st.FirstSeen.Second(), st.LastSeen.Second()))
	}
	if fmt.Sprint(got) != want {
		t.Fatalf("stats %v, want %v", got, want)
	}
	counts, err := s.AnonymousCounts(ctx, "2026-01-01", "2026-01-01")
	if err != nil || len(counts) != 1 || counts[0].Name != "Product Viewed" || counts[0].Count != 3 {
		t.Fatalf("anonymous counts: %+v %v", counts, err)
	}
	if none, _ := s.AnonymousCounts(ctx, "2026-01-02", "2026-12-31"); len(none) != 0 {
		t.Fatalf("counts outside the range: %+v", none)
	}
	if n, _ := s.CountSubjects(ctx); n != 1 {
		t.Fatalf("an event for a missing subject created one: %d subjects", n)
	}
}

func testEventsConcurrent(t *testing.T, s candor.Store) {
	if err := s.WriteSubject(ctx, subject("sub_cc")); err != nil {
		t.Fatal(err)
	}
	// Eight writers send overlapping messages: each id is stored once.
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var msgs []candor.Message
			for i := range 50 {
				id := fmt.Sprintf("c%d", (w*25+i)%200)
				msgs = append(msgs, candor.Message{ID: id, Event: event(id, "sub_cc", "Product Viewed", i), Name: "Product Viewed", At: at(i)})
				// Anonymous counts of several names, in an order of the
				// writer's own: writers must not deadlock on them.
				name := []string{"A", "B", "C"}[(w+i)%3]
				if w%2 == 1 {
					name = []string{"C", "B", "A"}[(w+i)%3]
				}
				msgs = append(msgs, candor.Message{ID: fmt.Sprintf("anon-%d-%d", w, i), Name: name, At: at(i)})
			}
			n, err := s.AppendMessages(ctx, msgs)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	evs, err := s.SubjectEvents(ctx, "sub_cc", time.Time{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if total != len(evs)+8*50 || len(evs) != 200 {
		t.Fatalf("stored %d events, reported %d messages, want 200 events and 600 messages", len(evs), total)
	}
	counts, err := s.AnonymousCounts(ctx, "2026-01-01", "2026-01-01")
	var n int64
	for _, c := range counts {
		n += c.Count
	}
	if err != nil || n != 8*50 {
		t.Fatalf("anonymous counts %v (%d), want 400 %v", counts, n, err)
	}
}

func testMinimization(t *testing.T, s candor.Store) {
	add := []candor.MinimizationCount{
		{Day: "2026-01-01", Event: "Product Viewed", Item: "properties.color", Action: "dropped", Count: 2},
		{Day: "2026-01-01", Event: "Products Searched", Item: "properties.query", Action: "redacted", Detector: "email", Count: 1},
		{Day: "2026-01-02", Event: "Product Viewed", Item: "properties.color", Action: "dropped", Count: 1},
	}
	if err := s.AddMinimization(ctx, add); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMinimization(ctx, add[:1]); err != nil {
		t.Fatal(err)
	}
	got, err := s.Minimization(ctx, "2026-01-01", "2026-01-01")
	if err != nil || len(got) != 2 || got[0].Count != 4 || got[0].Item != "properties.color" || got[1].Detector != "email" {
		t.Fatalf("minimization: %+v %v", got, err)
	}
	if all, _ := s.Minimization(ctx, "2026-01-01", "2026-01-31"); len(all) != 3 {
		t.Fatalf("a month: %+v", all)
	}
}
