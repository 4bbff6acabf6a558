package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// benchIngest measures POST /v1/batch with concurrent clients sending
// realistic events (personal data sprinkled in free text): the full
// pipeline, then, in the same run on a store of its own with the same
// subjects, the same events with the policy check, PII scan, context
// minimization, consent gate and encryption switched off.
func benchIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench ingest", stderr)
	n := fs.Int("subjects", 1000, "subjects to create first (each with consent to every purpose)")
	conc := fs.Int("c", 8, "concurrent clients")
	size := fs.Int("batch", 100, "events per request")
	dur := fs.Duration("d", 5*time.Second, "how long each measurement runs")
	asJSON := fs.Bool("json", false, "print one JSON object")
	dbURL := fs.String("db", env("CANDOR_DB", ""), "PostgreSQL URL: measure there instead of the embedded store (in schemas of its own, dropped afterwards)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	if *size < 1 || *size > 1000 || *conc < 1 || *n < 1 {
		return fmt.Errorf("-batch from 1 to 1000, -c and -subjects at least 1")
	}
	dir, err := os.MkdirTemp("", "candor-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	run := func(name string, baseline bool) (ingestResult, error) {
		sc := storeConfig{DataDir: filepath.Join(dir, name), DB: *dbURL}
		if *dbURL != "" {
			sc.DBSchema = fmt.Sprintf("bench%d%s", os.Getpid(), name)
			defer dropSchemas(*dbURL, sc.DBSchema)
		}
		b, err := newBenchEnv(ctx, sc, *n, stderr)
		if err != nil {
			return ingestResult{}, err
		}
		b.close()
		return driveIngest(ctx, sc, baseline, *n, *conc, *size, *dur)
	}
	full, err := run("full", false)
	if err != nil {
		return err
	}
	base, err := run("baseline", true)
	if err != nil {
		return err
	}
	store := "sqlite"
	if *dbURL != "" {
		store = "postgres"
	}
	round := func(f float64) float64 { return float64(int64(f*100)) / 100 }
	out := map[string]any{
		"store": store, "concurrency": *conc, "batch": *size, "subjects": *n, "gomaxprocs": runtime.GOMAXPROCS(0),
		"events_per_sec": int64(full.eps), "p50_ms": full.p50, "p99_ms": full.p99,
		"baseline_events_per_sec": int64(base.eps), "baseline_p50_ms": base.p50, "baseline_p99_ms": base.p99,
		"ratio": round(full.eps / base.eps), "peak_rss_mb": peakRSSMB(),
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(out)
	}
	fmt.Fprintf(stdout, "%-10s %14s %10s %10s\n", "pipeline", "events/s", "p50 ms", "p99 ms")
	fmt.Fprintf(stdout, "%-10s %14.0f %10.2f %10.2f\n", "full", full.eps, full.p50, full.p99)
	fmt.Fprintf(stdout, "%-10s %14.0f %10.2f %10.2f\n", "baseline", base.eps, base.p50, base.p99)
	fmt.Fprintf(stdout, "ratio %.2f; %s; %d clients × %d events per request; peak RSS %.1f MB; GOMAXPROCS %d\n",
		full.eps/base.eps, store, *conc, *size, out["peak_rss_mb"], runtime.GOMAXPROCS(0))
	return nil
}

type ingestResult struct{ eps, p50, p99 float64 }

// driveIngest serves the API on loopback and sends batches for d.
func driveIngest(ctx context.Context, sc storeConfig, baseline bool, subjectCount, conc, size int, d time.Duration) (ingestResult, error) {
	key := benchKey
	addr, stop, err := serveInProcess(ctx, Config{DataDir: sc.DataDir, DB: sc.DB, Store: sc, WriteKey: key, ingestBaseline: baseline})
	if err != nil {
		return ingestResult{}, err
	}
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}, Timeout: 30 * time.Second}
	var sent atomic.Int64
	var failed atomic.Value
	lat := make([][]time.Duration, conc)
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gen := newEventGen(uint64(w), subjectCount)
			for seq := 0; time.Now().Before(deadline); seq++ {
				body := gen.batch(fmt.Sprintf("w%d-%d", w, seq), size)
				req, _ := http.NewRequest("POST", "http://"+addr+"/v1/batch", strings.NewReader(body))
				req.SetBasicAuth(key, "")
				req.Header.Set("Content-Type", "application/json")
				t := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				if resp.StatusCode != 200 {
					failed.Store(fmt.Errorf("POST /v1/batch: status %d", resp.StatusCode))
					return
				}
				lat[w] = append(lat[w], time.Since(t))
				sent.Add(int64(size))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		return ingestResult{}, err
	}
	p50, p99, _, err := latencies(lat)
	if err != nil {
		return ingestResult{}, err
	}
	return ingestResult{eps: float64(sent.Load()) / elapsed.Seconds(), p50: p50, p99: p99}, nil
}

