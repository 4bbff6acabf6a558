package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/subjects"
)

// scanFields are the three fields a bulk read of the benchmark asks for.
var scanFields = []string{"email", "phone", "name"}

// benchScan measures a bulk read through the gate (Gate.Scan) of every
// person on file, with three fields each, against reading and unsealing the
// same rows without the gate (no decision, no masking, no audit entry, no
// run members), in the same run on the same store; and the heap the scan
// holds at most, beside the process's peak RSS.
func benchScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench scan", stderr)
	n := fs.Int("subjects", 100000, "people on file")
	page := fs.Int("page", gate.DefaultScanPage, "people read at a time")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured passes (baseline and scan) to this file")
	dbURL := fs.String("db", env("CANDOR_DB", ""), "PostgreSQL URL: measure there instead of the embedded store (in schemas of its own, dropped afterwards)")
	if err := parse(fs, args); err != nil {
		return err
	}
	b, release, err := populatedBenchEnv(ctx, "scan", *dbURL, *n, stderr)
	if err != nil {
		return err
	}
	defer release()

	actor := candor.Actor{ID: "bench", Role: candor.RoleAdmin}
	baseline := func() (float64, error) {
		t0 := time.Now()
		count, err := b.gate.MeasureBaseline(ctx, scanFields, *page)
		if err != nil {
			return 0, err
		}
		if count != *n {
			return 0, fmt.Errorf("bench scan: the baseline read %d people of %d", count, *n)
		}
		return float64(count) / time.Since(t0).Seconds(), nil
	}
	round := func(f float64) float64 { return float64(int64(f*100)) / 100 }
	var heapMax uint64
	scan := func() (float64, error) {
		t0 := time.Now()
		count := 0
		var ms runtime.MemStats
		res, err := b.gate.Scan(ctx, gate.ScanRequest{Actor: actor, Purpose: "service", Fields: scanFields, PageSize: *page, Label: "bench"}, func(p *gate.Person) error {
			count++
			if len(p.Fields) != len(scanFields) {
				return fmt.Errorf("bench scan: %s has %d fields", p.SubjectID, len(p.Fields))
			}
			if count%*page == 0 {
				runtime.ReadMemStats(&ms)
				heapMax = max(heapMax, ms.HeapInuse)
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		if res.Count != *n {
			return 0, fmt.Errorf("bench scan: the gate yielded %d people of %d", res.Count, *n)
		}
		return float64(res.Count) / time.Since(t0).Seconds(), nil
	}
	// A first pass of each warms the page cache and the key cache; the
	// figures are the second passes.
	if _, err := baseline(); err != nil {
		return err
	}
	if _, err := scan(); err != nil {
		return err
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	base, err := baseline()
	if err != nil {
		stop()
		return err
	}
	full, err := scan()
	stop()
	if err != nil {
		return err
	}
	out := map[string]any{"workload": "scan", "store": b.storeName(), "subjects": *n, "fields": len(scanFields), "page": *page,
		"gate_people_per_sec": round(full), "baseline_people_per_sec": round(base), "ratio": round(full / base),
		"scan_heap_max_mb": round(float64(heapMax) / (1 << 20)), "peak_rss_mb": peakRSSMB(), "gomaxprocs": runtime.GOMAXPROCS(0)}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(out)
	}
	for _, k := range []string{"store", "subjects", "fields", "page", "gate_people_per_sec", "baseline_people_per_sec", "ratio", "scan_heap_max_mb", "peak_rss_mb"} {
		fmt.Fprintf(stdout, "%-24s %v\n", k, out[k])
	}
	return nil
}

// populatedBenchEnv is tempBenchEnv with n people on file (populate), and
// says how long that took, for the benchmark named.
func populatedBenchEnv(ctx context.Context, name, dbURL string, n int, stderr io.Writer) (*benchEnv, func(), error) {
	b, release, err := tempBenchEnv(ctx, dbURL, 0, stderr)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	if err := b.populate(ctx, n); err != nil {
		release()
		return nil, nil, err
	}
	fmt.Fprintf(stderr, "bench %s: %d people on file in %s\n", name, n, time.Since(start).Round(time.Millisecond))
	return b, release, nil
}

// populate puts n people on file, each with an e-mail, a phone and a name,
// and a consent to every purpose, from a few workers.
func (b *benchEnv) populate(ctx context.Context, n int) error {
	actor := jobActor("bench")
	version := b.notices.Current().Version
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				id, _, err := b.subjects.Upsert(ctx, actor, "", subjects.Input{
					UserID: "u" + strconv.Itoa(i), Email: fmt.Sprintf("user%d@example.com", i), Phone: fmt.Sprintf("+86138%08d", i),
					Traits: map[string]any{"name": "Bench User " + strconv.Itoa(i)},
				})
				if err == nil {
					_, err = b.ledger.Record(ctx, actor, "", id, consent.Choice{NoticeVersion: version, Scope: consent.ScopeAll})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}
