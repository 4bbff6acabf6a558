package segment_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/policy"
	"github.com/candorhq/candor/segment"
)

func examplePolicy(t testing.TB) *candor.Policy {
	t.Helper()
	pol, findings := policy.Parse("candor.yaml", examples.Policy)
	if len(findings) > 0 {
		t.Fatal(findings)
	}
	return pol
}

// fields returns the paths an error names.
func fields(err error) string {
	var ce *candor.Error
	if !asError(err, &ce) {
		return ""
	}
	var out []string
	for _, f := range ce.Fields {
		out = append(out, f.Field)
	}
	return strings.Join(out, " ")
}

func asError(err error, ce **candor.Error) bool {
	e, ok := err.(*candor.Error)
	if ok {
		*ce = e
	}
	return ok
}

// TestParse: the rule language as API.md fixes it, and what strict
// parsing refuses, each refusal naming its path.
func TestParse(t *testing.T) {
	ok := []string{
		`{"trait":"city","op":"eq","value":"Shanghai"}`,
		`{"trait":"city","op":"in","value":["Shanghai","Beijing"]}`,
		`{"trait":"city","op":"exists"}`,
		`{"trait":"city","op":"exists","value":false}`,
		`{"trait":"birth_date","op":"lt","value":"2000-01-01"}`,
		`{"all":[{"trait":"city","op":"prefix","value":"Shang"},{"not":{"consent":"marketing.email"}}]}`,
		`{"any":[{"event":"Product Viewed","within":"30d","min":2},{"event":"Product Added"}]}`,
		`{"event":"Product Viewed","within":"30d","where":{"property":"category","op":"eq","value":"tea"}}`,
		`{"event":"Product Viewed","where":[{"property":"price","op":"gte","value":10},{"property":"brand","op":"exists"}]}`,
		`{"event":"Order Completed","within":"365d","sum":"revenue","op":"gte","value":500}`,
		`{"event":"Order Completed","within":"90d","last_not_within":"30d"}`,
		`{"event":"Order Completed","within":"30d","last_within":"7d","max":3}`,
		`{"event":"Product Viewed","within":"30d","max":0}`,
	}
	for _, s := range ok {
		r, err := segment.Parse([]byte(s))
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		// What Parse accepts, marshalled, parses again to the same.
		b, _ := json.Marshal(r)
		if _, err := segment.Parse(b); err != nil {
			t.Errorf("%s marshalled as %s: %v", s, b, err)
		}
	}
	deep := strings.Repeat(`{"not":`, 12) + `{"consent":"analytics"}` + strings.Repeat(`}`, 12)
	many := `{"any":[` + strings.Repeat(`{"consent":"analytics"},`, 70) + `{"consent":"analytics"}]}`
	bad := []struct{ rule, path string }{
		{`{"trait":"city","op":"eq","value":"x","extra":1}`, "rule.extra"},
		{`{"all":[{"consent":"analytics"},{"trait":"city","op":"like","value":"x"}]}`, "rule.all[1].op"},
		{`{"trait":"city","op":"eq"}`, "rule.value"},
		{`{"trait":"city","trait":"gender","op":"exists"}`, "rule"},
		{`{"trait":"city","event":"Product Viewed"}`, "rule"},
		{`{}`, "rule"},
		{`[]`, "rule"},
		{`{"all":[]}`, "rule.all"},
		{`{"not":{"not":5}}`, "rule.not.not"},
		{`{"event":"Product Viewed","within":"30 days"}`, "rule.within"},
		{`{"event":"Product Viewed","within":"5000d"}`, "rule.within"},
		{`{"event":"Product Viewed","min":-1}`, "rule.min"},
		{`{"event":"Product Viewed","min":3,"max":1}`, "rule.max"},
		{`{"event":"Product Viewed","op":"gt","value":1}`, "rule.op"},
		{`{"event":"Order Completed","sum":"revenue","op":"prefix","value":"1"}`, "rule.op"},
		{`{"event":"Order Completed","within":"30d","last_within":"60d"}`, "rule.last_within"},
		{`{"event":"Product Viewed","where":{"property":"price","op":"gt","value":1,"x":2}}`, "rule.where.x"},
		{`{"trait":"city","op":"in","value":[]}`, "rule.value"},
		{`{"trait":"city","op":"eq","value":{"a":1}}`, "rule.value"},
		{`{"trait":"city","op":"eq","value":"` + strings.Repeat("x", 300) + `"}`, "rule.value"},
		{`{"trait":"city","op":"gt","value":1e999}`, "rule.value"},
		{deep, "rule.not.not.not.not.not.not.not.not.not"},
		{many, "rule.any[63]"},
		{`{"consent":"analytics"} {}`, "rule"},
		{`{"consent":"analytics"`, "rule"},
		{"{\"consent\":\"\xff\"}", "rule"},
	}
	for _, c := range bad {
		_, err := segment.Parse([]byte(c.rule))
		if candor.ErrorCode(err) != candor.EINVALID || !strings.Contains(" "+fields(err)+" ", " "+c.path+" ") {
			t.Errorf("%.80s: %v (fields %q), want EINVALID naming %s", c.rule, err, fields(err), c.path)
		}
	}
	if _, err := segment.Parse([]byte(`{"consent":"` + strings.Repeat("x", segment.MaxRuleBytes) + `"}`)); candor.ErrorCode(err) != candor.EINVALID {
		t.Errorf("a rule over the size limit: %v", err)
	}
}

