package rights_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/postgres"
	"github.com/candorhq/candor/rights"
	"github.com/candorhq/candor/subjects"
	"github.com/candorhq/candor/webhook"
)

// TestErasureWebhooks: a recipient that received data is told of the
// erasure by a signed webhook, on a real HTTP server that fails the first
// attempt; the retry comes after the back-off; the request shows the
// status; a replayed call is refused by the signature check.
func TestErasureWebhooks(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testErasureWebhooks(t, testenv.New(t, nil)) })
	t.Run("postgres", func(t *testing.T) {
		url, prefix := testenv.Postgres(t)
		db, err := postgres.Open(context.Background(), url, postgres.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		e, err := testenv.Wire(db, t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		testErasureWebhooks(t, e)
	})
}

func testErasureWebhooks(t *testing.T, e *testenv.Env) {
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

	pol := *e.Policy
	pol.Recipients = append([]candor.Recipient{}, pol.Recipients...)
	for i := range pol.Recipients {
		if pol.Recipients[i].ID == "acme-ads" {
			pol.Recipients[i].Webhook = receiver.URL + "/candor"
		}
	}
	pol.Index()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	secret := func(id string) []byte { return e.Vault.BlindIndex("webhook-secret", id) }
	n := webhook.NewNotifier(webhook.NotifierOptions{Store: e.Store, Policy: &pol, Gate: e.Gate, Secret: secret, Now: clock})
	svc := rights.New(rights.Options{Policy: &pol, Store: e.Store, Vault: e.Vault, Ledger: e.Ledger, Subjects: e.Subjects, Auditor: e.Audit, Gate: e.Gate, Now: clock, Notifier: n})

	id := e.MustSubject(t, subjects.Input{UserID: "shared", Traits: map[string]any{"city": "Ningbo"}}, consent.ScopeAll)
	if err := e.Store.AppendDisclosures(ctx, []candor.Disclosure{
		{ID: "dis_1", SubjectID: id, Recipient: "acme-ads", Purpose: "sharing.ads", Fields: []string{"city"}, At: now, Reference: "job:audience"},
		{ID: "dis_2", SubjectID: id, Recipient: "acme-ads", Purpose: "sharing.ads", Fields: []string{"age_band"}, At: now, Reference: "job:audience"},
		{ID: "dis_3", SubjectID: id, Recipient: "shunda-express", Purpose: "service", Fields: []string{"name"}, At: now, Reference: "order"},
	}); err != nil {
		t.Fatal(err)
	}
	req, err := svc.File(ctx, dpo, rights.Input{Type: candor.RightErase, SubjectID: id, Verified: true})
	if err != nil || req.Details.Result["recipients"] != 2 {
		t.Fatalf("erase %+v %v", req, err)
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
	ds, _ := e.Store.Deliveries(ctx, req.ID)
	status := map[string]candor.Delivery{}
	for _, d := range ds {
		status[d.Recipient] = d
	}
	if d := status["acme-ads"]; d.Status != candor.DeliveryDelivered || d.Attempts != 2 {
		t.Fatalf("acme-ads %+v", d)
	}
	// No webhook in the policy: failed at once, with the reason, for staff
	// to tell the recipient by other means.
	if d := status["shunda-express"]; d.Status != candor.DeliveryFailed || d.LastError == "" {
		t.Fatalf("shunda-express %+v", d)
	}
	// What the receiver got: the same delivery id twice, valid signatures,
	// the subject id and the fields it received, no personal data.
	c := calls[1]
	if c.delivery != calls[0].delivery || c.delivery == "" {
		t.Error("the retry has another delivery id")
	}
	if err := webhook.VerifySignature(secret("acme-ads"), c.body, c.header, now, webhook.SignatureTolerance); err != nil {
		t.Fatal(err)
	}
	var body webhook.Notice
	if err := json.Unmarshal(c.body, &body); err != nil || body.SubjectID != id || body.Event != "erasure" || len(body.Fields) != 2 {
		t.Fatalf("body %s %v", c.body, err)
	}
	// A replay ten minutes later, a forged body, another recipient's secret.
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
