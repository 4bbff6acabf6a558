package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/staff"
)

// staffStdin is where `staff add` reads the password when
// CANDOR_STAFF_PASSWORD is not set; tests replace it.
var staffStdin io.Reader = os.Stdin

// staffIssuer names Candor in authenticator apps.
const staffIssuer = "Candor"

// staffRoles returns the roles a staff member may have: admin and the
// policy's roles.
func staffRoles(pol *candor.Policy) []string {
	roles := []string{candor.RoleAdmin}
	for _, r := range pol.Roles {
		roles = append(roles, r.ID)
	}
	return roles
}

// newStaff returns the staff service on the stack: TOTP secrets sealed by
// the vault's staff-secrets key, recovery codes hashed under a key derived
// from the blind-index system key (in the key store, not the data store),
// changes in the audit log.
func newStaff(st *stack, pol *candor.Policy) *staff.Service {
	return staff.New(staff.Options{Store: st.store, Seal: st.vault.SealSecret, Open: st.vault.OpenStaffSecret, Issuer: staffIssuer,
		Auditor: st.audit, Roles: staffRoles(pol), RecoveryKey: st.vault.BlindIndex("staff", "recovery-codes")})
}

const staffUsage = `usage: candor staff add -email E -name N -role R [-config FILE] [-data DIR | -db URL]
       candor staff list [-data DIR | -db URL]

The password of a new account comes from CANDOR_STAFF_PASSWORD (or the file
named by CANDOR_STAFF_PASSWORD_FILE), else from one line on stdin; never
from a flag. The person sets up the second factor at their first sign-in.`

// staffCmd runs `candor staff add|list`.
func staffCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "list") {
		fmt.Fprintln(stderr, staffUsage)
		return errUsage
	}
	fs := newFlags("staff "+args[0], stderr)
	data, db := storeFlags(fs)
	var email, name, role, configFile *string
	if args[0] == "add" {
		email = fs.String("email", "", "the e-mail address to sign in with (required)")
		name = fs.String("name", "", "the person's name (required)")
		role = fs.String("role", "", "admin or a role of the policy (required)")
		configFile = fs.String("config", env("CANDOR_CONFIG", ""), "the policy file, for its roles (CANDOR_CONFIG); default the demo policy")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if args[0] == "list" {
		st, err := openExisting(ctx, *data, *db, stderr)
		if err != nil {
			return err
		}
		defer st.Close()
		return staffList(ctx, st, stdout)
	}
	var missing []string
	for _, f := range []struct {
		name string
		v    *string
	}{{"-email", email}, {"-name", name}, {"-role", role}} {
		if strings.TrimSpace(*f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "candor staff add: %s required\n%s\n", strings.Join(missing, ", "), staffUsage)
		return errUsage
	}
	pol, err := loadPolicy(*configFile)
	if err != nil {
		return err
	}
	password, err := staffPassword(stderr)
	if err != nil {
		return err
	}
	// The first account may come before the first serve: open (and
	// create) the store as serve does.
	st, err := openStack(ctx, *data, *db, true, quietLog(), stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := newStaff(st, pol).Add(staff.WithActor(ctx, "cli:staff"), *email, *name, *role, password)
	var ce *candor.Error
	if errors.As(err, &ce) && ce.Code == candor.EINVALID {
		for _, f := range ce.Fields {
			fmt.Fprintf(stderr, "candor staff add: %s: %s\n", f.Field, f.Message)
		}
		return errUsage
	}
	if errors.As(err, &ce) {
		return fmt.Errorf("staff add: %s", ce.Message)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s (%s, role %s); the second factor is set up at the first sign-in to the console\n", m.ID, m.Email, m.Role)
	return nil
}

// staffPassword reads the new account's password: CANDOR_STAFF_PASSWORD,
// the file CANDOR_STAFF_PASSWORD_FILE names (its last line ending
// dropped), or one line of stdin. Spaces are kept: they may be part of it.
func staffPassword(stderr io.Writer) (string, error) {
	if v := os.Getenv("CANDOR_STAFF_PASSWORD"); v != "" {
		return v, nil
	}
	if f := os.Getenv("CANDOR_STAFF_PASSWORD_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("read CANDOR_STAFF_PASSWORD_FILE: %w", err)
		}
		return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
	}
	if f, ok := staffStdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(stderr, "Password (it shows as you type; pipe it in or set CANDOR_STAFF_PASSWORD to avoid that): ")
		}
	}
	line, err := bufio.NewReader(staffStdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("staff add: no password: set CANDOR_STAFF_PASSWORD or write it as one line on stdin")
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}

// staffList prints every account: no hashes, no secrets.
func staffList(ctx context.Context, st *stack, stdout io.Writer) error {
	list, err := st.store.ListStaff(ctx)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no staff accounts; add one with: candor staff add -email E -name N -role admin")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tE-MAIL\tNAME\tROLE\tSECOND FACTOR\tSTATUS")
	for _, m := range list {
		factor := "not set up"
		switch {
		case staff.Enrolled(&m):
			factor = fmt.Sprintf("TOTP, %d recovery codes left", len(m.Recovery))
		case staff.Pending(&m):
			factor = "being set up"
		}
		status := "active"
		if m.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Email, m.Name, m.Role, factor, status)
	}
	return tw.Flush()
}
