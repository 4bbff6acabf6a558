package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/apikeys"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/policy"
	"github.com/candorhq/candor/postgres"
	"github.com/candorhq/candor/rights"
	"github.com/candorhq/candor/sqlite"
)

func checkCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	file := fs.String("config", env("CANDOR_CONFIG", "candor.yaml"), "policy file (CANDOR_CONFIG)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if missingDefaultPolicy(fs, *file) {
		fmt.Fprintln(stderr, noPolicyHelp("check"))
		return errUsage
	}
	p, findings, err := policy.Load(*file)
	if err != nil {
		return err
	}
	for _, f := range findings {
		fmt.Fprintln(stdout, f.String())
	}
	if len(findings) > 0 {
		fmt.Fprintf(stderr, "%d problem(s)\n", len(findings))
		return exitError(1)
	}
	n := policy.NewNotice(p)
	fmt.Fprintf(stdout, "%s: ok: %d purposes, %d fields, %d events, %d recipients, %d roles; notice version %s\n",
		*file, len(p.Purposes), len(p.Fields), len(p.Events), len(p.Recipients), len(p.Roles), n.Version)
	return nil
}

// missingDefaultPolicy reports whether file is the default candor.yaml,
// named neither by -config nor by CANDOR_CONFIG, and absent.
func missingDefaultPolicy(fs *flag.FlagSet, file string) bool {
	named := os.Getenv("CANDOR_CONFIG") != ""
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "config" {
			named = true
		}
	})
	if named || file != "candor.yaml" {
		return false
	}
	_, err := os.Stat(file)
	return errors.Is(err, os.ErrNotExist)
}

