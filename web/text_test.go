package web

import (
	"bytes"
	"errors"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/audit"
	"github.com/candorhq/candor/campaign"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/examples"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/pii"
	"github.com/candorhq/candor/policy"
)

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

// TestCatalogComplete: every key of the catalog has words in every
// language, with the same {placeholders}.
func TestCatalogComplete(t *testing.T) {
	for _, l := range candor.Languages {
		for _, other := range candor.Languages {
			for k, v := range text[l] {
				w, ok := text[other][k]
				if !ok || strings.TrimSpace(w) == "" {
					t.Errorf("%q has words in %s but not in %s", k, l, other)
					continue
				}
				a, b := placeholder.FindAllString(v, -1), placeholder.FindAllString(w, -1)
				slices.Sort(a)
				slices.Sort(b)
				if !slices.Equal(a, b) {
					t.Errorf("%q: placeholders %v in %s, %v in %s", k, a, l, b, other)
				}
			}
		}
		for k, v := range text[l] {
			if strings.Contains(v, "`") {
				t.Errorf("%s %q holds a backtick: %s", l, k, v)
			}
		}
	}
}

// TestTemplatesUseKnownKeys: every key a template names has words.
func TestTemplatesUseKnownKeys(t *testing.T) {
	literal := regexp.MustCompile(`\{\{-?\s*t\s+"([^"]+)"`)
	inner := regexp.MustCompile(`\(t\s+"([^"]+)"\)|[( ]t "([^"]+)"`)
	dynamic := regexp.MustCompile(`\(print\s+"([a-z_]+)"`)
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatal(names, err)
	}
	prefixes := map[string][]string{
		"type_":      {candor.RightAccess, candor.RightExport, candor.RightRectify, candor.RightErase, candor.RightRestrict, candor.RightObject, candor.RightWithdraw},
		"status_":    {candor.RequestReceived, candor.RequestVerifying, candor.RequestInProgress, candor.RequestDone, candor.RequestRefused},
		"err_audit_": {"actor", "action", "subject", "purpose", "before", "after"},
		"kind_":      append(slices.Clone(candor.IdentifierKinds), "subject_id"),
	}
	for _, n := range names {
		b, _ := fs.ReadFile(files, n)
		for _, re := range []*regexp.Regexp{literal, inner} {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				for _, k := range m[1:] {
					if k == "" {
						continue
					}
					if _, ok := text[candor.LangEN][k]; !ok && !strings.HasPrefix(n, "templates/demo") {
						t.Errorf("%s names %q, which the catalog lacks", n, k)
					}
				}
			}
		}
		for _, m := range dynamic.FindAllStringSubmatch(string(b), -1) {
			codes, ok := prefixes[m[1]]
			if !ok {
				t.Errorf("%s builds keys from %q: add its codes to this test", n, m[1])
			}
			for _, c := range codes {
				for _, l := range candor.Languages {
					if _, ok := text[l][m[1]+c]; !ok {
						t.Errorf("%s: no %s words for %q", n, l, m[1]+c)
					}
				}
			}
		}
	}
}

// gateCodes are the decision codes the gate writes.
var gateCodes = []string{gate.CodeGranted, gate.CodeBasis, gate.CodeUnknownSubject, gate.CodeNoConsent, gate.CodeDenied, gate.CodeWithdrawn,
	gate.CodeStale, gate.CodeGuardian, gate.CodeRestricted, gate.CodeObjected, gate.CodeSeparateConsent, gate.CodeRole, gate.CodeUndeclared, "denied_gpc"}

