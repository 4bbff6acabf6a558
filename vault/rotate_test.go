package vault_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/sqlite"
	"github.com/candorhq/candor/vault"
)

type sealed struct {
	subject, value string
	ct             []byte
}

// seedSubjects makes n subjects with one sealed value each.
func seedSubjects(tb testing.TB, v *vault.Vault, n int) []sealed {
	tb.Helper()
	out := make([]sealed, n)
	for i := range out {
		id := newSubject(tb, v)
		value := fmt.Sprintf("user%d@example.com", i)
		out[i] = sealed{id, value, mustSeal(tb, v, id, "email", value)}
	}
	return out
}

func checkUnseal(tb testing.TB, v *vault.Vault, data []sealed) {
	tb.Helper()
	for _, d := range data {
		got, err := v.Unseal(context.Background(), d.subject, "email", d.ct)
		if err != nil || string(got) != d.value {
			tb.Fatalf("Unseal(%s) = %q, %v; want %q", d.subject, got, err, d.value)
		}
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.open(t, vault.Options{})
	data := seedSubjects(t, v, 30)
	if err := v.Shred(ctx, data[0].subject); err != nil {
		t.Fatal(err)
	}
	data = data[1:]
	sig, err := v.Signer(ctx, "audit-signing")
	if err != nil {
		t.Fatal(err)
	}
	blind := v.BlindIndex(candor.IdentEmail, "a@example.com")

	before, err := v.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.MasterKeys) != 1 || !before.MasterKeys[0].Primary || before.MasterKeys[0].ID != before.PrimaryID || before.MasterKeys[0].Status != "enabled" {
		t.Fatalf("master keys before = %+v", before.MasterKeys)
	}
	if before.SubjectKeys[before.PrimaryID] != 29 || before.Shredded != 1 {
		t.Fatalf("status before = %+v", before)
	}
	if fmt.Sprint(before.SystemKeys) != "[audit-signing blind-index]" {
		t.Errorf("SystemKeys = %v", before.SystemKeys)
	}

	ids := []uint32{before.PrimaryID}
	live := 29
	for round := 1; round <= 2; round++ {
		var calls, lastDone, lastTotal int
		res, err := v.Rotate(ctx, func(done, total int) { calls++; lastDone, lastTotal = done, total })
		if err != nil {
			t.Fatal(err)
		}
		if res.Rewrapped != live || res.Skipped != 0 || res.Failed != 0 {
			t.Errorf("round %d: %+v, want %d re-wrapped", round, res, live)
		}
		if lastDone != live || lastTotal != live || calls != live+1 {
			t.Errorf("round %d: progress ended at %d/%d after %d calls", round, lastDone, lastTotal, calls)
		}
		ids = append(ids, res.MasterKeyID)
		st, err := v.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.PrimaryID != res.MasterKeyID || len(st.MasterKeys) != round+1 {
			t.Errorf("round %d: status %+v, want primary %d of %d keys", round, st, res.MasterKeyID, round+1)
		}
		for i, k := range st.MasterKeys {
			if k.ID != ids[i] || k.Primary != (k.ID == res.MasterKeyID) {
				t.Errorf("round %d: master key %d = %+v, want id %d", round, i, k, ids[i])
			}
		}
		if len(st.SubjectKeys) != 1 || st.SubjectKeys[res.MasterKeyID] != live || st.Shredded != 1 {
			t.Errorf("round %d: subject keys by master key %v, shredded %d; want all %d under %d", round, st.SubjectKeys, st.Shredded, live, res.MasterKeyID)
		}
		// System keys are re-wrapped too.
		for _, name := range st.SystemKeys {
			w, err := e.db.Keys().SystemKey(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(w[1:5], []byte{byte(res.MasterKeyID >> 24), byte(res.MasterKeyID >> 16), byte(res.MasterKeyID >> 8), byte(res.MasterKeyID)}) {
				t.Errorf("round %d: system key %s not re-wrapped", round, name)
			}
		}
		checkUnseal(t, v, data)
		// A new key is wrapped with the new primary.
		data = append(data, seedSubjects(t, v, 1)...)
		live++
		if st, _ = v.Status(ctx); st.SubjectKeys[res.MasterKeyID] != live {
			t.Errorf("round %d: new key not under the new primary: %v", round, st.SubjectKeys)
		}
	}

	// A vault opened afresh (another process, a restart) reads everything.
	v2, err := vault.Open(ctx, e.db.Keys(), vault.Options{MasterKeyFile: e.keyFile})
	if err != nil {
		t.Fatal(err)
	}
	checkUnseal(t, v2, data)
	sig2, err := v2.Signer(ctx, "audit-signing")
	if err != nil {
		t.Fatal(err)
	}
	if !sig2.Public().Equal(sig.Public()) {
		t.Error("signing key changed by rotation")
	}
	if !bytes.Equal(v2.BlindIndex(candor.IdentEmail, "a@example.com"), blind) {
		t.Error("blind index changed by rotation")
	}
}

// TestRotateLosesNoConcurrentShred re-wraps while subjects are shredded:
// a shred always wins over the re-wrap.
func TestRotateLosesNoConcurrentShred(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	v := e.open(t, vault.Options{})
	data := seedSubjects(t, v, 200)
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, d := range data[:100] {
			if err := v.Shred(ctx, d.subject); err != nil {
				t.Error(err)
			}
		}
	})
	res, err := v.Rotate(ctx, nil)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range data[:100] {
		if _, err := v.Unseal(ctx, d.subject, "email", d.ct); !errors.Is(err, vault.ErrShredded) {
			t.Fatalf("Unseal of a shredded subject: %v", err)
		}
		k, err := e.db.Keys().SubjectKey(ctx, d.subject)
		if err != nil || k.Wrapped != nil {
			t.Fatalf("shredded key came back: %v, %x", err, k.Wrapped)
		}
	}
	checkUnseal(t, v, data[100:])
	if res.Rewrapped+res.Skipped > 200 || res.Rewrapped < 100 {
		t.Errorf("result %+v", res)
	}
}

