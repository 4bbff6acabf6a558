package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/app"
	"github.com/candorhq/candor/subjects"
)

// benchCmd measures the hot paths on a fresh store in a temporary directory
// (or -data), and prints one line per figure, or JSON with -json.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: candor bench stores|decide|read|seal|ingest|scan|send [-db URL] [-subjects N] [-c N] [-d DURATION] [-nodes N] [-json]")
		return errUsage
	}
	tuneGC() // measure what serve runs with
	which := args[0]
	switch which {
	case "ingest":
		return benchIngest(ctx, args[1:], stdout, stderr)
	case "scan":
		return benchScan(ctx, args[1:], stdout, stderr)
	case "send":
		return benchSend(ctx, args[1:], stdout, stderr)
	}
	fs := newFlags("bench "+which, stderr)
	n := fs.Int("subjects", 2000, "subjects to create first")
	conc := fs.Int("c", 16, "concurrent workers")
	dur := fs.Duration("d", 3*time.Second, "how long each measurement runs")
	asJSON := fs.Bool("json", false, "print one JSON object")
	nodes := fs.Int("nodes", 1, "decide: API nodes to serve from (more than one needs -db)")
	dbURL := fs.String("db", env("CANDOR_DB", ""), "PostgreSQL URL: measure there instead of the embedded store (in schemas of its own, dropped afterwards)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	if which == "stores" {
		return benchStores(ctx, *dbURL, *n, *conc, *dur, *asJSON, stdout, stderr)
	}
	if which != "decide" && which != "read" && which != "seal" {
		fmt.Fprintf(stderr, "candor bench: unknown workload %q (want stores, decide, read, seal, ingest, scan or send)\n", which)
		return errUsage
	}
	b, release, err := tempBenchEnv(ctx, *dbURL, *n, stderr)
	if err != nil {
		return err
	}
	defer release()
	out := map[string]any{"workload": which, "store": b.storeName(), "subjects": *n, "concurrency": *conc, "gomaxprocs": runtime.GOMAXPROCS(0)}
	switch which {
	case "decide":
		ops := b.parallel(ctx, *conc, *dur, func(i int) error {
			_, err := b.gate.Decide(ctx, b.ids[i%len(b.ids)], "marketing.email")
			return err
		})
		out["decisions_per_sec"] = ops
		if *nodes > 1 && *dbURL == "" {
			return fmt.Errorf("-nodes: several nodes need a shared store (-db)")
		}
		p50, p99, rps, err := b.httpDecide(ctx, *nodes, *conc, *dur)
		if err != nil {
			return err
		}
		out["http_decisions_per_sec"], out["http_p50_ms"], out["http_p99_ms"], out["nodes"] = rps, p50, p99, *nodes
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
		rate, err := b.st.vault.MeasureUnseal(ctx, b.ids[0], "email", ct, *dur)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			return err
		}
		out["unseal_per_sec_one_core"] = rate
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
	sc       storeConfig // where the store is
	app      *app.App
	st       *stack // the App's stores
	gate     *gate.Gate
	ledger   *consent.Ledger
	subjects *subjects.Service
	notices  *consent.Notices
	ids      []string
}

// tempBenchEnv opens a [benchEnv] with n subjects on a throw-away store:
// the embedded store in a temporary directory or, when dbURL is set,
// PostgreSQL in schemas of its own (the key files still go in the
// directory). release closes the env, drops the schemas and removes the
// directory.
func tempBenchEnv(ctx context.Context, dbURL string, n int, stderr io.Writer) (b *benchEnv, release func(), err error) {
	dir, err := os.MkdirTemp("", "candor-bench-")
	if err != nil {
		return nil, nil, err
	}
	sc := storeConfig{DataDir: dir, DB: dbURL}
	if dbURL != "" {
		sc.DBSchema = fmt.Sprintf("bench%d", os.Getpid())
	}
	remove := func() {
		if sc.DBSchema != "" {
			dropSchemas(dbURL, sc.DBSchema)
		}
		os.RemoveAll(dir)
	}
	if b, err = newBenchEnv(ctx, sc, n, stderr); err != nil {
		remove()
		return nil, nil, err
	}
	return b, func() { b.close(); remove() }, nil
}

