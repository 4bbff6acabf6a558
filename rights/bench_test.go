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
		msgs := make([]candor.Message, 0, 10000)
		for j := range 10000 {
			mid := fmt.Sprintf("b%d-%d", i, j)
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
	msgs := make([]candor.Message, 0, 10000)
	for j := range 10000 {
		mid := fmt.Sprintf("r-%d", j)
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
	b.ResetTimer()
	for range b.N {
		rep, err := f.Gate.Report(ctx, dpo, id, "req_bench")
		if err != nil || len(rep.Events.Items) != 10000 {
			b.Fatal(err)
		}
	}
}
