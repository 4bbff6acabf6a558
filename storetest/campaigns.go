package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
)

// testCampaigns: campaigns are stored, listed by id and moved between
// states only from the states named; a lease is held by one node until it
// runs out; a person is claimed once per campaign, whoever races; the cap
// counts the person's messages over the channel in the window, across
// campaigns; a claim left unconfirmed becomes interrupted; stats count by
// status and reason; an erasure takes the person's rows and a merge gives
// the visitor's to the person.
func testCampaigns(t *testing.T, s candor.Store) {
	for _, id := range []string{"sub_c1", "sub_c2", "sub_c3"} {
		if err := s.WriteSubject(ctx, subject(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteSubject(ctx, subject("sub_cvisitor", ident(candor.IdentAnonymousID, "b-cv"))); err != nil {
		t.Fatal(err)
	}
	_, err := s.Campaign(ctx, "cmp_nope")
	code(t, err, candor.ENOTFOUND)
	c := candor.Campaign{ID: "cmp_1", Name: "Spring", Channel: candor.ChannelEmail, Purpose: "marketing.email", Segment: "seg_x",
		Subject: candor.Text{candor.LangEN: "Hello {{name}}"}, Body: candor.Text{candor.LangEN: "Hi", candor.LangZH: "你好"},
		Status: candor.CampaignDraft, Actor: "apikey:key_a", CreatedAt: at(1), UpdatedAt: at(1)}
	if err := s.PutCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	code(t, s.PutCampaign(ctx, c), candor.ECONFLICT)
	c2 := c
	c2.ID, c2.Channel, c2.Purpose = "cmp_2", candor.ChannelEmail, "marketing.email"
	if err := s.PutCampaign(ctx, c2); err != nil {
		t.Fatal(err)
	}
	got, err := s.Campaign(ctx, "cmp_1")
	if err != nil || got.Name != "Spring" || got.Body[candor.LangZH] != "你好" || got.Segment != "seg_x" || !got.CreatedAt.Equal(at(1)) || !got.LeaseUntil.IsZero() {
		t.Fatalf("campaign: %+v %v", got, err)
	}
	if list, err := s.Campaigns(ctx, "", 1); err != nil || len(list) != 1 || list[0].ID != "cmp_1" {
		t.Errorf("first page: %+v %v", list, err)
	}
	if list, _ := s.Campaigns(ctx, "cmp_1", 10); len(list) != 1 || list[0].ID != "cmp_2" {
		t.Errorf("second page: %+v", list)
	}
	start := c
	start.SentBy, start.SentRole = "apikey:key_b", "marketer"
	if ok, err := s.SetCampaignStatus(ctx, start, []string{candor.CampaignDraft}, candor.CampaignSending, at(2)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, _ := s.SetCampaignStatus(ctx, start, []string{candor.CampaignDraft}, candor.CampaignSending, at(2)); ok {
		t.Error("a sending campaign was started again")
	}
	_, err = s.SetCampaignStatus(ctx, candor.Campaign{ID: "cmp_nope"}, []string{candor.CampaignDraft}, candor.CampaignSending, at(2))
	code(t, err, candor.ENOTFOUND)
	if got, _ := s.Campaign(ctx, "cmp_1"); got.Status != candor.CampaignSending || got.SentBy != "apikey:key_b" || got.SentRole != "marketer" {
		t.Errorf("started: %+v", got)
	}
	if list, _ := s.CampaignsByStatus(ctx, candor.CampaignSending); len(list) != 1 || list[0].ID != "cmp_1" {
		t.Errorf("sending: %+v", list)
	}
	// Leases.
	if ok, err := s.LeaseCampaign(ctx, "cmp_1", "node_a", at(10), at(20)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, _ := s.LeaseCampaign(ctx, "cmp_1", "node_b", at(15), at(25)); ok {
		t.Error("node b took a lease node a holds")
	}
	if ok, _ := s.LeaseCampaign(ctx, "cmp_1", "node_a", at(15), at(30)); !ok {
		t.Error("node a could not renew")
	}
	if ok, _ := s.LeaseCampaign(ctx, "cmp_1", "node_b", at(31), at(40)); !ok {
		t.Error("node b could not take an expired lease")
	}
	if ok, _ := s.LeaseCampaign(ctx, "cmp_2", "node_b", at(31), at(40)); ok {
		t.Error("a draft was leased")
	}
	// Claims race: one wins.
	var wg sync.WaitGroup
	wins := make(chan candor.ClaimOutcome, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := s.ClaimSend(ctx, candor.CampaignSend{CampaignID: "cmp_1", SubjectID: "sub_c1", Channel: candor.ChannelEmail, Node: "n", At: at(100)}, nil)
			if err != nil {
				t.Error(err)
			}
			wins <- o
		}()
	}
	wg.Wait()
	close(wins)
	n := 0
	for o := range wins {
		if o == candor.ClaimOK {
			n++
		} else if o != candor.ClaimTaken {
			t.Errorf("outcome %q", o)
		}
	}
	if n != 1 {
		t.Errorf("%d claims won, want 1", n)
	}
	if err := s.FinishSend(ctx, "cmp_1", "sub_c1", candor.SendSent, "", at(101)); err != nil {
		t.Fatal(err)
	}
	// The cap: one e-mail in an hour. sub_c1 had one (cmp_1) at 100 s.
	limit := &candor.FrequencyCap{Count: 1, Window: candor.Duration(time.Hour)}
	if o, err := s.ClaimSend(ctx, candor.CampaignSend{CampaignID: "cmp_2", SubjectID: "sub_c1", Channel: candor.ChannelEmail, At: at(200)}, limit); err != nil || o != candor.ClaimCapped {
		t.Errorf("capped claim: %q %v", o, err)
	}
	if o, _ := s.ClaimSend(ctx, candor.CampaignSend{CampaignID: "cmp_2", SubjectID: "sub_c1", Channel: candor.ChannelEmail, At: at(200)}, limit); o != candor.ClaimTaken {
		t.Errorf("a capped person claimed again: %q", o)
	}
	// Another channel, or after the window, is not capped.
	if o, _ := s.ClaimSend(ctx, candor.CampaignSend{CampaignID: "cmp_2", SubjectID: "sub_c2", Channel: candor.ChannelEmail, At: at(200)}, limit); o != candor.ClaimOK {
		t.Errorf("uncapped claim: %q", o)
	}
	later := at(100).Add(2 * time.Hour)
	if o, _ := s.ClaimSend(ctx, candor.CampaignSend{CampaignID: "cmp_1", SubjectID: "sub_c3", Channel: candor.ChannelEmail, At: later}, limit); o != candor.ClaimOK {
		t.Errorf("claim: %q", o)
	}
	if ok, err := s.SkipSend(ctx, candor.CampaignSend{CampaignID: "cmp_1", SubjectID: "sub_c2", Channel: candor.ChannelEmail, Reason: "suppressed", At: at(300)}); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, _ := s.SkipSend(ctx, candor.CampaignSend{CampaignID: "cmp_1", SubjectID: "sub_c2", Channel: candor.ChannelEmail, Reason: "suppressed", At: at(300)}); ok {
		t.Error("skipped twice")
	}
	if o, _ := s.ClaimSend(ctx, candor.CampaignSend{CampaignID: "cmp_1", SubjectID: "sub_gone", Channel: candor.ChannelEmail, At: at(300)}, nil); o == candor.ClaimOK {
		if _, err := s.CampaignSend(ctx, "cmp_1", "sub_gone"); err == nil {
			t.Error("a claim for someone not on file was recorded")
		}
	}
	// sub_c3's claim (at later) is unconfirmed: interrupted by a sweep after it.
	if n, err := s.InterruptSends(ctx, "cmp_1", later.Add(time.Second)); err != nil || n != 1 {
		t.Errorf("interrupted %d %v", n, err)
	}
	if err := s.FinishSend(ctx, "cmp_1", "sub_c3", candor.SendSent, "", later); err != nil {
		t.Fatal(err)
	}
	st, err := s.CampaignStats(ctx, "cmp_1")
	if err != nil || st.Sent != 1 || st.Interrupted != 1 || st.Skipped["suppressed"] != 1 || st.Claimed != 0 {
		t.Errorf("stats: %+v %v", st, err)
	}
	if st, _ := s.CampaignStats(ctx, "cmp_2"); st.Skipped["frequency_cap"] != 1 || st.Claimed != 1 {
		t.Errorf("stats cmp_2: %+v", st)
	}
	row, err := s.CampaignSend(ctx, "cmp_1", "sub_c3")
	if err != nil || row.Status != candor.SendInterrupted || row.Channel != candor.ChannelEmail || !row.At.Equal(later) {
		t.Errorf("row: %+v %v", row, err)
	}
	// Erasure and merge.
	if _, err := s.DeleteSubject(ctx, "sub_c2"); err != nil {
		t.Fatal(err)
	}
	_, err = s.CampaignSend(ctx, "cmp_1", "sub_c2")
	code(t, err, candor.ENOTFOUND)
	if _, err := s.ClaimSend(ctx, candor.CampaignSend{CampaignID: "cmp_2", SubjectID: "sub_cvisitor", Channel: candor.ChannelEmail, At: at(400)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.MergeSubject(ctx, candor.SubjectMerge{From: "sub_cvisitor", Into: "sub_c3", At: at(500),
		Identifiers: []candor.Identifier{{Kind: candor.IdentAnonymousID, Blind: []byte("b-cv"), Sealed: []byte("resealed")}}}); err != nil {
		t.Fatal(err)
	}
	if row, err := s.CampaignSend(ctx, "cmp_2", "sub_c3"); err != nil || row.Status != candor.SendClaimed {
		t.Errorf("the visitor's row after the merge: %+v %v", row, err)
	}
}
