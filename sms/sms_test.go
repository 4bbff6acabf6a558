package sms

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/webhook"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// TestSend: a real HTTP receiver gets the message, signed so that
// webhook.VerifySignature accepts it and refuses it with another secret.
func TestSend(t *testing.T) {
	got := make(chan Message, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.VerifySignature(secret, body, r.Header.Get(webhook.SignatureHeader), time.Now(), time.Minute); err != nil {
			http.Error(w, "bad signature", 401)
			return
		}
		if err := webhook.VerifySignature([]byte("another secret, another secret.."), body, r.Header.Get(webhook.SignatureHeader), time.Now(), time.Minute); err == nil {
			t.Error("the signature verifies with another secret")
		}
		var m Message
		json.Unmarshal(body, &m)
		got <- m
	}))
	defer srv.Close()
	g, err := New(srv.URL, secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send(context.Background(), "+8613812345678", "ignored", "Your code is 123456."); err != nil {
		t.Fatal(err)
	}
	m := <-got
	if m.To != "+8613812345678" || m.Text != "Your code is 123456." || m.At.IsZero() {
		t.Fatalf("received %+v", m)
	}
}

func TestSendFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", 503) }))
	defer srv.Close()
	g, _ := New(srv.URL+"/send?token=hush", secret)
	err := g.Send(context.Background(), "+8613812345678", "", "x")
	if err == nil || !strings.Contains(err.Error(), "503") || strings.Contains(err.Error(), "hush") {
		t.Fatalf("a failing gateway: %v", err)
	}
	srv.Close()
	if err := g.Send(context.Background(), "+8613812345678", "", "x"); err == nil || strings.Contains(err.Error(), "hush") {
		t.Fatalf("an unreachable gateway: %v", err)
	}
}

// TestNoRedirect: a gateway that redirects does not get the message sent
// elsewhere.
func TestNoRedirect(t *testing.T) {
	elsewhere := make(chan bool, 1)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere <- true }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	g, _ := New(srv.URL, secret)
	if err := g.Send(context.Background(), "+8613812345678", "", "Your code is 123456."); err == nil {
		t.Fatal("a redirect counted as sent")
	}
	select {
	case <-elsewhere:
		t.Fatal("the message followed the redirect")
	default:
	}
}

func TestNewRefuses(t *testing.T) {
	for _, u := range []string{"", "ftp://sms.example/send", "http://sms.example/send", "https://", "::"} {
		if _, err := New(u, secret); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	if _, err := New("https://sms.example/send?token=hush", []byte("short")); err == nil || strings.Contains(err.Error(), "hush") {
		t.Errorf("a short secret: %v", err)
	}
}