// eventGen writes realistic Segment batches: product views, searches (some
// with an e-mail or phone number typed into the search box), cart adds,
// page views and orders, from known users (80%) and unknown visitors.
type eventGen struct {
	r      *rand.Rand
	users  func(i int) string // the user id of the i-th known user
	nusers int
	buf    []byte
}

func newEventGen(seed uint64, subjects int) *eventGen {
	return &eventGen{r: rand.New(rand.NewPCG(seed, 0x63616e646f72)), nusers: subjects,
		users: func(i int) string { return "u" + strconv.Itoa(i) }}
}

var (
	benchCategories = []string{"shoes", "outerwear", "skincare", "snacks", "phones", "books", "kitchen", "toys"}
	benchQueries    = []string{"running shoes", "down jacket women", "sunscreen spf50", "green tea gift box", "usb-c charger", "children's books", "rice cooker 3l"}
	benchPII        = []string{"zhang.wei83@example.cn", "13912345678", "+86 138 0013 8000", "li.na@mail.example.com"}
	benchAgents     = []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
	}
)

func (g *eventGen) batch(prefix string, n int) string {
	b := g.buf[:0]
	now := time.Now().UTC()
	b = append(b, `{"sentAt":"`...)
	b = now.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","batch":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"messageId":"`...)
		b = append(b, prefix...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `",`...)
		if g.r.IntN(5) == 0 {
			b = append(b, `"anonymousId":"visitor-`...)
			b = strconv.AppendInt(b, int64(g.r.IntN(1_000_000)), 10)
		} else {
			b = append(b, `"userId":"`...)
			b = append(b, g.users(g.r.IntN(g.nusers))...)
		}
		b = append(b, `","timestamp":"`...)
		b = now.Add(-time.Duration(g.r.IntN(2000))*time.Millisecond).AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"', ',')
		cat := benchCategories[g.r.IntN(len(benchCategories))]
		price := strconv.FormatFloat(float64(g.r.IntN(100000))/100, 'f', 2, 64)
		switch k := g.r.IntN(10); {
		case k < 4:
			b = fmt.Appendf(b, `"type":"track","event":"Product Viewed","properties":{"product_id":"P%06d","sku":"SKU-%04d-XL","category":"%s","name":"Item %d","brand":"Acme","price":%s,"currency":"CNY"}`,
				g.r.IntN(100000), g.r.IntN(10000), cat, g.r.IntN(1000), price)
		case k < 6:
			q := benchQueries[g.r.IntN(len(benchQueries))]
			if g.r.IntN(10) == 0 {
				q += " " + benchPII[g.r.IntN(len(benchPII))]
			}
			b = fmt.Appendf(b, `"type":"track","event":"Products Searched","properties":{"query":%q}`, q)
		case k < 7:
			b = fmt.Appendf(b, `"type":"track","event":"Product Added","properties":{"cart_id":"C%d","product_id":"P%06d","category":"%s","price":%s,"quantity":%d,"currency":"CNY"}`,
				g.r.IntN(1000000), g.r.IntN(100000), cat, price, 1+g.r.IntN(3))
		case k < 9:
			b = fmt.Appendf(b, `"type":"page","name":"%s","properties":{"path":"/c/%s","url":"https://shop.example/c/%s?page=%d","referrer":"https://search.example/?q=%s","title":"%s | Demo Shop"}`,
				cat, cat, cat, 1+g.r.IntN(5), cat, cat)
		default:
			b = fmt.Appendf(b, `"type":"track","event":"Order Completed","properties":{"order_id":"SO2026%08d","total":%s,"revenue":%s,"shipping":10,"tax":0,"currency":"CNY","coupon":"WINTER%d"}`,
				g.r.IntN(100000000), price, price, g.r.IntN(50))
		}
		b = fmt.Appendf(b, `,"context":{"ip":"203.0.%d.%d","userAgent":%q,"locale":"zh-CN","library":{"name":"analytics.js","version":"5.2.0"},"page":{"path":"/"}}}`,
			g.r.IntN(256), g.r.IntN(256), benchAgents[g.r.IntN(len(benchAgents))])
	}
	b = append(b, `]}`...)
	g.buf = b
	return string(b)
}
