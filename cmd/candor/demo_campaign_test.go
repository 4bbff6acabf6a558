package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var demoSent = regexp.MustCompile(`Demo campaign "Spring teas" done: (\d+) e-mails sent to the local mail sink \(which has accepted (\d+) in all, triggered messages included, and delivers none\), 0 failed`)

// TestDemoCampaignSent: the demo, with no mail server, sends its campaign
// to the segment "Offers by e-mail" through the campaign service to its
// local mail sink: done, with as many sent as the segment holds people
// (each consenting, with an address) and as the sink accepted; a restart
// sends nothing again.
func TestDemoCampaignSent(t *testing.T) {
	dir := t.TempDir()
	// As serve -demo runs: with the triggers, whose rows are campaigns too.
	demo := func(c *Config) { c.Demo, c.DemoSize, c.PolicyFile, c.NoTriggers = true, 120, "", false }
	s := startServer(t, dir, filepath.Join(dir, "unused"), demo)
	m := demoSent.FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("no campaign line: %s", s.stdout.String())
	}
	spring := func() []map[string]any {
		var out []map[string]any
		for _, x := range s.json("GET", "/v1/campaigns", s.admin, nil, 200)["campaigns"].([]any) {
			if c := x.(map[string]any); c["name"] == "Spring teas" {
				out = append(out, c)
			}
		}
		return out
	}
	list := spring()
	if len(list) != 1 {
		t.Fatalf("%d demo campaigns", len(list))
	}
	c := list[0]
	sent := int(c["stats"].(map[string]any)["sent"].(float64))
	seg := s.json("GET", "/v1/segments/"+c["segment"].(string), s.admin, nil, 200)
	want := int(seg["count"].(float64))
	// The sink may have accepted more than the campaign's: the welcome
	// trigger mails it too.
	accepted, _ := strconv.Atoi(m[2])
	if c["status"] != "done" || sent == 0 || sent != want || m[1] != strconv.Itoa(sent) || accepted < sent {
		t.Fatalf("the demo campaign: %v; the segment holds %d; %q", c, want, m[0])
	}
	s.stop()
	s = startServer(t, dir, filepath.Join(dir, "unused"), demo)
	if strings.Contains(s.stdout.String(), "Demo campaign") {
		t.Error("the demo sent its campaign again on restart")
	}
	if n := len(spring()); n != 1 {
		t.Errorf("%d demo campaigns after a restart", n)
	}
}
