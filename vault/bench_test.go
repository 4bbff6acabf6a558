package vault_test

import (
	"context"
	"testing"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/vault"
)

// value is a typical sealed value: about 30 bytes.
const value = "zhang.wei83@mail.example.cn"

func BenchmarkSeal(b *testing.B) {
	ctx := context.Background()
	v := newEnv(b).open(b, vault.Options{})
	id := newSubject(b, v)
	pt := []byte(value)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Seal(ctx, id, "email", pt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnsealCached is the hot path: the subject key is in the cache.
func BenchmarkUnsealCached(b *testing.B) {
	ctx := context.Background()
	v := newEnv(b).open(b, vault.Options{})
	id := newSubject(b, v)
	ct := mustSeal(b, v, id, "email", value)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Unseal(ctx, id, "email", ct); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnsealCold reads and unwraps the subject key every time: a
// SQLite read, the master-key decryption and the keyset parse.
func BenchmarkUnsealCold(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b)
	v := e.open(b, vault.Options{})
	id := newSubject(b, v)
	ct := mustSeal(b, v, id, "email", value)
	cold := e.open(b, vault.Options{CacheSize: -1})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cold.Unseal(ctx, id, "email", ct); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBlindIndex(b *testing.B) {
	v := newEnv(b).open(b, vault.Options{})
	b.ReportAllocs()
	for b.Loop() {
		v.BlindIndex(candor.IdentEmail, value)
	}
}
