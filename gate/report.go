package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/vault"
)

// RoleDPO is the privacy officer's role: with admin, the only staff role
// that may read for the built-in purpose "rights".
const RoleDPO = "dpo"

// RoleSubject is the person themself, after proving control of an
// identifier on file: they may read their own report, and nothing else.
// Their actor id is SubjectActor(subjectID).
const RoleSubject = "subject"

// SubjectActor is the actor for a person acting on their own data.
func SubjectActor(subjectID string) candor.Actor {
	return candor.Actor{ID: "subject:" + subjectID, Role: RoleSubject}
}

// MaxReportRuns is how many of the latest runs that used a person's data
// a report lists.
const MaxReportRuns = 100

// MaxReportEvents is how many of a subject's latest events a report
// includes one by one (all are counted).
const MaxReportEvents = 100000

// Report is everything Candor holds about a person, as the access right
// asks (PIPL Art. 45, GDPR Art. 15): read through the gate for the
// built-in purpose "rights", and audited. The person reading their own
// report sees everything in the clear; staff see identifiers and fields
// masked as their role's masked list says (marked Masked), since a staff
// member who files an access request must not see through it what the role
// may see only partly.
type Report struct {
	SubjectID   string    `json:"subject_id"`
	GeneratedAt time.Time `json:"generated_at"`
	CreatedAt   time.Time `json:"created_at"`
	// Identifiers by which Candor finds the person.
	Identifiers []ReportIdentifier `json:"identifiers"`
	// Fields held, with why and until when.
	Fields []ReportField `json:"fields"`
	// Consents is the whole consent ledger, oldest first.
	Consents []ReportConsent `json:"consents"`
	// Decisions says, per purpose, whether the person's data may be
	// processed for it now, and why.
	Decisions []Decision `json:"decisions"`
	// Recipients lists what was given to whom (the sharing ledger).
	Recipients []ReportDisclosure `json:"recipients"`
	// AutomatedDecisions lists the purposes that make automated decisions
	// (PIPL Art. 24) and whether they apply to the person now.
	AutomatedDecisions []ReportAutomated `json:"automated_decisions"`
	// Runs lists the latest bulk runs that used the person's data (a
	// campaign, an audience), newest first.
	Runs       []candor.Run `json:"runs"`
	Restricted bool         `json:"restricted"`
	Objections []string     `json:"objections"`
	Events     ReportEvents `json:"events"`
	// Masked names the fields and identifier kinds (as "identifier:kind")
	// shown masked for the reader's role; empty for the person themself.
	Masked []string `json:"masked"`
}

// ReportIdentifier is one identifier: in the clear, or masked (Masked)
// when the reader's role masks it.
type ReportIdentifier struct {
	Kind   string `json:"kind"`
	Value  string `json:"value"`
	Masked bool   `json:"masked,omitempty"`
}

// ReportField is one trait held.
type ReportField struct {
	Field       string    `json:"field"`
	Category    string    `json:"category"`
	Sensitive   bool      `json:"sensitive"`
	Value       string    `json:"value"`
	Masked      bool      `json:"masked,omitempty"` // Value is masked for the reader's role
	Purposes    []string  `json:"purposes"`
	Source      string    `json:"source"` // where the value came from: api, identify, rectification, …
	UpdatedAt   time.Time `json:"updated_at"`
	RetainUntil time.Time `json:"retain_until"`
}

// ReportConsent is one ledger entry.
type ReportConsent struct {
	Purpose       string    `json:"purpose"`
	State         string    `json:"state"`
	NoticeVersion string    `json:"notice_version"`
	NoticeHash    string    `json:"notice_hash"`
	Channel       string    `json:"channel"`
	GPC           bool      `json:"gpc"`
	Explicit      bool      `json:"explicit"`
	Guardian      bool      `json:"guardian"`
	At            time.Time `json:"at"`
}

// ReportDisclosure is one entry of the sharing ledger.
type ReportDisclosure struct {
	Recipient string    `json:"recipient"`
	Name      string    `json:"name"`
	Country   string    `json:"country"`
	Purpose   string    `json:"purpose"`
	Fields    []string  `json:"fields"`
	At        time.Time `json:"at"`
}

// ReportAutomated is one purpose that makes automated decisions.
type ReportAutomated struct {
	Purpose string `json:"purpose"`
	Applies bool   `json:"applies"`
}

// ReportEvents is the person's events: counted by name, and each one.
type ReportEvents struct {
	Total     int64         `json:"total"`
	ByName    []EventCount  `json:"by_name"`
	Items     []ReportEvent `json:"items"`
	Truncated bool          `json:"truncated,omitempty"`
}

