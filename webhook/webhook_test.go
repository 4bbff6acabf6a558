package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/postgres"
	"github.com/candorhq/candor/sqlite"
	"github.com/candorhq/candor/webhook"
)

var ctx = context.Background()

// opener stands in for the gate: a body without a subject is returned as
// it is; one whose subject was erased is gone.
type opener struct{}

func (opener) OpenDelivery(_ context.Context, d candor.Delivery) ([]byte, error) {
	if d.SubjectID != "" {
		return nil, candor.Errorf(candor.EGONE, "the subject was erased")
	}
	return d.Body, nil
}

// TestNotifier: a delivery is sent signed to a real HTTP server that fails
// the first attempt; the retry comes after the back-off, with the same
// delivery id; one whose person was erased before it went out fails at
// once; the receiver's check refuses a replay, a changed body and another
// recipient's secret. On SQLite, and on PostgreSQL when it is configured.
func TestNotifier(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := sqlite.Open(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		testNotifier(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		url, prefix := testenv.Postgres(t)
		db, err := postgres.Open(ctx, url, postgres.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		testNotifier(t, db)
	})
}

func testNotifier(t *testing.T, store candor.Store) {
	type call struct {
		header, delivery string
		body             []byte
	}
	var mu sync.Mutex
	var calls []call
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, call{r.Header.Get(webhook.SignatureHeader), r.Header.Get(webhook.DeliveryHeader), b})
		n := len(calls)
		mu.Unlock()
		if n == 1 {
			http.Error(w, "down for maintenance", 503)
			return
		}
		w.WriteHeader(204)
	}))
	defer receiver.Close()

	pol := &candor.Policy{Recipients: []candor.Recipient{{ID: "acme-ads", Webhook: receiver.URL + "/candor"}}}
	pol.Index()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	secret := func(id string) []byte { return []byte("the secret of " + id + ", 32 bytes or more") }
	n := webhook.NewNotifier(webhook.NotifierOptions{Store: store, Policy: pol, Gate: opener{}, Secret: secret, Now: clock})

	requestID := candor.NewID(candor.PrefixRequest)
	notice := webhook.Notice{Event: "erasure", SubjectID: "sub_shared", RequestID: requestID, At: now, Fields: []string{"age_band", "city"}}
	body, _ := json.Marshal(notice)
	if err := store.PutDeliveries(ctx, []candor.Delivery{
		{ID: candor.NewID(candor.PrefixDelivery), RequestID: requestID, Recipient: "acme-ads", Event: "erasure", Body: body,
			Status: candor.DeliveryPending, NextAt: now, UpdatedAt: now},
		{ID: candor.NewID(candor.PrefixDelivery), RequestID: requestID, Recipient: "acme-ads", Event: "rectification", Body: []byte("sealed"),
			SubjectID: "sub_erased", Status: candor.DeliveryPending, NextAt: now, UpdatedAt: now},
	}); err != nil {
		t.Fatal(err)
	}
	n.DeliverDue(ctx) // fails: 503
	now = now.Add(500 * time.Millisecond)
	n.DeliverDue(ctx) // not due yet: back-off
	if len(calls) != 1 {
		t.Fatalf("%d calls before the back-off ended", len(calls))
	}
	now = now.Add(time.Second)
	n.DeliverDue(ctx)
	if len(calls) != 2 {
		t.Fatalf("%d calls after the back-off", len(calls))
	}
	ds, _ := store.Deliveries(ctx, requestID)
	status := map[string]candor.Delivery{}
	for _, d := range ds {
		status[d.Event] = d
	}
	if d := status["erasure"]; d.Status != candor.DeliveryDelivered || d.Attempts != 2 {
		t.Fatalf("erasure %+v", d)
	}
	// The person was erased before the rectification went out: failed at
	// once, with the reason, never sent.
	if d := status["rectification"]; d.Status != candor.DeliveryFailed || d.Attempts != 1 || !strings.Contains(d.LastError, "erased") {
		t.Fatalf("rectification %+v", d)
	}
	c := calls[1]
	if c.delivery != calls[0].delivery || c.delivery == "" {
		t.Error("the retry has another delivery id")
	}
	if err := webhook.VerifySignature(secret("acme-ads"), c.body, c.header, now, webhook.SignatureTolerance); err != nil {
		t.Fatal(err)
	}
	var got webhook.Notice
	if err := json.Unmarshal(c.body, &got); err != nil || got.SubjectID != notice.SubjectID || got.Event != "erasure" || len(got.Fields) != 2 {
		t.Fatalf("body %s %v", c.body, err)
	}
	// A replay ten minutes later, a changed body, another recipient's secret.
	if err := webhook.VerifySignature(secret("acme-ads"), c.body, c.header, now.Add(10*time.Minute), webhook.SignatureTolerance); err == nil {
		t.Error("a replayed webhook verified")
	}
	if err := webhook.VerifySignature(secret("acme-ads"), append(c.body, ' '), c.header, now, webhook.SignatureTolerance); err == nil {
		t.Error("a changed body verified")
	}
	if err := webhook.VerifySignature(secret("global-parcel"), c.body, c.header, now, webhook.SignatureTolerance); err == nil {
		t.Error("another recipient's secret verified")
	}
}

// TestVerifySignature: what a receiver accepts of [webhook.Sign]'s header.
func TestVerifySignature(t *testing.T) {
	secret, body := []byte("a secret of at least thirty-two bytes"), []byte(`{"event":"erasure"}`)
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	good := webhook.Sign(secret, body, at)
	for _, tc := range []struct {
		name   string
		header string
		now    time.Time
		ok     bool
	}{
		{"fresh", good, at, true},
		{"within the tolerance", good, at.Add(webhook.SignatureTolerance), true},
		{"too old", good, at.Add(webhook.SignatureTolerance + time.Second), false},
		{"from the future", good, at.Add(-webhook.SignatureTolerance - time.Second), false},
		{"no signature", "t=" + good[2:12], at, false},
		{"empty", "", at, false},
		{"another time", webhook.Sign(secret, body, at.Add(time.Second))[:13] + good[13:], at, false},
	} {
		err := webhook.VerifySignature(secret, body, tc.header, tc.now, webhook.SignatureTolerance)
		if got := err == nil; got != tc.ok {
			t.Errorf("%s: %q verified %v, want %v (%v)", tc.name, tc.header, got, tc.ok, err)
		}
	}
}
