package httpx

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/candorhq/candor"
)

// TestStatus: every error code Candor has maps to its status; an unknown
// one is a 500, said so.
func TestStatus(t *testing.T) {
	for code, want := range map[string]int{candor.EINVALID: 422, candor.EFORBIDDEN: 403, candor.EBUSY: 429, candor.EGONE: 410,
		candor.ETOOLARGE: 413, CodeHeaderTooLarge: 431, CodeMethodNotAllowed: 405, candor.EINTERNAL: 500} {
		if got, ok := Status(code); got != want || !ok {
			t.Errorf("%s: %d %v, want %d", code, got, ok, want)
		}
	}
	if got, ok := Status("no_such_code"); got != 500 || ok {
		t.Errorf("an unknown code: %d %v", got, ok)
	}
}

func TestPreferredLang(t *testing.T) {
	for h, want := range map[string]string{"": "en", "zh-CN,zh;q=0.9": "zh-CN", "en-GB, zh;q=0.5": "en", "fr, zh-TW;q=0.4": "zh-CN", "de": "en"} {
		if got := PreferredLang(h); got != want {
			t.Errorf("%q: %s, want %s", h, got, want)
		}
	}
}

// TestRequestIDFrom: a plain caller id is kept; anything else (too long,
// a newline that would forge a log line, markup) is replaced.
func TestRequestIDFrom(t *testing.T) {
	for _, c := range []struct {
		header string
		keep   bool
	}{{"abc-123_x.y", true}, {strings.Repeat("a", 65), false}, {"a\nlevel=ERROR", false}, {"<script>", false}, {"", false}} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Request-Id", c.header)
		got := RequestIDFrom(r)
		if (got == c.header) != c.keep || got == "" || len(got) > 64 {
			t.Errorf("%q: %q", c.header, got)
		}
	}
	ctx := WithRequestID(context.Background(), "rid")
	if RequestID(ctx) != "rid" || RequestID(context.Background()) != "" {
		t.Error("the request id does not travel in the context")
	}
}
