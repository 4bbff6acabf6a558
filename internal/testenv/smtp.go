package testenv

import (
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one message a [MailServer] received.
type Mail struct {
	From string
	To   []string
	Data string
}

// MailServer is a real SMTP server on loopback (github.com/emersion/go-smtp)
// that keeps what it receives, for tests of what Candor sends.
type MailServer struct {
	URL string // smtp://127.0.0.1:PORT?tls=none
	mu  sync.Mutex
	box []Mail
	got chan struct{}
}

// NewMailServer starts a server for the test; it stops when the test ends.
func NewMailServer(tb testing.TB) *MailServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ms := &MailServer{URL: "smtp://" + ln.Addr().String() + "?tls=none", got: make(chan struct{}, 100)}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{ms: ms}, nil }))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	go s.Serve(ln)
	tb.Cleanup(func() { s.Close() })
	return ms
}

// Messages returns what was received so far.
func (ms *MailServer) Messages() []Mail {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]Mail(nil), ms.box...)
}

// Wait waits for the n-th message (counting from 1) for up to d.
func (ms *MailServer) Wait(n int, d time.Duration) (Mail, bool) {
	deadline := time.After(d)
	for {
		if m := ms.Messages(); len(m) >= n {
			return m[n-1], true
		}
		select {
		case <-ms.got:
		case <-deadline:
			return Mail{}, false
		}
	}
}

var codeRE = regexp.MustCompile(`code is (\d{6})`)

// Body returns the message's decoded text (its text/plain part when it
// has several).
func (m Mail) Body() string { return m.part("text/plain") }

// HTML returns the message's decoded text/html part, or "".
func (m Mail) HTML() string { return m.part("text/html") }

func (m Mail) part(want string) string {
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		return ""
	}
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return ""
			}
			if pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt == want {
				return decoded(p, p.Header.Get("Content-Transfer-Encoding"))
			}
		}
	}
	if want != "text/plain" {
		return ""
	}
	return decoded(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
}

func decoded(r io.Reader, encoding string) string {
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, _ := io.ReadAll(r)
	return string(b)
}

// Code returns the six-digit code the message gives.
func (m Mail) Code() string {
	if c := codeRE.FindStringSubmatch(m.Body()); c != nil {
		return c[1]
	}
	return ""
}

type mailSession struct {
	ms   *MailServer
	from string
	to   []string
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ms.mu.Lock()
	s.ms.box = append(s.ms.box, Mail{From: s.from, To: s.to, Data: string(b)})
	s.ms.mu.Unlock()
	select {
	case s.ms.got <- struct{}{}:
	default: // Wait reads the box, not the channel's count
	}
	return nil
}
