package gate

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// csvCell neutralizes a cell that a spreadsheet would read as a formula
// (CSV injection: a trait "=HYPERLINK(…)" that runs when the person or a
// member of staff opens the file), as OWASP advises: a cell that begins
// with =, +, -, @, a tab or a carriage return gets a leading single quote,
// which spreadsheets show as text. A negative number ("-5") is quoted too.
// report.json is left as it is.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ExportZip writes the report as a zip archive: report.json and one CSV
// file per part, for the person to take elsewhere (data portability).
func ExportZip(rep *Report) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, write func(f *bytes.Buffer) error) error {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			return err
		}
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: rep.GeneratedAt})
		if err != nil {
			return err
		}
		_, err = f.Write(b.Bytes())
		return err
	}
	table := func(header []string, rows [][]string) func(*bytes.Buffer) error {
		return func(b *bytes.Buffer) error {
			cw := csv.NewWriter(b)
			cw.Write(header)
			for _, row := range rows {
				for i, cell := range row {
					row[i] = csvCell(cell)
				}
				cw.Write(row)
			}
			cw.Flush()
			return cw.Error()
		}
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	var idents, fields, consents, recipients, events [][]string
	for _, x := range rep.Identifiers {
		idents = append(idents, []string{x.Kind, x.Value, strconv.FormatBool(x.Masked)})
	}
	for _, f := range rep.Fields {
		fields = append(fields, []string{f.Field, f.Value, strconv.FormatBool(f.Masked), f.Category, strconv.FormatBool(f.Sensitive), strings.Join(f.Purposes, " "), f.Source, ts(f.UpdatedAt), ts(f.RetainUntil)})
	}
	for _, c := range rep.Consents {
		consents = append(consents, []string{ts(c.At), c.Purpose, c.State, c.NoticeVersion, c.NoticeHash, c.Channel, strconv.FormatBool(c.GPC), strconv.FormatBool(c.Explicit), strconv.FormatBool(c.Guardian)})
	}
	for _, d := range rep.Recipients {
		recipients = append(recipients, []string{ts(d.At), d.Recipient, d.Name, d.Country, d.Purpose, strings.Join(d.Fields, " ")})
	}
	for _, e := range rep.Events.Items {
		events = append(events, []string{e.ID, e.Type, e.Name, ts(e.Time), strings.Join(e.Purposes, " "), string(e.Payload)})
	}
	steps := []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"report.json", func(b *bytes.Buffer) error {
			enc := json.NewEncoder(b)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}},
		{"identifiers.csv", table([]string{"kind", "value", "masked"}, idents)},
		{"fields.csv", table([]string{"field", "value", "masked", "category", "sensitive", "purposes", "source", "updated_at", "retain_until"}, fields)},
		{"consents.csv", table([]string{"at", "purpose", "state", "notice_version", "notice_hash", "channel", "gpc", "explicit", "guardian"}, consents)},
		{"recipients.csv", table([]string{"at", "recipient", "name", "country", "purpose", "fields"}, recipients)},
		{"events.csv", table([]string{"id", "type", "name", "time", "purposes", "data"}, events)},
	}
	for _, st := range steps {
		if err := add(st.name, st.write); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
