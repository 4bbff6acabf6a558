package storetest

import (
	"testing"

	"github.com/candorhq/candor"
)

// testCampaignMeasures: a campaign keeps its A/B subject, holdout and
// trigger; a mark is recorded once per sent message, never on a row that
// was not sent; without a campaign it marks the person's latest sent
// message over the channel; marks are counted per campaign; the log's
// people (sent, or skipped for the reason asked) page by subject id.
func testCampaignMeasures(t *testing.T, s candor.Store) {
	for _, id := range []string{"sub_m1", "sub_m2", "sub_m3"} {
		if err := s.WriteSubject(ctx, subject(id)); err != nil {
			t.Fatal(err)
		}
	}
	c := candor.Campaign{ID: "cmp_m1", Name: "M", Channel: candor.ChannelEmail, Purpose: "marketing.email",
		Subject: candor.Text{candor.LangEN: "A"}, SubjectB: candor.Text{candor.LangEN: "B", candor.LangZH: "乙"}, Holdout: 20, Trigger: "abandoned_cart/7",
		Body: candor.Text{candor.LangEN: "Hi"}, Status: candor.CampaignSending, Actor: "x", CreatedAt: at(1), UpdatedAt: at(1)}
	if err := s.PutCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Campaign(ctx, c.ID)
	if err != nil || got.SubjectB[candor.LangZH] != "乙" || got.Holdout != 20 || got.Trigger != "abandoned_cart/7" {
		t.Fatalf("campaign: %+v %v", got, err)
	}
	c2 := c
	c2.ID, c2.SubjectB, c2.Holdout, c2.Trigger = "cmp_m2", nil, 0, ""
	if err := s.PutCampaign(ctx, c2); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Campaign(ctx, c2.ID); got.SubjectB != nil || got.Holdout != 0 || got.Trigger != "" {
		t.Errorf("plain campaign: %+v", got)
	}
	send := func(campaignID, subjectID, status, reason string, when int) {
		t.Helper()
		row := candor.CampaignSend{CampaignID: campaignID, SubjectID: subjectID, Channel: candor.ChannelEmail, At: at(when)}
		if out, err := s.ClaimSend(ctx, row, nil); err != nil || out != candor.ClaimOK {
			t.Fatal(out, err)
		}
		if err := s.FinishSend(ctx, campaignID, subjectID, status, reason, at(when)); err != nil {
			t.Fatal(err)
		}
	}
	send("cmp_m1", "sub_m1", candor.SendSent, "", 10)
	send("cmp_m1", "sub_m2", candor.SendSent, "", 11)
	send("cmp_m1", "sub_m3", candor.SendSkipped, "holdout", 12)
	send("cmp_m2", "sub_m2", candor.SendSkipped, "withdrawn", 13)
	send("cmp_m2", "sub_m1", candor.SendSent, "", 20)
	mark := func(campaignID, subjectID, m string) bool {
		t.Helper()
		ok, err := s.MarkSend(ctx, campaignID, subjectID, candor.ChannelEmail, m, at(30))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !mark("cmp_m1", "sub_m1", candor.MarkOpened) || mark("cmp_m1", "sub_m1", candor.MarkOpened) {
		t.Error("an open was not counted once")
	}
	if mark("cmp_m1", "sub_m3", candor.MarkOpened) || mark("cmp_m1", "sub_nobody", candor.MarkClicked) {
		t.Error("a mark on a message that was not sent")
	}
	mark("cmp_m1", "sub_m2", candor.MarkClicked)
	mark("cmp_m1", "sub_m2", candor.MarkUnsubscribed)
	// Without a campaign: the person's latest sent e-mail (sub_m1's is
	// cmp_m2's; sub_m2's cmp_m2 row was skipped, so cmp_m1's).
	if !mark("", "sub_m1", candor.MarkBounced) || !mark("", "sub_m2", candor.MarkComplained) || mark("", "sub_m3", candor.MarkBounced) {
		t.Error("marks of the latest message")
	}
	if _, err := s.MarkSend(ctx, "cmp_m1", "sub_m1", candor.ChannelEmail, "opened_at = NULL; --", at(30)); err == nil {
		t.Error("an unknown mark was accepted")
	}
	m1, err := s.CampaignMarks(ctx, "cmp_m1")
	if err != nil {
		t.Fatal(err)
	}
	if m1[candor.MarkOpened] != 1 || m1[candor.MarkClicked] != 1 || m1[candor.MarkUnsubscribed] != 1 || m1[candor.MarkComplained] != 1 || m1[candor.MarkBounced] != 0 {
		t.Errorf("cmp_m1 marks: %v", m1)
	}
	if m2, _ := s.CampaignMarks(ctx, "cmp_m2"); m2[candor.MarkBounced] != 1 || m2[candor.MarkOpened] != 0 {
		t.Errorf("cmp_m2 marks: %v", m2)
	}
	page, err := s.CampaignSends(ctx, "cmp_m1", "holdout", "", 2)
	if err != nil || len(page) != 2 || page[0].SubjectID != "sub_m1" || page[1].SubjectID != "sub_m2" || !page[0].At.Equal(at(10)) {
		t.Fatalf("first page: %+v %v", page, err)
	}
	if page, _ = s.CampaignSends(ctx, "cmp_m1", "holdout", "sub_m2", 2); len(page) != 1 || page[0].SubjectID != "sub_m3" || page[0].Reason != "holdout" {
		t.Errorf("second page: %+v", page)
	}
	if page, _ = s.CampaignSends(ctx, "cmp_m2", "holdout", "", 10); len(page) != 1 || page[0].SubjectID != "sub_m1" {
		t.Errorf("a skip for another reason was listed: %+v", page)
	}
}
