package http

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/collect"
)

// TestBusyIs429: a full collector queue answers 429 with Retry-After, as
// problem+json; the Segment SDKs wait and retry.
func TestBusyIs429(t *testing.T) {
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	w := httptest.NewRecorder()
	s.writeError(w, httptest.NewRequest("POST", "/v1/batch", nil), &candor.Error{Code: candor.EBUSY, Message: "busy"})
	if w.Code != 429 || w.Header().Get("Retry-After") == "" || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
		t.Fatalf("status %d, headers %v", w.Code, w.Header())
	}
}

// TestReadBody: limits apply after decompression; bad encodings and media
// types are clear client errors.
func TestReadBody(t *testing.T) {
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	bomb := gz(bytes.Repeat([]byte(" "), 2*collect.MaxMessageBytes))
	cases := []struct {
		name, ct, enc string
		body          []byte
		want          string
	}{
		{"plain", "application/json", "", []byte(`{}`), ""},
		{"gzip", "application/json", "gzip", gz([]byte(`{"a":1}`)), ""},
		{"gzip bomb", "application/json", "gzip", bomb, candor.ETOOLARGE},
		{"not gzip", "application/json", "gzip", []byte(`{}`), candor.EMALFORMED},
		{"brotli", "application/json", "br", []byte(`{}`), candor.EMALFORMED},
		{"form", "application/x-www-form-urlencoded", "", []byte(`a=1`), candor.EMALFORMED},
		{"too large", "application/json", "", bytes.Repeat([]byte("x"), collect.MaxMessageBytes+1), candor.ETOOLARGE},
		{"empty", "application/json", "", nil, candor.EMALFORMED},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/track", bytes.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.ct)
			if tc.enc != "" {
				r.Header.Set("Content-Encoding", tc.enc)
			}
			_, err := readBody(httptest.NewRecorder(), r, collect.MaxMessageBytes)
			if got := candor.ErrorCode(err); got != tc.want && !(tc.want == "" && err == nil) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// FuzzParseBatch: any body is a batch or a clear error, never a panic.
func FuzzParseBatch(f *testing.F) {
	for _, s := range []string{`{"batch":[]}`, `{"batch":[{"type":"track"}],"sentAt":"x","context":{"ip":"1.2.3.4"}}`, `{"batch":{}}`, `[]`, `{"batch":[1,`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _, _, err := collect.ParseBatch(b)
		if err == nil && msgs == nil {
			t.Fatal("no error and no batch")
		}
		if err != nil && len(err.Error()) > 200 {
			t.Fatalf("a long error, maybe quoting the input: %v", err)
		}
	})
}