// TestCodesHaveWords: each code Candor writes and a page shows has words
// in every language: decisions (to the person and to staff), legal bases,
// identifier kinds, sources, consent states and channels, minimization
// actions and detectors, the example policy's roles and its gender values.
func TestCodesHaveWords(t *testing.T) {
	pol, findings := policy.Parse("candor.yaml", examples.Policy)
	if len(findings) > 0 {
		t.Fatal(findings)
	}
	want := map[string][]string{
		"why_":     gateCodes,
		"why3_":    gateCodes,
		"basis_":   {string(candor.BasisConsent), string(candor.BasisContract), string(candor.BasisLegalObligation), string(candor.BasisLegitimateInterest), string(candor.BasisVitalInterest), string(candor.BasisPublicInterest)},
		"kind_":    append(slices.Clone(candor.IdentifierKinds), "subject_id"),
		"source_":  {"api", "identify", "rectification", "demo", "demo-shop", ""},
		"state_":   {string(candor.ConsentGranted), string(candor.ConsentDenied), string(candor.ConsentWithdrawn)},
		"channel_": consent.Channels,
		"act_":     {collect.ActionDropped, collect.ActionRedacted, collect.ActionTruncated, collect.ActionReduced, collect.ActionRejected, collect.ActionCounted},
		"det_": {collect.ReasonUndeclared, collect.ReasonType, collect.ReasonConsent, collect.ReasonConflict, collect.ReasonExpired, collect.ReasonUnverified,
			collect.ReasonSuppressed, collect.ReasonBrowserKey, string(pii.Email), string(pii.Phone), string(pii.CNID), string(pii.BankCard), string(pii.IP), ""},
		"refusal_":               {"invalid", "suppressed", "identifier_on_file", "shop_check", ""},
		"event_":                 {collect.PageEvent, "Products Searched", "Product Viewed", "Product Added", "Order Completed"},
		"decision_":              {string(candor.DecisionAllow), string(candor.DecisionDeny), string(candor.DecisionOK), string(candor.DecisionNotFound)},
		"value_identity.gender_": {"male", "female"},
	}
	for _, r := range pol.Roles {
		want["role_"] = append(want["role_"], r.ID)
	}
	want["role_"] = append(want["role_"], candor.RoleAdmin)
	for prefix, codes := range want {
		for _, c := range codes {
			for _, l := range candor.Languages {
				if _, ok := text[l][prefix+c]; !ok {
					t.Errorf("no %s words for %s%s", l, prefix, c)
				}
			}
		}
	}
}

// TestWhy: a decision is worded from its code, the purpose's name and the
// date of the choice, never from the gate's English reason.
func TestWhy(t *testing.T) {
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		l     string
		d     gate.Decision
		staff bool
		want  string
	}{
		{candor.LangEN, gate.Decision{Code: gate.CodeDenied, Since: at, Reason: "the person declined marketing.sms on 2026-11-20"}, false, "You declined it on 2026-11-20."},
		{candor.LangEN, gate.Decision{Code: gate.CodeDenied, Since: at, GPC: true}, false, "Your browser's Global Privacy Control signal declined it on 2026-11-20."},
		{candor.LangZH, gate.Decision{Code: gate.CodeDenied, Since: at}, true, "本人于 2026-11-20 拒绝了“短信推送优惠信息”。"},
		{candor.LangZH, gate.Decision{Code: gate.CodeBasis, Basis: "contract", Reason: "service rests on contract"}, false, "不依赖您的同意：为履行与您的合同所必需。"},
		{candor.LangEN, gate.Decision{Code: gate.CodeBasis, Basis: "legal_obligation"}, true, "It does not depend on consent: the law requires it."},
		{candor.LangEN, gate.Decision{Code: "a_code_from_later", Reason: "the gate's own words"}, false, "the gate's own words"},
	} {
		name := map[string]string{candor.LangEN: "Offers by text message", candor.LangZH: "短信推送优惠信息"}[c.l]
		if got := words(c.l).why(c.d, name, c.staff); got != c.want {
			t.Errorf("%s %+v: %q, want %q", c.l, c.d, got, c.want)
		}
	}
}

// TestRefusalWords: a refusal is worded from its reason in every
// language; in English an error without words of its own keeps Candor's
// message; in Chinese it never shows Candor's English.
func TestRefusalWords(t *testing.T) {
	onFile := &candor.Error{Code: candor.ECONFLICT, Reason: "identifier_on_file", Message: "another e-mail is on file"}
	plain := candor.Invalid("the value is not a date")
	if got := words(candor.LangZH).refusal(onFile); got != text[candor.LangZH]["refusal_identifier_on_file"] {
		t.Errorf("zh: %q", got)
	}
	if got := words(candor.LangEN).refusal(plain); got != "the value is not a date" {
		t.Errorf("en: %q", got)
	}
	if got := words(candor.LangZH).refusal(plain); got != text[candor.LangZH]["refusal_invalid"] {
		t.Errorf("zh: %q", got)
	}
	if got := words(candor.LangZH).refusal(errors.New("disk full")); got != text[candor.LangZH]["refusal_"] {
		t.Errorf("zh, an internal error: %q", got)
	}
	if got := words(candor.LangZH).requestRefusal("", "a value is not valid"); got != text[candor.LangZH]["refusal_"] {
		t.Errorf("zh, a request refused without a code: %q", got)
	}
}

