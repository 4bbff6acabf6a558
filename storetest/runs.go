package storetest

import (
	"testing"

	"github.com/candorhq/candor"
)

// testRuns: a run's members are recorded per page, once each, only while
// the person is on file; RunsOf lists a person's runs newest first with
// their counts; a removed member is gone; an erasure takes the person's
// memberships, and a merge gives the visitor's to the person.
func testRuns(t *testing.T, s candor.Store) {
	for _, id := range []string{"sub_r1", "sub_r2", "sub_r3"} {
		if err := s.WriteSubject(ctx, subject(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteSubject(ctx, subject("sub_rvisitor", ident(candor.IdentAnonymousID, "b-rv"))); err != nil {
		t.Fatal(err)
	}
	code(t, s.AddRunMembers(ctx, "run_nope", []string{"sub_r1"}), candor.ENOTFOUND)
	first := candor.Run{ID: "run_1", Purpose: "marketing.email", Actor: "staff:stf_m", Label: "campaign Spring sale", StartedAt: at(1)}
	if err := s.PutRun(ctx, first); err != nil {
		t.Fatal(err)
	}
	code(t, s.PutRun(ctx, first), candor.ECONFLICT)
	if err := s.PutRun(ctx, candor.Run{ID: "run_2", Purpose: "analytics", Actor: "apikey:key_a", StartedAt: at(2)}); err != nil {
		t.Fatal(err)
	}
	// Two pages of run_1, one repeating an id and one naming nobody on file.
	if err := s.AddRunMembers(ctx, "run_1", []string{"sub_r1", "sub_r2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRunMembers(ctx, "run_1", []string{"sub_r2", "sub_r3", "sub_gone", "sub_rvisitor"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRunMembers(ctx, "run_2", []string{"sub_r1", "sub_rvisitor"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRunMembers(ctx, "run_2", nil); err != nil {
		t.Fatal(err)
	}
	runs, err := s.RunsOf(ctx, "sub_r1", 10)
	if err != nil || len(runs) != 2 || runs[0].ID != "run_2" || runs[1].ID != "run_1" {
		t.Fatalf("runs of sub_r1: %+v %v", runs, err)
	}
	if r := runs[1]; r.Count != 4 || r.Label != "campaign Spring sale" || r.Purpose != "marketing.email" || r.Actor != "staff:stf_m" || !r.StartedAt.Equal(at(1)) {
		t.Errorf("run_1 as listed: %+v", r)
	}
	if runs, _ := s.RunsOf(ctx, "sub_r1", 1); len(runs) != 1 || runs[0].ID != "run_2" {
		t.Errorf("limit 1: %+v", runs)
	}
	if runs, _ := s.RunsOf(ctx, "sub_gone", 10); len(runs) != 0 {
		t.Errorf("someone not on file was recorded: %+v", runs)
	}
	if err := s.RemoveRunMember(ctx, "run_1", "sub_r3"); err != nil {
		t.Fatal(err)
	}
	if runs, _ := s.RunsOf(ctx, "sub_r3", 10); len(runs) != 0 {
		t.Errorf("a removed member: %+v", runs)
	}
	if ok, err := s.DeleteSubject(ctx, "sub_r2"); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if runs, _ := s.RunsOf(ctx, "sub_r2", 10); len(runs) != 0 {
		t.Errorf("an erased person's runs: %+v", runs)
	}
	if runs, _ := s.RunsOf(ctx, "sub_r1", 10); runs[1].Count != 2 {
		t.Errorf("run_1 after a removal and an erasure counts %d", runs[1].Count)
	}
	// The visitor, in both runs, merges into sub_r3, in neither now.
	if err := s.MergeSubject(ctx, candor.SubjectMerge{From: "sub_rvisitor", Into: "sub_r3", At: at(5),
		Identifiers: []candor.Identifier{{Kind: candor.IdentAnonymousID, Blind: []byte("b-rv"), Sealed: []byte("resealed")}}}); err != nil {
		t.Fatal(err)
	}
	if runs, _ := s.RunsOf(ctx, "sub_r3", 10); len(runs) != 2 {
		t.Errorf("the merged person's runs: %+v", runs)
	}
}
