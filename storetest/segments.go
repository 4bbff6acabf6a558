package storetest

import (
	"slices"
	"testing"

	"github.com/candorhq/candor"
)

// testSegments: a segment is stored once, read back as written, listed by
// id and deleted with its members; a snapshot keeps only subjects on file,
// pages through them in order, loses an erased person and gains the person
// a visitor in it merges into; a dynamic segment keeps no members.
func testSegments(t *testing.T, s candor.Store) {
	for _, id := range []string{"sub_s1", "sub_s2", "sub_s3", "sub_s4"} {
		if err := s.WriteSubject(ctx, subject(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteSubject(ctx, subject("sub_svisitor", ident(candor.IdentAnonymousID, "b-sv"))); err != nil {
		t.Fatal(err)
	}
	_, err := s.Segment(ctx, "seg_nope")
	code(t, err, candor.ENOTFOUND)
	code(t, s.DeleteSegment(ctx, "seg_nope"), candor.ENOTFOUND)
	snap := candor.Segment{ID: "seg_b", Name: "Spring buyers", Purpose: "marketing.email", Rule: []byte(`{"trait":"email","op":"exists"}`),
		Snapshot: true, CreatedBy: "staff:stf_m", CreatedAt: at(3)}
	if err := s.PutSegment(ctx, snap, []string{"sub_s1", "sub_s2", "sub_gone", "sub_s2", "sub_svisitor"}); err != nil {
		t.Fatal(err)
	}
	code(t, s.PutSegment(ctx, snap, nil), candor.ECONFLICT)
	dyn := candor.Segment{ID: "seg_a", Name: "Browsers", Purpose: "personalization", Rule: []byte(`{"event":"Product Viewed","within":"30d"}`), CreatedAt: at(4)}
	if err := s.PutSegment(ctx, dyn, []string{"sub_s1"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Segment(ctx, "seg_b")
	if err != nil || got.Name != snap.Name || got.Purpose != snap.Purpose || string(got.Rule) != string(snap.Rule) || !got.Snapshot ||
		got.CreatedBy != snap.CreatedBy || !got.CreatedAt.Equal(at(3)) || got.Members != 3 {
		t.Fatalf("segment as read: %+v %v", got, err)
	}
	if d, _ := s.Segment(ctx, "seg_a"); d == nil || d.Snapshot || d.Members != 0 {
		t.Errorf("a dynamic segment keeps members: %+v", d)
	}
	list, err := s.Segments(ctx, "", 10)
	if err != nil || len(list) != 2 || list[0].ID != "seg_a" || list[1].ID != "seg_b" || list[1].Members != 3 {
		t.Fatalf("segments: %+v %v", list, err)
	}
	if list, _ := s.Segments(ctx, "seg_a", 10); len(list) != 1 || list[0].ID != "seg_b" {
		t.Errorf("segments after seg_a: %+v", list)
	}
	members := func(id string) []string {
		t.Helper()
		var all []string
		for after := ""; ; {
			page, err := s.SegmentMembers(ctx, id, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				return all
			}
			all, after = append(all, page...), page[len(page)-1]
		}
	}
	if m := members("seg_b"); !slices.Equal(m, []string{"sub_s1", "sub_s2", "sub_svisitor"}) {
		t.Errorf("snapshot members: %v", m)
	}
	if m := members("seg_a"); len(m) != 0 {
		t.Errorf("dynamic members: %v", m)
	}
	// Erasure takes the person out; a merge puts the person in.
	if ok, err := s.DeleteSubject(ctx, "sub_s2"); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if n, err := s.DeleteSubjects(ctx, []string{"sub_s1"}); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	if err := s.MergeSubject(ctx, candor.SubjectMerge{From: "sub_svisitor", Into: "sub_s3", At: at(5),
		Identifiers: []candor.Identifier{{Kind: candor.IdentAnonymousID, Blind: []byte("b-sv"), Sealed: []byte("resealed")}}}); err != nil {
		t.Fatal(err)
	}
	if m := members("seg_b"); !slices.Equal(m, []string{"sub_s3"}) {
		t.Errorf("snapshot members after erasures and a merge: %v", m)
	}
	if got, _ := s.Segment(ctx, "seg_b"); got.Members != 1 {
		t.Errorf("members count %d", got.Members)
	}
	if err := s.DeleteSegment(ctx, "seg_b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Segment(ctx, "seg_b"); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Errorf("deleted segment: %v", err)
	}
	if m := members("seg_b"); len(m) != 0 {
		t.Errorf("a deleted segment's members: %v", m)
	}
}
