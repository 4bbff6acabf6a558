package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/candorhq/candor"
)

func testConsentDays(t *testing.T, s candor.Store) {
	if err := s.WriteSubject(ctx, subject("sub_days")); err != nil {
		t.Fatal(err)
	}
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	c := func(id, purpose string, st candor.ConsentState, at time.Time) candor.Consent {
		return candor.Consent{ID: id, ReceiptID: "r", SubjectID: "sub_days", Purpose: purpose, State: st, NoticeHash: "n", Channel: "banner", Actor: "a", At: at}
	}
	if err := s.AppendConsents(ctx, []candor.Consent{
		c("d1", "p1", candor.ConsentGranted, day(1, 0)),
		c("d2", "p1", candor.ConsentDenied, day(1, 23)),
		c("d3", "p2", candor.ConsentGranted, day(1, 12)),
		c("d4", "p1", candor.ConsentWithdrawn, day(2, 5)),
		c("d5", "p1", candor.ConsentGranted, day(3, 0)), // outside the range asked
		c("d6", "p1", candor.ConsentGranted, day(0, 23)),
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsentDays(ctx, "2026-03-01", "2026-03-02")
	if err != nil {
		t.Fatal(err)
	}
	want := []candor.ConsentDay{
		{Day: "2026-03-01", Purpose: "p1", Granted: 1, Refused: 1},
		{Day: "2026-03-01", Purpose: "p2", Granted: 1},
		{Day: "2026-03-02", Purpose: "p1", Refused: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ConsentDays = %+v, want %+v", got, want)
	}
	if _, err := s.ConsentDays(ctx, "March", "2026-03-02"); candor.ErrorCode(err) != candor.EINVALID {
		t.Errorf("a bad day: %v", err)
	}
}