// TestPagesInBothLanguages renders every portal and console page in each
// language, with data that holds every code a page words (each decision,
// identifier kind, source, consent state and channel, finding), and
// checks that no page shows a catalog key, an internal token or a raw
// anonymous id, and that a Chinese page shows no English.
func TestPagesInBothLanguages(t *testing.T) {
	pol, findings := policy.Parse("candor.yaml", examples.Policy)
	if len(findings) > 0 {
		t.Fatal(findings)
	}
	notice := policy.NewNotice(pol)
	// The names of the organization and its recipients are theirs.
	// The names of the organization and its recipients are theirs; the
	// sample data's values are the person's.
	proper := map[string]bool{"Jinhua": true, "Zhang": true, "Wei": true, "u-1001": true}
	for _, n := range append([]string{pol.Organization.Name}, recipientNames(pol)...) {
		for _, w := range testenv.LatinWords(n) {
			proper[w] = true
		}
	}
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	var decisions []gate.Decision
	for _, c := range gateCodes {
		d := gate.Decision{Code: c, Purpose: "marketing.sms", Basis: "consent", Since: at, Reason: "the person declined marketing.sms on 2026-11-20"}
		if c == "denied_gpc" {
			d.Code, d.GPC = gate.CodeDenied, true
		}
		if c == gate.CodeBasis {
			d.Allow, d.Purpose, d.Basis, d.Reason = true, "service", "contract", "service rests on contract"
		}
		decisions = append(decisions, d)
	}
	rep := &gate.Report{
		SubjectID: "sub_aaaaaaaaaaaaaaaaaaaaaaaaaa", GeneratedAt: at, CreatedAt: at,
		Identifiers: []gate.ReportIdentifier{{Kind: candor.IdentEmail, Value: "zhang.wei@example.com"}, {Kind: candor.IdentPhone, Value: "+8613912345678"},
			{Kind: candor.IdentUserID, Value: "u-1001"}, {Kind: candor.IdentAnonymousID, Value: "anon-7f3a9c21"}, {Kind: candor.IdentAnonymousID, Value: "visitor-4411"}},
		Fields: []gate.ReportField{
			{Field: "gender", Category: "identity.gender", Value: "male", Purposes: []string{"personalization"}, Source: "identify", RetainUntil: at},
			{Field: "city", Category: "location.city", Value: "Jinhua", Purposes: []string{"personalization", "analytics"}, Source: "api", RetainUntil: at},
			{Field: "email", Category: "contact.email", Value: "zhang.wei@example.com", Purposes: []string{"service"}, Source: "rectification", RetainUntil: at},
			{Field: "name", Category: "identity.name", Value: "张伟", Purposes: []string{"service"}, Source: "demo", RetainUntil: at},
			{Field: "allergies", Category: "health.data", Sensitive: true, Value: "花生", Purposes: []string{"allergy.alerts"}, Source: "demo-shop", RetainUntil: at},
		},
		Decisions:          decisions,
		Recipients:         []gate.ReportDisclosure{{Recipient: "global-parcel", Name: "Global Parcel Pte. Ltd.", Country: "SG", Purpose: "delivery.international", Fields: []string{"name", "phone", "address"}, At: at}},
		AutomatedDecisions: []gate.ReportAutomated{{Purpose: "personalization", Applies: true}},
		Runs:               []candor.Run{{ID: "run_x", Purpose: "marketing.email", StartedAt: at, Count: 2, Times: 3}},
		Events:             gate.ReportEvents{Total: 3, ByName: []gate.EventCount{{Name: collect.PageEvent, Count: 1, FirstSeen: at, LastSeen: at}, {Name: "Product Viewed", Count: 2, FirstSeen: at, LastSeen: at}}},
	}
	for i, st := range []candor.ConsentState{candor.ConsentGranted, candor.ConsentDenied, candor.ConsentWithdrawn} {
		for _, ch := range consent.Channels {
			rep.Consents = append(rep.Consents, gate.ReportConsent{Purpose: "marketing.email", State: string(st), Channel: ch, GPC: ch == "gpc" && i == 1, NoticeVersion: "2026-11-01", At: at})
		}
	}
	var mins []candor.MinimizationCount
	for _, a := range []string{collect.ActionDropped, collect.ActionRedacted, collect.ActionTruncated, collect.ActionReduced, collect.ActionRejected, collect.ActionCounted} {
		for _, d := range []string{collect.ReasonUndeclared, collect.ReasonType, collect.ReasonConsent, collect.ReasonConflict, collect.ReasonExpired, collect.ReasonUnverified,
			collect.ReasonSuppressed, collect.ReasonBrowserKey, string(pii.Email), string(pii.Phone), string(pii.CNID), string(pii.BankCard), string(pii.IP), ""} {
			mins = append(mins, candor.MinimizationCount{Event: "Products Searched", Item: "properties.query", Action: a, Detector: d, Count: 1})
		}
	}
	req := candor.RightsRequest{ID: "req_aaaaaaaaaaaaaaaaaaaaaaaaaa", Type: candor.RightRectify, SubjectID: rep.SubjectID, Status: candor.RequestRefused, ReceivedAt: at, DueAt: at}
	staffMember := &candor.StaffMember{ID: "stf_aaaaaaaaaaaaaaaaaaaaaaaaaa", Email: "dpo@shop.example", Name: "Wei Zhang", Role: candor.RoleAdmin}
	for _, l := range candor.Languages {
		view := notice.View(l)
		names, fieldNames := map[string]string{}, map[string]string{}
		for _, vp := range view.Purposes {
			names[vp.ID] = vp.Name
		}
		for _, f := range view.Fields {
			fieldNames[f.ID] = f.CategoryText
		}
		home := homeData{Report: rep, Notice: view, Names: names, FieldNames: fieldNames, Idents: identRows(rep.Identifiers), Fields: view.Fields, Objectable: view.Purposes,
			Requests: []candor.RightsRequest{req}, Download: "/privacy/download?t=x"}
		home.Requests[0].Details.Reason = words(l).requestRefusal("suppressed", "the e-mail is on the suppression list")
		for _, vp := range view.Purposes {
			home.Purposes = append(home.Purposes, purposeSwitch{ID: vp.ID, Name: vp.Name, Description: vp.Description, Separate: vp.SeparateConsent})
		}
		subject := subjectData{Purposes: view.Purposes, Kinds: []string{"subject_id", candor.IdentEmail, candor.IdentPhone, candor.IdentUserID}, Names: names, Fields: fieldNames,
			Cats: map[string]string{"gender": "identity.gender", "city": "location.city"}, Purpose: "personalization",
			Result: &gate.ReadResult{SubjectID: rep.SubjectID, Purpose: "personalization", Fields: map[string]string{"gender": "male", "city": "Jinhua"}, Masked: []string{"city"},
				Withheld: map[string]string{"allergies": gate.CodeSeparateConsent}, Decision: decisions[0],
				Events: &gate.EventSummary{ByName: []gate.EventCount{{Name: "Product Added", Count: 1, FirstSeen: at, LastSeen: at}}}}}
		auditD := auditData{Entries: []candor.AuditEntry{{Seq: 2, Time: at, Actor: "staff:" + staffMember.ID, Action: "read", Purpose: "personalization", SubjectID: rep.SubjectID, Decision: "allow"},
			{Seq: 1, Time: at, Actor: "apikey:key_x", Action: "read", Purpose: "rights", Decision: "deny", Reason: "role"}},
			Report: audit.Report{OK: true, Entries: 2}, Checked: at, Head: 2, Newest: 2, Oldest: 1, Purposes: view.Purposes, Names: names}
		auditD.Names[candor.PurposeRights] = text[l]["audit_purpose_rights"]
		var rates []purposeRate
		_, rates = consentChart(nil, pol, names, at, l)
		data := map[string]any{
			"signin": nil, "code": nil, "home": home, "change": changeData{Kind: candor.IdentEmail, Value: "new@example.com"}, "message": nil,
			"console-signin": nil, "console-totp": nil, "console-enrol": enrolData{Secret: "JBSWY3DPEHPK3PXP"},
			"console-overview": overviewData{Subjects: 2, Open: 1, Due: []candor.RightsRequest{req}, Rates: rates, Findings: mins, From: "2026-10-22", To: "2026-11-20", Names: names},
			"console-requests": requestsData{Requests: []requestRow{{RightsRequest: req, Overdue: true, Stuck: true}}},
			"console-subject":  subject, "console-audit": auditD,
			"console-customers": customersData{Purposes: view.Purposes, Purpose: "personalization", Names: names, Fields: []string{"gender", "city", "allergies"},
				FieldNames: fieldNames, Cats: map[string]string{"gender": "identity.gender"}, Cols: 4, Next: rep.SubjectID,
				People: []*gate.Person{{SubjectID: rep.SubjectID, Fields: map[string]string{"gender": "female", "city": "Jinhua"}, Masked: []string{"city"},
					Withheld: map[string]string{"allergies": gate.CodeSeparateConsent}}}},
			// The rule editor holds JSON (the rule language's members are
			// code, in any language): left empty here.
			"console-segments": segmentsData{Purposes: view.Purposes, Names: names,
				Segments: []segmentRow{{Segment: candor.Segment{ID: "seg_aaaaaaaaaaaaaaaaaaaaaaaaaa", Name: "Jinhua", Purpose: "personalization", Snapshot: true, Members: 3}, Rule: `{"trait":"city","op":"exists"}`}},
				Errors:   []ruleError{{Path: "rule.all[1].trait", Text: ruleErrorText(l, "not declared for marketing.email")}}},
			"console-campaigns": campaignsData{Campaigns: []campaignRow{campaignSample(l, names)},
				Purposes: []campaignPurpose{{ID: "marketing.email", Name: names["marketing.email"], Channels: []string{"email"}, ChannelTexts: text[l]["cam_channel_email"],
					Placeholders: []placeholderRow{{Tag: "{{name}}", Text: fieldNames["name"]}}}},
				Segments: []segmentChoice{{ID: "seg_aaaaaaaaaaaaaaaaaaaaaaaaaa", Name: "Jinhua", Purpose: "marketing.email", PurposeName: names["marketing.email"]}},
				Form:     campaignForm{Name: "Jinhua", Channel: "email", Purpose: "marketing.email"},
				Errors: map[string]*fieldError{"body.en": ptr(campaignErrorText(l, "{{nickname}} names an undeclared trait: the policy declares no field nickname")),
					"form": ptr(campaignErrorText(l, "something new")), "segment": {Text: text[l]["cam_err_segment"]}}},
			"console-campaign": campaignData{Campaign: campaignSample(l, names), SubjectID: rep.SubjectID, Sending: true,
				Preview: &campaign.Preview{SubjectID: rep.SubjectID, Language: l, To: "z***@example.com", Subject: "Jinhua", Body: "Jinhua\n\n--\nhttps://candor.example/v1/unsubscribe/x"},
				Errors:  map[string]*fieldError{"subject_id": {Text: text[l]["cam_err_subject_id"]}}},
			"console-policy": policyData{Notice: view, Roles: pol.Roles, Names: names},
			"console-staff":  staffData{Staff: []staffRow{{StaffMember: *staffMember, Enrolled: true}}, Roles: []string{candor.RoleAdmin, "dpo", "marketer", "support"}},
		}
		var report bytes.Buffer
		if err := WriteReport(&report, l, rep, notice, req.ID); err != nil {
			t.Fatalf("report (%s): %v", l, err)
		}
		testenv.CheckPage(t, "report ("+l+")", report.String(), testenv.PageCheck{Chinese: l == candor.LangZH, Allowed: proper,
			Never: []string{"anon-7f3a9c21", "visitor-4411"}, IsKey: func(k string) bool { _, ok := text[l][k]; return ok }})
		for name, tm := range pages[l] {
			d, ok := data[name]
			if !ok {
				t.Errorf("no data to render %s with: add it to this test", name)
				continue
			}
			area := "privacy"
			var member *candor.StaffMember
			if strings.HasPrefix(name, "console-") {
				area, member = "console", staffMember
			}
			for _, insecure := range []bool{false, true} {
				var buf bytes.Buffer
				p := page{Lang: l, Org: pol.Organization.Name, Title: text[l]["portal"], CSRF: "token", Area: area, Staff: member, Data: d, Path: "/" + area,
					Notice: text[l]["done_request"], Insecure: insecure}
				if err := tm.Execute(&buf, p); err != nil {
					t.Fatalf("%s (%s): %v", name, l, err)
				}
				never := []string{"anon-7f3a9c21", "visitor-4411"}
				if area == "console" {
					never = nil // staff see the ids, in code
				}
				testenv.CheckPage(t, name+" ("+l+")", buf.String(), testenv.PageCheck{Chinese: l == candor.LangZH, Allowed: proper, Never: never,
					IsKey: func(k string) bool { _, ok := text[l][k]; return ok }})
			}
		}
	}
}

