package storetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/candorhq/candor"
)

// auditLog appends n entries whose actor, action, subject and purpose
// cycle with different periods, so that every filter and every pair of
// them selects a different set.
func auditLog(t *testing.T, s candor.Store, n int) []candor.AuditEntry {
	t.Helper()
	es := make([]*candor.AuditEntry, n)
	want := make([]candor.AuditEntry, n)
	for i := range es {
		purpose := []string{"service", "marketing.email", "analytics", ""}[i%4]
		es[i] = &candor.AuditEntry{Time: at(i), Actor: fmt.Sprint("staff:s", i%3), Action: []candor.AuditAction{"read", "lookup", "decide", "consent.record", "subject.erase"}[i%5],
			Purpose: purpose, SubjectID: fmt.Sprint(candor.PrefixSubject, i%7), Fields: []string{"email"}, Decision: "allow", TraceID: fmt.Sprint("r", i)}
	}
	if err := s.AppendAudit(ctx, es, seal); err != nil {
		t.Fatal(err)
	}
	for i, e := range es {
		want[i] = *e
	}
	return want
}

// seqs returns the sequence numbers of entries, in their order.
func seqs(es []candor.AuditEntry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

// span returns the sequence numbers from..to, counting down when from > to.
func span(from, to int64) []int64 {
	var out []int64
	for s := from; ; {
		out = append(out, s)
		if s == to {
			return out
		}
		if from > to {
			s--
		} else {
			s++
		}
	}
}

// testAuditSearch: paging through a log of 250 entries, 100 at a time,
// newest first, in both directions, stops exactly at both ends; each
// filter, alone, combined and with paging, returns exactly the entries it
// names; a query that cannot be answered is EINVALID.
func testAuditSearch(t *testing.T, s candor.Store) {
	if got, err := s.AuditSearch(ctx, candor.AuditQuery{Limit: 100}); err != nil || len(got) != 0 {
		t.Fatalf("empty log: %v %v", seqs(got), err)
	}
	all := auditLog(t, s, 250)
	page := func(q candor.AuditQuery) []int64 {
		t.Helper()
		got, err := s.AuditSearch(ctx, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		return seqs(got)
	}
	for _, c := range []struct {
		name string
		q    candor.AuditQuery
		want []int64
	}{
		{"head", candor.AuditQuery{Limit: 100}, span(250, 151)},
		{"older", candor.AuditQuery{Before: 151, Limit: 100}, span(150, 51)},
		{"oldest, short", candor.AuditQuery{Before: 51, Limit: 100}, span(50, 1)},
		{"before the first", candor.AuditQuery{Before: 1, Limit: 100}, nil},
		{"newer than the oldest page", candor.AuditQuery{After: 50, Limit: 100}, span(150, 51)},
		{"newer, up to the head", candor.AuditQuery{After: 150, Limit: 100}, span(250, 151)},
		{"newer than the head", candor.AuditQuery{After: 250, Limit: 100}, nil},
		{"newer, short", candor.AuditQuery{After: 240, Limit: 100}, span(250, 241)},
		{"between", candor.AuditQuery{After: 10, Before: 20, Limit: 100}, span(19, 11)},
		{"between, nearest After", candor.AuditQuery{After: 10, Before: 200, Limit: 3}, span(13, 11)},
		{"beyond the head", candor.AuditQuery{Before: 1 << 62, Limit: 2}, span(250, 249)},
		{"limit one", candor.AuditQuery{Limit: 1}, []int64{250}},
		{"no match", candor.AuditQuery{Actor: "staff:nobody", Limit: 100}, nil},
		{"SQL in a value", candor.AuditQuery{Actor: "x' OR '1'='1", Action: `read" OR 1=1 --`, Limit: 100}, nil},
		{"a value that is a prefix", candor.AuditQuery{Actor: "staff:", Limit: 100}, nil},
	} {
		if got := page(c.q); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// Each filter, alone and combined: exactly the matching entries,
	// newest first, also when read 10 at a time in either direction.
	for _, c := range []struct {
		name  string
		q     candor.AuditQuery
		match func(candor.AuditEntry) bool
	}{
		{"actor", candor.AuditQuery{Actor: "staff:s1"}, func(e candor.AuditEntry) bool { return e.Actor == "staff:s1" }},
		{"action", candor.AuditQuery{Action: "lookup"}, func(e candor.AuditEntry) bool { return e.Action == "lookup" }},
		{"subject", candor.AuditQuery{SubjectID: "sub_3"}, func(e candor.AuditEntry) bool { return e.SubjectID == "sub_3" }},
		{"purpose", candor.AuditQuery{Purpose: "analytics"}, func(e candor.AuditEntry) bool { return e.Purpose == "analytics" }},
		{"actor and purpose", candor.AuditQuery{Actor: "staff:s0", Purpose: "service"}, func(e candor.AuditEntry) bool { return e.Actor == "staff:s0" && e.Purpose == "service" }},
		{"all four", candor.AuditQuery{Actor: "staff:s2", Action: "read", SubjectID: "sub_5", Purpose: "marketing.email"}, func(e candor.AuditEntry) bool {
			return e.Actor == "staff:s2" && e.Action == "read" && e.SubjectID == "sub_5" && e.Purpose == "marketing.email"
		}},
	} {
		var want []int64
		for i := len(all) - 1; i >= 0; i-- {
			if c.match(all[i]) {
				want = append(want, all[i].Seq)
			}
		}
		if len(want) == 0 {
			t.Fatalf("%s: the log holds no matching entry", c.name)
		}
		q := c.q
		q.Limit = 100
		got, err := s.AuditSearch(ctx, q)
		if err != nil || !slices.Equal(seqs(got), want) {
			t.Errorf("%s: %v %v, want %v", c.name, seqs(got), err, want)
			continue
		}
		for _, e := range got {
			if !c.match(e) || e.Hash == nil || fmt.Sprint(e.Fields) != "[email]" || !e.Time.Equal(all[e.Seq-1].Time) {
				t.Errorf("%s: entry %+v", c.name, e)
			}
		}
		// Older pages of 10 from the head, then newer pages back up.
		var down []int64
		q.Limit = 10
		for q.Before = 0; ; {
			p := page(q)
			if len(p) == 0 {
				break
			}
			down = append(down, p...)
			q.Before = p[len(p)-1]
		}
		if !slices.Equal(down, want) {
			t.Errorf("%s: paged older: %v, want %v", c.name, down, want)
		}
		// From the oldest entry up (After 0 would mean no bound).
		up := []int64{want[len(want)-1]}
		for q.Before, q.After = 0, up[0]; ; {
			p := page(q)
			if len(p) == 0 {
				break
			}
			up = append(p, up...)
			q.After = p[0]
		}
		if !slices.Equal(up, want) {
			t.Errorf("%s: paged newer: %v, want %v", c.name, up, want)
		}
	}
	for _, q := range []candor.AuditQuery{{}, {Limit: -1}, {Limit: candor.AuditSearchMax + 1}, {Limit: 10, Before: -1}, {Limit: 10, After: -5}} {
		_, err := s.AuditSearch(ctx, q)
		code(t, err, candor.EINVALID)
	}
	if got := page(candor.AuditQuery{Limit: candor.AuditSearchMax}); len(got) != 250 {
		t.Errorf("the largest page: %d entries", len(got))
	}
}

// testAuditTraceAndRightsRequest: an entry written before the rights
// request had its own field (a rights request's id, or nothing, where the
// trace id now goes) reads back exactly as it was written, hash included,
// beside a new one naming both; a search finds each by either id. (That
// the audit log's hash of an old entry is unchanged is the audit
// package's test: the suite needs only the root package.)
func testAuditTraceAndRightsRequest(t *testing.T, s candor.Store) {
	es := []*candor.AuditEntry{
		{Time: at(1), Actor: "staff:a", Action: "subject.erase", SubjectID: "sub_1", Decision: "ok", Reason: "events=0 suppressed=0", TraceID: "req_old"},
		{Time: at(2), Actor: "staff:a", Action: "staff.signin", Decision: "ok", Reason: "password"},
		{Time: at(3), Actor: "staff:a", Action: "rights.erase", SubjectID: "sub_2", Decision: "ok", Reason: "done", TraceID: "t1", RightsRequest: "req_new"},
	}
	if err := s.AppendAudit(ctx, es, func(prevSeq int64, prevHash []byte, e *candor.AuditEntry) {
		e.Seq, e.PrevHash = prevSeq+1, prevHash
		e.Hash = entryHash(prevHash, e)
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.AuditEntries(ctx, 1, 10)
	if err != nil || len(got) != len(es) {
		t.Fatalf("entries %+v %v", got, err)
	}
	var prev []byte
	for i, e := range got {
		if e.TraceID != es[i].TraceID || e.RightsRequest != es[i].RightsRequest {
			t.Errorf("entry %d: trace %q, rights request %q; want %q, %q", e.Seq, e.TraceID, e.RightsRequest, es[i].TraceID, es[i].RightsRequest)
		}
		if !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(entryHash(prev, &e), e.Hash) {
			t.Errorf("entry %d does not read back as it was written: %+v", e.Seq, e)
		}
		prev = e.Hash
	}
	for _, tc := range []struct {
		q    candor.AuditQuery
		want int64
	}{
		{candor.AuditQuery{RightsRequest: "req_new"}, 3},
		{candor.AuditQuery{TraceID: "t1"}, 3},
		{candor.AuditQuery{TraceID: "req_old"}, 1},
		{candor.AuditQuery{RightsRequest: "req_old"}, 0},
	} {
		tc.q.Limit = 10
		res, err := s.AuditSearch(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, e := range res {
			seqs = append(seqs, e.Seq)
		}
		if want := []int64{tc.want}; tc.want == 0 && len(seqs) != 0 || tc.want != 0 && !slices.Equal(seqs, want) {
			t.Errorf("search %+v: %v, want %d", tc.q, seqs, tc.want)
		}
	}
}

// entryHash stands in for the audit log's hash: a digest of every field of
// the entry and of the one before, so that a field that does not read back
// exactly as written shows.
func entryHash(prev []byte, e *candor.AuditEntry) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "%x|%d|%s|%s|%s|%s|%s|%q|%s|%s|%s|%s", prev, e.Seq, e.Time.UTC().Format(time.RFC3339Nano),
		e.Actor, e.Action, e.Purpose, e.SubjectID, e.Fields, e.Decision, e.Reason, e.TraceID, e.RightsRequest))
	return h[:]
}
