package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/candorhq/candor/apikeys"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/internal/testenv"
)

// startProcess runs the candor binary with serve and the environment, and
// returns a client for it once it prints its address.
func startProcess(t *testing.T, bin string, env []string, args ...string) *testServer {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return startCmd(t, cmd)
}

// waitAddr reads a serve process's output until it prints its address.
func waitAddr(t *testing.T, out io.Reader, log *syncBuffer) *testServer {
	t.Helper()
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`running on (http://[0-9.:]+)`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	s := &testServer{t: t, log: log}
	select {
	case s.base = <-addr:
	case <-time.After(60 * time.Second):
		t.Fatalf("the process did not start: %s", log.String())
	}
	return s
}

// TestTwoProcesses starts two real candor serve processes on one
// PostgreSQL: what one writes the other reads, and a consent changed
// through one decides the very next request on the other.
func TestTwoProcesses(t *testing.T) {
	url, schema := testenv.Postgres(t)
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "candor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v: %s", err, out)
	}
	admin, write := apikeys.Generate(), apikeys.Generate()
	policyFile := filepath.Join(dir, "candor.yaml")
	env := []string{"CANDOR_DB=" + url, "CANDOR_DB_SCHEMA=" + schema, "CANDOR_ADMIN_KEY=" + admin, "CANDOR_WRITE_KEY=" + write, "CANDOR_CONFIG=" + policyFile}
	if err := os.WriteFile(policyFile, examples.Policy, 0o600); err != nil {
		t.Fatal(err)
	}
	a := startProcess(t, bin, env, "-data", filepath.Join(dir, "a"))
	bn := startProcess(t, bin, append(env, "CANDOR_MASTER_KEY_FILE="+filepath.Join(dir, "a", "master-key.json")), "-data", filepath.Join(dir, "b"))
	for _, s := range []*testServer{a, bn} {
		s.admin, s.write = admin, write
	}
	id := a.newSubject(map[string]any{"user_id": "processes", "email": "two.processes@example.com"})
	if got := bn.json("GET", "/v1/subjects/"+id+"?purpose=service", admin, nil, 200)["fields"].(map[string]any)["email"]; got != "two.processes@example.com" {
		t.Fatalf("process B reads %v", got)
	}
	for i := range 10 {
		grant := i%2 == 0
		writer, reader := a, bn
		if i%3 == 1 {
			writer, reader = bn, a
		}
		writer.consent(map[string]any{"subject_id": id, "choices": map[string]bool{"analytics": grant}})
		if d := reader.decide(id, "analytics"); d["allow"] != grant {
			t.Fatalf("round %d: %v through one process, the other decides %v", i, grant, d)
		}
	}
	if rep := bn.json("GET", "/v1/audit/verify", admin, nil, 200); rep["ok"] != true {
		t.Errorf("audit: %v", rep)
	}
}
