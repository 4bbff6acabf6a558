package gate_test

import (
	"context"
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
		audited = audited || (en.Action == "read" && en.Purpose == candor.PurposeRights && en.SubjectID == id && en.RequestID == "chl_1")
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
