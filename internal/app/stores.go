package app

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
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/postgres"
	"github.com/candorhq/candor/sqlite"
	"github.com/candorhq/candor/vault"
)

// Names of the system signing keys.
const (
	AuditSigningKey   = "audit-signing"
	ReceiptSigningKey = "receipt-signing"
)

// StoreConfig names the stores and the master key.
type StoreConfig struct {
	DataDir          string
	DB               string        // PostgreSQL URL; empty: the embedded store in DataDir
	DBSchema         string        // schema prefix on PostgreSQL; default candor
	KeysDB           string        // a separate PostgreSQL database for the key store
	MasterKeyFile    string        // default DataDir/master-key.json
	MaxConns         int32         // PostgreSQL pool size per database
	StatementTimeout time.Duration // PostgreSQL statement timeout
}

// Stores is the storage and crypto every command needs: the store, the
// vault, the audit signer and the audit log (nil until [Stores.OpenAudit]).
type Stores struct {
	Store       candor.Store
	Shared      bool // the store is shared by several nodes (PostgreSQL)
	Vault       *vault.Vault
	AuditSigner *vault.Signer
	Audit       *audit.Log
	ownStore    bool // Close closes Store
}

// OpenStores opens the store (PostgreSQL at sc.DB, else the embedded store
// in sc.DataDir), the vault and the audit signer, but not the audit log:
// the commands that check the log must not write to it. The master key
// file is sc.MasterKeyFile, or master-key.json in sc.DataDir, which is
// created when createMaster is set (with a warning on stderr).
func OpenStores(ctx context.Context, sc StoreConfig, createMaster bool, stderr io.Writer) (*Stores, error) {
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
	s, err := openKeys(ctx, store, sc, createMaster, stderr)
	if err != nil {
		store.Close()
		return nil, err
	}
	s.ownStore = true
	return s, nil
}

// openKeys opens the vault and the audit signer on an open store.
func openKeys(ctx context.Context, store candor.Store, sc StoreConfig, createMaster bool, stderr io.Writer) (*Stores, error) {
	if stderr == nil {
		stderr = io.Discard
	}
	keyFile := sc.MasterKeyFile
	create := false
	if keyFile == "" {
		if sc.DataDir == "" {
			return nil, errors.New("-data: a data directory is required")
		}
		keyFile = filepath.Join(sc.DataDir, "master-key.json")
		create = createMaster
	}
	v, err := vault.Open(ctx, store.Keys(), vault.Options{MasterKeyFile: keyFile, CreateMasterKey: create})
	if err != nil {
		return nil, err
	}
	if v.CreatedMasterKey() {
		fmt.Fprintf(stderr, "\n%s\n  WARNING: generated a new master key in %s.\n  It is kept next to the data: fine for a demo, NOT for production.\n  In production keep it elsewhere and name it with CANDOR_MASTER_KEY_FILE.\n%s\n\n",
			strings.Repeat("!", 72), keyFile, strings.Repeat("!", 72))
	}
	sig, err := v.Signer(ctx, AuditSigningKey)
	if err != nil {
		return nil, err
	}
	_, shared := store.(*postgres.DB)
	return &Stores{Store: store, Shared: shared, Vault: v, AuditSigner: sig}, nil
}

// OpenAudit opens the audit log, in auditStore (nil: the store). If the
// audit store does not hold the anchor kept in the key store, it refuses,
// and tells the operator to run `candor audit verify`.
func (s *Stores) OpenAudit(auditStore candor.AuditStore, log *slog.Logger) error {
	if auditStore == nil {
		auditStore = s.Store
	}
	a, err := audit.New(auditStore, s.AuditSigner, audit.Options{Anchors: s.Store.Keys(), Logger: log})
	if errors.Is(err, audit.ErrAnchor) {
		return fmt.Errorf("%w.\n  Candor will not append to this audit log. Run `candor audit verify` (with the same -data or -db)\n  to see what was changed, and restore the audit store from a copy you trust", err)
	}
	if err != nil {
		return err
	}
	s.Audit = a
	return nil
}

// AuditKeys finds the public key of an audit checkpoint signer.
func (s *Stores) AuditKeys(keyID string) ed25519.PublicKey {
	if keyID == s.AuditSigner.KeyID() {
		return s.AuditSigner.Public()
	}
	return nil
}

// Close closes the audit log and, when [OpenStores] opened it, the store.
func (s *Stores) Close() error {
	var err error
	if s.Audit != nil {
		err = s.Audit.Close()
	}
	if s.ownStore {
		err = errors.Join(err, s.Store.Close())
	}
	return err
}

// WebhookSecret is the key that signs webhooks to a recipient: derived
// from the blind-index key, so that every node has it and nothing new must
// be stored. `candor keys webhook-secret` shows it, to give the recipient.
func WebhookSecret(v *vault.Vault, recipient string) []byte {
	return v.BlindIndex("webhook-secret", recipient)
}

// IdentitySecret is the key of the identity tokens with which the shop's
// server vouches for a user id named by a browser key: derived from the
// blind-index key, so the same on every node, and given to the shop's
// server by `candor keys identity-secret` (the hex text itself is the HMAC
// key, as the shop's code uses it).
func IdentitySecret(v *vault.Vault) []byte {
	return []byte(hex.EncodeToString(v.BlindIndex("identity-token", "v1")))
}
