package gate_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/sqlite"
	"github.com/candorhq/candor/subjects"
)

// TestContactAuditsFirst: the address on file comes back only after its
// reading is audited for the purpose rights; with the audit log down,
// nothing comes back.
func TestContactAuditsFirst(t *testing.T) {
	ctx := context.Background()
	auditStore, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := testenv.New(t, auditStore)
	id := e.MustSubject(t, subjects.Input{UserID: "c", Email: "Contact.Me@example.com"}, "")
	blind := e.Vault.BlindIndex(candor.IdentEmail, "contact.me@example.com")
	actor := candor.Actor{ID: "job:verification", Role: candor.RoleAdmin}
	got, err := e.Gate.Contact(ctx, actor, id, candor.IdentEmail, blind, "chl_1")
	if err != nil || got != "contact.me@example.com" {
		t.Fatalf("Contact = %q, %v", got, err)
	}
	if _, err := e.Gate.Contact(ctx, actor, id, candor.IdentPhone, blind, "chl_2"); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Fatalf("another kind: %v", err)
	}
	e.Audit.Close()
	entries, err := auditStore.AuditEntries(ctx, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	audited := false
	for _, en := range entries {
		audited = audited || (en.Action == "read" && en.Purpose == candor.PurposeRights && en.SubjectID == id && en.TraceID == "chl_1")
	}
	if !audited {
		t.Fatal("reading the address on file was not audited")
	}
	auditStore.Close()
	if got, err := e.Gate.Contact(ctx, actor, id, candor.IdentEmail, blind, "chl_3"); err == nil || got != "" {
		t.Fatalf("with the audit log down: %q, %v", got, err)
	}
}

// TestNewRefusesMissingParts: a gate without an auditor or an unsealer
// cannot be built.
func TestNewRefusesMissingParts(t *testing.T) {
	e := testenv.New(t, nil)
	full := gate.Options{Policy: e.Policy, Ledger: e.Ledger, Store: e.Store, Unsealer: e.Vault, Auditor: e.Audit}
	gate.New(full)
	for name, o := range map[string]gate.Options{
		"auditor":  {Policy: e.Policy, Ledger: e.Ledger, Store: e.Store, Unsealer: e.Vault},
		"unsealer": {Policy: e.Policy, Ledger: e.Ledger, Store: e.Store, Auditor: e.Audit},
		"store":    {Policy: e.Policy, Ledger: e.Ledger, Unsealer: e.Vault, Auditor: e.Audit},
		"policy":   {Ledger: e.Ledger, Store: e.Store, Unsealer: e.Vault, Auditor: e.Audit},
		"ledger":   {Policy: e.Policy, Store: e.Store, Unsealer: e.Vault, Auditor: e.Audit},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New without %s did not panic", name)
				}
			}()
			gate.New(o)
		}()
	}
	defer func() {
		if recover() == nil {
			t.Error("BirthDates without an unsealer did not panic")
		}
	}()
	gate.BirthDates(e.Store, nil, e.Policy)
}

// TestReportMasksForStaff: the dpo reading an access report (one they may
// have filed themself) sees national_id masked, as their role says; the
// person reading their own report sees it in the clear; so does the
// export zip, for each.
func TestReportMasksForStaff(t *testing.T) {
	ctx := context.Background()
	e := testenv.New(t, nil)
	const nid = "11010519491231002X"
	id := e.MustSubject(t, subjects.Input{UserID: "m", Email: "mask.me@example.com", Traits: map[string]any{"national_id": nid, "city": "Hangzhou"}}, "")
	dpo := candor.Actor{ID: "staff:dpo", Role: gate.RoleDPO}
	field := func(rep *gate.Report, name string) gate.ReportField {
		for _, f := range rep.Fields {
			if f.Field == name {
				return f
			}
		}
		t.Fatalf("no %s in the report", name)
		return gate.ReportField{}
	}
	cases := []struct {
		name   string
		actor  candor.Actor
		masked bool
	}{
		{"dpo", dpo, true},
		{"the person", gate.SubjectActor(id), false},
		{"admin", testenv.Admin, false},
	}
	for _, c := range cases {
		rep, err := e.Gate.Report(ctx, c.actor, id, "req_1")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := field(rep, "national_id")
		if got.Masked != c.masked || (got.Value == nid) == c.masked {
			t.Errorf("%s: national_id = %q masked=%v, want masked=%v", c.name, got.Value, got.Masked, c.masked)
		}
		if city := field(rep, "city"); city.Masked || city.Value != "Hangzhou" {
			t.Errorf("%s: city = %+v, want it in the clear", c.name, city)
		}
		for _, x := range rep.Identifiers {
			if x.Kind == candor.IdentEmail && (x.Masked || x.Value != "mask.me@example.com") {
				t.Errorf("%s: the dpo role does not mask e-mail: %+v", c.name, x)
			}
		}
		b, err := gate.ExportZip(rep)
		if err != nil {
			t.Fatal(err)
		}
		if in := bytes.Contains(unzipAll(t, b), []byte(nid)); in == c.masked {
			t.Errorf("%s: the national id in the clear in the export: %v", c.name, in)
		}
		if len(rep.Masked) > 0 != c.masked {
			t.Errorf("%s: Masked = %v", c.name, rep.Masked)
		}
	}
}

// unzipAll returns the files of a zip archive, one after the other.
func unzipAll(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		c, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c...)
	}
	return out
}
