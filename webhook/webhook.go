// Package webhook tells recipients about the people whose data they
// received, by signed webhooks: [Notice] is what they are told (an erasure,
// a rectification), [Notifier] delivers the deliveries that are due, signed
// with [Sign] and retried with back-off, and [VerifySignature] is the check
// a receiver makes. Candor's other signed calls (the SMS gateway's) use the
// same signature.
//
// It depends on the root package only: the deliveries are built by the
// caller (package rights, from the sharing ledger), and a body sealed under
// its subject's key is opened by a [DeliveryOpener] (the gate).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/candorhq/candor"
)

// Webhook headers.
const (
	SignatureHeader = "Candor-Signature" // t=UNIX,v1=HEX(HMAC-SHA256(secret, "UNIX." + body))
	DeliveryHeader  = "Candor-Delivery"  // the delivery id: the same on every retry
)

// Delivery limits.
const (
	MaxDeliveryAttempts = 10
	maxBackoff          = time.Hour
	// SignatureTolerance is how old a signature a receiver should accept:
	// an older one is a replay.
	SignatureTolerance = 5 * time.Minute
)

// errGone: the person was erased before the delivery went out; what it
// carried can never be read, and the erasure notice follows.
var errGone = errors.New("the person was erased before this was sent")

// Notice is what a recipient is told about a person whose data it
// received: "erasure" (delete what you hold under this subject id) or
// "rectification" (these fields were corrected: correct or delete your
// copy). It names fields, never values.
type Notice struct {
	Event     string    `json:"event"` // erasure or rectification
	SubjectID string    `json:"subject_id"`
	RequestID string    `json:"request_id"`
	At        time.Time `json:"at"`
	Fields    []string  `json:"fields"` // the fields concerned that it received
	// Values are a rectification's corrected values, for a recipient that
	// may receive them now, under Purpose.
	Purpose string            `json:"purpose,omitempty"`
	Values  map[string]string `json:"values,omitempty"`
}

// Sign returns the signature header value for body at t.
func Sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature is what a receiver does: it checks the signature header
// against the body and refuses one older than tolerance (a replay) or
// from the future.
func VerifySignature(secret, body []byte, header string, now time.Time, tolerance time.Duration) error {
	var ts int64
	var sig []byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts, _ = strconv.ParseInt(v, 10, 64)
		case "v1":
			sig, _ = hex.DecodeString(v)
		}
	}
	if ts == 0 || sig == nil {
		return errors.New("webhook: malformed signature header")
	}
	at := time.Unix(ts, 0)
	if now.Sub(at) > tolerance || at.Sub(now) > tolerance {
		return errors.New("webhook: signature too old or from the future (a replay?)")
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	if !hmac.Equal(sig, m.Sum(nil)) {
		return errors.New("webhook: bad signature")
	}
	return nil
}

// DeliveryOpener opens a delivery's body, auditing the opening when it is
// sealed under its subject's key; EGONE when the subject was erased.
// [github.com/candorhq/candor/gate.Gate.OpenDelivery] implements it.
type DeliveryOpener interface {
	OpenDelivery(ctx context.Context, d candor.Delivery) ([]byte, error)
}

// NotifierOptions configures a [Notifier].
type NotifierOptions struct {
	Store  candor.Store
	Policy *candor.Policy
	// Secret returns a recipient's signing secret.
	Secret func(recipientID string) []byte
	// Gate opens a delivery body sealed under its subject's key
	// ([github.com/candorhq/candor/gate.Gate.OpenDelivery]), auditing the
	// opening. Required.
	Gate   DeliveryOpener
	Client *http.Client
	Now    func() time.Time
	Logger *slog.Logger
	// Every is how often due deliveries are looked for; default 1s.
	Every time.Duration
}

// Notifier delivers webhooks to recipients, signed, retried with back-off
// (1s, 2s, 4s, … up to an hour, MaxDeliveryAttempts times).
type Notifier struct {
	o    NotifierOptions
	kick chan struct{}
}

// NewNotifier returns a notifier; call Run to deliver. It panics when the
// store, the policy or the gate is missing.
func NewNotifier(o NotifierOptions) *Notifier {
	switch {
	case o.Store == nil:
		panic("webhook: NewNotifier without a Store")
	case o.Policy == nil:
		panic("webhook: NewNotifier without a Policy")
	case o.Gate == nil:
		panic("webhook: NewNotifier without a Gate")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.Every <= 0 {
		o.Every = time.Second
	}
	return &Notifier{o: o, kick: make(chan struct{}, 1)}
}

// Kick wakes the notifier: there is something new to deliver.
func (n *Notifier) Kick() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	t := time.NewTicker(n.o.Every)
	defer t.Stop()
	for {
		n.DeliverDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.kick:
		}
	}
}

// DeliverDue makes one attempt at every delivery that is due.
func (n *Notifier) DeliverDue(ctx context.Context) {
	due, err := n.o.Store.DueDeliveries(ctx, n.o.Now().UTC(), 100)
	if err != nil {
		n.o.Logger.Error("webhooks: due deliveries", "err", err)
		return
	}
	for _, d := range due {
		if ctx.Err() != nil {
			return
		}
		n.attempt(ctx, d)
	}
}

func (n *Notifier) attempt(ctx context.Context, d candor.Delivery) {
	now := n.o.Now().UTC()
	// Hold it while we try, so that another node does not send it too.
	ok, err := n.o.Store.ClaimDelivery(ctx, d.ID, d.Attempts, now.Add(time.Minute))
	if err != nil || !ok {
		return
	}
	d.Attempts++
	err = n.send(ctx, d)
	d.UpdatedAt = n.o.Now().UTC()
	switch {
	case err == nil:
		d.Status, d.LastError = candor.DeliveryDelivered, ""
	case errors.Is(err, errGone):
		d.Status, d.LastError = candor.DeliveryFailed, err.Error()
	case d.Attempts >= MaxDeliveryAttempts:
		d.Status, d.LastError = candor.DeliveryFailed, err.Error()
	default:
		backoff := min(time.Duration(1<<(d.Attempts-1))*time.Second, maxBackoff)
		d.NextAt, d.LastError = d.UpdatedAt.Add(backoff), err.Error()
	}
	if err := n.o.Store.FinishAttempt(ctx, d); err != nil {
		n.o.Logger.Error("webhooks: record attempt", "delivery", d.ID, "err", err)
	}
}

func (n *Notifier) send(ctx context.Context, d candor.Delivery) error {
	r := n.o.Policy.Recipient(d.Recipient)
	if r == nil || r.Webhook == "" {
		return errors.New("the recipient has no webhook in the policy")
	}
	body, err := n.o.Gate.OpenDelivery(ctx, d)
	if candor.ErrorCode(err) == candor.EGONE {
		return errGone
	}
	if err != nil {
		return errors.New("the delivery could not be opened")
	}
	req, err := http.NewRequestWithContext(ctx, "POST", r.Webhook, bytes.NewReader(body))
	if err != nil {
		return errors.New("the webhook URL is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Candor-Webhook/1")
	req.Header.Set(DeliveryHeader, d.ID)
	req.Header.Set(SignatureHeader, Sign(n.o.Secret(d.Recipient), body, n.o.Now()))
	resp, err := n.o.Client.Do(req)
	if err != nil {
		return errors.New("the recipient could not be reached")
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the recipient answered %d", resp.StatusCode)
	}
	return nil
}