// storeName is "postgres" or "sqlite", for the report.
func (b *benchEnv) storeName() string {
	if b.sc.DB != "" {
		return "postgres"
	}
	return "sqlite"
}

func newBenchEnv(ctx context.Context, sc storeConfig, n int, stderr io.Writer) (*benchEnv, error) {
	pol, err := loadPolicy("")
	if err != nil {
		return nil, err
	}
	a, err := app.Open(ctx, app.Config{Policy: pol, Stores: sc, CreateMasterKey: true, Log: quietLog(), NoJobs: true})
	if err != nil {
		return nil, err
	}
	b := &benchEnv{sc: sc, app: a, st: stackOf(a.Stores), gate: a.Gate, ledger: a.Ledger, subjects: a.Subjects, notices: a.Notices}
	actor := jobActor("bench")
	for i := range n {
		id, _, err := b.subjects.Upsert(ctx, actor, "", subjects.Input{
			UserID: "u" + strconv.Itoa(i), Email: fmt.Sprintf("user%d@example.com", i), Phone: fmt.Sprintf("+86138%08d", i),
			Traits: map[string]any{"name": "Bench User", "city": "Hangzhou"},
		})
		if err != nil {
			b.close()
			return nil, err
		}
		if _, err := b.ledger.Record(ctx, actor, "", id, consent.Choice{NoticeVersion: b.notices.Current().Version, Scope: consent.ScopeAll}); err != nil {
			b.close()
			return nil, err
		}
		b.ids = append(b.ids, id)
	}
	return b, nil
}