// TestRotateWhileServing runs a rotation in one vault (as `candor keys
// rotate` runs, in its own process) while another vault on the same key
// store and key file (`candor serve`, holding the old keyset in memory and
// a small cache) unseals many subjects' data and creates new subjects. No
// request may fail.
func TestRotateWhileServing(t *testing.T) {
	// Without new subjects, the serving vault learns of the rotation only
	// from keys it cannot unwrap; with them, also from the file it checks
	// before wrapping a new key.
	t.Run("unseal", func(t *testing.T) { testRotateWhileServing(t, false) })
	t.Run("unseal and create", func(t *testing.T) { testRotateWhileServing(t, true) })
}

func testRotateWhileServing(t *testing.T, create bool) {
	ctx := context.Background()
	e := newEnv(t)
	serve := e.open(t, vault.Options{CacheSize: 8})
	data := seedSubjects(t, serve, 300)

	// The rotating process has its own handle on the store.
	db2, err := sqlite.Open(ctx, e.db.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	rotator, err := vault.Open(ctx, db2.Keys(), vault.Options{MasterKeyFile: e.keyFile})
	if err != nil {
		t.Fatal(err)
	}

	var (
		stop     atomic.Bool
		unsealed atomic.Int64
		failures atomic.Int64
		wg       sync.WaitGroup
		newMu    sync.Mutex
		created  []sealed
	)
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 5 {
			t.Errorf(format, args...)
		}
	}
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for !stop.Load() {
				d := data[r.IntN(len(data))]
				got, err := serve.Unseal(ctx, d.subject, "email", d.ct)
				if err != nil || string(got) != d.value {
					fail("Unseal during rotation = %q, %v", got, err)
				}
				unsealed.Add(1)
			}
		})
	}
	wg.Go(func() {
		for i := 0; create && !stop.Load(); i++ {
			id := candor.NewID("sub_")
			if err := serve.NewSubjectKey(ctx, id); err != nil {
				fail("NewSubjectKey during rotation: %v", err)
				continue
			}
			value := fmt.Sprintf("new%d@example.com", i)
			ct, err := serve.Seal(ctx, id, "email", []byte(value))
			if err != nil {
				fail("Seal during rotation: %v", err)
				continue
			}
			newMu.Lock()
			created = append(created, sealed{id, value, ct})
			newMu.Unlock()
			time.Sleep(time.Millisecond)
		}
	})

	var last uint32
	for range 3 {
		res, err := rotator.Rotate(ctx, nil)
		if err != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatal(err)
		}
		last = res.MasterKeyID
	}
	for start := unsealed.Load(); unsealed.Load() < start+2000; {
		time.Sleep(time.Millisecond) // keep serving a while under the new keyset
	}
	stop.Store(true)
	wg.Wait()
	if failures.Load() > 0 {
		t.Fatalf("%d requests failed during rotation", failures.Load())
	}
	t.Logf("%d unseals and %d new subjects during 3 rotations", unsealed.Load(), len(created))

	// The serving vault now wraps new keys with the newest primary.
	fresh := seedSubjects(t, serve, 1)
	k, err := e.db.Keys().SubjectKey(ctx, fresh[0].subject)
	if err != nil {
		t.Fatal(err)
	}
	if got := uint32(k.Wrapped[1])<<24 | uint32(k.Wrapped[2])<<16 | uint32(k.Wrapped[3])<<8 | uint32(k.Wrapped[4]); got != last {
		t.Errorf("new key wrapped with master key %d, want the newest %d", got, last)
	}
	// Everything opens, in both processes and in a third one.
	all := append(append(data, created...), fresh...)
	checkUnseal(t, serve, all)
	checkUnseal(t, rotator, all)
	v3, err := vault.Open(ctx, e.db.Keys(), vault.Options{MasterKeyFile: e.keyFile, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	checkUnseal(t, v3, all)

	// Keys created by the serving process before it saw a rotation may still
	// be wrapped with an older (still present) key; one more rotation takes
	// them all.
	res, err := rotator.Rotate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := serve.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.PrimaryID != res.MasterKeyID || len(st.SubjectKeys) != 1 || st.SubjectKeys[res.MasterKeyID] != len(all) {
		t.Errorf("after a quiet rotation: primary %d, subject keys %v; want all %d under %d", st.PrimaryID, st.SubjectKeys, len(all), res.MasterKeyID)
	}
}

// TestConcurrentRotations runs two rotations at once from two vaults: the
// file lock keeps both new keys, and everything still opens.
func TestConcurrentRotations(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.open(t, vault.Options{})
	data := seedSubjects(t, a, 50)
	b, err := vault.Open(ctx, e.db.Keys(), vault.Options{MasterKeyFile: e.keyFile})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, v := range []*vault.Vault{a, b} {
		wg.Go(func() {
			if _, err := v.Rotate(ctx, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	st, err := a.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.MasterKeys) != 3 {
		t.Errorf("master keys = %+v, want 3", st.MasterKeys)
	}
	v3, err := vault.Open(ctx, e.db.Keys(), vault.Options{MasterKeyFile: e.keyFile, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	checkUnseal(t, v3, data)
}

// TestUnsealAfterForeignRotation: another process rotated and re-wrapped
// every key with a master key this vault has never seen; its first unwrap
// fails, so it re-reads the keyset file and succeeds.
func TestUnsealAfterForeignRotation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	serve := e.open(t, vault.Options{CacheSize: -1})
	data := seedSubjects(t, serve, 5)
	sig, err := serve.Signer(ctx, "receipt-signing")
	if err != nil {
		t.Fatal(err)
	}
	rotator, err := vault.Open(ctx, e.db.Keys(), vault.Options{MasterKeyFile: e.keyFile})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := rotator.Rotate(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	checkUnseal(t, serve, data)
	// A signer first used after the rotation unwraps as well, in a vault
	// opened before it.
	other := e.open(t, vault.Options{})
	if _, err := rotator.Rotate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	s2, err := other.Signer(ctx, "receipt-signing")
	if err != nil {
		t.Fatal(err)
	}
	if !s2.Public().Equal(sig.Public()) {
		t.Error("signing key differs")
	}
}

// TestShredByAnotherProcess: a vault that cached a subject key stops using
// it once another process shredded it, after at most CacheTTL.
func TestShredByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	serve := e.open(t, vault.Options{CacheTTL: time.Minute, Now: clock})
	d := seedSubjects(t, serve, 1)[0]
	other := e.open(t, vault.Options{})
	if err := other.Shred(ctx, d.subject); err != nil {
		t.Fatal(err)
	}
	if _, err := serve.Unseal(ctx, d.subject, "email", d.ct); err != nil {
		t.Fatalf("within the TTL the cached key still opens (documented bound): %v", err)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if _, err := serve.Unseal(ctx, d.subject, "email", d.ct); !errors.Is(err, vault.ErrShredded) {
		t.Errorf("after the TTL: %v, want ErrShredded", err)
	}
}
