package jsontext

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		body string
		want string // a fragment of the error; empty for none
	}{
		{`{"user_id":"a"}`, ""},
		{`{"city":"杭州","emoji":"😀"}`, ""},
		{`{"s":"\u00e9\ud83d\ude00\\ud800"}`, ""}, // a pair, and an escaped backslash before "ud800"
		{"{\"user_id\":\"\xff\xfe\"}", "invalid UTF-8 at byte 12"},
		{"\xc3", "invalid UTF-8 at byte 0"},
		{"{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8"}, // a surrogate encoded in UTF-8
		{`{"user_id":"\ud800"}`, "unpaired UTF-16 surrogate escape at byte 12"},
		{`{"user_id":"\uDC00x"}`, "unpaired"},
		{`{"user_id":"\ud800\u0041"}`, "unpaired"},
		{`{"user_id":"\ud800`, "unpaired"},
		{`{"user_id":"\u12`, ""}, // a syntax error, left to the decoder
	} {
		err := Check([]byte(c.body))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("Check(%q) = %v", c.body, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("Check(%q) = %v, want %q", c.body, err, c.want)
		}
	}
}

// FuzzCheck: whatever Check accepts, encoding/json decodes without
// replacing anything, so the strings re-encode to the same characters.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`"a"`, `"\ud83d\ude00"`, `"\ud800"`, "\"\xff\"", `"\\ud800"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v string
		if Check([]byte(s)) != nil || json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		if strings.ContainsRune(v, '\uFFFD') && !strings.Contains(s, "\uFFFD") && !strings.Contains(strings.ToLower(s), `\ufffd`) {
			t.Fatalf("%q decoded to %q: a replacement character appeared", s, v)
		}
	})
}