// ReportEvent is one event, decrypted.
type ReportEvent struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Time        time.Time       `json:"time"`
	Purposes    []string        `json:"purposes"`
	RetainUntil time.Time       `json:"retain_until"`
	Payload     json.RawMessage `json:"data"`
}

// Report reads everything held about the subject for the built-in purpose
// "rights", writes the audit entry, and only then returns it. Only the
// person themself ([SubjectActor]) and the admin and dpo roles may; staff
// see what their role masks (the policy's roles.X.masked) masked, the
// person sees everything. It returns ENOTFOUND for an unknown subject,
// EFORBIDDEN for another role, EGONE when the subject's key is destroyed.
func (g *Gate) Report(ctx context.Context, actor candor.Actor, subjectID, requestID string) (*Report, error) {
	entry := candor.AuditEntry{Actor: actor.ID, Action: candor.ActionRead, Purpose: candor.PurposeRights, SubjectID: subjectID, RightsRequest: requestID}
	self := actor.Role == RoleSubject && actor.ID == "subject:"+subjectID
	if actor.Role != candor.RoleAdmin && actor.Role != RoleDPO && !self {
		entry.Time, entry.Decision, entry.Reason = g.now(), candor.DecisionDeny, CodeRole
		if err := g.auditor.Append(ctx, entry); err != nil {
			return nil, fmt.Errorf("gate: audit: %w", err)
		}
		return nil, &candor.Error{Code: candor.EFORBIDDEN, Message: "only the person, the admin and dpo roles may read an access report", Reason: CodeRole}
	}
	store := g.store
	sub, err := store.Subject(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	now := g.now().UTC()
	rep := &Report{SubjectID: subjectID, GeneratedAt: now, CreatedAt: sub.CreatedAt, Restricted: sub.Restricted, Objections: append([]string{}, sub.Objections...),
		Identifiers: []ReportIdentifier{}, Fields: []ReportField{}, Consents: []ReportConsent{}, Recipients: []ReportDisclosure{}, AutomatedDecisions: []ReportAutomated{},
		Masked: []string{}}
	masked := map[string]bool{}
	if role := g.policy.Role(actor.Role); role != nil && !self {
		for _, m := range role.Masked {
			masked[m] = true
		}
	}
	unseal := func(field string, sealed []byte) ([]byte, error) {
		b, err := g.sealer.Unseal(ctx, subjectID, field, sealed)
		if errors.Is(err, vault.ErrShredded) {
			return nil, &candor.Error{Code: candor.EGONE, Message: "the subject was erased", Reason: "erased"}
		}
		return b, err
	}
	idents, err := store.Identifiers(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	for _, id := range idents {
		v, err := unseal("identifier:"+id.Kind, id.Sealed)
		if err != nil {
			return nil, err
		}
		ri := ReportIdentifier{Kind: id.Kind, Value: string(v)}
		if f := g.identifierField(id.Kind); f != nil && masked[f.ID] {
			ri.Value, ri.Masked = Mask(f, ri.Value), true
			rep.Masked = append(rep.Masked, "identifier:"+id.Kind)
		}
		rep.Identifiers = append(rep.Identifiers, ri)
	}
	traits, err := store.Traits(ctx, subjectID, nil)
	if err != nil {
		return nil, err
	}
	var fields []string
	for _, t := range traits {
		v, err := unseal(t.Field, t.Sealed)
		if err != nil {
			return nil, err
		}
		rf := ReportField{Field: t.Field, Value: string(v), Purposes: []string{}, Source: t.Source, UpdatedAt: t.UpdatedAt}
		if f := g.policy.Field(t.Field); f != nil {
			rf.Category, rf.Sensitive, rf.Purposes = f.Category, f.Sensitive, append(rf.Purposes, f.Purposes...)
			rf.RetainUntil = t.UpdatedAt.Add(time.Duration(f.Retention))
		}
		if masked[t.Field] {
			rf.Value, rf.Masked = Mask(g.policy.Field(t.Field), rf.Value), true
			rep.Masked = append(rep.Masked, t.Field)
		}
		rep.Fields = append(rep.Fields, rf)
		fields = append(fields, t.Field)
	}
	ledger, err := store.Consents(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	for _, c := range ledger {
		rc := ReportConsent{Purpose: c.Purpose, State: string(c.State), NoticeHash: c.NoticeHash, Channel: c.Channel, GPC: c.GPC, Explicit: c.Explicit, Guardian: c.Guardian, At: c.At}
		if n, ok := g.ledger.Notices().Resolve(c.NoticeHash); ok {
			rc.NoticeVersion = n.Version
		}
		rep.Consents = append(rep.Consents, rc)
	}
	st, err := g.ledger.State(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	for i := range g.policy.Purposes {
		p := &g.policy.Purposes[i]
		d := g.evaluate(st, p)
		rep.Decisions = append(rep.Decisions, d)
		if p.AutomatedDecision {
			rep.AutomatedDecisions = append(rep.AutomatedDecisions, ReportAutomated{Purpose: p.ID, Applies: d.Allow})
		}
	}
	ds, err := store.Disclosures(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		rd := ReportDisclosure{Recipient: d.Recipient, Purpose: d.Purpose, Fields: d.Fields, At: d.At}
		if r := g.policy.Recipient(d.Recipient); r != nil {
			rd.Name, rd.Country = r.Name, r.Country
		}
		rep.Recipients = append(rep.Recipients, rd)
	}
	if rep.Events, err = g.reportEvents(ctx, store, subjectID, unseal); err != nil {
		return nil, err
	}
	runs, err := store.RunsOf(ctx, subjectID, MaxReportRuns*reportRunsRead)
	if err != nil {
		return nil, err
	}
	rep.Runs = CollapseRuns(runs, MaxReportRuns)
	entry.Time, entry.Decision, entry.Reason = g.now(), candor.DecisionAllow, "access report"
	entry.Fields = append(append(fields, "identifiers", "consents", "disclosures"), "events")
	if err := g.auditor.Append(ctx, entry); err != nil {
		return nil, fmt.Errorf("gate: audit: %w", err)
	}
	return rep, nil
}

// identifierField is the field an identifier of the kind stands for, so
// that a role that masks the field masks the identifier too: the field of
// that id (email, phone), or else the first field of that type.
func (g *Gate) identifierField(kind string) *candor.Field {
	if f := g.policy.Field(kind); f != nil {
		return f
	}
	for i := range g.policy.Fields {
		if g.policy.Fields[i].Type == kind {
			return &g.policy.Fields[i]
		}
	}
	return nil
}

// reportRunsRead is how many runs, per line a report holds at most, it
// reads to collapse.
const reportRunsRead = 20

// CollapseRuns returns runs (newest first) with the runs of one label,
// purpose and actor on one day (UTC) as one line, the newest, whose Times
// says how many it stands for and whose Count is the largest of theirs:
// a live count re-run as a rule is edited, or a list paged through, is
// one line of a person's access report, not one per keystroke or page.
// It keeps at most limit lines.
func CollapseRuns(runs []candor.Run, limit int) []candor.Run {
	out := []candor.Run{}
	at := map[string]int{}
	for _, r := range runs {
		key := r.Label + "\x00" + r.Purpose + "\x00" + r.Actor + "\x00" + r.StartedAt.UTC().Format("2006-01-02")
		if i, ok := at[key]; ok {
			out[i].Times++
			out[i].Count = max(out[i].Count, r.Count)
			continue
		}
		if len(out) == limit {
			continue
		}
		r.Times = 1
		at[key] = len(out)
		out = append(out, r)
	}
	return out
}

func (g *Gate) reportEvents(ctx context.Context, store candor.Store, subjectID string, unseal func(string, []byte) ([]byte, error)) (ReportEvents, error) {
	out := ReportEvents{ByName: []EventCount{}, Items: []ReportEvent{}}
	stats, err := store.EventStats(ctx, subjectID)
	if err != nil {
		return out, err
	}
	for _, s := range stats {
		out.Total += s.Count
		out.ByName = append(out.ByName, EventCount{Name: s.Name, Count: s.Count, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen})
	}
	evs, err := store.SubjectEvents(ctx, subjectID, time.Time{}, MaxReportEvents+1)
	if err != nil {
		return out, err
	}
	if len(evs) > MaxReportEvents {
		evs, out.Truncated = evs[:MaxReportEvents], true
	}
	out.Items = make([]ReportEvent, 0, len(evs))
	for _, e := range evs {
		b, err := unseal(candor.EventSealField(e.ID), e.Sealed)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, ReportEvent{ID: e.ID, Type: e.Type, Name: e.Name, Time: e.Time, Purposes: e.Purposes, RetainUntil: e.Expires, Payload: b})
	}
	sort.SliceStable(out.Items, func(i, j int) bool { return out.Items[i].Time.Before(out.Items[j].Time) })
	return out, nil
}
