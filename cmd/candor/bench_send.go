package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/campaign"
	"github.com/candorhq/candor/internal/app"
	"github.com/candorhq/candor/smtp"
)

// benchSend measures an e-mail campaign to every person on file (each
// consenting), sent by the campaign service through a pool of SMTP
// connections with DKIM to a real SMTP server on loopback, with every
// check at the moment of each send; and, in the same run, the same
// people's messages read through the gate, rendered and handed to the
// same pool with those checks switched off ([campaign.Service.MeasureBaseline]).
// The server counts what each recipient received: exactly one message
// each, in both runs.
func benchSend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench send", stderr)
	n := fs.Int("subjects", 100000, "people on file, each consenting")
	workers := fs.Int("workers", 16, "messages sent at once (and SMTP connections)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the campaign's pass (not the baseline) to this file")
	dbURL := fs.String("db", env("CANDOR_DB", ""), "PostgreSQL URL: measure there instead of the embedded store (in schemas of its own, dropped afterwards)")
	if err := parse(fs, args); err != nil {
		return err
	}
	b, release, err := populatedBenchEnv(ctx, "send", *dbURL, *n, stderr)
	if err != nil {
		return err
	}
	defer release()

	sink, err := newMailSink()
	if err != nil {
		return err
	}
	defer sink.close()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	pool, err := smtp.NewPool(sink.url, "news@shop.example", *workers, &smtp.DKIM{Domain: "shop.example", Selector: "bench",
		Key: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})})
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := campaign.New(campaign.Options{Policy: b.app.Policy, Store: b.st.store, Gate: b.gate, Ledger: b.ledger, Auditor: b.st.audit,
		Blind: b.st.vault.BlindIndex, Mail: pool, PublicURL: "https://candor.shop.example", TokenKey: app.CampaignKey(b.st.vault),
		Workers: *workers, Node: "node_bench", Logger: quietLog()})
	actor := candor.Actor{ID: "bench", Role: candor.RoleAdmin}
	v, err := svc.Create(ctx, actor, campaign.Input{Name: "Bench", Channel: candor.ChannelEmail, Purpose: "marketing.email",
		Subject: candor.Text{candor.LangEN: "Spring sale, {{name}}", candor.LangZH: "春季促销，{{name}}"},
		Body:    candor.Text{candor.LangEN: "Dear {{name}},\n\n20% off everything this week.", candor.LangZH: "{{name}}，您好：\n\n本周全场八折。"}})
	if err != nil {
		return err
	}
	round := func(f float64) float64 { return float64(int64(f*100)) / 100 }
	var heapMax atomic.Uint64
	sample := func(stop <-chan struct{}) {
		var ms runtime.MemStats
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > heapMax.Load() {
				heapMax.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}

	baseline := func() (float64, error) {
		sink.reset()
		t0 := time.Now()
		count, err := svc.MeasureBaseline(ctx, v.ID)
		if err != nil {
			return 0, err
		}
		rate := float64(count) / time.Since(t0).Seconds()
		if err := sink.exactlyOnce(*n); err != nil {
			return 0, fmt.Errorf("bench send: baseline: %w", err)
		}
		sink.reset()
		return rate, nil
	}
	// A first baseline warms the page cache, the key cache and the SMTP
	// connections; the figures are a baseline before the campaign and one
	// after it (the machine's speed drifts), and the campaign between them.
	if _, err := baseline(); err != nil {
		return err
	}
	before, err := baseline()
	if err != nil {
		return err
	}
	if _, err := svc.Start(ctx, actor, v.ID); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	stopSample := make(chan struct{})
	var sampled sync.WaitGroup
	sampled.Add(1)
	go func() { defer sampled.Done(); sample(stopSample) }()
	t0 := time.Now()
	res, err := svc.Pass(ctx, v.ID)
	elapsed := time.Since(t0)
	close(stopSample)
	sampled.Wait()
	stopProfile()
	if err != nil {
		return err
	}
	if res.Sent != *n || !res.Done {
		return fmt.Errorf("bench send: the pass sent %d of %d (failed %d, skipped %d, waiting %d, done %v)", res.Sent, *n, res.Failed, res.Skipped, res.Waiting, res.Done)
	}
	if err := sink.exactlyOnce(*n); err != nil {
		return fmt.Errorf("bench send: campaign: %w", err)
	}
	sink.reset()
	full := float64(res.Sent) / elapsed.Seconds()
	after, err := baseline()
	if err != nil {
		return err
	}
	base := (before + after) / 2
	out := map[string]any{"workload": "send", "store": b.storeName(), "subjects": *n, "workers": *workers,
		"messages_per_sec": round(full), "baseline_per_sec": round(base), "ratio": round(full / base),
		"baseline_before_per_sec": round(before), "baseline_after_per_sec": round(after),
		"heap_max_mb": round(float64(heapMax.Load()) / (1 << 20)), "peak_rss_mb": peakRSSMB(), "gomaxprocs": runtime.GOMAXPROCS(0)}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(out)
	}
	for _, k := range []string{"store", "subjects", "workers", "messages_per_sec", "baseline_per_sec", "baseline_before_per_sec", "baseline_after_per_sec", "ratio", "heap_max_mb", "peak_rss_mb"} {
		fmt.Fprintf(stdout, "%-24s %v\n", k, out[k])
	}
	return nil
}

// mailSink is a real SMTP server on loopback (github.com/emersion/go-smtp)
// that discards what it receives and counts the messages per recipient.
type mailSink struct {
	url    string
	srv    *gosmtp.Server
	mu     sync.Mutex
	counts map[string]int
}

func newMailSink() (*mailSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &mailSink{url: "smtp://" + ln.Addr().String() + "?tls=none", counts: map[string]int{}}
	s.srv = gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return &sinkSession{sink: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	go s.srv.Serve(ln)
	return s, nil
}

func (s *mailSink) close() { s.srv.Close() }

func (s *mailSink) reset() {
	s.mu.Lock()
	s.counts = map[string]int{}
	s.mu.Unlock()
}

// exactlyOnce returns an error unless n recipients got one message each.
func (s *mailSink) exactlyOnce(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.counts) != n {
		return fmt.Errorf("%d recipients of %d got a message", len(s.counts), n)
	}
	for _, c := range s.counts {
		if c != 1 {
			return fmt.Errorf("a recipient got %d messages", c)
		}
	}
	return nil
}

type sinkSession struct {
	sink *mailSink
	to   []string
}

func (s *sinkSession) Reset()                                 { s.to = s.to[:0] }
func (s *sinkSession) Logout() error                          { return nil }
func (s *sinkSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *sinkSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.sink.mu.Lock()
	for _, to := range s.to {
		s.sink.counts[to]++
	}
	s.sink.mu.Unlock()
	return nil
}