// noPolicyHelp says what to do when there is no candor.yaml.
func noPolicyHelp(cmd string) string {
	msg := "candor " + cmd + ": there is no candor.yaml in this directory.\n" +
		"  Name a policy file with -config FILE (or CANDOR_CONFIG), such as the demo shop's policy:\n" +
		"    candor " + cmd + " -config examples/candor.yaml   (in Candor's source tree)"
	if cmd == "serve" {
		msg += "\n  or try the demo, which has its policy built in:\n    candor serve -demo"
	}
	return msg
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

const auditUsage = `usage: candor audit verify [-data DIR | -db URL] [-head FILE] [-json]
       candor audit head   [-data DIR | -db URL]`

func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "head") {
		fmt.Fprintln(stderr, auditUsage)
		return errUsage
	}
	fs := newFlags("audit "+args[0], stderr)
	data, db := storeFlags(fs)
	var asJSON *bool
	var headFile *string
	if args[0] == "verify" {
		asJSON = fs.Bool("json", false, "print the report as JSON")
		headFile = fs.String("head", env("CANDOR_AUDIT_HEAD", ""), "a signed head kept from `candor audit head` that the log must still hold (CANDOR_AUDIT_HEAD)")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	var head *candor.AuditCheckpoint
	if headFile != nil && *headFile != "" {
		h, err := readHead(*headFile)
		if err != nil {
			fmt.Fprintf(stderr, "candor audit verify: -head: %v\n", err)
			return errUsage
		}
		head = h
	}
	// Neither command writes to the log: they must work on a log that
	// the audit log would refuse to open.
	st, err := openExistingStores(ctx, *data, *db, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	prog := newProgress(stderr, "verifying")
	rep, err := audit.Verify(ctx, st.store, audit.VerifyOptions{Anchors: st.store.Keys(), Keys: st.auditKeys, Progress: prog.set, Head: head})
	prog.done()
	if err != nil {
		return err
	}
	if args[0] == "head" {
		return printHead(ctx, st, rep, stdout, stderr)
	}
	if *asJSON {
		json.NewEncoder(stdout).Encode(rep)
	} else if rep.OK {
		fmt.Fprintf(stdout, "ok: %d entries, %d signed checkpoints, %d entries not yet signed; anchored at %d", rep.Entries, rep.Checkpoints, rep.Unsigned, rep.AnchorSeq)
		if head != nil {
			fmt.Fprintf(stdout, "; holds the head kept at %d (%s)", head.Seq, head.Time.Format(time.RFC3339))
		}
		fmt.Fprintln(stdout)
	} else {
		fmt.Fprintf(stdout, "BROKEN at entry %d: %s (%d entries read)\n", *rep.FirstBroken, rep.Reason, rep.Entries)
	}
	if !rep.OK {
		return exitError(1)
	}
	return nil
}

// signedHead is a signed head as `candor audit head` prints it and
// `candor audit verify -head` reads it: the latest checkpoint, binary
// members in base64.
type signedHead struct {
	Seq       int64     `json:"seq"`
	Hash      []byte    `json:"hash"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Signature []byte    `json:"signature"`
}

// printHead prints the log's latest checkpoint as a signed head, if the
// log verified: a head is worth keeping only if the log held up when it
// was taken.
func printHead(ctx context.Context, st *stack, rep audit.Report, stdout, stderr io.Writer) error {
	if !rep.OK {
		fmt.Fprintf(stderr, "candor audit head: the log is BROKEN at entry %d: %s\n  no head printed; run candor audit verify\n", *rep.FirstBroken, rep.Reason)
		return exitError(1)
	}
	cps, err := st.store.Checkpoints(ctx)
	if err != nil {
		return err
	}
	if len(cps) == 0 {
		fmt.Fprintln(stderr, "candor audit head: the log has no signed checkpoint yet")
		return exitError(1)
	}
	c := cps[len(cps)-1]
	if rep.Unsigned > 0 {
		fmt.Fprintf(stderr, "note: %d newer entries are not signed yet; they are covered from the next checkpoint on (at most a minute while the server runs, or when it stops)\n", rep.Unsigned)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(signedHead{Seq: c.Seq, Hash: c.Hash, Time: c.Time.UTC(), KeyID: c.KeyID, Signature: c.Signature})
}

// readHead reads a head that `candor audit head` printed.
func readHead(file string) (*candor.AuditCheckpoint, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var h signedHead
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%s: not a head from candor audit head: %v", file, err)
	}
	if h.Seq < 1 || len(h.Hash) == 0 || len(h.Signature) == 0 || h.KeyID == "" || h.Time.IsZero() {
		return nil, fmt.Errorf("%s: not a head from candor audit head: seq, hash, time, key_id and signature are required", file)
	}
	return &candor.AuditCheckpoint{Seq: h.Seq, Hash: h.Hash, Time: h.Time.UTC(), KeyID: h.KeyID, Signature: h.Signature}, nil
}

// openExisting opens the stack of a data directory that must exist.
func openExisting(ctx context.Context, data, db string, stderr io.Writer) (*stack, error) {
	if db == "" {
		if _, err := os.Stat(data + "/" + sqlite.DataFile); err != nil {
			return nil, fmt.Errorf("no Candor data in %s (set -data or CANDOR_DATA)", data)
		}
	}
	return openStack(ctx, data, db, false, quietLog(), stderr)
}

// openExistingStores is openExisting without the audit log.
func openExistingStores(ctx context.Context, data, db string, stderr io.Writer) (*stack, error) {
	if db == "" {
		if _, err := os.Stat(data + "/" + sqlite.DataFile); err != nil {
			return nil, fmt.Errorf("no Candor data in %s (set -data or CANDOR_DATA)", data)
		}
	}
	sc, err := storeConfigFromEnv(data, db)
	if err != nil {
		return nil, err
	}
	return openStores(ctx, sc, false, stderr)
}

func keysCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "status" && args[0] != "rotate" && args[0] != "webhook-secret" && args[0] != "identity-secret") {
		fmt.Fprintln(stderr, "usage: candor keys status|rotate|identity-secret [-data DIR | -db URL]\n       candor keys webhook-secret -recipient ID [-config FILE] [-data DIR | -db URL]")
		return errUsage
	}
	fs := newFlags("keys "+args[0], stderr)
	data, db := storeFlags(fs)
	recipient, configFile := new(string), new(string)
	if args[0] == "webhook-secret" {
		recipient = fs.String("recipient", "", "the recipient id from the policy")
		configFile = fs.String("config", env("CANDOR_CONFIG", ""), "the policy file (CANDOR_CONFIG); default the demo policy")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	st, err := openExisting(ctx, *data, *db, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if args[0] == "webhook-secret" {
		pol, err := loadPolicy(*configFile)
		if err != nil {
			return err
		}
		if pol.Recipient(*recipient) == nil {
			fmt.Fprintf(stderr, "candor keys webhook-secret: -recipient: no recipient %q in the policy\n", *recipient)
			return errUsage
		}
		if err := st.audit.Append(ctx, candor.AuditEntry{Actor: "cli:keys", Action: candor.ActionKeysWebhookSecret, Decision: candor.DecisionOK, Reason: "recipient=" + *recipient}); err != nil {
			return err
		}
		fmt.Fprintln(stdout, hex.EncodeToString(webhookSecret(st, *recipient)))
		return nil
	}
	if args[0] == "identity-secret" {
		if err := st.audit.Append(ctx, candor.AuditEntry{Actor: "cli:keys", Action: candor.ActionKeysIdentitySecret, Decision: candor.DecisionOK}); err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(identitySecret(st)))
		return nil
	}
	if args[0] == "rotate" {
		prog := newProgress(stderr, "re-wrapping subject keys")
		res, err := st.vault.Rotate(ctx, func(done, total int) { prog.set(int64(done)) })
		prog.done()
		if err != nil {
			return err
		}
		if err := st.audit.Append(ctx, candor.AuditEntry{Actor: "cli:keys", Action: candor.ActionKeysRotate, Decision: candor.DecisionOK,
			Reason: fmt.Sprintf("new primary master key %d; %d re-wrapped, %d skipped", res.MasterKeyID, res.Rewrapped, res.Skipped)}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new primary master key %d; re-wrapped %d subject keys (%d skipped: shredded or changed meanwhile)\n", res.MasterKeyID, res.Rewrapped, res.Skipped)
		if res.Failed > 0 {
			fmt.Fprintf(stdout, "WARNING: %d subject keys did not unwrap and were left as they were\n", res.Failed)
		}
	}
	s, err := st.vault.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "master keys:")
	for _, k := range s.MasterKeys {
		mark := " "
		if k.Primary {
			mark = "*"
		}
		fmt.Fprintf(stdout, "  %s %d  %s  wraps %d subject keys\n", mark, k.ID, k.Status, s.SubjectKeys[k.ID])
	}
	var other []uint32
	for id := range s.SubjectKeys {
		found := false
		for _, k := range s.MasterKeys {
			found = found || k.ID == id
		}
		if !found {
			other = append(other, id)
		}
	}
	sort.Slice(other, func(i, j int) bool { return other[i] < other[j] })
	for _, id := range other {
		fmt.Fprintf(stdout, "  ! %d  MISSING from the keyset: %d subject keys cannot be opened\n", id, s.SubjectKeys[id])
	}
	fmt.Fprintf(stdout, "shredded subject keys: %d\nsystem keys: %v\n", s.Shredded, s.SystemKeys)
	return nil
}

func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", stderr)
	data, db := storeFlags(fs)
	to := fs.String("to", "", "file to write the backup to (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *to == "" {
		fmt.Fprintln(stderr, "candor backup: -to FILE is required")
		return errUsage
	}
	st, err := openExisting(ctx, *data, *db, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	switch db := st.store.(type) {
	case *sqlite.DB:
		err = db.Backup(ctx, *to)
	case *postgres.DB:
		err = sqlite.WriteBackupFile(ctx, *to, func(emit func(candor.Row) error) error { return db.Export(ctx, emit) })
	default:
		err = fmt.Errorf("backup: unknown store %T", st.store)
	}
	if err != nil {
		return err
	}
	if err := st.audit.Append(ctx, candor.AuditEntry{Actor: "cli:backup", Action: candor.ActionBackup, Decision: candor.DecisionOK, Reason: "data store backed up (keys excluded)"}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up the data store to %s (the key store is not in it: keep it apart)\n", *to)
	return nil
}

func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("restore", stderr)
	data, db := storeFlags(fs)
	from := fs.String("from", "", "backup file to restore (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from == "" {
		fmt.Fprintln(stderr, "candor restore: -from FILE is required")
		return errUsage
	}
	var st *stack
	if *db == "" {
		if err := sqlite.Restore(ctx, *data, *from); err != nil {
			return err
		}
		var err error
		if st, err = openExisting(ctx, *data, *db, stderr); err != nil {
			return err
		}
		defer st.Close()
	} else {
		var err error
		if st, err = openExisting(ctx, *data, *db, stderr); err != nil {
			return err
		}
		defer st.Close()
		err = st.store.(*postgres.DB).Import(ctx, func(emit func(candor.Row) error) error { return sqlite.ReadBackupFile(ctx, *from, emit) })
		if err != nil {
			return err
		}
	}
	// The backup may predate erasures: the journal, which lives beside the
	// keys and is never rolled back, says who must not come back.
	replayed, err := rights.ReplayErasures(ctx, st.store)
	if err != nil {
		return fmt.Errorf("restore: replaying the erasure journal: %w", err)
	}
	// Nor may it revive API keys revoked since: the revocation journal
	// lives beside the keys too.
	revoked, err := apikeys.Replay(ctx, st.store, st.store.Keys())
	if err != nil {
		return fmt.Errorf("restore: replaying the revocation journal: %w", err)
	}
	// Sessions and single-use links in the backup are not to be revived:
	// everyone signs in again.
	if _, err := st.store.PurgeSessions(ctx, time.Now().AddDate(100, 0, 0)); err != nil {
		return fmt.Errorf("restore: ending sessions: %w", err)
	}
	if err := st.audit.Append(ctx, candor.AuditEntry{Actor: "cli:restore", Action: candor.ActionRestore, Decision: candor.DecisionOK,
		Reason: fmt.Sprintf("data store restored from a backup; %d erased subjects removed again; %d API keys revoked again", replayed, revoked)}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored the data store from %s; the erasure journal removed %d subjects erased since the backup; the revocation journal revoked %d API keys again\n", *from, replayed, revoked)
	return nil
}
