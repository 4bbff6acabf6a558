package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/internal/app"
	"github.com/candorhq/candor/postgres"
	"github.com/candorhq/candor/vault"
)

// stack is the storage and crypto every command needs: the store, the
// vault and the audit log (nil when opened by [openStores]).
type stack struct {
	store    candor.Store
	shared   bool // the store is shared by several nodes (PostgreSQL)
	vault    *vault.Vault
	audit    *audit.Log
	auditSig *vault.Signer
	close    func() error
}

// stackOf is the stack of stores app opened.
func stackOf(s *app.Stores) *stack {
	return &stack{store: s.Store, shared: s.Shared, vault: s.Vault, audit: s.Audit, auditSig: s.AuditSigner, close: s.Close}
}

// openStack opens the store (PostgreSQL at dbURL, else the embedded store
// in dataDir), the vault and the audit log. The master key file is
// CANDOR_MASTER_KEY_FILE, or master-key.json in dataDir.
func openStack(ctx context.Context, dataDir, dbURL string, createMaster bool, log *slog.Logger, stderr io.Writer) (*stack, error) {
	sc, err := storeConfigFromEnv(dataDir, dbURL)
	if err != nil {
		return nil, err
	}
	return openStackWith(ctx, sc, createMaster, log, stderr)
}

// storeConfigFromEnv reads the store's settings from the environment.
func storeConfigFromEnv(dataDir, dbURL string) (storeConfig, error) {
	sc := storeConfig{DataDir: dataDir, DB: dbURL, DBSchema: os.Getenv("CANDOR_DB_SCHEMA"), KeysDB: os.Getenv("CANDOR_KEYS_DB"),
		MasterKeyFile: os.Getenv("CANDOR_MASTER_KEY_FILE")}
	if v := os.Getenv("CANDOR_DB_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return sc, fmt.Errorf("CANDOR_DB_MAX_CONNS: want a number from 1 to 1000")
		}
		sc.MaxConns = int32(n)
	}
	if v := os.Getenv("CANDOR_DB_STATEMENT_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Millisecond {
			return sc, fmt.Errorf("CANDOR_DB_STATEMENT_TIMEOUT: want a duration such as 5s")
		}
		sc.StatementTimeout = d
	}
	return sc, nil
}

// storeConfig names the stores and the master key.
type storeConfig = app.StoreConfig

// openStackWith opens the stack sc names. If the audit store does not hold
// the anchor kept in the key store, it refuses, and tells the operator to
// run `candor audit verify`.
func openStackWith(ctx context.Context, sc storeConfig, createMaster bool, log *slog.Logger, stderr io.Writer) (*stack, error) {
	st, err := app.OpenStores(ctx, sc, createMaster, stderr)
	if err != nil {
		return nil, err
	}
	if err := st.OpenAudit(nil, log); err != nil {
		st.Close()
		return nil, err
	}
	return stackOf(st), nil
}

// openStores opens the store, the vault and the audit signer, but not the
// audit log: for the commands that check the log and must not write to it.
func openStores(ctx context.Context, sc storeConfig, createMaster bool, stderr io.Writer) (*stack, error) {
	st, err := app.OpenStores(ctx, sc, createMaster, stderr)
	if err != nil {
		return nil, err
	}
	return stackOf(st), nil
}

// auditKeys finds the public key of an audit checkpoint signer.
func (s *stack) auditKeys(keyID string) ed25519.PublicKey {
	if keyID == s.auditSig.KeyID() {
		return s.auditSig.Public()
	}
	return nil
}

func (s *stack) Close() error { return s.close() }

// webhookSecret is the key that signs webhooks to a recipient ([app.WebhookSecret]).
func webhookSecret(s *stack, recipient string) []byte { return app.WebhookSecret(s.vault, recipient) }

// identitySecret is the key of the identity tokens ([app.IdentitySecret]).
func identitySecret(s *stack) []byte { return app.IdentitySecret(s.vault) }

// jobActor is the actor for work Candor does by itself.
func jobActor(name string) candor.Actor {
	return candor.Actor{ID: "job:" + name, Role: candor.RoleAdmin}
}

// dropSchemas removes the schemas of a PostgreSQL store: for benchmarks
// and tests that made their own.
func dropSchemas(url, schema string) {
	db, err := postgres.Open(context.Background(), url, postgres.Options{Prefix: schema})
	if err == nil {
		db.DropSchemas(context.Background())
		db.Close()
	}
}
