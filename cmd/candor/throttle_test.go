package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestThrottledSignInsLogOnceAndCount tries a console password forty times
// from one address: the attempts beyond the limit are answered 429, the
// log holds one warning for all of them, and the metric counts each.
func TestThrottledSignInsLogOnceAndCount(t *testing.T) {
	s := startServer(t, t.TempDir(), "")
	var cookies []*http.Cookie
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, s.base+path, strings.NewReader(form.Encode()))
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		cookies = append(cookies, resp.Cookies()...)
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, page := do("GET", "/console", nil)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page: %.300s", page)
	}
	throttled := 0
	for i := range 40 {
		code, _ := do("POST", "/console/signin", url.Values{"csrf": {m[1]}, "email": {"nobody@shop.example"}, "password": {"wrong-" + strconv.Itoa(i)}})
		if code == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled < 20 {
		t.Fatalf("%d of 40 attempts answered 429", throttled)
	}
	if n := strings.Count(s.log.String(), "console sign-in rate-limited"); n != 1 {
		t.Errorf("%d warnings for %d refused sign-ins, want 1", n, throttled)
	}
	_, metrics := do("GET", "/metrics", nil)
	if want := `candor_http_throttled_total{route="POST /console/signin"} ` + strconv.Itoa(throttled); !strings.Contains(metrics, want) {
		t.Errorf("metrics lack %s", want)
	}
}
