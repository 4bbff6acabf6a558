package postgres_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/postgres"
	"github.com/candorhq/candor/storetest"
)

// open opens a store in schemas of its own, dropped when the test ends, or
// skips when CANDOR_TEST_POSTGRES is not set.
func open(t *testing.T) *postgres.DB {
	t.Helper()
	url, prefix := testenv.Postgres(t)
	db, err := postgres.Open(context.Background(), url, postgres.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) candor.Store { return open(t) }, testenv.FillPersonal)
}

type signer struct{ key ed25519.PrivateKey }

func (s signer) KeyID() string          { return "k" }
func (s signer) Sign(msg []byte) []byte { return ed25519.Sign(s.key, msg) }

// TestAuditChainAcrossNodes: two nodes (two pools, two logs) append from
// many goroutines at once; the result is one unbroken chain.
func TestAuditChainAcrossNodes(t *testing.T) {
	a := open(t)
	b := secondNode(t, a)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s := signer{key}
	var logs []*audit.Log
	for _, db := range []*postgres.DB{a, b} {
		l, err := audit.New(db, s, audit.Options{Anchors: db.Keys(), CheckpointEvery: 100})
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, l)
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if err := logs[g%2].Append(context.Background(), candor.AuditEntry{Actor: fmt.Sprint("node", g%2), Action: "read", SubjectID: fmt.Sprint("s", i), Decision: "allow"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, l := range logs {
		l.Close()
	}
	rep, err := audit.Verify(context.Background(), a, audit.VerifyOptions{Anchors: a.Keys(), Keys: func(string) ed25519.PublicKey { return key.Public().(ed25519.PublicKey) }, MaxUnsigned: 100 + audit.DefaultMaxBatch})
	if err != nil || !rep.OK || rep.Entries != 800 || rep.Checkpoints < 8 || rep.AnchorSeq != 800 || rep.Unsigned != 0 {
		t.Errorf("report %+v %v", rep, err)
	}
}

// TestAuditIsAppendOnly: the audit log's entries and signed checkpoints
// refuse an UPDATE or a DELETE from any connection, as on the embedded
// store.
func TestAuditIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	url, prefix := testenv.Postgres(t)
	db, err := postgres.Open(ctx, url, postgres.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.AppendAudit(ctx, []*candor.AuditEntry{{Actor: "a", Action: "x", Decision: candor.DecisionOK}}, func(s int64, h []byte, e *candor.AuditEntry) { e.Seq, e.Hash = s+1, []byte("h") }); err != nil {
		t.Fatal(err)
	}
	if err := db.PutCheckpoint(ctx, candor.AuditCheckpoint{Seq: 1, Hash: []byte("h"), Time: time.Now(), KeyID: "k1", Signature: []byte("s")}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := pgx.Identifier{prefix + "_audit"}.Sanitize()
	for _, q := range []string{
		`UPDATE ` + schema + `.audit_log SET actor = 'b'`,
		`DELETE FROM ` + schema + `.audit_log`,
		`UPDATE ` + schema + `.audit_checkpoints SET key_id = 'k2'`,
		`DELETE FROM ` + schema + `.audit_checkpoints`,
	} {
		if _, err := conn.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
}
