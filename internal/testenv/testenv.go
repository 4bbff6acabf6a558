// Package testenv builds Candor's real parts (SQLite store, vault, audit log,
// consent ledger, subjects, gate, and the rest [app.Open] wires, as serve
// wires them) in a temporary directory with the example policy, for tests
// and examples of the packages that use them together.
package testenv

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/app"
	"github.com/candorhq/candor/policy"
	"github.com/candorhq/candor/sqlite"
	"github.com/candorhq/candor/subjects"
	"github.com/candorhq/candor/vault"
)

// Signer is an Ed25519 signer with a throwaway key.
type Signer struct{ Key ed25519.PrivateKey }

// NewSigner returns a signer with a new key.
func NewSigner() Signer {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	return Signer{k}
}

// KeyID implements [candor.Signer].
func (s Signer) KeyID() string { return "test" }

// Sign implements [candor.Signer].
func (s Signer) Sign(msg []byte) []byte { return ed25519.Sign(s.Key, msg) }

// Public returns the public key.
func (s Signer) Public() ed25519.PublicKey { return s.Key.Public().(ed25519.PublicKey) }

// Env is the wired parts: App, and its parts most tests use.
type Env struct {
	App      *app.App
	Store    candor.Store
	Sqlite   *sqlite.DB // the store, when Build made it
	Vault    *vault.Vault
	Audit    *audit.Log
	Ledger   *consent.Ledger
	Subjects *subjects.Service
	Gate     *gate.Gate
	Policy   *candor.Policy
	Version  string // the current notice version
	close    func()
}

// Admin is an actor with the admin role.
var Admin = candor.Actor{ID: "test:admin", Role: candor.RoleAdmin}

// New builds an Env for a test. auditStore, when not nil, keeps the audit
// log apart from the data.
func New(tb testing.TB, auditStore candor.AuditStore) *Env {
	tb.Helper()
	e, err := Build(tb.TempDir(), auditStore)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.Close)
	return e
}

// Build builds an Env on a new SQLite store in dir.
func Build(dir string, auditStore candor.AuditStore) (*Env, error) {
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "data"))
	if err != nil {
		return nil, err
	}
	e, err := Wire(store, dir, auditStore)
	if err != nil {
		store.Close()
		return nil, err
	}
	e.Sqlite = store
	e.close = func() { e.App.Close(); store.Close() }
	return e, nil
}

// Wire builds an Env on any store, with its master key file in dir, through
// [app.Open] without its background jobs. The caller closes the store;
// Close closes the rest.
func Wire(store candor.Store, dir string, auditStore candor.AuditStore) (*Env, error) {
	pol, findings := policy.Parse("candor.yaml", examples.Policy)
	if len(findings) > 0 {
		return nil, fmt.Errorf("example policy: %v", findings)
	}
	a, err := app.Open(context.Background(), app.Config{Policy: pol, Store: store, AuditStore: auditStore,
		Stores: app.StoreConfig{DataDir: dir}, CreateMasterKey: true, NoJobs: true})
	if err != nil {
		return nil, err
	}
	return &Env{App: a, Store: store, Vault: a.Vault, Audit: a.Audit, Ledger: a.Ledger, Subjects: a.Subjects, Gate: a.Gate, Policy: pol,
		Version: a.Notices.Current().Version, close: func() { a.Close() }}, nil
}

// Close closes the App and, when Build opened it, the store.
func (e *Env) Close() { e.close() }

// NewSubject creates a subject and, if scope is not empty, records a
// consent with that scope against the current notice.
func (e *Env) NewSubject(in subjects.Input, scope string) (string, error) {
	ctx := context.Background()
	id, _, err := e.Subjects.Upsert(ctx, Admin, "", in)
	if err != nil || scope == "" {
		return id, err
	}
	_, err = e.Ledger.Record(ctx, Admin, "", id, consent.Choice{NoticeVersion: e.Version, Scope: scope})
	return id, err
}

// MustSubject is NewSubject that fails the test on error.
func (e *Env) MustSubject(tb testing.TB, in subjects.Input, scope string) string {
	tb.Helper()
	id, err := e.NewSubject(in, scope)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}
