package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStaffCommand adds accounts (password from the environment, then
// from stdin), lists them, and checks the refusals.
func TestStaffCommand(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	t.Setenv("CANDOR_DB", "")
	t.Setenv("CANDOR_MASTER_KEY_FILE", "")
	t.Setenv("CANDOR_CONFIG", "")
	t.Setenv("CANDOR_STAFF_PASSWORD_FILE", "")
	const pw = "a long enough password"
	t.Setenv("CANDOR_STAFF_PASSWORD", pw)
	run := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := runMain(ctx, args, &out, &errOut)
		return out.String(), errOut.String(), err
	}

	out, _, err := run("staff", "add", "-data", data, "-email", "Ada@Shop.Example", "-name", "Ada Lovelace", "-role", "admin")
	if err != nil || !strings.Contains(out, "added stf_") || !strings.Contains(out, "ada@shop.example") {
		t.Fatalf("add: %q %v", out, err)
	}
	// From stdin, when the environment has none.
	t.Setenv("CANDOR_STAFF_PASSWORD", "")
	staffStdin = strings.NewReader(" another password, with spaces \n")
	t.Cleanup(func() { staffStdin = os.Stdin })
	if out, errOut, err := run("staff", "add", "-data", data, "-email", "bob@shop.example", "-name", "Bob", "-role", "support"); err != nil {
		t.Fatalf("add from stdin: %q %q %v", out, errOut, err)
	}

	out, _, err = run("staff", "list", "-data", data)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "ada@shop.example") || !strings.Contains(lines[1], "Ada Lovelace") ||
		!strings.Contains(lines[1], "admin") || !strings.Contains(lines[1], "not set up") || !strings.Contains(lines[2], "bob@shop.example") ||
		!strings.Contains(lines[2], "support") || !strings.Contains(lines[2], "active") {
		t.Fatalf("list:\n%s", out)
	}
	if strings.Contains(out, "argon2") || strings.Contains(out, pw) {
		t.Fatalf("the list shows a password or its hash:\n%s", out)
	}

	// The password typed on stdin, spaces and all, is the one kept.
	st, err := openExisting(ctx, data, "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := loadPolicy("")
	if err != nil {
		t.Fatal(err)
	}
	svc := newStaff(st, pol)
	if _, err := svc.SignIn(ctx, "bob@shop.example", " another password, with spaces "); err != nil {
		t.Errorf("sign in with the password from stdin: %v", err)
	}
	if _, err := svc.SignIn(ctx, "ada@shop.example", pw); err != nil {
		t.Errorf("sign in with the password from the environment: %v", err)
	}
	entries, err := st.store.AuditEntries(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	adds := 0
	for _, e := range entries {
		if e.Action == "staff.add" && e.Actor == "cli:staff" {
			adds++
		}
	}
	if adds != 2 {
		t.Errorf("%d staff.add audit entries by cli:staff, want 2", adds)
	}
	st.Close()

	// Refusals: a usage error (2) each, and nothing added.
	t.Setenv("CANDOR_STAFF_PASSWORD", "short")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"staff"}, "usage: candor staff"},
		{[]string{"staff", "remove"}, "usage: candor staff"},
		{[]string{"staff", "add", "-data", data, "-name", "C"}, "-email, -role required"},
		{[]string{"staff", "add", "-data", data, "-email", "c@shop.example", "-name", "C", "-role", "root"}, `role: no role "root"`},
		{[]string{"staff", "add", "-data", data, "-email", "c@shop.example", "-name", "C", "-role", "support"}, "password: the password must have at least 12 characters"},
		{[]string{"staff", "add", "-data", data, "-password", "x"}, "flag provided but not defined: -password"},
	} {
		_, errOut, err := run(c.args...)
		if code := exitCode(err, io.Discard); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
	t.Setenv("CANDOR_STAFF_PASSWORD", pw)
	_, _, err = run("staff", "add", "-data", data, "-email", "ada@shop.example", "-name", "Ada again", "-role", "admin")
	if exitCode(err, io.Discard) != 1 || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a second account with the e-mail: %v", err)
	}
	// No password anywhere: refused, not added with an empty one.
	t.Setenv("CANDOR_STAFF_PASSWORD", "")
	staffStdin = strings.NewReader("")
	if _, _, err := run("staff", "add", "-data", data, "-email", "d@shop.example", "-name", "D", "-role", "admin"); err == nil || !strings.Contains(err.Error(), "no password") {
		t.Errorf("no password: %v", err)
	}
	if out, _, _ := run("staff", "list", "-data", data); strings.Count(out, "@shop.example") != 2 {
		t.Errorf("refused additions were stored:\n%s", out)
	}
	// list on a directory without data.
	if _, _, err := run("staff", "list", "-data", filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("list without data succeeded")
	}
}
