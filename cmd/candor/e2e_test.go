package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor/apikeys"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/internal/testenv"
	"go.yaml.in/yaml/v3"
	_ "modernc.org/sqlite"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer = testenv.Buffer

type testServer struct {
	t           testing.TB
	dir         string
	base        string
	admin       string
	write       string
	log, stdout *syncBuffer
	cancel      context.CancelFunc
	done        chan error
}

type serverOpt func(*Config)

// startServer runs the real server on 127.0.0.1:0 with the policy file (the
// example policy when empty) on the data directory dir.
func startServer(t testing.TB, dir, policyFile string, opts ...serverOpt) *testServer {
	t.Helper()
	if policyFile == "" {
		policyFile = filepath.Join(dir, "candor.yaml")
		if _, err := os.Stat(policyFile); err != nil {
			if err := os.WriteFile(policyFile, examples.Policy, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := &testServer{t: t, dir: dir, log: &syncBuffer{}, stdout: &syncBuffer{}, done: make(chan error, 1)}
	s.admin, s.write = keyFor(t, dir, "admin"), keyFor(t, dir, "write")
	ready := make(chan string, 1)
	cfg := Config{PolicyFile: policyFile, DataDir: filepath.Join(dir, "data"), Addr: "127.0.0.1:0", AdminKey: s.admin, WriteKey: s.write,
		Stdout: s.stdout, Stderr: s.log, Ready: func(a string) { ready <- a },
		NoTriggers: true} // a test that wants the policy's triggered messages sets it false
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- Run(ctx, cfg) }()
	select {
	case a := <-ready:
		s.base = "http://" + a
	case err := <-s.done:
		cancel()
		t.Fatalf("server did not start: %v\n%s", err, s.log.String())
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start in time")
	}
	t.Cleanup(s.stop)
	return s
}

// keyFor returns a stable API key per test directory and name.
func keyFor(t testing.TB, dir, name string) string {
	f := filepath.Join(dir, "key-"+name)
	if b, err := os.ReadFile(f); err == nil {
		return string(b)
	}
	k := apikeys.Generate()
	if err := os.WriteFile(f, []byte(k), 0o600); err != nil {
		t.Fatal(err)
	}
	return k
}

func (s *testServer) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	if err := <-s.done; err != nil {
		s.t.Errorf("server: %v", err)
	}
	s.cancel = nil
}

// do sends a request; body may be a string (sent as is) or a value (JSON).
func (s *testServer) do(method, path, key string, body any) (int, []byte, http.Header) {
	s.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header
}

// json sends a request and decodes the answer, failing unless the status is want.
func (s *testServer) json(method, path, key string, body any, want int) map[string]any {
	s.t.Helper()
	code, out, _ := s.do(method, path, key, body)
	if code != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, out)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		s.t.Fatalf("%s %s: %v: %s", method, path, err, out)
	}
	return m
}

func (s *testServer) noticeVersion() string {
	return s.json("GET", "/v1/notice?lang=en", "", nil, 200)["version"].(string)
}

func (s *testServer) newSubject(body map[string]any) string {
	s.t.Helper()
	return s.json("POST", "/v1/subjects", s.admin, body, 201)["id"].(string)
}

func (s *testServer) consent(body map[string]any) map[string]any {
	s.t.Helper()
	if _, ok := body["notice_version"]; !ok {
		body["notice_version"] = s.noticeVersion()
	}
	return s.json("POST", "/v1/consents", s.write, body, 201)
}