func recipientNames(pol *candor.Policy) []string {
	var out []string
	for _, r := range pol.Recipients {
		out = append(out, r.Name)
	}
	return out
}

// campaignSample is a campaign with every status word and skip reason.
func campaignSample(l string, names map[string]string) campaignRow {
	v := &campaign.View{ID: "cmp_aaaaaaaaaaaaaaaaaaaaaaaaaa", Name: "Jinhua", Channel: "email", Purpose: "marketing.email", Segment: "seg_aaaaaaaaaaaaaaaaaaaaaaaaaa",
		Subject: candor.Text{"en": "Hi {{name}}", "zh-CN": "您好 {{name}}"}, Body: candor.Text{"en": "Dear {{name}}", "zh-CN": "亲爱的{{name}}"}, Status: candor.CampaignSending,
		Stats: campaign.Stats{Sent: 3, Failed: 1, Waiting: 2, Skipped: map[string]int{}}}
	for _, r := range campaignSkips {
		v.Stats.Skipped[r] = 1
	}
	v.Stats.Skipped["something_new"] = 1
	return (&Server{}).row(l, v, names, map[string]string{v.Segment: "Jinhua"})
}

// campaignSkips are the reasons the send log counts skips by.
var campaignSkips = append([]string{campaign.SkipSuppressed, campaign.SkipFrequency, campaign.SkipNoAddress, campaign.SkipUnconfirmed, candor.SendInterrupted},
	gate.CodeNoConsent, gate.CodeDenied, gate.CodeWithdrawn, gate.CodeStale, gate.CodeGuardian, gate.CodeRestricted, gate.CodeObjected, gate.CodeSeparateConsent,
	gate.CodeUnknownSubject, gate.CodeRole)

