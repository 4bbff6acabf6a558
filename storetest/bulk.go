package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/candorhq/candor"
)

// testBulk: the reads of a page of a bulk run answer exactly what the
// one-at-a-time reads answer, for every id asked, in the order asked,
// leaving out ids not on file, whatever the number of ids.
func testBulk(t *testing.T, s candor.Store) {
	var ids []string
	for i := range 300 {
		id := fmt.Sprintf("sub_bulk%04d", i)
		w := subject(id)
		if i%3 == 0 {
			w.Traits = append(w.Traits, candor.Trait{Field: "email", Sealed: []byte("sealed-email-" + id), Source: "api"})
		}
		if i%5 == 0 {
			w.Traits = nil
		}
		if err := s.WriteSubject(ctx, w); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := s.AppendConsents(ctx, []candor.Consent{
				{ID: "cb1-" + id, ReceiptID: "r-" + id, SubjectID: id, Purpose: "p1", State: candor.ConsentGranted, NoticeHash: "sha256:n", Channel: "api", Explicit: true, Actor: "a", At: at(1)},
				{ID: "cb2-" + id, ReceiptID: "r-" + id, SubjectID: id, Purpose: "p1", State: candor.ConsentWithdrawn, NoticeHash: "sha256:n", Channel: "portal", Actor: "a", At: at(2)},
			}); err != nil {
				t.Fatal(err)
			}
		}
		if i%7 == 0 {
			if err := s.SetRestricted(ctx, id, true, at(3)); err != nil {
				t.Fatal(err)
			}
			if err := s.SetObjection(ctx, id, "p1", true, at(3)); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, id)
	}
	// Ask backwards, with an id twice and two that are not on file.
	ask := []string{"sub_nobody"}
	for i := len(ids) - 1; i >= 0; i-- {
		ask = append(ask, ids[i])
	}
	ask = append(ask, ids[10], "sub_nobody2")

	subjects, err := s.BulkSubjects(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	if len(subjects) != len(ids) {
		t.Fatalf("BulkSubjects returned %d subjects, want %d", len(subjects), len(ids))
	}
	for i, got := range subjects {
		want, err := s.Subject(ctx, ids[len(ids)-1-i])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, *want) {
			t.Fatalf("BulkSubjects[%d] = %+v, Subject says %+v", i, got, *want)
		}
	}

	for _, fields := range [][]string{nil, {"email"}, {"city", "email", "nope"}} {
		traits, err := s.BulkTraits(ctx, ask, fields)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ask {
			want, err := s.Traits(ctx, id, fields)
			if err != nil {
				t.Fatal(err)
			}
			if got := traits[id]; len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Fatalf("BulkTraits(%v)[%s] = %+v, Traits says %+v", fields, id, got, want)
			}
		}
		if _, ok := traits["sub_nobody"]; ok {
			t.Errorf("BulkTraits answered for a subject not on file")
		}
	}
	if traits, err := s.BulkTraits(ctx, ask, []string{}); err != nil || len(traits) != 0 {
		t.Errorf("BulkTraits with no fields = %v, %v; want nothing", traits, err)
	}

	consents, err := s.BulkConsents(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ask {
		want, err := s.Consents(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := consents[id]; len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
			t.Fatalf("BulkConsents[%s] = %+v, Consents says %+v", id, got, want)
		}
	}
	for _, empty := range [][]string{nil, {}} {
		if got, err := s.BulkSubjects(ctx, empty); err != nil || len(got) != 0 {
			t.Errorf("BulkSubjects(%v) = %v, %v", empty, got, err)
		}
		if got, err := s.BulkConsents(ctx, empty); err != nil || len(got) != 0 {
			t.Errorf("BulkConsents(%v) = %v, %v", empty, got, err)
		}
	}
}

// testRecent: the subjects with a recent consent record for a purpose, or
// a recent event of a name, come in order, each once, paged by id, and
// leave out older records, other purposes and other names.
func testRecent(t *testing.T, s candor.Store) {
	for _, id := range []string{"sub_rc1", "sub_rc2", "sub_rc3", "sub_rc4"} {
		if err := s.WriteSubject(ctx, subject(id)); err != nil {
			t.Fatal(err)
		}
	}
	consents := []candor.Consent{
		{ID: "rc-1", ReceiptID: "r", SubjectID: "sub_rc1", Purpose: "p1", State: candor.ConsentGranted, NoticeHash: "n", Channel: "api", Actor: "a", At: at(100)},
		{ID: "rc-2", ReceiptID: "r", SubjectID: "sub_rc1", Purpose: "p1", State: candor.ConsentWithdrawn, NoticeHash: "n", Channel: "api", Actor: "a", At: at(110)},
		{ID: "rc-3", ReceiptID: "r", SubjectID: "sub_rc2", Purpose: "p1", State: candor.ConsentGranted, NoticeHash: "n", Channel: "api", Actor: "a", At: at(10)},  // too old
		{ID: "rc-4", ReceiptID: "r", SubjectID: "sub_rc3", Purpose: "p2", State: candor.ConsentGranted, NoticeHash: "n", Channel: "api", Actor: "a", At: at(100)}, // another purpose
		{ID: "rc-5", ReceiptID: "r", SubjectID: "sub_rc4", Purpose: "p1", State: candor.ConsentDenied, NoticeHash: "n", Channel: "api", Actor: "a", At: at(50)},
	}
	if err := s.AppendConsents(ctx, consents); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ConsentSubjects(ctx, "p1", at(50), "", 10); err != nil || !slices.Equal(got, []string{"sub_rc1", "sub_rc4"}) {
		t.Errorf("ConsentSubjects(p1, since 50) = %v, %v", got, err)
	}
	if got, err := s.ConsentSubjects(ctx, "p1", at(0), "", 2); err != nil || !slices.Equal(got, []string{"sub_rc1", "sub_rc2"}) {
		t.Errorf("ConsentSubjects(p1, since 0, 2) = %v, %v", got, err)
	}
	if got, err := s.ConsentSubjects(ctx, "p1", at(0), "sub_rc2", 10); err != nil || !slices.Equal(got, []string{"sub_rc4"}) {
		t.Errorf("ConsentSubjects(p1, after sub_rc2) = %v, %v", got, err)
	}
	msgs := []candor.Message{
		{ID: "rm1", Event: event("rm1", "sub_rc2", "Product Added", 100), Name: "Product Added", At: at(101)},
		{ID: "rm2", Event: event("rm2", "sub_rc2", "Product Added", 120), Name: "Product Added", At: at(121)},
		{ID: "rm3", Event: event("rm3", "sub_rc1", "Product Added", 10), Name: "Product Added", At: at(11)}, // too old
		{ID: "rm4", Event: event("rm4", "sub_rc3", "Order Completed", 100), Name: "Order Completed", At: at(101)},
		{ID: "rm5", Event: event("rm5", "sub_rc4", "Product Added", 90), Name: "Product Added", At: at(91)},
	}
	if _, err := s.AppendMessages(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if got, err := s.EventSubjects(ctx, "Product Added", at(50), "", 10); err != nil || !slices.Equal(got, []string{"sub_rc2", "sub_rc4"}) {
		t.Errorf("EventSubjects(Product Added, since 50) = %v, %v", got, err)
	}
	if got, err := s.EventSubjects(ctx, "Product Added", at(50), "sub_rc2", 1); err != nil || !slices.Equal(got, []string{"sub_rc4"}) {
		t.Errorf("EventSubjects(after sub_rc2, 1) = %v, %v", got, err)
	}
}