func (s *testServer) decide(subject, purpose string) map[string]any {
	s.t.Helper()
	return s.json("GET", "/v1/decisions?subject_id="+subject+"&purpose="+purpose, s.write, nil, 200)
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func TestAPIScenarios(t *testing.T) {
	s := startServer(t, t.TempDir(), "")
	id := s.newSubject(map[string]any{"user_id": "u-1", "email": "scenario@example.com"})
	big := `{"user_id":"` + strings.Repeat("a", 2<<20) + `"}`
	cases := []struct {
		name, method, path, key string
		body                    any
		status                  int
		contains                []string
	}{
		{"healthz", "GET", "/healthz", "", nil, 200, []string{`"ok"`}},
		{"notice zh", "GET", "/v1/notice?lang=zh-CN", "", nil, 200, []string{`"zh-CN"`, `"sha256:`}},
		{"notice bad lang", "GET", "/v1/notice?lang=fr", "", nil, 422, []string{"application/problem+json", "lang"}},
		{"openapi", "GET", "/v1/openapi.json", "", nil, 200, []string{`"3.1.0"`}},
		{"keys.json", "GET", "/.well-known/candor/keys.json", "", nil, 200, []string{`"OKP"`, `"Ed25519"`}},
		{"no key", "POST", "/v1/subjects", "", map[string]any{"user_id": "x"}, 401, []string{"urn:candor:problem:unauthorized"}},
		{"bad key", "POST", "/v1/subjects", "cndr_wrong", map[string]any{"user_id": "x"}, 401, nil},
		{"write key cannot create", "POST", "/v1/subjects", "WRITE", map[string]any{"user_id": "x"}, 403, nil},
		{"malformed", "POST", "/v1/subjects", "ADMIN", `{"user_id":`, 400, []string{"not valid JSON"}},
		{"trailing data", "POST", "/v1/subjects", "ADMIN", `{"user_id":"a"} {}`, 400, nil},
		{"unknown member", "POST", "/v1/subjects", "ADMIN", `{"user_id":"a","favourite":"x"}`, 422, []string{"favourite"}},
		{"undeclared trait", "POST", "/v1/subjects", "ADMIN", map[string]any{"user_id": "a", "traits": map[string]any{"shoe_size": 42}}, 422, []string{"shoe_size", "undeclared"}},
		{"bad email", "POST", "/v1/subjects", "ADMIN", map[string]any{"email": "not-an-email"}, 422, []string{"email"}},
		{"no identifier", "POST", "/v1/subjects", "ADMIN", map[string]any{"traits": map[string]any{}}, 422, nil},
		{"oversized", "POST", "/v1/subjects", "ADMIN", big, 413, nil},
		{"read needs purpose", "GET", "/v1/subjects/" + id, "ADMIN", nil, 422, []string{"purpose"}},
		{"read unknown purpose", "GET", "/v1/subjects/" + id + "?purpose=nope", "ADMIN", nil, 422, nil},
		{"read unknown subject", "GET", "/v1/subjects/sub_aaaaaaaaaaaaaaaaaaaaaaaaaa?purpose=service", "ADMIN", nil, 404, nil},
		{"read bad id", "GET", "/v1/subjects/..%2f..%2fetc?purpose=service", "ADMIN", nil, 404, nil},
		{"write key cannot read", "GET", "/v1/subjects/" + id + "?purpose=service", "WRITE", nil, 403, nil},
		{"decision unknown purpose", "GET", "/v1/decisions?subject_id=" + id + "&purpose=nope", "WRITE", nil, 422, nil},
		{"decision two identifiers", "GET", "/v1/decisions?subject_id=" + id + "&user_id=u-1&purpose=service", "WRITE", nil, 422, nil},
		{"decision unknown subject", "GET", "/v1/decisions?user_id=nobody&purpose=service", "WRITE", nil, 200, []string{`"allow":false`, "unknown_subject"}},
		{"consent unknown notice", "POST", "/v1/consents", "WRITE", map[string]any{"subject_id": id, "notice_version": "deadbeef", "scope": "all"}, 422, []string{"notice_version"}},
		{"consent unknown purpose", "POST", "/v1/consents", "WRITE", map[string]any{"subject_id": id, "notice_version": "NOTICE", "choices": map[string]bool{"telepathy": true}}, 422, []string{"telepathy"}},
		{"consent contract purpose", "POST", "/v1/consents", "WRITE", map[string]any{"subject_id": id, "notice_version": "NOTICE", "choices": map[string]bool{"service": false}}, 422, []string{"contract"}},
		{"consents history needs dpo", "GET", "/v1/subjects/" + id + "/consents", "WRITE", nil, 403, nil},
		{"audit verify", "GET", "/v1/audit/verify", "ADMIN", nil, 200, []string{`"ok":true`}},
		{"no such endpoint", "GET", "/v1/nothing", "", nil, 404, []string{"problem"}},
		{"wrong method", "DELETE", "/v1/notice", "", nil, 405, nil},
	}
	version := s.noticeVersion()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := map[string]string{"ADMIN": s.admin, "WRITE": s.write}[c.key]
			if key == "" {
				key = c.key
			}
			body := c.body
			if m, ok := body.(map[string]any); ok && m["notice_version"] == "NOTICE" {
				m["notice_version"] = version
			}
			code, out, h := s.do(c.method, c.path, key, body)
			if code != c.status {
				t.Fatalf("status %d, want %d: %s", code, c.status, out)
			}
			got := string(out) + h.Get("Content-Type")
			for _, want := range c.contains {
				if !strings.Contains(got, want) {
					t.Errorf("body lacks %q: %s", want, out)
				}
			}
			for _, never := range []string{"goroutine ", "panic", "scenario@example.com", "runtime/", ".go:"} {
				if strings.Contains(string(out), never) {
					t.Errorf("body holds %q: %s", never, out)
				}
			}
			if code >= 400 && !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
				t.Errorf("error without problem+json: %s", h.Get("Content-Type"))
			}
		})
	}
}

