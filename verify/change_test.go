package verify_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/smtp"
	"github.com/candorhq/candor/subjects"
	"github.com/candorhq/candor/verify"
)

// TestChangeLimits: one signed-in person tries to make Candor send codes to
// ever new addresses, from ever new client addresses, through two nodes
// (two verifiers on one store, each with its own memory). Beyond
// MaxChangesPerHour a person gets EBUSY whatever the session; a session
// that used MaxChangesPerSession gets no more even the next hour; beyond
// MaxChangesPerDay the person gets none that day. Another person is not
// affected, and only the codes allowed were sent.
func TestChangeLimits(t *testing.T) {
	f := newFixture(t)
	id := f.MustSubject(t, subjects.Input{UserID: "limits", Email: "limits@example.com"}, "")
	other := f.MustSubject(t, subjects.Input{UserID: "other", Email: "other.limits@example.com"}, "")
	a, ms := newVerifier(t, f)
	sender, err := smtp.New(ms.URL, "privacy@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	b := verify.New(verify.Options{Store: f.Store, Blinder: f.Vault, Mail: sender, Org: "Demo Shop", Gate: f.Gate, Now: func() time.Time { return f.now }})
	nodes := []*verify.Verifier{a, b}
	n := 0
	try := func(subject string, session string) error {
		n++
		v := nodes[n%2]
		_, _, err := v.StartChange(ctx, subject, []byte(session), candor.IdentEmail, fmt.Sprintf("new.%d@example.com", n), fmt.Sprintf("192.0.2.%d", n))
		return err
	}
	want := func(what string, err error, busy bool) {
		t.Helper()
		if busy {
			if candor.ErrorCode(err) != candor.EBUSY {
				t.Fatalf("%s: %v, want EBUSY", what, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for i := range verify.MaxChangesPerHour {
		want(fmt.Sprintf("change %d in session 1", i+1), try(id, "session-1"), false)
	}
	want("one more in session 1", try(id, "session-1"), true)
	want("one more in a new session, within the hour", try(id, "session-2"), true)
	want("another person", try(other, "session-9"), false)
	if err := try(id, "session-2"); candor.ErrorMessage(err) == "" || candor.ErrorCode(err) != candor.EBUSY {
		t.Fatalf("no clear message: %v", err)
	}

	f.now = f.now.Add(time.Hour + time.Second)
	want("session 1, the next hour", try(id, "session-1"), true)
	for i := range verify.MaxChangesPerDay - verify.MaxChangesPerHour {
		want(fmt.Sprintf("change %d of the day, in session 3", verify.MaxChangesPerHour+i+1), try(id, "session-3"), false)
	}
	f.now = f.now.Add(time.Hour + time.Second)
	want("beyond the day's limit", try(id, "session-4"), true)
	f.now = f.now.Add(22 * time.Hour)
	want("the next day", try(id, "session-5"), false)

	sent := verify.MaxChangesPerDay + 2 // the person's, the other person's, the next day's
	a.Wait()
	b.Wait()
	if _, ok := ms.Wait(sent, 10*time.Second); !ok {
		t.Fatalf("fewer than %d codes were sent", sent)
	}
	if _, ok := ms.Wait(sent+1, time.Second); ok {
		t.Fatalf("more than %d codes were sent", sent)
	}
}

// TestChangeLimitsUnderConcurrency: one session fires many requests for
// codes to new addresses at once, through two nodes: no more than the
// limits allow are stored or sent (the count and the store are one step),
// so a session cannot flood addresses by asking in parallel.
func TestChangeLimitsUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	id := f.MustSubject(t, subjects.Input{UserID: "flood", Email: "flood@example.com"}, "")
	a, ms := newVerifier(t, f)
	sender, err := smtp.New(ms.URL, "privacy@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	b := verify.New(verify.Options{Store: f.Store, Blinder: f.Vault, Mail: sender, Org: "Demo Shop", Gate: f.Gate, Now: func() time.Time { return f.now }})
	const callers = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	started := 0
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := []*verify.Verifier{a, b}[i%2]
			_, _, err := v.StartChange(ctx, id, []byte("one-session"), candor.IdentEmail, fmt.Sprintf("flood.%d@example.com", i), fmt.Sprintf("192.0.2.%d", i))
			mu.Lock()
			defer mu.Unlock()
			switch candor.ErrorCode(err) {
			case "":
				started++
			case candor.EBUSY:
			default:
				t.Errorf("request %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	want := min(verify.MaxChangesPerSession, verify.MaxChangesPerHour)
	if started != want {
		t.Errorf("%d requests at once: %d codes started, want %d", callers, started, want)
	}
	a.Wait()
	b.Wait()
	if _, ok := ms.Wait(want+1, time.Second); ok {
		t.Errorf("more than %d codes were sent", want)
	}
}
