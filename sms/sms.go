// Package sms sends Candor's text messages (verification codes) through the
// business's SMS gateway: an HTTPS POST of {"to","text"}, signed like
// Candor's other webhooks (HMAC-SHA256 over the timestamp and the body), to
// a relay that speaks its provider's API (Aliyun, Tencent Cloud, Twilio…).
// Candor does not embed one provider's SDK: each signs its requests its own
// way, and a relay of a few lines keeps the provider's credentials out of
// Candor.
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/webhook"
)

var _ candor.Sender = (*Gateway)(nil)

// Message is the JSON the gateway receives.
type Message struct {
	To   string    `json:"to"` // E.164, such as +8613812345678
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Gateway posts messages to one URL.
type Gateway struct {
	url    string
	secret []byte
	client *http.Client
	now    func() time.Time
}

// New configures a gateway: an https URL (http only on loopback, for
// tests), and the secret that signs each request (at least 32 bytes).
// Errors never quote the URL, which may hold a token.
func New(rawURL string, secret []byte) (*Gateway, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return nil, errors.New("sms: the gateway URL is not valid: want https://host/path (http only on loopback)")
	}
	if len(secret) < 32 {
		return nil, errors.New("sms: the signing secret must hold at least 32 bytes")
	}
	// Never follow a redirect: it would re-send the number and the code
	// to wherever the answer points.
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Gateway{url: rawURL, secret: secret, client: client, now: time.Now}, nil
}

func loopback(host string) bool { return host == "127.0.0.1" || host == "::1" || host == "localhost" }

// Send implements [candor.Sender]; the subject is not sent (text messages
// have none).
func (g *Gateway) Send(ctx context.Context, to, _, body string) error {
	now := g.now()
	b, err := json.Marshal(Message{To: to, Text: body, At: now.UTC()})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(b))
	if err != nil {
		return errors.New("sms: the gateway URL is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Candor-SMS/1")
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(g.secret, b, now))
	resp, err := g.client.Do(req)
	if err != nil {
		return errors.New("sms: the gateway could not be reached")
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("sms: the gateway answered %d", resp.StatusCode)
	}
	return nil
}
