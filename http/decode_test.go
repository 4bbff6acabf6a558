package http

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/candorhq/candor"
)

// FuzzDecode: any body gives a value or a clear client error, never a
// panic or an internal error.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"user_id":"a","traits":{"city":"杭州"}}`, `{"user_id":`, `[]`, `null`, `{"x":1}`, `{"traits":[1]}`, "\xff", `{"user_id":"a"} x`, strings.Repeat("[", 10000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		w := httptest.NewRecorder()
		var v subjectRequest
		err := decode(w, r, 4096, &v)
		if err == nil {
			return
		}
		switch candor.ErrorCode(err) {
		case candor.EMALFORMED, candor.EINVALID, candor.ETOOLARGE:
		default:
			t.Fatalf("decode(%q): %v", body, err)
		}
		if msg := candor.ErrorMessage(err); len(msg) > 200 {
			t.Fatalf("message too long: %q", msg)
		}
	})
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		body, ctype, code string
	}{
		{`{"user_id":"a"}`, "application/json", ""},
		{`{"user_id":"a"}`, "application/json; charset=utf-8", ""},
		{`{"user_id":"a"}`, "text/html", candor.EMALFORMED},
		{``, "application/json", candor.EMALFORMED},
		{`{"user_id":1}`, "application/json", candor.EINVALID},
		{`{"nope":1}`, "application/json", candor.EINVALID},
		{"{\"user_id\":\"\xff\xfe\"}", "application/json", candor.EINVALID},
		{`{"user_id":"\ud800"}`, "application/json", candor.EINVALID},
		{`{"user_id":"\ud83d\ude00"}`, "application/json", ""},
		{`{"user_id":"` + strings.Repeat("a", 5000) + `"}`, "application/json", candor.ETOOLARGE},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		r.Header.Set("Content-Type", c.ctype)
		var v subjectRequest
		if got := candor.ErrorCode(decode(httptest.NewRecorder(), r, 4096, &v)); got != c.code {
			t.Errorf("%.40q (%s): code %q, want %q", c.body, c.ctype, got, c.code)
		}
	}
}
