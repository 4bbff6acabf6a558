package web

import (
	"errors"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/gate"
)

// words turns Candor's codes into the words of one language, from the one
// catalog (text). A page never shows a code where words exist for it.
type words string // the language

// t returns the text of key; a key missing from the catalog is shown as it
// is (the tests check that none is).
func (l words) t(key string) string {
	if v, ok := text[string(l)][key]; ok {
		return v
	}
	return key
}

// code returns the words for prefix+code, or code itself when the catalog
// has none (a shop's own event name, say).
func (l words) code(prefix, code string) string {
	if v, ok := text[string(l)][prefix+code]; ok {
		return v
	}
	return code
}

// fill returns the text of key with each {name} replaced by its value;
// pairs holds name, value, name, value…
func (l words) fill(key string, pairs ...string) string {
	s := l.t(key)
	for i := 0; i+1 < len(pairs); i += 2 {
		s = strings.ReplaceAll(s, "{"+pairs[i]+"}", pairs[i+1])
	}
	return s
}

// why words a decision for the person it is about ("you declined it on
// …"), or, with staff set, for a staff member ("the person declined …").
// name is the purpose's name in this language.
func (l words) why(d gate.Decision, name string, staff bool) string {
	prefix := "why_"
	if staff {
		prefix = "why3_"
	}
	code := d.Code
	if code == gate.CodeDenied && d.GPC {
		code = "denied_gpc"
	}
	key := prefix + code
	if _, ok := text[string(l)][key]; !ok {
		return d.Reason // a code newer than the catalog: the gate's English
	}
	date := "—"
	if !d.Since.IsZero() {
		date = d.Since.UTC().Format(time.DateOnly)
	}
	return l.fill(key, "purpose", name, "date", date, "basis", l.code("basis_", d.Basis))
}

// refusal words why Candor refused a request or a form: the words for the
// error's reason when the catalog has them; else, in English, Candor's own
// message (written for people, without personal data); else the words
// for its code.
func (l words) refusal(err error) string {
	var ce *candor.Error
	if errors.As(err, &ce) {
		if v, ok := text[string(l)]["refusal_"+ce.Reason]; ok && ce.Reason != "" {
			return v
		}
		if l == candor.LangEN && ce.Message != "" {
			return ce.Message
		}
		if ce.Code == candor.EINVALID {
			return l.t("refusal_invalid")
		}
	}
	return l.t("refusal_")
}

// requestRefusal words the reason Candor itself gave for refusing a
// request (RequestDetails.ReasonCode and Reason).
func (l words) requestRefusal(code, english string) string {
	if v, ok := text[string(l)]["refusal_"+code]; ok && code != "" {
		return v
	}
	if l == candor.LangEN && english != "" {
		return english
	}
	return l.t("refusal_")
}

// funcs returns the template functions bound to the language.
func (l words) funcs() template.FuncMap {
	return template.FuncMap{
		"t":    l.t,
		"why":  func(d gate.Decision, name string) string { return l.why(d, name, false) },
		"why3": func(d gate.Decision, name string) string { return l.why(d, name, true) },
		"withheld": func(code, name string) string {
			return l.why(gate.Decision{Code: code}, name, true)
		},
		"kind":     func(k string) string { return l.code("kind_", k) },
		"source":   func(s string) string { return l.code("source_", s) },
		"state":    func(s string) string { return l.code("state_", s) },
		"channel":  func(c string) string { return l.code("channel_", c) },
		"value":    func(category, v string) string { return l.code("value_"+category+"_", v) },
		"event":    func(e string) string { return l.code("event_", e) },
		"act":      func(a string) string { return l.code("act_", a) },
		"det":      func(d string) string { return l.code("det_", d) },
		"refusal":  l.requestRefusal,
		"devices":  func(n int) string { return l.fill("devices", "n", strconv.Itoa(n)) },
		"days":     func(n int) string { return l.fill("days", "n", strconv.Itoa(n)) },
		"role":     func(r string) string { return l.code("role_", r) },
		"decision": func(d candor.AuditDecision) string { return l.code("decision_", string(d)) },
	}
}

// identRow is one line of "how we recognize you".
type identRow struct {
	Kind, Value string
	Masked      bool // masked for the reader's role
	Devices     int  // for the line that counts browsers and devices
}

// identRows lists the identifiers a person sees: each e-mail, phone and
// account; the ids our site stored in their browsers and devices only
// counted, since a raw id means nothing to a person (the export has them).
func identRows(ids []gate.ReportIdentifier) []identRow {
	var out []identRow
	devices := 0
	for _, id := range ids {
		if id.Kind == candor.IdentAnonymousID {
			devices++
			continue
		}
		out = append(out, identRow{Kind: id.Kind, Value: id.Value, Masked: id.Masked})
	}
	if devices > 0 {
		out = append(out, identRow{Kind: candor.IdentAnonymousID, Devices: devices})
	}
	return out
}
