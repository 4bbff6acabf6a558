package policy_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/policy"
)

// FuzzParse: Parse never panics, every finding names the file and a line
// in it, findings come in line order, and a policy without findings yields
// a notice.
func FuzzParse(f *testing.F) {
	f.Add(examples.Policy)
	for _, s := range []string{
		"",
		"---\n",
		"[]",
		"organization: {name: X, country: CN, contact: a@b.example, jurisdictions: [PIPL]}\nundeclared: drop\npurposes:\n  - id: p\n    basis: legitimate_interest\n    colour: red\n",
		doc(org, "purposes:", purpose("s", "contract", ""), "fields:", field("e", "contact.email", "s", "")),
		doc(org, "purposes:", "  - &p {id: s, basis: contract}", "  - *p", "  - <<: *p"),
		doc(org, "purposes:", purpose("s", "consent", ", separate_consent: yes, gpc: deny"), "fields:", field("e", "health.data", "s, t", ", sensitive: true, type: email"),
			"recipients:", "  - {id: r, name: R, country: SG, purposes: [s], fields: [e, x]}", "roles: {admin: {purposes: [rights]}, x: [1]}"),
		"organization: !!binary aGVsbG8=\npurposes: {a: 1}\nfields: [[[]]]\nevents: [{name: E, properties: {a: b, a: c}}]\n",
		"a: &a [*a]\n",
		"{{{{{{",
		"- - - - -\n",
		"organization:\n  age_of_consent: {PIPL: 0x10, GDPR: 99999999999999999999}\n",
		"purposes:\n  - {id: s, name: {en: ~, zh-CN: [x]}, description: {en: 1, zh-CN: true}}\n",
		"fields:\n  - {id: a, retention: 999999999999y}\n  - {id: b, retention: -1d}\n  - {id: c, retention: 0h}\n",
		"\xef\xbb\xbforganization: {name: \"\\u0000\"}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, findings := policy.Parse("f.yaml", data)
		// YAML breaks lines at \n, \r, NEL, LS and PS.
		lines := 2
		for _, sep := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
			lines += strings.Count(string(data), sep)
		}
		for i, fd := range findings {
			if fd.File != "f.yaml" || fd.Line < 1 || fd.Line > lines || fd.Message == "" {
				t.Fatalf("bad finding %+v (file has %d lines)", fd, lines)
			}
			if i > 0 && fd.Line < findings[i-1].Line {
				t.Fatalf("findings not in line order: %v", findings)
			}
		}
		if p == nil {
			if len(findings) == 0 {
				t.Fatal("no policy and no finding")
			}
			return
		}
		n := policy.NewNotice(p)
		if len(findings) == 0 {
			if !strings.HasPrefix(n.Hash, "sha256:") || len(n.PurposeHashes) != len(p.Purposes) {
				t.Fatalf("notice %+v", n)
			}
			for _, lang := range []string{"en", "zh-CN"} {
				if _, err := json.Marshal(n.View(lang)); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
