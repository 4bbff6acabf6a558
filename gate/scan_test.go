package gate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/subjects"
)

var marketer = candor.Actor{ID: "staff:stf_marketer", Role: "marketer"}

// scanAll runs a scan and collects what it yields.
func scanAll(t *testing.T, e *testenv.Env, r gate.ScanRequest) ([]*gate.Person, gate.ScanResult) {
	t.Helper()
	var out []*gate.Person
	res, err := e.Gate.Scan(context.Background(), r, func(p *gate.Person) error {
		out = append(out, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, res
}

// TestScanYieldsOnlyWhomThePurposeAllows: a bulk run yields exactly the
// people whose decision allows the purpose (not those who refused it, are
// restricted or objected, nor an erased one), their fields masked as the
// role masks them, in pages, with one audit entry per page that counts
// and hashes the page's people, and each person's report names the run.
func TestScanYieldsOnlyWhomThePurposeAllows(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	var yes []string
	for i := range 23 {
		yes = append(yes, e.MustSubject(t, subjects.Input{UserID: fmt.Sprintf("yes-%d", i), Email: fmt.Sprintf("yes%d@example.com", i), Phone: fmt.Sprintf("+86139000000%02d", i)}, consent.ScopeAll))
	}
	refused := e.MustSubject(t, subjects.Input{UserID: "no", Email: "no@example.com"}, "")
	if _, err := e.Ledger.Record(ctx, admin, "", refused, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"marketing.email": false}}); err != nil {
		t.Fatal(err)
	}
	restricted := e.MustSubject(t, subjects.Input{UserID: "restricted", Email: "restricted@example.com"}, consent.ScopeAll)
	if err := e.Store.SetRestricted(ctx, restricted, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.Ledger.Invalidate(restricted)
	objected := e.MustSubject(t, subjects.Input{UserID: "objected", Email: "objected@example.com"}, consent.ScopeAll)
	if err := e.Store.SetObjection(ctx, objected, "marketing.email", true, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.Ledger.Invalidate(objected)
	erased := e.MustSubject(t, subjects.Input{UserID: "erased", Email: "erased@example.com"}, consent.ScopeAll)
	if err := e.Vault.Shred(ctx, erased); err != nil {
		t.Fatal(err)
	}
	head, _, _ := e.Store.AuditHead(ctx)

	people, res := scanAll(t, e, gate.ScanRequest{Actor: marketer, Purpose: "marketing.email", Label: "campaign Spring sale", PageSize: 10})
	var got []string
	for _, p := range people {
		got = append(got, p.SubjectID)
		if e := p.Fields["email"]; !strings.Contains(e, "***") || strings.HasPrefix(e, "yes") || !slices.Contains(p.Masked, "email") {
			t.Errorf("%s: the marketer's e-mail is not masked: %+v", p.SubjectID, p)
		}
		if _, ok := p.Fields["phone"]; ok {
			t.Errorf("%s: a field not declared for marketing.email: %+v", p.SubjectID, p.Fields)
		}
	}
	slices.Sort(got)
	want := slices.Clone(yes)
	slices.Sort(want)
	if !slices.Equal(got, want) || res.Count != len(yes) || res.Next != "" {
		t.Fatalf("yielded %d (%v), want the %d who consented; result %+v", len(got), got, len(yes), res)
	}
	// One entry per page that held someone: 23 consenting among 27 people
	// in pages of 10.
	entries, err := e.Store.AuditEntries(ctx, head+1, 100)
	if err != nil {
		t.Fatal(err)
	}
	counted, pages := 0, 0
	for _, en := range entries {
		if en.Action != "read.bulk" {
			continue
		}
		pages++
		var n int
		var run, hash string
		if _, err := fmt.Sscanf(en.Reason, "run %s page %d: %d people, ids sha256:%s", &run, new(int), &n, &hash); err != nil || run != res.RunID || len(hash) != 64 {
			t.Errorf("audit entry %q: %v", en.Reason, err)
		}
		if en.Purpose != "marketing.email" || en.Actor != marketer.ID || en.Decision != "allow" || en.SubjectID != "" || !slices.Contains(en.Fields, "email") {
			t.Errorf("audit entry %+v", en)
		}
		counted += n
	}
	if pages != 3 || counted != len(yes) {
		t.Errorf("%d page entries counting %d people, want 3 and %d", pages, counted, len(yes))
	}
	// The person's report names the run; the refusing person's does not.
	rep, err := e.Gate.Report(ctx, gate.SubjectActor(yes[0]), yes[0], "")
	if err != nil || len(rep.Runs) != 1 || rep.Runs[0].ID != res.RunID || rep.Runs[0].Label != "campaign Spring sale" || rep.Runs[0].Count != len(yes) {
		t.Fatalf("the report's runs: %+v %v", rep.Runs, err)
	}
	if rep, _ := e.Gate.Report(ctx, gate.SubjectActor(refused), refused, ""); len(rep.Runs) != 0 {
		t.Errorf("the refusing person's report names a run: %+v", rep.Runs)
	}
}

// TestScanHonoursAWithdrawalMidRun: a person who withdraws while the run
// is under way (after their page was decided, before their turn) is not
// yielded, and the run does not count them as a member.
func TestScanHonoursAWithdrawalMidRun(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	var ids []string
	for i := range 6 {
		ids = append(ids, e.MustSubject(t, subjects.Input{UserID: fmt.Sprintf("w-%d", i), Email: fmt.Sprintf("w%d@example.com", i)}, consent.ScopeAll))
	}
	slices.Sort(ids)
	last := ids[len(ids)-1]
	var got []string
	res, err := e.Gate.Scan(ctx, gate.ScanRequest{Actor: admin, Purpose: "marketing.email", PageSize: 100}, func(p *gate.Person) error {
		got = append(got, p.SubjectID)
		if len(got) == 1 {
			// The whole page is decided; the last person withdraws now.
			if _, err := e.Ledger.Record(ctx, admin, "", last, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"marketing.email": false}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(got, last) || len(got) != len(ids)-1 || res.Count != len(ids)-1 {
		t.Fatalf("yielded %v after %s withdrew (result %+v)", got, last, res)
	}
	if rep, _ := e.Gate.Report(ctx, gate.SubjectActor(last), last, ""); len(rep.Runs) != 0 {
		t.Errorf("the withdrawn person is a member of the run: %+v", rep.Runs)
	}
	if rep, _ := e.Gate.Report(ctx, gate.SubjectActor(ids[0]), ids[0], ""); len(rep.Runs) != 1 || rep.Runs[0].Count != len(ids)-1 {
		t.Errorf("the run as a member's report shows it: %+v", rep.Runs)
	}
}

// TestScanRefusals: a role that may not use the purpose gets nothing (the
// refusal is audited), a field not declared for the purpose is refused, a
// sensitive field is withheld without separate consent, and Limit with
// the cursor pages through everyone once.
func TestScanRefusals(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	for i := range 7 {
		e.MustSubject(t, subjects.Input{UserID: fmt.Sprintf("p-%d", i), Email: fmt.Sprintf("p%d@example.com", i)}, consent.ScopeAll)
	}
	head, _, _ := e.Store.AuditHead(ctx)
	called := false
	_, err := e.Gate.Scan(ctx, gate.ScanRequest{Actor: marketer, Purpose: "legal"}, func(*gate.Person) error { called = true; return nil })
	if candor.ErrorCode(err) != candor.EFORBIDDEN || called {
		t.Fatalf("a purpose of another role: %v (yielded: %v)", err, called)
	}
	if en, _ := e.Store.AuditEntries(ctx, head+1, 10); len(en) != 1 || en[0].Decision != "deny" || en[0].Reason != gate.CodeRole {
		t.Errorf("the refusal's audit: %+v", en)
	}
	if _, err := e.Gate.Scan(ctx, gate.ScanRequest{Actor: marketer, Purpose: "marketing.email", Fields: []string{"national_id"}}, func(*gate.Person) error { return nil }); candor.ErrorCode(err) != candor.EFORBIDDEN {
		t.Errorf("a field not declared for the purpose: %v", err)
	}
	if _, err := e.Gate.Scan(ctx, gate.ScanRequest{Actor: marketer, Purpose: "nope"}, func(*gate.Person) error { return nil }); candor.ErrorCode(err) != candor.EINVALID {
		t.Errorf("an unknown purpose: %v", err)
	}
	// Pages of 3 through 7 people: 3, 3, 1, each id once.
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		people, res := scanAll(t, e, gate.ScanRequest{Actor: admin, Purpose: "service", After: cursor, Limit: 3, PageSize: 3})
		pages++
		for _, p := range people {
			if seen[p.SubjectID] {
				t.Fatalf("%s twice", p.SubjectID)
			}
			seen[p.SubjectID] = true
		}
		if res.Next == "" {
			break
		}
		cursor = res.Next
		if pages > 5 {
			t.Fatal("the cursor does not advance")
		}
	}
	if len(seen) != 7 || pages != 3 {
		t.Errorf("%d people in %d pages", len(seen), pages)
	}
}

// TestScanStoppedEarly: a run its caller stops counts as members only the
// people it yielded, and says where to go on.
func TestScanStoppedEarly(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	var ids []string
	for i := range 5 {
		ids = append(ids, e.MustSubject(t, subjects.Input{UserID: fmt.Sprintf("s-%d", i), Email: fmt.Sprintf("s%d@example.com", i)}, consent.ScopeAll))
	}
	slices.Sort(ids)
	n := 0
	res, err := e.Gate.Scan(ctx, gate.ScanRequest{Actor: admin, Purpose: "service"}, func(*gate.Person) error {
		if n++; n == 2 {
			return gate.ErrStop
		}
		return nil
	})
	if err != nil || res.Count != 2 || res.Next != ids[1] {
		t.Fatalf("stopped at the second: %+v %v", res, err)
	}
	for i, id := range ids {
		rep, err := e.Gate.Report(ctx, gate.SubjectActor(id), id, "")
		if err != nil {
			t.Fatal(err)
		}
		if member := len(rep.Runs) == 1; member != (i < 2) {
			t.Errorf("person %d: a member of the run: %v", i, member)
		} else if member && rep.Runs[0].Count != 2 {
			t.Errorf("the run counts %d people", rep.Runs[0].Count)
		}
	}
}

// TestScanReadAhead: the page read ahead while the first is yielded leaves
// no trace when the caller stops in the first (no audit entry, no
// members), every page that is yielded has its entry before its people,
// and a run whose context is cancelled ends with the context's error, not
// as a run that reached the end.
func TestScanReadAhead(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	var ids []string
	for i := range 9 {
		ids = append(ids, e.MustSubject(t, subjects.Input{UserID: fmt.Sprintf("ra-%d", i), Email: fmt.Sprintf("ra%d@example.com", i)}, consent.ScopeAll))
	}
	slices.Sort(ids)
	bulkEntries := func(run string) int {
		t.Helper()
		entries, err := e.Store.AuditSearch(ctx, candor.AuditQuery{Action: candor.ActionReadBulk, TraceID: run, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	res, err := e.Gate.Scan(ctx, gate.ScanRequest{Actor: admin, Purpose: "service", PageSize: 3}, func(p *gate.Person) error {
		if p.SubjectID == ids[1] {
			time.Sleep(20 * time.Millisecond) // the next page is read meanwhile
			return gate.ErrStop
		}
		return nil
	})
	if err != nil || res.Count != 2 || res.Next != ids[1] {
		t.Fatalf("stopped in the first page: %+v %v", res, err)
	}
	if n := bulkEntries(res.RunID); n != 1 {
		t.Errorf("%d audit entries for a run stopped in its first page, want 1", n)
	}
	for _, id := range ids[2:] {
		if rep, _ := e.Gate.Report(ctx, gate.SubjectActor(id), id, ""); len(rep.Runs) != 0 {
			t.Errorf("%s, read ahead but never yielded, is a member: %+v", id, rep.Runs)
		}
	}

	// Each page's entry is written before its first person is yielded.
	var run string
	seen := 0
	res, err = e.Gate.Scan(ctx, gate.ScanRequest{Actor: admin, Purpose: "service", PageSize: 3, RequestID: "trace-readahead"}, func(p *gate.Person) error {
		if seen%3 == 0 {
			if n, want := bulkEntries("trace-readahead"), seen/3+1; n != want {
				return fmt.Errorf("person %d yielded with %d page entries written, want %d", seen, n, want)
			}
		}
		seen++
		return nil
	})
	run = res.RunID
	if err != nil || res.Count != len(ids) || run == "" {
		t.Fatalf("whole run: %+v %v", res, err)
	}

	// Cancelled while yielding: the context's error.
	cctx, cancel := context.WithCancel(ctx)
	_, err = e.Gate.Scan(cctx, gate.ScanRequest{Actor: admin, Purpose: "service", PageSize: 3}, func(p *gate.Person) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled run returned %v, want context.Canceled", err)
	}
}

// TestRecheckAnotherPurpose: on a person a run for a consent purpose
// yielded, Recheck decides another purpose from the page's state, and
// sees a withdrawal of that purpose made since the page was read.
func TestRecheckAnotherPurpose(t *testing.T) {
	e := testenv.New(t, nil)
	ctx := context.Background()
	id := e.MustSubject(t, subjects.Input{UserID: "rap", Email: "rap@example.com"}, consent.ScopeAll)
	var before, after gate.Decision
	_, err := e.Gate.Scan(ctx, gate.ScanRequest{Actor: admin, Purpose: "marketing.email"}, func(p *gate.Person) error {
		var err error
		if before, err = e.Gate.Recheck(ctx, p, "analytics"); err != nil {
			return err
		}
		if _, err := e.Ledger.Record(ctx, admin, "", id, consent.Choice{NoticeVersion: e.Version, Choices: map[string]bool{"analytics": false}}); err != nil {
			return err
		}
		after, err = e.Gate.Recheck(ctx, p, "analytics")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !before.Allow || after.Allow {
		t.Errorf("analytics rechecked: before the withdrawal %+v, after %+v", before, after)
	}
}
