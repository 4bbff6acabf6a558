package http

import (
	"bytes"
	"log/slog"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/prometheus/client_golang/prometheus"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestThrottledLogIsRateLimited floods the API with 429s: the log gets one
// warning per 10 seconds per code, the next saying how many were held back,
// and the metric counts every one, by route only.
func TestThrottledLogIsRateLimited(t *testing.T) {
	var logs lockedBuffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	reg := prometheus.NewRegistry()
	s := &Server{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})), Now: clock, Metrics: reg}
	h := s.Handler()
	s.handle("POST /test/busy", nil, func(w nethttp.ResponseWriter, r *nethttp.Request, _ *principal) error {
		return &candor.Error{Code: candor.EBUSY, Message: "the collector is busy; retry in a second"}
	})
	flood := func(n int) {
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("POST", "/test/busy", strings.NewReader("{}")))
				if w.Code != 429 {
					t.Errorf("status %d", w.Code)
				}
			}()
		}
		wg.Wait()
	}
	flood(500)
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Fatalf("%d warnings for 500 refusals in one instant, want 1:\n%s", n, logs.String())
	}
	mu.Lock()
	now = now.Add(10 * time.Second)
	mu.Unlock()
	flood(3)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "suppressed=499") || !strings.Contains(lines[1], "code=busy") {
		t.Errorf("after 10 s, want one more line saying 499 were held back:\n%s", logs.String())
	}
	s.CountThrottled("POST /privacy/change")
	w := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`candor_http_throttled_total{route="POST /test/busy"} 503`, `candor_http_throttled_total{route="POST /privacy/change"} 1`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