// TestNoPlaintextAtRest: after creating subjects, no byte of their e-mail,
// phone or city is in any file of the data directory (WAL included) or in
// the server's log.
func TestNoPlaintextAtRest(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "")
	var needles []string
	for i := range 25 {
		email := fmt.Sprintf("leak.%s@example.com", randHex(6))
		national := fmt.Sprintf("139%08d", 10000000+i*37)
		city := "Qiandaohu" + randHex(4)
		id := s.newSubject(map[string]any{"user_id": "plain-" + randHex(4), "email": email, "phone": national,
			"traits": map[string]any{"city": city, "name": "Test " + randHex(3)}})
		s.consent(map[string]any{"subject_id": id, "scope": "all"})
		got := s.json("GET", "/v1/subjects/"+id+"?purpose=service", s.admin, nil, 200)
		if f := got["fields"].(map[string]any); f["email"] != email {
			t.Fatalf("read back %v, want the e-mail", f["email"])
		}
		needles = append(needles, email, national, "+86"+national, city)
	}
	check := func(when string) {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range needles {
				if bytes.Contains(b, []byte(n)) {
					t.Errorf("%s: %s holds a plaintext %q", when, path, n)
				}
			}
			return nil
		})
		for _, n := range needles {
			if strings.Contains(s.log.String(), n) {
				t.Errorf("%s: the server log holds %q", when, n)
			}
		}
	}
	check("running")
	s.stop()
	check("stopped")
	if t.Failed() {
		return
	}
	if !strings.Contains(s.log.String(), `"route":"POST /v1/subjects"`) {
		t.Error("the log has no request lines: the check above proved nothing")
	}
}

