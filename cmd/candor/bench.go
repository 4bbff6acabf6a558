package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/policy"
	"github.com/candorhq/candor/subjects"
)

// benchCmd measures the hot paths on a fresh store in a temporary directory
// (or -data), and prints one line per figure, or JSON with -json.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: candor bench decide|read|seal [-subjects N] [-c N] [-d DURATION] [-json]")
		return errUsage
	}
	which := args[0]
	fs := newFlags("bench "+which, stderr)
	n := fs.Int("subjects", 2000, "subjects to create first")
	conc := fs.Int("c", 16, "concurrent workers")
	dur := fs.Duration("d", 3*time.Second, "how long each measurement runs")
	asJSON := fs.Bool("json", false, "print one JSON object")
	dbURL := fs.String("db", env("CANDOR_DB", ""), "PostgreSQL URL: measure there instead of the embedded store (in schemas of its own, dropped afterwards)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if which != "decide" && which != "read" && which != "seal" {
		fmt.Fprintf(stderr, "candor bench: unknown workload %q (want decide, read or seal)\n", which)
		return errUsage
	}
	dir, err := os.MkdirTemp("", "candor-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sc := storeConfig{DataDir: dir, DB: *dbURL}
	store := "sqlite"
	if *dbURL != "" {
		store = "postgres"
		sc.DBSchema = fmt.Sprintf("bench%d", os.Getpid())
		defer dropSchemas(*dbURL, sc.DBSchema)
	}
	b, err := newBenchEnv(ctx, sc, *n, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	out := map[string]any{"workload": which, "store": store, "subjects": *n, "concurrency": *conc, "gomaxprocs": runtime.GOMAXPROCS(0)}
	switch which {
	case "decide":
		ops := b.parallel(ctx, *conc, *dur, func(i int) error {
			_, err := b.gate.Decide(ctx, b.ids[i%len(b.ids)], "marketing.email")
			return err
		})
		out["decisions_per_sec"] = ops
		p50, p99, rps, err := b.httpDecide(ctx, sc, *conc, *dur)
		if err != nil {
			return err
		}
		out["http_decisions_per_sec"], out["http_p50_ms"], out["http_p99_ms"] = rps, p50, p99
	case "read":
		actor := candor.Actor{ID: "bench", Role: candor.RoleAdmin}
		out["gate_reads_per_sec"] = b.parallel(ctx, *conc, *dur, func(i int) error {
			_, err := b.gate.Read(ctx, gate.ReadRequest{Actor: actor, Purpose: "service", SubjectID: b.ids[i%len(b.ids)], Fields: []string{"email", "phone", "name"}})
			return err
		})
	case "seal":
		ct, err := b.st.vault.Seal(ctx, b.ids[0], "email", []byte("zhang.wei83@example.cn"))
		if err != nil {
			return err
		}
		prev := runtime.GOMAXPROCS(1)
		out["unseal_per_sec_one_core"] = b.parallel(ctx, 1, *dur, func(int) error {
			_, err := b.st.vault.Unseal(ctx, b.ids[0], "email", ct)
			return err
		})
		runtime.GOMAXPROCS(prev)
	}
	out["peak_rss_mb"] = peakRSSMB()
	if *asJSON {
		return json.NewEncoder(stdout).Encode(out)
	}
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(stdout, "%-24s %v\n", k, out[k])
	}
	return nil
}

type benchEnv struct {
	st   *stack
	gate *gate.Gate
	ids  []string
}

func newBenchEnv(ctx context.Context, sc storeConfig, n int, stderr io.Writer) (*benchEnv, error) {
	pol, err := loadPolicy("")
	if err != nil {
		return nil, err
	}
	st, err := openStackWith(ctx, sc, true, quietLog(), io.Discard)
	if err != nil {
		return nil, err
	}
	notices, err := consent.LoadNotices(ctx, st.store, policy.NewNotice(pol), time.Now())
	if err != nil {
		return nil, err
	}
	sig, err := st.vault.Signer(ctx, receiptSigningKey)
	if err != nil {
		return nil, err
	}
	ledger := consent.New(consent.Options{Store: st.store, Sealer: st.vault, Policy: pol, Notices: notices, Signer: sig, Auditor: st.audit, Shared: st.shared})
	subj := subjects.New(subjects.Options{Store: st.store, Keys: st.vault, Policy: pol, Auditor: st.audit, Changed: ledger.Invalidate})
	b := &benchEnv{st: st, gate: gate.New(gate.Options{Policy: pol, Ledger: ledger, Store: st.store, Sealer: st.vault, Auditor: st.audit})}
	actor := jobActor("bench")
	for i := range n {
		id, _, err := subj.Upsert(ctx, actor, "", subjects.Input{
			UserID: "u" + strconv.Itoa(i), Email: fmt.Sprintf("user%d@example.com", i), Phone: fmt.Sprintf("+86138%08d", i),
			Traits: map[string]any{"name": "Bench User", "city": "Hangzhou"},
		})
		if err != nil {
			return nil, err
		}
		if _, err := ledger.Record(ctx, actor, "", id, consent.Choice{NoticeVersion: notices.Current().Version, Scope: consent.ScopeAll}); err != nil {
			return nil, err
		}
		b.ids = append(b.ids, id)
	}
	return b, nil
}

func (b *benchEnv) close() {
	if b.st != nil {
		b.st.Close()
		b.st = nil
	}
}

// parallel runs fn from conc workers for d and returns operations per second.
func (b *benchEnv) parallel(ctx context.Context, conc int, d time.Duration, fn func(i int) error) float64 {
	var ops atomic.Int64
	var failed atomic.Value
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * 7919; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				for range 64 {
					if err := fn(i); err != nil {
						failed.Store(err)
						return
					}
				}
				ops.Add(64)
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		fmt.Fprintln(os.Stderr, "bench: operation failed:", err)
		return 0
	}
	return float64(int64(float64(ops.Load()) / time.Since(start).Seconds()))
}

// httpDecide serves the API on loopback and measures GET /v1/decisions.
func (b *benchEnv) httpDecide(ctx context.Context, sc storeConfig, conc int, d time.Duration) (p50, p99, rps float64, err error) {
	b.close() // Run opens the store itself
	key := "cndr_benchbenchbenchbenchbenchbenchbench"
	ready := make(chan string, 1)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Run(cctx, Config{DataDir: sc.DataDir, DB: sc.DB, Store: sc, Addr: "127.0.0.1:0", WriteKey: key, Demo: true, DemoSize: 1, Ready: func(a string) { ready <- a }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		return 0, 0, 0, err
	}
	defer func() { cancel(); <-done }()
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	lat := make([][]time.Duration, conc)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; time.Now().Before(deadline); i += conc {
				req, _ := http.NewRequest("GET", "http://"+addr+"/v1/decisions?purpose=marketing.email&subject_id="+b.ids[i%len(b.ids)], nil)
				req.Header.Set("Authorization", "Bearer "+key)
				t := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Store(fmt.Errorf("status %d", resp.StatusCode))
					return
				}
				lat[w] = append(lat[w], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		return 0, 0, 0, err
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return 0, 0, 0, fmt.Errorf("no request completed")
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	ms := func(q float64) float64 {
		return float64(all[int(q*float64(len(all)-1))].Microseconds()) / 1000
	}
	return ms(0.50), ms(0.99), float64(int64(float64(len(all)) / elapsed.Seconds())), nil
}

// peakRSSMB reads the process's peak resident set size (Linux).
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return float64(int64(kb/1024*10)) / 10
			}
		}
	}
	return 0
}