// TestCampaignWords: each status and skip reason has words in every
// language, and each refusal the service writes maps to words of its own.
func TestCampaignWords(t *testing.T) {
	for _, l := range candor.Languages {
		for _, st := range []string{candor.CampaignDraft, candor.CampaignSending, candor.CampaignDone, candor.CampaignStopped} {
			if _, ok := text[l]["cam_status_"+st]; !ok {
				t.Errorf("no %s words for status %s", l, st)
			}
		}
		for _, r := range campaignSkips {
			if _, ok := text[l]["cam_skip_"+r]; !ok {
				t.Errorf("no %s words for skip %s", l, r)
			}
		}
		for msg, key := range map[string]string{
			"{{nickname}} names an undeclared trait: the policy declares no field nickname":                     "cam_err_undeclared",
			"{{city}} names a trait not declared for marketing.email":                                           "cam_err_not_for",
			"analytics is not a marketing purpose: the policy gives it no marketing: [email] or [sms]":          "cam_err_not_marketing",
			"service rests on contract: a campaign may only send for a marketing purpose that rests on consent": "cam_err_not_marketing",
			"required": "cam_err_required", "required, at most 200 bytes": "cam_err_name", "for marketing.sms, not marketing.email": "cam_err_segment_purpose",
		} {
			got := campaignErrorText(l, msg)
			if got.Text != text[l][key] {
				t.Errorf("%s: %q → %q, want %s", l, msg, got.Text, key)
			}
		}
	}
	if got := campaignErrorText(candor.LangEN, "{{nickname}} names an undeclared trait: the policy declares no field nickname").Code; got != "{{nickname}}" {
		t.Errorf("placeholder: %q", got)
	}
}

func ptr[T any](v T) *T { return &v }
