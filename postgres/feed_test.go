package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/postgres"
	"github.com/jackc/pgx/v5"
)

// TestFeed: a change committed through one node reaches the feed of
// another within the bound; a feed whose connection dies stops vouching
// for the cache within its lease, and resets it when it is back; a restore
// resets every feed.
func TestFeed(t *testing.T) {
	a := open(t)
	ctx := context.Background()
	// Node B: a second pool on the same schemas.
	b := secondNode(t, a)
	changed := make(chan string, 16)
	resets := make(chan struct{}, 16)
	const lease = 500 * time.Millisecond
	feed := b.Watch(postgres.FeedOptions{Changed: func(id string) { changed <- id }, Reset: func() { resets <- struct{}{} }, Ping: 50 * time.Millisecond, Lease: lease})
	defer feed.Close()
	waitFresh := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !feed.Fresh() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the feed is not fresh after 10s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFresh("start")
	<-resets // the first connection resets: nothing before it was heard

	// The bound: from commit to delivery on the other node. It is a
	// correctness bound (a cache trusts the feed), set far above what
	// loopback needs so that a loaded CI machine does not fail it.
	expect := func(what, id string) {
		t.Helper()
		select {
		case got := <-changed:
			if got != id {
				t.Fatalf("%s: feed delivered %q, want %q", what, got, id)
			}
		case <-time.After(lease):
			t.Fatalf("%s: no change delivered within the lease (%v)", what, lease)
		}
	}
	at := time.Now().UTC()
	if err := a.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_feed", Create: true, At: at}); err != nil {
		t.Fatal(err)
	}
	expect("create", "sub_feed")
	if err := a.AppendConsents(ctx, []candor.Consent{{ID: "c1", ReceiptID: "r1", SubjectID: "sub_feed", Purpose: "analytics", State: candor.ConsentGranted, NoticeHash: "n", Channel: "api", Actor: "test", At: at}}); err != nil {
		t.Fatal(err)
	}
	expect("consent", "sub_feed")
	if err := a.SetRestricted(ctx, "sub_feed", true, at); err != nil {
		t.Fatal(err)
	}
	expect("restriction", "sub_feed")

	// Kill the feed's connection: it stops vouching within the lease,
	// reconnects, and resets before vouching again.
	admin, err := pgx.Connect(ctx, os.Getenv(testenv.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1) k`, "candor-feed:"+a.Prefix()).Scan(&killed); err != nil || killed == 0 {
		t.Fatal("killing the feed's connection:", killed, err)
	}
	deadline := time.Now().Add(lease + time.Second)
	for feed.Fresh() {
		if time.Now().After(deadline) {
			t.Fatal("the feed still vouches for the cache after its connection was killed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-resets:
	case <-time.After(10 * time.Second):
		t.Fatal("no reset after the feed reconnected")
	}
	waitFresh("reconnect")

	// A restore announces a reset to every node.
	if err := a.Import(ctx, func(emit func(candor.Row) error) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-resets:
	case <-time.After(lease):
		t.Fatal("a restore did not reset the feed")
	}
}

// TestWritesWaitForOtherNodes: a write through one node returns only once
// every other live node has dropped its cached state of the subject, even
// when that node is slow; and a node that stops answering holds writes up
// for no more than the lease.
func TestWritesWaitForOtherNodes(t *testing.T) {
	a := open(t)
	ctx := context.Background()
	b := secondNode(t, a)
	const lease = 500 * time.Millisecond
	var mu sync.Mutex
	dropped := map[string]int{}
	fb := b.Watch(postgres.FeedOptions{Ping: 50 * time.Millisecond, Lease: lease, Changed: func(id string) {
		time.Sleep(30 * time.Millisecond) // a slow node
		mu.Lock()
		dropped[id]++
		mu.Unlock()
	}})
	defer fb.Close()
	fa := a.Watch(postgres.FeedOptions{Ping: 50 * time.Millisecond, Lease: lease})
	defer fa.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !fa.Fresh() || !fb.Fresh() {
		if time.Now().After(deadline) {
			t.Fatal("feeds not fresh")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond) // both have heard the other's hello
	at := time.Now().UTC()
	seen := func(id string) int {
		mu.Lock()
		defer mu.Unlock()
		return dropped[id]
	}
	if err := a.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_w", Create: true, At: at}); err != nil {
		t.Fatal(err)
	}
	if seen("sub_w") != 1 {
		t.Fatal("the create returned before the other node dropped its state")
	}
	for i := range 5 {
		if err := a.AppendConsents(ctx, []candor.Consent{{ID: fmt.Sprint("cw", i), ReceiptID: "r", SubjectID: "sub_w", Purpose: "analytics", State: candor.ConsentGranted,
			NoticeHash: "n", Channel: "api", Actor: "t", At: at}}); err != nil {
			t.Fatal(err)
		}
		if got := seen("sub_w"); got != 2+i {
			t.Fatalf("consent %d returned after %d drops on the other node", i, got)
		}
	}
	if err := a.SetRestricted(ctx, "sub_w", true, at); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DeleteSubject(ctx, "sub_w"); err != nil {
		t.Fatal(err)
	}
	if got := seen("sub_w"); got != 8 {
		t.Fatalf("%d drops after restriction and erasure, want 8", got)
	}
	// B goes away without a word: A's writes wait at most about a lease.
	fb.Close()
	start := time.Now()
	if err := a.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_x", Create: true, At: at}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > lease+time.Second {
		t.Fatalf("a write waited %v for a node that is gone", d)
	}
}

// TestTraitCacheAcrossNodes: a node keeps traits it read while its feed is
// fresh; a trait written through another node is read anew at once.
func TestTraitCacheAcrossNodes(t *testing.T) {
	a := open(t)
	ctx := context.Background()
	b := secondNode(t, a)
	fa := a.Watch(postgres.FeedOptions{Ping: 50 * time.Millisecond})
	defer fa.Close()
	fb := b.Watch(postgres.FeedOptions{Ping: 50 * time.Millisecond})
	defer fb.Close()
	for deadline := time.Now().Add(10 * time.Second); !fa.Fresh() || !fb.Fresh(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("feeds not fresh")
		}
	}
	time.Sleep(150 * time.Millisecond)
	at := time.Now().UTC()
	if err := a.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_t", Create: true, At: at, Traits: []candor.Trait{{Field: "city", Sealed: []byte("v1")}}}); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 6; i++ {
		got, err := b.Traits(ctx, "sub_t", []string{"city"})
		if err != nil || len(got) != 1 || string(got[0].Sealed) != fmt.Sprint("v", i-1) {
			t.Fatalf("read %d: %+v %v", i, got, err)
		}
		if again, _ := b.Traits(ctx, "sub_t", nil); len(again) != 1 {
			t.Fatalf("all traits: %+v", again)
		}
		writer := a
		if i%2 == 0 {
			writer = b
		}
		if err := writer.WriteSubject(ctx, candor.SubjectWrite{SubjectID: "sub_t", At: at, Traits: []candor.Trait{{Field: "city", Sealed: []byte(fmt.Sprint("v", i))}}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := a.Traits(ctx, "sub_t", []string{"city"}); string(got[0].Sealed) != fmt.Sprint("v", i) {
			t.Fatalf("node A after write %d: %s", i, got[0].Sealed)
		}
	}
	if _, err := a.DeleteSubject(ctx, "sub_t"); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Traits(ctx, "sub_t", nil); len(got) != 0 {
		t.Fatal("node B still has the traits of an erased subject")
	}
}

// secondNode opens another pool on a's schemas: another node.
func secondNode(t *testing.T, a *postgres.DB) *postgres.DB {
	t.Helper()
	b, err := postgres.Open(context.Background(), os.Getenv(testenv.PostgresEnv), postgres.Options{Prefix: a.Prefix()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