func TestConsentDecisions(t *testing.T) {
	s := startServer(t, t.TempDir(), "")
	adult := s.newSubject(map[string]any{"user_id": "adult", "traits": map[string]any{"birth_date": "1990-05-01"}})

	t.Run("accept all does not grant separate consent", func(t *testing.T) {
		res := s.consent(map[string]any{"subject_id": adult, "scope": "all"})
		state := res["state"].(map[string]any)
		if !state["marketing.email"].(map[string]any)["allow"].(bool) {
			t.Errorf("marketing.email not granted by accept all: %v", state["marketing.email"])
		}
		if d := s.decide(adult, "sharing.ads"); d["allow"].(bool) {
			t.Errorf("sharing.ads granted by accept all: %v", d)
		}
		s.consent(map[string]any{"subject_id": adult, "choices": map[string]bool{"sharing.ads": true}})
		if d := s.decide(adult, "sharing.ads"); !d["allow"].(bool) {
			t.Errorf("sharing.ads named explicitly, still denied: %v", d)
		}
	})
	t.Run("a withdrawal is honoured by the next decision", func(t *testing.T) {
		if d := s.decide(adult, "marketing.email"); !d["allow"].(bool) {
			t.Fatalf("not allowed before the withdrawal: %v", d)
		}
		s.consent(map[string]any{"subject_id": adult, "choices": map[string]bool{"marketing.email": false}})
		d := s.decide(adult, "marketing.email")
		if d["allow"].(bool) || d["code"] != "withdrawn" {
			t.Errorf("after withdrawal: %v", d)
		}
		// Replaying the old grant's request again is a new grant, recorded as such;
		// the history shows both.
		hist := s.json("GET", "/v1/subjects/"+adult+"/consents", s.admin, nil, 200)["history"].([]any)
		states := map[string]bool{}
		for _, h := range hist {
			states[h.(map[string]any)["state"].(string)] = true
		}
		if !states["granted"] || !states["withdrawn"] {
			t.Errorf("history lacks grant or withdrawal: %v", hist)
		}
	})
	t.Run("a child needs a guardian", func(t *testing.T) {
		child := s.newSubject(map[string]any{"user_id": "child", "traits": map[string]any{"birth_date": time.Now().AddDate(-10, 0, 0).Format(time.DateOnly)}})
		s.consent(map[string]any{"subject_id": child, "scope": "all"})
		d := s.decide(child, "personalization")
		if d["allow"].(bool) || d["code"] != "guardian_needed" {
			t.Errorf("child without guardian: %v", d)
		}
		if d := s.decide(child, "service"); !d["allow"].(bool) {
			t.Errorf("a contract purpose needs no consent, child or not: %v", d)
		}
		s.consent(map[string]any{"subject_id": child, "scope": "all", "guardian": map[string]string{"relation": "parent", "method": "id_check"}})
		if d := s.decide(child, "personalization"); !d["allow"].(bool) {
			t.Errorf("child with guardian: %v", d)
		}
	})
	t.Run("GPC denies the purposes marked gpc deny", func(t *testing.T) {
		id := s.newSubject(map[string]any{"anonymous_id": "anon-gpc"})
		res := s.consent(map[string]any{"anonymous_id": "anon-gpc", "scope": "all", "gpc": true, "choices": map[string]bool{"sharing.ads": true}})
		if d := s.decide(id, "sharing.ads"); d["allow"].(bool) {
			t.Errorf("sharing.ads allowed despite GPC: %v", d)
		}
		if o := fmt.Sprint(res["gpc_overrode"]); !strings.Contains(o, "sharing.ads") {
			t.Errorf("gpc_overrode = %s", o)
		}
	})
	t.Run("a consent by user id creates the subject", func(t *testing.T) {
		res := s.consent(map[string]any{"user_id": "new-visitor", "scope": "none"})
		id := res["subject_id"].(string)
		if d := s.decide(id, "analytics"); d["allow"].(bool) || d["code"] != "denied" {
			t.Errorf("reject all: %v", d)
		}
		d := s.json("GET", "/v1/decisions?user_id=new-visitor&purpose=analytics", s.write, nil, 200)
		if d["code"] != "denied" {
			t.Errorf("decision by user id: %v", d)
		}
	})
}

// TestStaleConsent: a consent given against a notice in which the purpose
// read differently is stale after the policy changes; other purposes are not.
func TestStaleConsent(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "")
	id := s.newSubject(map[string]any{"user_id": "stale"})
	s.consent(map[string]any{"subject_id": id, "scope": "all"})
	if d := s.decide(id, "marketing.email"); !d["allow"].(bool) {
		t.Fatalf("not granted: %v", d)
	}
	s.stop()

	// Change the description of marketing.email only.
	var doc yaml.Node
	if err := yaml.Unmarshal(examples.Policy, &doc); err != nil {
		t.Fatal(err)
	}
	changed := false
	root := doc.Content[0]
	for i := 0; i < len(root.Content); i += 2 {
		if root.Content[i].Value != "purposes" {
			continue
		}
		for _, p := range root.Content[i+1].Content {
			isMail := false
			for j := 0; j < len(p.Content); j += 2 {
				isMail = isMail || (p.Content[j].Value == "id" && p.Content[j+1].Value == "marketing.email")
			}
			for j := 0; isMail && j < len(p.Content); j += 2 {
				if p.Content[j].Value == "description" {
					for k := 0; k < len(p.Content[j+1].Content); k += 2 {
						p.Content[j+1].Content[k+1].Value += " We now also send a weekly digest."
						changed = true
					}
				}
			}
		}
	}
	if !changed {
		t.Fatal("could not find marketing.email's description in the example policy")
	}
	b, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "candor.yaml"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, dir, "")
	d := s.decide(id, "marketing.email")
	if d["allow"].(bool) || d["code"] != "reconsent_needed" || d["reconsent_needed"] != true {
		t.Errorf("after the purpose changed: %v", d)
	}
	if d := s.decide(id, "analytics"); !d["allow"].(bool) {
		t.Errorf("an unchanged purpose went stale: %v", d)
	}
	s.consent(map[string]any{"subject_id": id, "choices": map[string]bool{"marketing.email": true}})
	if d := s.decide(id, "marketing.email"); !d["allow"].(bool) {
		t.Errorf("after re-consent: %v", d)
	}
}

