package storetest

import (
	"testing"
	"time"

	"github.com/candorhq/candor"
)

// testSendBatches: a batch claims whom the log does not have yet, records
// at the cap those who reached it (counting the batch's own claims of
// other campaigns, and what one-person claims wrote), and gives taken for
// a person twice in it or not on file; the outcomes are recorded on claimed
// rows only; a release removes only the node's rows still claimed; the
// suppression list answers for many identifiers at once.
func testSendBatches(t *testing.T, s candor.Store) {
	for _, id := range []string{"sub_b1", "sub_b2", "sub_b3", "sub_b4"} {
		if err := s.WriteSubject(ctx, subject(id)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"cmp_b1", "cmp_b2"} {
		if err := s.PutCampaign(ctx, candor.Campaign{ID: id, Name: id, Channel: candor.ChannelEmail, Purpose: "marketing.email", Status: candor.CampaignSending,
			Body: candor.Text{candor.LangEN: "Hi"}, CreatedAt: at(1), UpdatedAt: at(1)}); err != nil {
			t.Fatal(err)
		}
	}
	row := func(campaign, subject string, when time.Time) candor.CampaignSend {
		return candor.CampaignSend{CampaignID: campaign, SubjectID: subject, Channel: candor.ChannelEmail, Node: "node_a", At: when}
	}
	// sub_b1 had a message of cmp_b2 already; the cap is one a minute.
	if o, err := s.ClaimSend(ctx, row("cmp_b2", "sub_b1", at(10)), nil); err != nil || o != candor.ClaimOK {
		t.Fatal(o, err)
	}
	limit := &candor.FrequencyCap{Count: 1, Window: candor.Duration(time.Minute)}
	outs, err := s.ClaimSends(ctx, []candor.CampaignSend{row("cmp_b1", "sub_b1", at(20)), row("cmp_b1", "sub_b2", at(20)), row("cmp_b1", "sub_b2", at(20)),
		row("cmp_b1", "sub_gone", at(20)), row("cmp_b1", "sub_b3", at(20)), row("cmp_b1", "sub_b4", at(20))}, limit)
	want := []candor.ClaimOutcome{candor.ClaimCapped, candor.ClaimOK, candor.ClaimTaken, candor.ClaimTaken, candor.ClaimOK, candor.ClaimOK}
	if err != nil || len(outs) != len(want) {
		t.Fatalf("claims %v %v", outs, err)
	}
	for i := range want {
		if outs[i] != want[i] {
			t.Errorf("claim %d: %s, want %s", i, outs[i], want[i])
		}
	}
	// Again: the log has them all.
	if outs, _ := s.ClaimSends(ctx, []candor.CampaignSend{row("cmp_b1", "sub_b2", at(30)), row("cmp_b1", "sub_b1", at(30))}, nil); outs[0] != candor.ClaimTaken || outs[1] != candor.ClaimTaken {
		t.Errorf("claimed again: %v", outs)
	}
	// The batch's claims count against the cap of another campaign.
	if o, _ := s.ClaimSend(ctx, row("cmp_b2", "sub_b2", at(40)), limit); o != candor.ClaimCapped {
		t.Errorf("after a batch's claim: %s, want capped", o)
	}
	if _, err := s.ClaimSends(ctx, []candor.CampaignSend{row("cmp_b1", "sub_b1", at(20)), row("cmp_b2", "sub_b2", at(20))}, nil); candor.ErrorCode(err) != candor.EINVALID {
		t.Errorf("a batch of two campaigns: %v", err)
	}
	logged, err := s.SendLogged(ctx, "cmp_b1", []string{"sub_b1", "sub_b2", "sub_b3", "sub_gone"})
	if err != nil || len(logged) != 3 || !logged["sub_b1"] || logged["sub_gone"] {
		t.Errorf("logged %v %v", logged, err)
	}
	// Outcomes: sub_b1's row is skipped (capped), not claimed: left alone.
	if err := s.FinishSends(ctx, "cmp_b1", []candor.CampaignSend{{SubjectID: "sub_b2", Status: candor.SendSent, UpdatedAt: at(50)},
		{SubjectID: "sub_b1", Status: candor.SendSent, UpdatedAt: at(50)}, {SubjectID: "sub_b3", Status: candor.SendFailed, Reason: "email", UpdatedAt: at(50)}}); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.CampaignSend(ctx, "cmp_b1", "sub_b1"); r.Status != candor.SendSkipped || r.Reason != "frequency_cap" {
		t.Errorf("capped row: %+v", r)
	}
	if r, _ := s.CampaignSend(ctx, "cmp_b1", "sub_b2"); r.Status != candor.SendSent || !r.UpdatedAt.Equal(at(50)) {
		t.Errorf("sent row: %+v", r)
	}
	// Releases: only node_a's rows still claimed (sub_b4) go.
	if n, err := s.ReleaseSends(ctx, "cmp_b1", "node_b", []string{"sub_b4"}); err != nil || n != 0 {
		t.Errorf("another node released %d %v", n, err)
	}
	if n, err := s.ReleaseSends(ctx, "cmp_b1", "node_a", []string{"sub_b2", "sub_b3", "sub_b4"}); err != nil || n != 1 {
		t.Errorf("released %d %v", n, err)
	}
	if _, err := s.CampaignSend(ctx, "cmp_b1", "sub_b4"); candor.ErrorCode(err) != candor.ENOTFOUND {
		t.Errorf("a released row: %v", err)
	}
	if st, _ := s.CampaignStats(ctx, "cmp_b1"); st.Sent != 1 || st.Failed != 1 || st.Claimed != 0 || st.Skipped["frequency_cap"] != 1 {
		t.Errorf("stats %+v", st)
	}
	// The suppression list, for many at once.
	ks := s.Keys()
	if err := ks.Suppress(ctx, "email", []byte("b-s1"), at(1)); err != nil {
		t.Fatal(err)
	}
	if err := ks.Suppress(ctx, "phone", []byte("b-s2"), at(1)); err != nil {
		t.Fatal(err)
	}
	got, err := ks.SuppressedAmong(ctx, "email", [][]byte{[]byte("b-s2"), []byte("b-s1"), []byte("b-none"), []byte("b-s1")})
	if err != nil || len(got) != 4 || got[0] || !got[1] || got[2] || !got[3] {
		t.Errorf("suppressed among %v %v", got, err)
	}
	if got, err := ks.SuppressedAmong(ctx, "email", nil); err != nil || len(got) != 0 {
		t.Errorf("none: %v %v", got, err)
	}
}
