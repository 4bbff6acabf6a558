package rights_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/subjects"
)

// BenchmarkErase10kEvents erases a subject holding 10,000 events, traits
// and consents, on the embedded store (target: under 100 ms).
func BenchmarkErase10kEvents(b *testing.B) {
	f := newFixture(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id := f.MustSubject(b, subjects.Input{UserID: fmt.Sprint("bench-", i), Email: fmt.Sprintf("bench%d@example.com", i), Traits: map[string]any{"city": "Xiamen"}}, consent.ScopeAll)
		f.seedEvents(b, id, fmt.Sprint("b", i), 10000)
		b.StartTimer()
		if _, err := f.r.Erase(ctx, dpo, id, "req_bench", false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAccessReport10kEvents reads the access report of a subject with
// 10,000 events, each decrypted (target: under 200 ms).
func BenchmarkAccessReport10kEvents(b *testing.B) {
	f := newFixture(b)
	id := f.MustSubject(b, subjects.Input{UserID: "report", Email: "report@example.com", Traits: map[string]any{"city": "Xiamen"}}, consent.ScopeAll)
	f.seedEvents(b, id, "r", 10000)
	b.ResetTimer()
	for range b.N {
		rep, err := f.Gate.Report(ctx, dpo, id, "req_bench")
		if err != nil || len(rep.Events.Items) != 10000 {
			b.Fatal(err)
		}
	}
}

// seedEvents stores n sealed events for the subject, as the collector would.
func (f *fixture) seedEvents(b *testing.B, id, prefix string, n int) {
	b.Helper()
	msgs := make([]candor.Message, 0, n)
	for j := range n {
		mid := fmt.Sprintf("%s-%d", prefix, j)
		sealed, err := f.Vault.Seal(ctx, id, candor.EventSealField(mid), []byte(`{"properties":{"product_id":"P000123","category":"shoes","price":199},"context":{"ip":"203.0.113.0"}}`))
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, candor.Message{ID: mid, Name: "Product Viewed", At: f.now, Event: &candor.EventRecord{ID: mid, SubjectID: id, Type: "track", Name: "Product Viewed",
			Purposes: []string{"analytics"}, Time: f.now.Add(-time.Duration(j) * time.Second), Received: f.now, Expires: f.now.AddDate(0, 6, 0), Sealed: sealed}})
	}
	if _, err := f.Store.AppendMessages(ctx, msgs); err != nil {
		b.Fatal(err)
	}
}
