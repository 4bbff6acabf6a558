package ratelog

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &Limiter{Now: func() time.Time { return now }}
	if ok, n := l.Allow("busy"); !ok || n != 0 {
		t.Fatalf("first line: %v %d", ok, n)
	}
	for range 99 {
		if ok, _ := l.Allow("busy"); ok {
			t.Fatal("a second line within 10 s")
		}
	}
	if ok, _ := l.Allow("unavailable"); !ok {
		t.Error("another kind is held back")
	}
	now = now.Add(9 * time.Second)
	if ok, _ := l.Allow("busy"); ok {
		t.Error("a line after 9 s")
	}
	now = now.Add(time.Second)
	if ok, n := l.Allow("busy"); !ok || n != 100 {
		t.Errorf("after 10 s: %v, %d suppressed; want true, 100", ok, n)
	}
	if ok, _ := l.Allow("busy"); ok {
		t.Error("the period restarts at the line written")
	}
}
