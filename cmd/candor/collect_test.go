package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/apikeys"
	"github.com/candorhq/candor/examples"
)

// post sends a body with the write key as HTTP Basic user name (the
// Segment convention) and extra headers.
func (s *testServer) post(path, user string, body []byte, headers ...string) (int, []byte, http.Header) {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.base+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, "")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCollectAPI drives the Segment endpoints over HTTP: authentication,
// limits, bad input, partial batches, GPC, the profile and the
// minimization report; and no personal data typed into free text reaches
// the disk or the log.
func TestCollectAPI(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "")
	id := s.newSubject(map[string]any{"user_id": "shopper", "email": "shopper@example.com"})
	s.consent(map[string]any{"subject_id": id, "scope": "all", "choices": map[string]bool{"sharing.ads": true}})

	leak := "leaky.buyer." + randHex(4) + "@example.com"
	phone := "1391234" + fmt.Sprint(1000+time.Now().Nanosecond()%9000)
	track := func(i int, extra map[string]any) map[string]any {
		m := map[string]any{"type": "track", "userId": "shopper", "event": "Products Searched", "messageId": fmt.Sprint("api-", i),
			"properties": map[string]any{"query": "gift for " + leak + " tel " + phone}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	// A careless sender puts an e-mail address into a message id: it must
	// not reach the disk either.
	single := mustJSON(t, track(0, map[string]any{"messageId": "msg-for-" + leak}))
	tooBig := mustJSON(t, track(1, map[string]any{"properties": map[string]any{"query": strings.Repeat("x", 33<<10)}}))
	var bigBatch []any
	for i := range 20 {
		bigBatch = append(bigBatch, track(100+i, map[string]any{"properties": map[string]any{"query": strings.Repeat("y", 30<<10)}}))
	}
	cases := []struct {
		name, path, user string
		body             []byte
		want             int
		contains         string
	}{
		{"track", "/v1/track", s.write, single, 200, `"success":true`},
		{"admin key works too", "/v1/track", s.admin, mustJSON(t, track(2, nil)), 200, `"success":true`},
		{"no key", "/v1/track", "", single, 401, "urn:candor:problem:unauthorized"},
		{"wrong key", "/v1/track", "cndr_" + strings.Repeat("0", 40), single, 401, "urn:candor:problem:unauthorized"},
		{"malformed", "/v1/track", s.write, []byte(`{"type":"track",`), 400, "urn:candor:problem:malformed"},
		{"not an object", "/v1/batch", s.write, []byte(`[1,2]`), 400, "urn:candor:problem:malformed"},
		{"message over 32 KB", "/v1/track", s.write, tooBig, 413, "urn:candor:problem:too_large"},
		{"batch over 500 KB", "/v1/batch", s.write, mustJSON(t, map[string]any{"batch": bigBatch}), 413, "urn:candor:problem:too_large"},
		{"wrong type for endpoint", "/v1/page", s.write, single, 422, "sent to the page endpoint"},
		{"no user", "/v1/track", s.write, []byte(`{"event":"Products Searched"}`), 422, "userId or anonymousId is required"},
		{"partial batch", "/v1/batch", s.write, mustJSON(t, map[string]any{"batch": []any{
			track(3, nil), map[string]any{"type": "track", "event": "Products Searched"}, track(4, nil)}}), 200, `"errors":[{"index":1,"code":"invalid"`},
		{"empty batch", "/v1/batch", s.write, []byte(`{"batch":[]}`), 422, "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, h := s.post(tc.path, tc.user, tc.body)
			if code != tc.want || !strings.Contains(string(out), tc.contains) {
				t.Fatalf("status %d, want %d; body %s (want %q)", code, tc.want, out, tc.contains)
			}
			if code >= 400 && !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
				t.Errorf("error without problem+json: %s", h.Get("Content-Type"))
			}
			for _, never := range []string{leak, phone, "goroutine", ".go:"} {
				if strings.Contains(string(out), never) {
					t.Errorf("the answer holds %q", never)
				}
			}
		})
	}

	// gzip, as some senders compress.
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(mustJSON(t, map[string]any{"batch": []any{track(5, nil)}}))
	zw.Close()
	if code, out, _ := s.post("/v1/batch", s.write, zb.Bytes(), "Content-Encoding", "gzip"); code != 200 {
		t.Fatalf("gzip batch: %d %s", code, out)
	}

	// Sec-GPC: recorded in the ledger; sharing.ads is denied from then on.
	if d := s.decide(id, "sharing.ads"); d["allow"] != true {
		t.Fatalf("before GPC: %v", d)
	}
	if code, out, _ := s.post("/v1/track", s.write, mustJSON(t, track(6, nil)), "Sec-GPC", "1"); code != 200 {
		t.Fatalf("GPC track: %d %s", code, out)
	}
	if d := s.decide(id, "sharing.ads"); d["allow"] != false {
		t.Fatalf("after a GPC signal, sharing.ads: %v", d)
	}
	hist := s.json("GET", "/v1/subjects/"+id+"/consents", s.admin, nil, 200)
	if !strings.Contains(string(mustJSON(t, hist)), `"gpc":true`) {
		t.Errorf("the ledger has no GPC entry: %v", hist)
	}

	// The profile, through the gate: the searches, counted.
	prof := s.json("GET", "/v1/subjects/"+id+"/profile?purpose=personalization", s.admin, nil, 200)
	ev, _ := prof["events"].(map[string]any)
	if ev == nil || ev["total"].(float64) != 6 {
		t.Fatalf("profile events %v, want the 6 searches", prof["events"])
	}
	if code, _, _ := s.do("GET", "/v1/subjects/"+id+"/profile?purpose=personalization", s.write, nil); code != 403 {
		t.Errorf("the write key read a profile: %d", code)
	}
	if code, _, _ := s.do("GET", "/v1/subjects/"+id+"/profile", s.admin, nil); code != 422 {
		t.Errorf("a profile without a purpose: %d", code)
	}

	// The report counts the redactions, by detector.
	rep := s.json("GET", "/v1/reports/minimization", s.admin, nil, 200)
	body := string(mustJSON(t, rep))
	for _, want := range []string{`"detector":"email"`, `"detector":"phone"`, `"item":"properties.query"`} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %s: %s", want, body)
		}
	}
	if code, _, _ := s.do("GET", "/v1/reports/minimization?from=2026-13-01", s.admin, nil); code != 422 {
		t.Errorf("a bad date: %d", code)
	}

	// Nothing typed into free text is at rest or in the log.
	s.stop()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		for _, n := range []string{leak, phone} {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("%s holds %q", path, n)
			}
		}
		return nil
	})
	if strings.Contains(s.log.String(), leak) || strings.Contains(s.log.String(), phone) {
		t.Error("the log holds personal data from an event")
	}
}

