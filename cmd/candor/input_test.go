package main

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"
)

// TestInvalidUnicodeRefused sends every JSON body the API reads with a
// user id whose bytes are not UTF-8 (\xff\xfe) or that escapes half of a
// UTF-16 surrogate pair: encoding/json would store U+FFFD in their place
// without a word. Each is refused with 422 as problem+json naming the
// problem, and no subject comes of it.
func TestInvalidUnicodeRefused(t *testing.T) {
	s := startServer(t, t.TempDir(), "")
	id := s.newSubject(map[string]any{"user_id": "unicode", "email": "unicode@example.com"})
	gz := func(b string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(b))
		zw.Close()
		return buf.Bytes()
	}
	for _, bad := range []struct{ raw, problem string }{{"\xff\xfe", "invalid UTF-8"}, {`\ud800`, "surrogate"}} {
		u := bad.raw
		cases := []struct {
			name, path, key string
			body            string
			gzip            bool
		}{
			{"subject", "/v1/subjects", s.admin, `{"user_id":"` + u + `","email":"bad.unicode@example.com"}`, false},
			{"consent", "/v1/consents", s.write, `{"subject_id":"` + id + `","notice_version":"` + s.noticeVersion() + `","scope":"all","channel":"` + u + `"}`, false},
			{"identify", "/v1/identify", s.write, `{"userId":"` + u + `","traits":{"city":"Suzhou"}}`, false},
			{"track", "/v1/track", s.write, `{"userId":"` + u + `","event":"Product Viewed","properties":{"product_id":"p1"}}`, false},
			{"batch", "/v1/batch", s.write, `{"batch":[{"type":"identify","userId":"` + u + `","traits":{"city":"Suzhou"}}]}`, false},
			{"batch gzip", "/v1/batch", s.write, `{"batch":[{"type":"identify","userId":"ok","traits":{"city":"` + u + `"}}]}`, true},
			{"verify", "/v1/verify", "", `{"email":"` + u + `@example.com"}`, false},
			{"rights", "/v1/rights", s.admin, `{"type":"rectify","subject_id":"` + id + `","traits":{"city":"` + u + `"}}`, false},
		}
		for _, c := range cases {
			t.Run(c.name+" "+bad.problem, func(t *testing.T) {
				body := []byte(c.body)
				if c.gzip {
					body = gz(c.body)
				}
				req, _ := http.NewRequest("POST", s.base+c.path, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if c.gzip {
					req.Header.Set("Content-Encoding", "gzip")
				}
				if c.key != "" {
					req.Header.Set("Authorization", "Bearer "+c.key)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				out.ReadFrom(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 422 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") || !strings.Contains(out.String(), bad.problem) {
					t.Errorf("status %d %s: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), out.String())
				}
			})
		}
	}
}

// TestOversizedHeadersAreProblems: a request whose query string, one
// header or all headers together are too large is answered 431 as
// problem+json, on the API and on the pages alike; one just below the
// limit is served.
func TestOversizedHeadersAreProblems(t *testing.T) {
	s := startServer(t, t.TempDir(), "")
	huge := strings.Repeat("a", 70<<10)
	cases := []struct {
		name, path string
		headers    map[string]string
		status     int
	}{
		{"query string", "/v1/notice?lang=en&x=" + huge, nil, 431},
		{"one header", "/v1/notice", map[string]string{"X-Filler": huge}, 431},
		{"many headers", "/v1/notice", func() map[string]string {
			m := map[string]string{}
			for i := range 20 {
				m["X-Filler-"+strings.Repeat("b", i+1)] = huge[:4<<10]
			}
			return m
		}(), 431},
		{"cookie on a page", "/privacy", map[string]string{"Cookie": "a=" + huge}, 431},
		{"just below", "/v1/notice?lang=en&x=" + huge[:60<<10], nil, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", s.base+c.path, nil)
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			out.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, c.status, out.String())
			}
			if c.status == 431 && (!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") || !strings.Contains(out.String(), "header_too_large")) {
				t.Errorf("%s: %s", resp.Header.Get("Content-Type"), out.String())
			}
		})
	}
}
