package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/postgres"
	"github.com/candorhq/candor/sqlite"
	"github.com/candorhq/candor/vault"
)

// Names of the system signing keys.
const (
	auditSigningKey   = "audit-signing"
	receiptSigningKey = "receipt-signing"
)

// stack is the storage and crypto every command needs: the store, the
// vault and the audit log (nil when opened by [openStores]).
type stack struct {
	store    candor.Store
	shared   bool // the store is shared by several nodes (PostgreSQL)
	vault    *vault.Vault
	audit    *audit.Log
	auditSig *vault.Signer
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
type storeConfig struct {
	DataDir          string
	DB               string        // PostgreSQL URL; empty: the embedded store in DataDir
	DBSchema         string        // schema prefix on PostgreSQL; default candor
	KeysDB           string        // a separate PostgreSQL database for the key store
	MasterKeyFile    string        // default DataDir/master-key.json
	MaxConns         int32         // PostgreSQL pool size per database
	StatementTimeout time.Duration // PostgreSQL statement timeout
}

// openStackWith opens the stack sc names. If the audit store does not hold
// the anchor kept in the key store, it refuses, and tells the operator to
// run `candor audit verify`.
func openStackWith(ctx context.Context, sc storeConfig, createMaster bool, log *slog.Logger, stderr io.Writer) (*stack, error) {
	st, err := openStores(ctx, sc, createMaster, stderr)
	if err != nil {
		return nil, err
	}
	st.audit, err = audit.New(st.store, st.auditSig, audit.Options{Anchors: st.store.Keys(), Logger: log})
	if err != nil {
		st.store.Close()
		if errors.Is(err, audit.ErrAnchor) {
			return nil, fmt.Errorf("%w.\n  Candor will not append to this audit log. Run `candor audit verify` (with the same -data or -db)\n  to see what was changed, and restore the audit store from a copy you trust", err)
		}
		return nil, err
	}
	return st, nil
}

// openStores opens the store, the vault and the audit signer, but not the
// audit log: for the commands that check the log and must not write to it.
func openStores(ctx context.Context, sc storeConfig, createMaster bool, stderr io.Writer) (*stack, error) {
	dataDir, dbURL := sc.DataDir, sc.DB
	if dataDir == "" {
		return nil, errors.New("-data: a data directory is required")
	}
	var store candor.Store
	var err error
	if dbURL != "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, err
		}
		store, err = postgres.Open(ctx, dbURL, postgres.Options{KeysURL: sc.KeysDB, Prefix: sc.DBSchema, MaxConns: sc.MaxConns, StatementTimeout: sc.StatementTimeout})
	} else {
		store, err = sqlite.Open(ctx, dataDir)
	}
	if err != nil {
		return nil, err
	}
	keyFile := sc.MasterKeyFile
	create := false
	if keyFile == "" {
		keyFile = filepath.Join(dataDir, "master-key.json")
		create = createMaster
	}
	v, err := vault.Open(ctx, store.Keys(), vault.Options{MasterKeyFile: keyFile, CreateMasterKey: create})
	if err != nil {
		store.Close()
		return nil, err
	}
	if v.CreatedMasterKey() {
		fmt.Fprintf(stderr, "\n%s\n  WARNING: generated a new master key in %s.\n  It is kept next to the data: fine for a demo, NOT for production.\n  In production keep it elsewhere and name it with CANDOR_MASTER_KEY_FILE.\n%s\n\n",
			strings.Repeat("!", 72), keyFile, strings.Repeat("!", 72))
	}
	sig, err := v.Signer(ctx, auditSigningKey)
	if err != nil {
		store.Close()
		return nil, err
	}
	return &stack{store: store, shared: dbURL != "", vault: v, auditSig: sig}, nil
}

// auditKeys finds the public key of an audit checkpoint signer.
func (s *stack) auditKeys(keyID string) ed25519.PublicKey {
	if keyID == s.auditSig.KeyID() {
		return s.auditSig.Public()
	}
	return nil
}

func (s *stack) Close() error {
	var err error
	if s.audit != nil {
		err = s.audit.Close()
	}
	return errors.Join(err, s.store.Close())
}

// watch makes the ledger hear of changes other nodes commit to a shared
// store, so that it can trust its cache while the feed is fresh, and
// returns what stops it. On the embedded store it does nothing.
func (s *stack) watch(ledger *consent.Ledger) (stop func()) {
	db, ok := s.store.(*postgres.DB)
	if !ok {
		return func() {}
	}
	feed := db.Watch(postgres.FeedOptions{Changed: ledger.Invalidate, Reset: ledger.InvalidateAll})
	ledger.UseFeed(feed)
	return feed.Close
}

// webhookSecret is the key that signs webhooks to a recipient: derived
// from the blind-index key, so that every node has it and nothing new must
// be stored. `candor keys webhook-secret` shows it, to give the recipient.
func webhookSecret(s *stack, recipient string) []byte {
	return s.vault.BlindIndex("webhook-secret", recipient)
}

// jobActor is the actor for work Candor does by itself.
// identitySecret is the key of the identity tokens with which the shop's
// server vouches for a user id named by a browser key: derived from the
// blind-index key, so the same on every node, and given to the shop's
// server by `candor keys identity-secret` (the hex text itself is the HMAC
// key, as the shop's code uses it).
func identitySecret(s *stack) []byte {
	return []byte(hex.EncodeToString(s.vault.BlindIndex("identity-token", "v1")))
}

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
