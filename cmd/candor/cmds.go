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

func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: candor audit verify [-data DIR | -db URL] [-json]")
		return errUsage
	}
	fs := newFlags("audit verify", stderr)
	data, db := storeFlags(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	st, err := openExisting(ctx, *data, *db, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	prog := newProgress(stderr, "verifying")
	rep, err := audit.Verify(ctx, st.store, st.auditKeys, prog.set)
	prog.done()
	if err != nil {
		return err
	}
	if *asJSON {
		json.NewEncoder(stdout).Encode(rep)
	} else if rep.OK {
		fmt.Fprintf(stdout, "ok: %d entries, %d signed checkpoints\n", rep.Entries, rep.Checkpoints)
	} else {
		fmt.Fprintf(stdout, "BROKEN at entry %d: %s (%d entries read)\n", *rep.FirstBroken, rep.Reason, rep.Entries)
	}
	if !rep.OK {
		return exitError(1)
	}
	return nil
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
		if err := st.audit.Append(ctx, candor.AuditEntry{Actor: "cli:keys", Action: "keys.webhook-secret", Decision: "ok", Reason: "recipient=" + *recipient}); err != nil {
			return err
		}
		fmt.Fprintln(stdout, hex.EncodeToString(webhookSecret(st, *recipient)))
		return nil
	}
	if args[0] == "identity-secret" {
		if err := st.audit.Append(ctx, candor.AuditEntry{Actor: "cli:keys", Action: "keys.identity-secret", Decision: "ok"}); err != nil {
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
		if err := st.audit.Append(ctx, candor.AuditEntry{Actor: "cli:keys", Action: "keys.rotate", Decision: "ok",
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
	if err := st.audit.Append(ctx, candor.AuditEntry{Actor: "cli:backup", Action: "backup", Decision: "ok", Reason: "data store backed up (keys excluded)"}); err != nil {
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
	// Sessions and single-use links in the backup are not to be revived:
	// everyone signs in again.
	if _, err := st.store.PurgeSessions(ctx, time.Now().AddDate(100, 0, 0)); err != nil {
		return fmt.Errorf("restore: ending sessions: %w", err)
	}
	if err := st.audit.Append(ctx, candor.AuditEntry{Actor: "cli:restore", Action: "restore", Decision: "ok",
		Reason: fmt.Sprintf("data store restored from a backup; %d erased subjects removed again", replayed)}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored the data store from %s; the erasure journal removed %d subjects erased since the backup\n", *from, replayed)
	return nil
}