func (b *benchEnv) close() {
	if b.app != nil {
		b.app.Close()
		b.app = nil
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
				for k := range 64 {
					if err := fn(i*64 + k); err != nil {
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

// httpDecide serves the API on loopback from nodes servers (each with its
// own store connections, cache and change feed, as separate processes
// would have; on the embedded store only one can open it) and measures
// GET /v1/decisions, spreading the requests over the nodes.
func (b *benchEnv) httpDecide(ctx context.Context, nodes, conc int, d time.Duration) (p50, p99, rps float64, err error) {
	b.close() // Run opens the store itself
	key := benchKey
	addrs := make([]string, nodes)
	for n := range nodes {
		addr, stop, err := serveInProcess(ctx, Config{DataDir: b.sc.DataDir, DB: b.sc.DB, Store: b.sc, WriteKey: key})
		if err != nil {
			return 0, 0, 0, err
		}
		defer stop()
		addrs[n] = addr
	}
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, MaxIdleConns: conc * nodes}
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
				req, _ := http.NewRequest("GET", "http://"+addrs[i%nodes]+"/v1/decisions?purpose=marketing.email&subject_id="+b.ids[i%len(b.ids)], nil)
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
	p50, p99, n, err := latencies(lat)
	if err != nil {
		return 0, 0, 0, err
	}
	return p50, p99, float64(int64(float64(n) / elapsed.Seconds())), nil
}

// latencies returns the median and 99th percentile, in milliseconds, of
// the requests the workers timed, and how many there were.
func latencies(lat [][]time.Duration) (p50, p99 float64, n int, err error) {
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return 0, 0, 0, fmt.Errorf("no request completed")
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	ms := func(q float64) float64 { return float64(all[int(q*float64(len(all)-1))].Microseconds()) / 1000 }
	return ms(0.50), ms(0.99), len(all), nil
}

// benchKey is the write key of the servers benchmarks start.
const benchKey = "cndr_benchbenchbenchbenchbenchbenchbench"

// serveInProcess runs the server on loopback and returns its address, and
// what stops it and waits for it.
func serveInProcess(ctx context.Context, cfg Config) (addr string, stop func(), err error) {
	cfg.Addr = "127.0.0.1:0"
	ready := make(chan string, 1)
	cfg.Ready = func(a string) { ready <- a }
	done := make(chan error, 1)
	cctx, cancel := context.WithCancel(ctx)
	go func() { done <- Run(cctx, cfg) }()
	select {
	case addr = <-ready:
		return addr, func() { cancel(); <-done }, nil
	case err := <-done:
		cancel()
		return "", nil, err
	}
}

// startCPUProfile writes a CPU profile to path (none when empty) until
// stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
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

// benchStores runs the same store workloads (subject create, consent
// append, decision, gate read) on the embedded store and, when dbURL is
// set, on PostgreSQL, in one run, and prints both with their ratio.
func benchStores(ctx context.Context, dbURL string, n, conc int, d time.Duration, asJSON bool, stdout, stderr io.Writer) error {
	type result map[string]float64
	run := func(dbURL string) (result, error) {
		b, release, err := tempBenchEnv(ctx, dbURL, n, stderr)
		if err != nil {
			return nil, err
		}
		defer release()
		actor := jobActor("bench")
		version := b.notices.Current().Version
		var created atomic.Int64
		r := result{}
		r["subject_create_per_sec"] = b.parallel(ctx, conc, d, func(int) error {
			i := created.Add(1)
			_, _, err := b.subjects.Upsert(ctx, actor, "", subjects.Input{UserID: fmt.Sprint("new", i), Email: fmt.Sprintf("new%d@example.com", i),
				Traits: map[string]any{"name": "New User", "city": "Suzhou"}})
			return err
		})
		r["consent_append_per_sec"] = b.parallel(ctx, conc, d, func(i int) error {
			_, err := b.ledger.Record(ctx, actor, "", b.ids[i%len(b.ids)], consent.Choice{NoticeVersion: version, Choices: map[string]bool{"analytics": i%2 == 0}})
			return err
		})
		r["decision_per_sec"] = b.parallel(ctx, conc, d, func(i int) error {
			_, err := b.gate.Decide(ctx, b.ids[i%len(b.ids)], "marketing.email")
			return err
		})
		admin := candor.Actor{ID: "bench", Role: candor.RoleAdmin}
		r["gate_read_per_sec"] = b.parallel(ctx, conc, d, func(i int) error {
			_, err := b.gate.Read(ctx, gate.ReadRequest{Actor: admin, Purpose: "service", SubjectID: b.ids[i%len(b.ids)], Fields: []string{"email", "phone", "name"}})
			return err
		})
		return r, nil
	}
	out := map[string]any{"subjects": n, "concurrency": conc, "gomaxprocs": runtime.GOMAXPROCS(0)}
	lite, err := run("")
	if err != nil {
		return err
	}
	out["sqlite"] = lite
	var pg result
	if dbURL != "" {
		if pg, err = run(dbURL); err != nil {
			return err
		}
		out["postgres"] = pg
		slower := result{}
		for k, v := range lite {
			if pg[k] > 0 {
				slower[k] = float64(int64(v/pg[k]*10)) / 10
			}
		}
		out["postgres_slower_by"] = slower
	}
	out["peak_rss_mb"] = peakRSSMB()
	if asJSON {
		return json.NewEncoder(stdout).Encode(out)
	}
	fmt.Fprintf(stdout, "%-24s %14s %14s %8s\n", "operation", "sqlite /s", "postgres /s", "slower")
	for _, k := range []string{"subject_create_per_sec", "consent_append_per_sec", "decision_per_sec", "gate_read_per_sec"} {
		p, ratio := "-", "-"
		if pg != nil {
			p, ratio = fmt.Sprintf("%.0f", pg[k]), fmt.Sprintf("%.1f×", lite[k]/pg[k])
		}
		fmt.Fprintf(stdout, "%-24s %14.0f %14s %8s\n", strings.TrimSuffix(k, "_per_sec"), lite[k], p, ratio)
	}
	fmt.Fprintf(stdout, "peak RSS %.1f MB; %d callers, %d subjects, GOMAXPROCS %d\n", out["peak_rss_mb"], conc, n, runtime.GOMAXPROCS(0))
	return nil
}
