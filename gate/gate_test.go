package gate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/sqlite"
	"github.com/candorhq/candor/subjects"
)

var (
	admin        = testenv.Admin
	supportAgent = candor.Actor{ID: "test:support", Role: "support"}
)

func TestRestrictedSubject(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	id := e.MustSubject(t, subjects.Input{UserID: "r", Email: "r@example.com"}, consent.ScopeAll)
	if d, _ := e.Gate.Decide(ctx, id, "marketing.email"); !d.Allow {
		t.Fatalf("before restriction: %+v", d)
	}
	if err := e.Store.SetRestricted(ctx, id, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.Ledger.Invalidate(id)
	for _, p := range []string{"marketing.email", "service", "personalization"} {
		if d, _ := e.Gate.Decide(ctx, id, p); d.Allow || d.Code != gate.CodeRestricted {
			t.Errorf("%s while restricted: %+v", p, d)
		}
	}
	if d, _ := e.Gate.Decide(ctx, id, "legal"); !d.Allow {
		t.Errorf("a legal obligation goes on under restriction: %+v", d)
	}
	_, err := e.Gate.Read(ctx, gate.ReadRequest{Actor: admin, Purpose: "service", SubjectID: id})
	if candor.ErrorCode(err) != candor.EFORBIDDEN {
		t.Errorf("read while restricted: %v", err)
	}
}

// TestReadFailsClosed: when the audit entry cannot be written, the read
// returns no data.
func TestReadFailsClosed(t *testing.T) {
	auditStore, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := testenv.New(t, auditStore)
	id := e.MustSubject(t, subjects.Input{UserID: "fc", Email: "closed@example.com"}, consent.ScopeAll)
	if _, err := e.Gate.Read(context.Background(), gate.ReadRequest{Actor: admin, Purpose: "service", SubjectID: id}); err != nil {
		t.Fatalf("read with a working audit log: %v", err)
	}
	auditStore.Close()
	res, err := e.Gate.Read(context.Background(), gate.ReadRequest{Actor: admin, Purpose: "service", SubjectID: id})
	if err == nil || res != nil {
		t.Fatalf("read with a broken audit log returned %+v, %v", res, err)
	}
}

func TestSensitiveFieldNeedsSeparateConsent(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	// Find a sensitive field declared for a consent purpose, if the example has one.
	for _, f := range e.Policy.Fields {
		if !f.Sensitive {
			continue
		}
		for _, pid := range f.Purposes {
			p := e.Policy.Purpose(pid)
			if !p.NeedsConsent() {
				continue
			}
			id := e.MustSubject(t, subjects.Input{UserID: "s-" + f.ID, Traits: map[string]any{f.ID: sampleValue(f)}}, consent.ScopeAll)
			// Accept all never grants a separate-consent purpose.
			if _, err := e.Gate.Read(ctx, gate.ReadRequest{Actor: admin, Purpose: p.ID, SubjectID: id, Fields: []string{f.ID}}); candor.ErrorCode(err) != candor.EFORBIDDEN {
				t.Errorf("%s for %s after accept all: %v", f.ID, p.ID, err)
			}
			if _, err := e.Ledger.Record(ctx, admin, "", id, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{p.ID: true}}); err != nil {
				t.Fatal(err)
			}
			res, err := e.Gate.Read(ctx, gate.ReadRequest{Actor: admin, Purpose: p.ID, SubjectID: id, Fields: []string{f.ID}})
			if err != nil || res.Fields[f.ID] == "" {
				t.Errorf("%s for %s after separate consent: %+v %v", f.ID, p.ID, res, err)
			}
			return
		}
	}
	t.Skip("the example policy has no sensitive field under a consent purpose")
}

func sampleValue(f candor.Field) any {
	switch f.Type {
	case "date":
		return "1980-01-01"
	case "number":
		return 1
	case "boolean":
		return true
	case "email":
		return "s@example.com"
	case "phone":
		return "+8613900000000"
	}
	return "sample"
}

func TestShreddedSubjectIsGone(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	id := e.MustSubject(t, subjects.Input{UserID: "gone", Email: "gone@example.com"}, "")
	if err := e.Vault.Shred(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err := e.Gate.Read(ctx, gate.ReadRequest{Actor: admin, Purpose: "service", SubjectID: id})
	if candor.ErrorCode(err) != candor.EGONE {
		t.Errorf("read after shredding: %v", err)
	}
}

func TestMask(t *testing.T) {
	cases := []struct{ typ, in, want string }{
		{"email", "jane.doe@example.com", "j***@example.com"},
		{"email", "x@y.cn", "x***@y.cn"},
		{"email", "broken", "***"},
		{"phone", "+8613812345678", "138****5678"},
		{"phone", "+442079460958", "442*****0958"},
		{"phone", "+1234", "****"},
		{"date", "1990-05-01", "1990-**-**"},
		{"string", "张伟", "张***"},
		{"string", "Hangzhou Westlake District", "H********"},
		{"string", "", ""},
	}
	for _, c := range cases {
		if got := gate.Mask(&candor.Field{Type: c.typ}, c.in); got != c.want {
			t.Errorf("Mask(%s, %q) = %q, want %q", c.typ, c.in, got, c.want)
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	e := testenv.New(b, nil)
	ids := make([]string, 200)
	for i := range ids {
		ids[i] = e.MustSubject(b, subjects.Input{UserID: fmt.Sprint("b", i)}, consent.ScopeAll)
	}
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := e.Gate.Decide(ctx, ids[i%len(ids)], "marketing.email"); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkRead3Fields(b *testing.B) {
	e := testenv.New(b, nil)
	ids := make([]string, 200)
	for i := range ids {
		ids[i] = e.MustSubject(b, subjects.Input{UserID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@example.com", i), Phone: fmt.Sprintf("+86139%08d", i),
			Traits: map[string]any{"name": "Reader"}}, "")
	}
	ctx := context.Background()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			res, err := e.Gate.Read(ctx, gate.ReadRequest{Actor: admin, Purpose: "service", SubjectID: ids[i%len(ids)], Fields: []string{"email", "phone", "name"}})
			if err != nil || len(res.Fields) != 3 {
				b.Fatal(res, err)
			}
			i++
		}
	})
}