func TestGateMasksAndAudits(t *testing.T) {
	s := startServer(t, t.TempDir(), "")
	id := s.newSubject(map[string]any{"user_id": "mask", "email": "jane.doe@example.com", "phone": "13812345678", "traits": map[string]any{"name": "Jane Doe"}})
	support := s.json("POST", "/v1/apikeys", s.admin, map[string]any{"name": "support desk", "role": "support"}, 201)["key"].(string)
	got := s.json("GET", "/v1/subjects/"+id+"?purpose=service", support, nil, 200)
	f := got["fields"].(map[string]any)
	if f["email"] != "j***@example.com" || f["phone"] != "138****5678" {
		t.Errorf("masked for support: %v", f)
	}
	if code, out, _ := s.do("GET", "/v1/subjects/"+id+"?purpose=marketing.email", support, nil); code != 403 || !strings.Contains(string(out), "role") {
		t.Errorf("support reading for marketing: %d %s", code, out)
	}
	// Without consent, a consent purpose is refused even for admin.
	code, out, _ := s.do("GET", "/v1/subjects/"+id+"?purpose=marketing.email", s.admin, nil)
	if code != 403 || !strings.Contains(string(out), "no_consent") {
		t.Errorf("read without consent: %d %s", code, out)
	}
	// Both reads, and the refusals, are in the audit log, with field names and no values.
	st, err := openExisting(context.Background(), filepath.Join(s.dir, "data"), "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.store.AuditEntries(context.Background(), 1, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var reads, denies int
	for _, e := range entries {
		if e.Action == "read" && e.SubjectID == id {
			if e.Decision == "allow" {
				reads++
				if strings.Join(e.Fields, ",") == "" {
					t.Errorf("read entry without field names: %+v", e)
				}
			} else {
				denies++
			}
		}
		if strings.Contains(fmt.Sprintf("%+v", e), "jane.doe") {
			t.Errorf("audit entry holds a value: %+v", e)
		}
	}
	if reads != 1 || denies != 2 {
		t.Errorf("audit: %d reads and %d refusals, want 1 and 2", reads, denies)
	}
}

// TestSwappedCiphertexts: moving one subject's sealed e-mail onto another
// makes the read fail instead of returning the other's data.
func TestSwappedCiphertexts(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "")
	a := s.newSubject(map[string]any{"user_id": "a", "email": "alice.swap@example.com"})
	b := s.newSubject(map[string]any{"user_id": "b", "email": "bob.swap@example.com"})
	s.stop()
	db, err := sql.Open("sqlite", filepath.Join(dir, "data", "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE traits SET sealed = (SELECT sealed FROM traits WHERE subject_id = ? AND field = 'email') WHERE subject_id = ? AND field = 'email'`, a, b); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s = startServer(t, dir, "")
	code, out, _ := s.do("GET", "/v1/subjects/"+b+"?purpose=service", s.admin, nil)
	if code != 500 || strings.Contains(string(out), "alice") {
		t.Errorf("swapped ciphertext: %d %s", code, out)
	}
	if got := s.json("GET", "/v1/subjects/"+a+"?purpose=service", s.admin, nil, 200)["fields"].(map[string]any)["email"]; got != "alice.swap@example.com" {
		t.Errorf("the untouched subject reads %v", got)
	}
}

// TestAuditTamper: flipping one audit row makes both the API and the CLI
// report the chain broken at that entry.
func TestAuditTamper(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "")
	for i := range 5 {
		s.newSubject(map[string]any{"user_id": fmt.Sprintf("t%d", i)})
	}
	s.stop()
	data := filepath.Join(dir, "data")
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"audit", "verify", "-data", data}, &out, io.Discard); err != nil {
		t.Fatalf("verify before tampering: %v: %s", err, out.String())
	}
	db, err := sql.Open("sqlite", filepath.Join(data, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET actor = 'apikey:someone-else' WHERE seq = 3`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	out.Reset()
	err = runMain(context.Background(), []string{"audit", "verify", "-data", data}, &out, io.Discard)
	if exitCode(err, io.Discard) != 1 || !strings.Contains(out.String(), "BROKEN at entry 3") {
		t.Errorf("verify after tampering: %v: %s", err, out.String())
	}
	s = startServer(t, dir, "")
	rep := s.json("GET", "/v1/audit/verify", s.admin, nil, 200)
	if rep["ok"] != false || rep["first_broken"] != float64(3) {
		t.Errorf("API verify after tampering: %v", rep)
	}
}

// TestReceiptVerifiesWithNode checks a consent receipt with Node's own
// Ed25519 and JWK implementation: no Go code of ours in the verification.
func TestReceiptVerifiesWithNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	s := startServer(t, t.TempDir(), "")
	id := s.newSubject(map[string]any{"user_id": "receipt"})
	res := s.consent(map[string]any{"subject_id": id, "scope": "all", "channel": "banner", "language": "zh-CN"})
	_, jwks, _ := s.do("GET", "/.well-known/candor/keys.json", "", nil)
	script := `
const crypto = require('crypto');
const [jwks, token] = [JSON.parse(process.argv[1]), process.argv[2]];
const [h, p, sig] = token.split('.');
const header = JSON.parse(Buffer.from(h, 'base64url'));
const jwk = jwks.keys.find(k => k.kid === header.kid);
const key = crypto.createPublicKey({key: jwk, format: 'jwk'});
if (!crypto.verify(null, Buffer.from(h + '.' + p), key, Buffer.from(sig, 'base64url'))) { console.log('BAD'); process.exit(1); }
console.log(Buffer.from(p, 'base64url').toString());`
	receipt := res["receipt"].(string)
	out, err := exec.Command(node, "-e", script, string(jwks), receipt).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v: %s", err, out)
	}
	var payload map[string]any
	if err := json.Unmarshal(out, &payload); err != nil {
		t.Fatalf("payload: %v: %s", err, out)
	}
	for _, k := range []string{"version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID", "piiPrincipalId", "piiControllers", "services", "notice"} {
		if _, ok := payload[k]; !ok {
			t.Errorf("receipt lacks %s", k)
		}
	}
	if payload["version"] != "KI-CR-v1.1.0" || payload["piiPrincipalId"] != id {
		t.Errorf("receipt: %v", payload)
	}
	// A receipt with one byte changed does not verify.
	bad := []byte(receipt)
	bad[len(bad)/2] ^= 1
	if out, err := exec.Command(node, "-e", script, string(jwks), string(bad)).CombinedOutput(); err == nil {
		t.Errorf("a tampered receipt verified: %s", out)
	}
}

func TestDemoSeedsOnceAndKeepsData(t *testing.T) {
	dir := t.TempDir()
	demo := func(c *Config) { c.Demo, c.DemoSize, c.PolicyFile = true, 60, "" }
	s := startServer(t, dir, filepath.Join(dir, "unused"), demo)
	if !strings.Contains(s.stdout.String(), "60 synthetic customers") {
		t.Errorf("banner: %s", s.stdout.String())
	}
	s.stop()
	s = startServer(t, dir, filepath.Join(dir, "unused"), demo)
	if strings.Contains(s.stdout.String(), "synthetic customers") {
		t.Error("the demo seeded again on restart")
	}
	st, err := openExisting(context.Background(), filepath.Join(dir, "data"), "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, _ := st.store.CountSubjects(context.Background()); n != 60 {
		t.Errorf("%d subjects, want 60", n)
	}
}

func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, examples.Policy, 0o600)
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"check", "-config", good}, &out, io.Discard); err != nil {
		t.Fatalf("check example: %v: %s", err, out.String())
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("organization: {name: X, country: CN, contact: a@b.example, jurisdictions: [PIPL]}\nundeclared: drop\npurposes:\n  - id: p\n    basis: legitimate_interest\n    colour: red\n"), 0o600)
	out.Reset()
	err := runMain(context.Background(), []string{"check", "-config", bad}, &out, io.Discard)
	if exitCode(err, io.Discard) != 1 {
		t.Errorf("check broken policy: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasPrefix(line, bad+":") {
			t.Errorf("finding not as FILE:LINE: %q", line)
		}
	}
	if !strings.Contains(out.String(), bad+":6:") {
		t.Errorf("the unknown key on line 6 is not reported: %s", out.String())
	}
	if err := runMain(context.Background(), []string{"check", "-nope"}, io.Discard, io.Discard); exitCode(err, io.Discard) != 2 {
		t.Errorf("usage error: %v", err)
	}
}

func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "")
	id := s.newSubject(map[string]any{"user_id": "backup", "email": "backup.me@example.com"})
	data := filepath.Join(dir, "data")
	backup := filepath.Join(dir, "backup.db")
	// A restore under a running server is refused.
	if err := runMain(context.Background(), []string{"restore", "-data", data, "-from", backup}, io.Discard, io.Discard); err == nil {
		t.Error("restore while running succeeded")
	}
	s.stop()
	if err := runMain(context.Background(), []string{"backup", "-data", data, "-to", backup}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(backup)
	if bytes.Contains(b, []byte("backup.me@example.com")) {
		t.Error("the backup holds a plaintext e-mail")
	}
	os.Remove(filepath.Join(data, "data.db"))
	if err := runMain(context.Background(), []string{"restore", "-data", data, "-from", backup}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, dir, "")
	if got := s.json("GET", "/v1/subjects/"+id+"?purpose=service", s.admin, nil, 200)["fields"].(map[string]any)["email"]; got != "backup.me@example.com" {
		t.Errorf("after restore: %v", got)
	}
	if rep := s.json("GET", "/v1/audit/verify", s.admin, nil, 200); rep["ok"] != true {
		t.Errorf("audit after restore: %v", rep)
	}
}

func TestReadOnlyDeclaredFields(t *testing.T) {
	s := startServer(t, t.TempDir(), "")
	id := s.newSubject(map[string]any{"user_id": "f", "email": "fields@example.com", "traits": map[string]any{"city": "上海"}})
	// city is declared for personalization, not for service.
	code, out, _ := s.do("GET", "/v1/subjects/"+id+"?purpose=service&fields=email,city", s.admin, nil)
	if code != 403 || !strings.Contains(string(out), "field_not_declared") || strings.Contains(string(out), "上海") {
		t.Errorf("asking for an undeclared field: %d %s", code, out)
	}
	got := s.json("GET", "/v1/subjects/"+id+"?purpose=service", s.admin, nil, 200)["fields"].(map[string]any)
	if _, ok := got["city"]; ok {
		t.Errorf("a read for service returned city: %v", got)
	}
}

// TestBrowserKey: a browser key, public in the shop's pages, records
// consents for the browser's own anonymous visitor and sends events, and
// nothing else: no consent by user id or subject id, no decisions, no reads.
func TestBrowserKey(t *testing.T) {
	s := startServer(t, t.TempDir(), "")
	browser := s.json("POST", "/v1/apikeys", s.admin, map[string]any{"name": "banner", "role": "browser"}, 201)["key"].(string)
	id := s.newSubject(map[string]any{"user_id": "customer-1", "email": "customer.one@example.com"})
	v := s.noticeVersion()
	for _, body := range []map[string]any{
		{"user_id": "customer-1", "notice_version": v, "choices": map[string]bool{"marketing.email": true}},
		{"subject_id": id, "notice_version": v, "choices": map[string]bool{"marketing.email": true}},
	} {
		if code, out, _ := s.do("POST", "/v1/consents", browser, body); code != 403 || !strings.Contains(string(out), "anonymous_id only") {
			t.Fatalf("a consent for a named customer with a browser key: %d %s", code, out)
		}
	}
	if d := s.decide(id, "marketing.email"); d["allow"] != false {
		t.Fatalf("the refused consent was recorded: %v", d)
	}
	got := s.json("POST", "/v1/consents", browser, map[string]any{"anonymous_id": "anon-browser-1", "notice_version": v,
		"choices": map[string]bool{"analytics": true}}, 201)
	if got["subject_id"] == "" || got["subject_id"] == id {
		t.Fatalf("the anonymous visitor's consent: %v", got)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/decisions?subject_id=" + id + "&purpose=marketing.email"},
		{"GET", "/v1/subjects/" + id + "?purpose=service"},
		{"GET", "/v1/subjects/" + id + "/profile?purpose=personalization"},
		{"GET", "/v1/subjects/" + id + "/consents"},
		{"GET", "/v1/rights"},
	} {
		if code, _, _ := s.do(c.method, c.path, browser, nil); code != 403 {
			t.Errorf("%s %s with a browser key: %d, want 403", c.method, c.path, code)
		}
	}
	if code, out, _ := s.post("/v1/track", browser, []byte(`{"anonymousId":"anon-browser-1","event":"Page Viewed","properties":{}}`)); code != 200 {
		t.Fatalf("an event with a browser key: %d %s", code, out)
	}

	// Naming a customer takes an identity token from the shop's server:
	// without one, nobody who read the page can attach their address to a
	// customer, or alias a visitor (with its grants) into one.
	for _, c := range []struct{ path, body string }{
		{"/v1/identify", `{"userId":"customer-1","traits":{"email":"attacker@evil.example"}}`},
		{"/v1/identify", `{"userId":"customer-1","anonymousId":"anon-browser-1","context":{"candorIdentity":"v1.9999999999.00"}}`},
		{"/v1/alias", `{"userId":"customer-1","previousId":"anon-browser-1"}`},
		{"/v1/track", `{"userId":"customer-1","event":"Page Viewed","properties":{}}`},
	} {
		if code, out, _ := s.post(c.path, browser, []byte(c.body)); code != 403 {
			t.Errorf("%s %s with a browser key and no valid token: %d %s", c.path, c.body, code, out)
		}
	}
	var secret bytes.Buffer
	if err := runMain(context.Background(), []string{"keys", "identity-secret", "-data", filepath.Join(s.dir, "data")}, &secret, io.Discard); err != nil {
		t.Fatal(err)
	}
	token := collect.IdentityToken([]byte(strings.TrimSpace(secret.String())), "customer-2", time.Now().Add(time.Hour))
	body := `{"userId":"customer-2","anonymousId":"anon-browser-2","traits":{"email":"typed.in.page@example.com","city":"Suzhou"},"context":{"candorIdentity":"` + token + `"}}`
	if code, out, _ := s.post("/v1/identify", browser, []byte(body)); code != 200 {
		t.Fatalf("identify with the shop's token: %d %s", code, out)
	}
	if code, out, _ := s.post("/v1/identify", browser, []byte(strings.Replace(body, `"customer-2"`, `"customer-3"`, 1))); code != 403 {
		t.Fatalf("the token of one user naming another: %d %s", code, out)
	}
	// The e-mail typed in the page was dropped: neither a trait nor an
	// identifier by which someone could sign in to the portal.
	if strings.Contains(s.log.String(), "typed.in.page") {
		t.Fatal("the log holds the typed e-mail")
	}
	id2 := s.json("POST", "/v1/subjects", s.admin, map[string]any{"user_id": "customer-2"}, 200)["id"].(string)
	got2 := s.json("GET", "/v1/subjects/"+id2+"?purpose=service", s.admin, nil, 200)
	if f := got2["fields"].(map[string]any); f["email"] != nil {
		t.Fatalf("the browser's e-mail trait was kept: %v", f)
	}
}