// buildBinary builds candor into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "candor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v: %s", err, out)
	}
	return bin
}

// TestIngestSurvivesSIGKILL: clients send batches to a real candor
// process; it is killed with SIGKILL mid-stream; every event it
// acknowledged is in the store afterwards.
func TestIngestSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	admin, write := apikeys.Generate(), apikeys.Generate()
	policyFile := filepath.Join(dir, "candor.yaml")
	if err := os.WriteFile(policyFile, examples.Policy, 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-data", data)
	cmd.Env = append(os.Environ(), "CANDOR_ADMIN_KEY="+admin, "CANDOR_WRITE_KEY="+write, "CANDOR_CONFIG="+policyFile)
	s := startCmd(t, cmd)
	s.admin, s.write = admin, write
	id := s.newSubject(map[string]any{"user_id": "durable"})
	s.consent(map[string]any{"subject_id": id, "scope": "all"})

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				var batch []any
				var ids []string
				for i := range 50 {
					mid := fmt.Sprintf("k%d-%d-%d", w, seq, i)
					ids = append(ids, mid)
					batch = append(batch, map[string]any{"type": "track", "userId": "durable", "event": "Product Viewed", "messageId": mid,
						"properties": map[string]any{"product_id": mid}})
				}
				req, _ := http.NewRequest("POST", s.base+"/v1/batch", bytes.NewReader(mustJSON(t, map[string]any{"batch": batch})))
				req.SetBasicAuth(write, "")
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					return // the process is gone
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked = append(acked, ids...)
					mu.Unlock()
				}
			}
		}()
	}
	// Kill once a good number were acknowledged, while requests are in flight.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 2000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()
	if len(acked) < 100 {
		t.Fatalf("only %d events acknowledged before the kill", len(acked))
	}

	st, err := openStackWith(context.Background(), storeConfig{DataDir: data}, false, quietLog(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.store.SubjectEvents(context.Background(), id, time.Time{}, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	// Each event's product_id is its message id: read them back.
	stored := map[string]bool{}
	for _, e := range evs {
		plain, err := st.vault.Unseal(context.Background(), id, candor.EventSealField(e.ID), e.Sealed)
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Properties struct {
				ProductID string `json:"product_id"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(plain, &p); err != nil {
			t.Fatal(err)
		}
		stored[p.Properties.ProductID] = true
	}
	missing := 0
	for _, mid := range acked {
		if !stored[mid] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged events are missing after SIGKILL", missing, len(acked))
	}
	t.Logf("%d acknowledged, %d stored (the rest were in flight)", len(acked), len(evs))
}

// startCmd starts a serve command and waits for its address.
func startCmd(t *testing.T, cmd *exec.Cmd) *testServer {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return waitAddr(t, out, log)
}

// TestSegmentNodeSDK: Segment's own Node.js library, installed from npm,
// pointed at Candor, sends identify, track and page calls; they are stored.
func TestSegmentNodeSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("installs an npm package")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CANDOR_REQUIRE_NODE") != "" {
			t.Fatal("node is not installed, and CI requires this test")
		}
		t.Skip("node is not installed")
	}
	sdk := filepath.Join(os.TempDir(), "candor-test-analytics-node-3.1.0")
	if _, err := os.Stat(filepath.Join(sdk, "node_modules", "@segment", "analytics-node", "package.json")); err != nil {
		if err := os.MkdirAll(sdk, 0o755); err != nil {
			t.Fatal(err)
		}
		npm := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", sdk, "@segment/analytics-node@3.1.0")
		if out, err := npm.CombinedOutput(); err != nil {
			t.Fatalf("npm install @segment/analytics-node: %v: %s", err, out)
		}
	}
	dir := t.TempDir()
	s := startServer(t, dir, "")
	id := s.newSubject(map[string]any{"user_id": "node-user"})
	s.consent(map[string]any{"subject_id": id, "scope": "all"})
	script := `
const { Analytics } = require('@segment/analytics-node');
const analytics = new Analytics({ writeKey: process.env.WRITE_KEY, host: process.env.HOST, flushAt: 3, maxRetries: 2 });
analytics.on('error', (e) => { console.error('sdk error', e); process.exitCode = 1; });
analytics.identify({ userId: 'node-user', traits: { email: 'node.user@example.com', city: 'Ningbo' } });
analytics.track({ userId: 'node-user', event: 'Product Viewed', properties: { product_id: 'P1', category: 'books', price: 42.5 } });
analytics.track({ userId: 'node-user', event: 'Products Searched', properties: { query: 'novels for node.user@example.com' } });
analytics.page({ userId: 'node-user', name: 'Home', properties: { path: '/', url: 'https://shop.example/' } });
analytics.closeAndFlush({ timeout: 10000 }).then(() => console.log('flushed'));
`
	js := filepath.Join(dir, "send.js")
	if err := os.WriteFile(js, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, js)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(sdk, "node_modules"), "WRITE_KEY="+s.write, "HOST="+s.base)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "flushed") {
		t.Fatalf("node: %v: %s", err, out)
	}
	prof := s.json("GET", "/v1/subjects/"+id+"/profile?purpose=analytics", s.admin, nil, 200)
	ev := prof["events"].(map[string]any)
	names := string(mustJSON(t, ev["by_name"]))
	for _, want := range []string{"Product Viewed", "Products Searched", "Page Viewed"} {
		if !strings.Contains(names, want) {
			t.Errorf("the SDK's %s is not stored: %s", want, names)
		}
	}
	if ev["total"].(float64) != 3 {
		t.Errorf("events %v, want 3", ev)
	}
	// identify stored the city (consented) through the vault.
	got := s.json("GET", "/v1/subjects/"+id+"?purpose=personalization&fields=city", s.admin, nil, 200)
	if got["fields"].(map[string]any)["city"] != "Ningbo" {
		t.Errorf("identify traits: %v", got)
	}
}