// TestCheck: validation against the policy for the segment's purpose and
// the reader's role.
func TestCheck(t *testing.T) {
	pol := examplePolicy(t)
	cases := []struct {
		name, purpose, role, rule, path string // path "": accepted
	}{
		{"a trait of the purpose", "personalization", "marketer", `{"trait":"city","op":"eq","value":"Shanghai"}`, ""},
		{"an undeclared trait", "personalization", "marketer", `{"all":[{"consent":"analytics"},{"trait":"shoe_size","op":"exists"}]}`, "rule.all[1].trait"},
		{"a trait of another purpose", "marketing.email", "marketer", `{"trait":"city","op":"eq","value":"Shanghai"}`, "rule.trait"},
		{"a sensitive trait of another purpose", "marketing.email", "admin", `{"trait":"national_id","op":"exists"}`, "rule.trait"},
		{"an undeclared event", "personalization", "marketer", `{"event":"Thing Done"}`, "rule.event"},
		{"an event collected only for personalization and analytics", "marketing.email", "marketer", `{"event":"Product Viewed","within":"30d"}`, "rule.event"},
		{"an event collected for the purpose", "personalization", "marketer", `{"event":"Product Added","within":"30d"}`, ""},
		{"an undeclared property", "personalization", "marketer", `{"event":"Product Viewed","where":{"property":"email","op":"exists"}}`, "rule.where.property"},
		{"a sum of a text property", "analytics", "analyst", `{"event":"Order Completed","sum":"coupon","op":"gt","value":1}`, "rule.sum"},
		{"a sum of revenue", "analytics", "analyst", `{"event":"Order Completed","within":"365d","sum":"revenue","op":"gte","value":100}`, ""},
		{"an unknown consent purpose", "personalization", "marketer", `{"consent":"marketing.fax"}`, "rule.consent"},
		{"a consent purpose of another role", "personalization", "marketer", `{"consent":"sharing.ads"}`, "rule.consent"},
		{"a prefix on a masked e-mail", "marketing.email", "marketer", `{"trait":"email","op":"prefix","value":"a"}`, "rule.op"},
		{"eq on a masked e-mail", "marketing.email", "marketer", `{"trait":"email","op":"eq","value":"a@b.example"}`, "rule.op"},
		{"exists on a masked e-mail", "marketing.email", "marketer", `{"trait":"email","op":"exists"}`, ""},
		{"a prefix on an e-mail the admin reads", "marketing.email", "admin", `{"trait":"email","op":"prefix","value":"a"}`, ""},
		{"lt on a text trait", "personalization", "marketer", `{"trait":"city","op":"lt","value":"B"}`, "rule.op"},
		{"lt on a date", "personalization", "marketer", `{"trait":"birth_date","op":"lt","value":"2000-01-01"}`, ""},
		{"a number for a text property", "personalization", "marketer", `{"event":"Product Viewed","where":{"property":"category","op":"eq","value":3}}`, "rule.where.value"},
		{"prefix on a number", "personalization", "marketer", `{"event":"Product Viewed","where":{"property":"price","op":"prefix","value":"3"}}`, "rule.where.op"},
	}
	for _, c := range cases {
		r, err := segment.Parse([]byte(c.rule))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		err = r.Check(pol, c.purpose, c.role)
		switch {
		case c.path == "" && err != nil:
			t.Errorf("%s: refused: %v %s", c.name, err, fields(err))
		case c.path != "" && (candor.ErrorCode(err) != candor.EINVALID || !strings.Contains(" "+fields(err)+" ", " "+c.path+" ")):
			t.Errorf("%s: %v (fields %q), want EINVALID naming %s", c.name, err, fields(err), c.path)
		}
	}
}

// FuzzParse: whatever the bytes, Parse returns a rule or an EINVALID
// error, never panics, and a rule it returns survives a round trip.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"trait":"city","op":"eq","value":"Shanghai"}`,
		`{"all":[{"trait":"city","op":"prefix","value":"Shang"},{"not":{"consent":"marketing.email"}}]}`,
		`{"any":[{"event":"Product Viewed","within":"30d","min":2,"where":{"property":"price","op":"gt","value":1}}]}`,
		`{"event":"Order Completed","within":"365d","sum":"revenue","op":"gte","value":500,"last_not_within":"30d"}`,
		`{"trait":"city","op":"in","value":["a",1,true]}`,
		`{"not":{"not":{"not":{}}}}`, `[]`, `null`, `"x"`, `{"a":`, "{\"trait\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	pol := examplePolicy(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := segment.Parse(data)
		if err != nil {
			if candor.ErrorCode(err) != candor.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		_ = r.Check(pol, "personalization", "marketer")
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := segment.Parse(b); err != nil {
			t.Fatalf("%q parsed, its form %s does not: %v", data, b, err)
		}
	})
}
