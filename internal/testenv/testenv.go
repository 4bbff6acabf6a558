// Package testenv builds Candor's real parts (SQLite store, vault, audit log,
// consent ledger, subjects, gate) in a temporary directory with the example
// policy, for tests and examples of the packages that use them together.
package testenv

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/gate"
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

// Env is the wired parts.
type Env struct {
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
	e.close = func() { e.Audit.Close(); store.Close() }
	return e, nil
}

// Wire builds an Env on any store, with its master key file in dir. The
// caller closes the store; Close closes the audit log.
func Wire(store candor.Store, dir string, auditStore candor.AuditStore) (*Env, error) {
	ctx := context.Background()
	pol, findings := policy.Parse("candor.yaml", examples.Policy)
	if len(findings) > 0 {
		return nil, fmt.Errorf("example policy: %v", findings)
	}
	v, err := vault.Open(ctx, store.Keys(), vault.Options{MasterKeyFile: filepath.Join(dir, "master.json"), CreateMasterKey: true})
	if err != nil {
		return nil, err
	}
	if auditStore == nil {
		auditStore = store
	}
	log, err := audit.New(auditStore, NewSigner(), audit.Options{Anchors: store.Keys()})
	if err != nil {
		return nil, err
	}
	e := &Env{Store: store, Vault: v, Audit: log, Policy: pol, close: func() { log.Close() }}
	notices, err := consent.LoadNotices(ctx, store, policy.NewNotice(pol), time.Now())
	if err != nil {
		e.Close()
		return nil, err
	}
	e.Version = notices.Current().Version
	e.Ledger = consent.New(consent.Options{Store: store, Sealer: v, BirthDate: gate.BirthDates(store, v, pol), Policy: pol, Notices: notices, Signer: NewSigner(), Auditor: log})
	e.Subjects = subjects.New(subjects.Options{Store: store, Keys: v, Policy: pol, Auditor: log, Changed: e.Ledger.Invalidate})
	e.Gate = gate.New(gate.Options{Policy: pol, Ledger: e.Ledger, Store: store, Unsealer: v, Auditor: log})
	return e, nil
}

// Close closes the audit log and the store.
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
