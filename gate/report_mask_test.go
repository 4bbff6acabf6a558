package gate_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/subjects"
)

// TestReportMaskedForStaff: an access report read by staff applies the
// staff role's masking (the dpo role masks national_id in the example
// policy), even for a request the dpo files themself; the person reads
// their own report whole.
func TestReportMaskedForStaff(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	id := e.MustSubject(t, subjects.Input{UserID: "u-rep", Email: "rep.person@example.com", Traits: map[string]any{"national_id": "110101199003074258", "city": "Lishui"}}, "")
	value := func(rep *gate.Report, field string) (string, bool) {
		for _, f := range rep.Fields {
			if f.Field == field {
				return f.Value, f.Masked
			}
		}
		t.Fatalf("no %s in the report", field)
		return "", false
	}
	dpo, err := e.Gate.Report(ctx, candor.Actor{ID: "staff:dpo", Role: gate.RoleDPO}, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if v, m := value(dpo, "national_id"); !m || strings.Contains(v, "19900307") {
		t.Fatalf("the dpo sees the ID number %q (masked %v)", v, m)
	}
	if v, m := value(dpo, "city"); m || v != "Lishui" {
		t.Fatalf("the dpo's city %q masked %v: only the role's masked fields are hidden", v, m)
	}
	self, err := e.Gate.Report(ctx, gate.SubjectActor(id), id, "")
	if err != nil {
		t.Fatal(err)
	}
	if v, m := value(self, "national_id"); m || v != "110101199003074258" {
		t.Fatalf("the person's own ID number %q masked %v", v, m)
	}
	// The zip export carries the same masked values.
	b, err := gate.ExportZip(dpo)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		content, _ := io.ReadAll(rc)
		rc.Close()
		if strings.Contains(string(content), "110101199003074258") {
			t.Fatalf("the dpo's export holds the ID number in %s", f.Name)
		}
	}
}
